"""Regression tests of the VM kit itself (no mars needed).

They run on 6.1 only in make check (they test the kit, and 6.12 carries the
longer mars suite in the parallel run); MARS_VM_FULL=1 runs them on both.

Run: testing/vm/run-tests kit   or   python3 testing/vm/tests/test_kit.py --kernel 6.1
"""
import hashlib
import os
import socket
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import vmkit  # noqa: E402

FULL = os.environ.get("MARS_VM_FULL", "") not in ("", "0")
KERNELS = vmkit.KERNELS if FULL else ("6.1",)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def test_run(env):
    """Boot, rc and output transport (odd bytes, big output, stderr, timeout); console rule."""
    with env.cluster(1, disks=[32], allow_console=[r"vmkit-selftest"]) as c:
        vm = c[0]
        rc, out = vm.run("uname -r")
        expect(rc == 0 and out.strip() == env.kernel.release, "uname -r: %r" % out)
        rc, out = vm.run("echo to-stdout; echo to-stderr >&2; exit 7")
        expect(rc == 7, "rc %r" % rc)
        expect(out.splitlines() == ["to-stdout", "to-stderr"], "combined output %r" % out)
        rc, so, se = vm.run_full("echo o; echo e >&2; false", split=True)
        expect((rc, so, se) == (1, b"o\n", b"e\n"), "split %r" % ((rc, so, se),))
        # every byte value, including NUL, newline and the frame marker, and no final newline
        odd = bytes(range(256)) + b"\n@@VMAGENT READY\n@@x DONE 0 0 1 1\n@@"
        rc, out = vm.run("cat", input=odd, binary=True)
        expect(rc == 0 and out == odd, "odd bytes: %r" % out[:300])
        rc, out = vm.run("printf '\\000\\377\\n\\r@@'", binary=True)
        expect(out == b"\0\xff\n\r@@", "printf bytes: %r" % out)
        # a command with quotes, newlines, and non-ASCII
        cmd = "x='it''s'\ny=\"a  b\"\necho \"$x|$y|\u00e4\u20ac\""
        rc, out = vm.run(cmd)
        expect(out == "its|a  b|\u00e4\u20ac\n", "quoting: %r" % out)
        # a big output arrives intact
        rc, out = vm.run("dd if=/dev/urandom of=/tmp/big bs=1024 count=512 2>/dev/null; md5sum /tmp/big")
        want = out.split()[0]
        t0 = time.monotonic()
        data = vm.get("/tmp/big")
        dt = time.monotonic() - t0
        expect(len(data) == 512 * 1024 and hashlib.md5(data).hexdigest() == want, "big output corrupted")
        print("    512 KiB guest->host in %.1fs" % dt)
        # put: host -> guest
        blob = os.urandom(100 * 1024)
        vm.put("/tmp/blob", blob)
        out = vm.check("md5sum /tmp/blob")
        expect(out.split()[0] == hashlib.md5(blob).hexdigest(), "put corrupted")
        # timeout kills the command (with its children) and the agent lives on
        t0 = time.monotonic()
        try:
            vm.run("echo started; sleep 1000 & sleep 1000", timeout=3)
            raise AssertionError("no GuestTimeout")
        except vmkit.GuestTimeout as e:
            expect("started" in e.output, "partial output %r" % e.output)
        expect(time.monotonic() - t0 < 30, "timeout took too long")
        rc, out = vm.run("ps -o pid,args | grep -c '[s]leep 1000'")
        expect(out.strip() == "0", "sleep still running after timeout: %r" % out)
        # a failing command (and a command that kills its shell) do not hurt the agent
        vm.run("kill -9 $$")
        rc, out = vm.run("exec /nonexistent")
        expect(rc == 127, "exec nonexistent rc %r" % rc)
        expect(vm.check("echo alive").strip() == "alive", "agent dead")
        # check() raises on failure
        try:
            vm.check("exit 3")
            raise AssertionError("check() did not raise")
        except vmkit.CommandFailed as e:
            expect(e.rc == 3, "CommandFailed.rc %r" % e.rc)
        expect(vm.check("ls /dev/vda").strip() == "/dev/vda", "no /dev/vda")
        # the console rule: a kernel warning fails check_console(); allow= exempts it
        vm.check_console()
        vm.check("echo '<4>WARNING: vmkit-selftest (expected)' > /dev/kmsg")
        vmkit.wait_until(lambda: "vmkit-selftest" in vm.console_text(), 30, "kmsg on the console")
        try:
            vm.check_console()
            raise AssertionError("check_console() missed a WARNING: line")
        except vmkit.ConsoleError:
            pass
        vm.check_console(allow=[r"vmkit-selftest"])


def test_power_cut(env):
    """Data on a disk image survives kill -9 of qemu; the guest boots again."""
    with env.cluster(1, disks=[64, 16]) as c:
        vm = c[0]
        vm.check("echo data-before-cut > /dev/vda; sync")
        vm.check("mkfs.ext4 -q /dev/vdb && mkdir -p /mnt/b && mount /dev/vdb /mnt/b && "
                 "echo file-before-cut > /mnt/b/f && sync")
        boot_id = vm.check("cat /proc/sys/kernel/random/boot_id").strip()
        vm.power_cut()
        expect(not vm.running, "qemu still running after power cut")
        vm.boot()
        expect(vm.check("cat /proc/sys/kernel/random/boot_id").strip() != boot_id, "same boot id")
        out = vm.check("head -c 16 /dev/vda")
        expect(out == "data-before-cut\n", "raw data after power cut: %r" % out)
        out = vm.check("mkdir -p /mnt/b && mount /dev/vdb /mnt/b && cat /mnt/b/f && umount /mnt/b && "
                       "e2fsck -fn /dev/vdb >/dev/null 2>&1 && echo fsck-clean")
        expect(out.split() == ["file-before-cut", "fsck-clean"], "ext4 after power cut: %r" % out)
        expect("power cut" in vm.console_text(), "console log lost the first boot")
        # an orderly shutdown() syncs: unsynced page-cache writes survive it
        vm.check("echo written-before-shutdown | dd of=/dev/vda bs=4096 seek=1 conv=notrunc 2>/dev/null")
        vm.shutdown()
        expect(not vm.running, "qemu still running after shutdown()")
        vm.boot()
        out = vm.check("dd if=/dev/vda bs=4096 skip=1 count=1 2>/dev/null | head -n1")
        expect(out == "written-before-shutdown\n", "data after shutdown(): %r" % out)


def test_socket_bound_before_listen(env):
    """qemu's QMP/agent socket file exists before qemu listens: the kit waits for the listen."""
    del env     # no VM: this checks the kit's connect on the host
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "qmp")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)             # the file exists, a connect is refused
        refused = False
        try:
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).connect(path)
        except ConnectionRefusedError:
            refused = True
        expect(refused, "a bound socket that does not listen must refuse (the case under test)")
        late = threading.Timer(0.3, server.listen)
        late.start()
        t0 = time.monotonic()
        client = vmkit.connect_unix(path, 30, lambda: True)
        waited = time.monotonic() - t0
        client.close()
        late.join()
        server.close()
        expect(waited >= 0.25, "connected %.2fs after the start, before the listen" % waited)

        def exited():
            raise vmkit.BootError("qemu exited")
        failed = None
        try:
            vmkit.connect_unix(os.path.join(d, "none"), 30, exited)
        except vmkit.BootError as e:
            failed = e
        expect(failed is not None, "an exited qemu must end the wait")
    print("    connected %.2fs after the start, once the socket listened" % waited)


def _ping(vm, peer, count=1, timeout=30):
    rc, out = vm.run("ping -c %d -W 3 %s" % (count, peer), timeout=timeout)
    return rc == 0


def test_network(env):
    """Three VMs, one virtual cable per pair: ping, TCP, pulled cables, NIC down, power cut."""
    with env.cluster(3, names=["alpha", "beta", "gamma"]) as c:
        a, b, g = c.vms
        expect(a.check("hostname").strip() == "alpha", "hostname")
        for v in c:
            for w in c:
                if v is not w:
                    vmkit.wait_until(lambda: _ping(v, w.name), 60, "%s -> %s ping" % (v, w))
        # a TCP stream over a link arrives intact (the receiver's stdin must
        # stay open: netcat ends the connection at EOF of its stdin)
        b.check("sleep 120 | nc -l -p 7000 > /tmp/rx 2>/dev/null & echo $! > /tmp/nc.pid")
        a.check("dd if=/dev/urandom of=/tmp/tx bs=1024 count=1024 2>/dev/null")
        t0 = time.monotonic()
        vmkit.wait_until(lambda: a.run("nc beta 7000 < /tmp/tx")[0] == 0, 60, "nc send")
        vmkit.wait_until(lambda: b.run("[ -e /proc/$(cat /tmp/nc.pid) ]")[0] != 0, 60, "nc receive")
        print("    1 MiB over TCP in %.1fs" % (time.monotonic() - t0))
        expect(a.check("md5sum < /tmp/tx") == b.check("md5sum < /tmp/rx"), "TCP data corrupted")
        # pulled cable (qemu set_link) cuts only its own pair
        a.set_link(b, False)
        expect(not _ping(a, b.ip), "ping through a pulled cable")
        expect(_ping(a, g.ip), "alpha -> gamma must not depend on the alpha-beta cable")
        a.set_link(b, True)
        vmkit.wait_until(lambda: _ping(a, b.ip), 60, "ping after the cable is back")
        # link down inside the guest
        dev = a.iface(b)
        a.check("ip link set %s down" % dev)
        expect(not _ping(b, a.ip), "ping to a guest whose NIC is down")
        a.check("ip link set %s up && ip route replace %s/32 dev %s" % (dev, b.ip, dev))
        vmkit.wait_until(lambda: _ping(b, a.ip), 60, "ping after ip link up")
        # a power-cut VM drops off the network and comes back after boot()
        g.power_cut()
        expect(not _ping(a, g.ip), "ping to a power-cut VM")
        g.boot()
        vmkit.wait_until(lambda: _ping(a, g.ip), 60, "alpha -> gamma after reboot")
        vmkit.wait_until(lambda: _ping(g, b.ip), 60, "gamma -> beta after reboot")


def test_modules_and_tools(env):
    """Extra kernel modules via modprobe; ext4 tools, dmsetup and fio in the guest."""
    with env.cluster(1, disks=[64], modules=["dm-flakey", "dm-log-writes", "dm-delay"], fio=True) as c:
        vm = c[0]
        vm.check("modprobe dm-flakey && modprobe dm-log-writes && modprobe dm_delay")
        mods = vm.check("lsmod")
        for m in ("dm_mod", "dm_flakey", "dm_log_writes", "dm_delay"):
            expect(m in mods, "%s not loaded:\n%s" % (m, mods))
        vm.check("rmmod dm_flakey")
        if vm.run("which dmsetup")[0] == 0:
            vm.check("dmsetup create lin --table \"0 $(blockdev --getsz /dev/vda) linear /dev/vda 0\" && "
                     "dmsetup remove lin")
        vm.check("mkfs.ext4 -q /dev/vda && e2fsck -fn /dev/vda")
        out = vm.check("fio --name=v --filename=/dev/vda --rw=randwrite --bs=4k --size=4m "
                       "--direct=1 --verify=crc32c --do_verify=1 --output-format=terse", timeout=300)
        expect(out.startswith("3;"), "fio output %r" % out[:200])


if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
