"""The primary write path on one host (issue 5): /dev/mars/r0, logging, writeback, recovery.

Every test builds a fresh single-VM cluster: vda (MARS_MB) is /mars, vdb
(DATA_MB) the data device of resource r0; the tests that need them add an ack
log disk (power cut) or put dm-delay under vdb (memory limit). The guest
programs ackwrite and samplemax come from testing/vm/tools (vm_tools=True).

  test_fio_verify        fio with crc32c verification on /dev/mars/r0 (random 4 KiB
                         writes, mixed read/write, sequential 1 MiB); down; fio
                         verify-only on /dev/vdb (writeback complete)
  test_ext4              mkfs/copy/e2fsck/remount on /dev/mars/r0 (contiguous writes
                         shared records); `down` and rmmod refused while mounted;
                         e2fsck of /dev/vdb after down; up again
  test_power_cut         ackwrite (O_DIRECT|O_DSYNC, durable ack log on vdc), power cut
                         at a random moment, boot, mount, insmod: the device comes back
                         by itself; every acknowledged write present, no torn block
  test_memory_limit      buffer_limit_bytes 4 MiB, dm-delay (suspended at first) under
                         the data device, 16 MiB written: bytes_buffered stays bounded,
                         writes are throttled, nothing fails, data verifies
  test_log_rotation      logrotate_bytes 1 MiB and `marsadm log-rotate` while fio writes:
                         contiguous logfiles, each a clean dump-log, version links, fio verify
  test_attach_detach_cycles  20 x (up, small write, down): `allocations` (less
                         `peer_allocations`: the replicated tree grows) and the module's
                         threads return to their values; rmmod refused while the device is
                         open, then down and rmmod succeed

MARS_VM_FULL=1 runs longer variants (bigger fio sizes, 10 power cuts, 50 cycles);
MARS_VM_SEED=N fixes the random power-cut delays; MARS_VM_WAIT=S changes how long
marsadm waits for the module's answers (default 120 s).

Run: testing/vm/run-tests write_path   or   python3 testing/vm/tests/test_write_path.py --kernel 6.1
"""
import contextlib
import os
import random
import re
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import vmkit  # noqa: E402

FULL = os.environ.get("MARS_VM_FULL", "") not in ("", "0")
MARS_MB = 512            # vda: /mars (sparse image; logfiles of every test fit)
DATA_MB = 128            # vdb: data device of r0
ACK_MB = 32              # vdc of the power-cut test: 65536 ack entries
RES = "r0"
DEV = "/dev/mars/r0"
HOST = "vm0"             # the VM's name is its host name (uname -n)
RDIR = "/mars/resource-r0"
MIB = 1 << 20
WAIT = int(os.environ.get("MARS_VM_WAIT") or 120)   # marsadm --timeout for the module's answers
CMD_TIMEOUT = WAIT + 60  # agent timeout around such a marsadm call

FIO_MB = 64 if FULL else 16            # per fio job (three jobs in separate regions)
POWER_CUTS = 10 if FULL else 5
CUT_BLOCKS = 4096                      # ackwrite region: 16 MiB, many overwrites
CYCLES = 50 if FULL else 20
BUFFER_LIMIT = 4 * MIB
SLACK = 1 * MIB                        # one request (dd bs=1M) beyond the limit
DELAY_MS = 25                          # dm-delay on writes to the data device


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---- guest helpers

def engine_allocations(vm):
    """allocations minus peer_allocations (the replicated tree grows with
    /mars: every cycle adds a version link), read until two samples agree so
    that no tree pass lies between the two counters."""
    samples = []

    def stable():
        out = vm.check("cat /proc/sys/mars/allocations /proc/sys/mars/peer_allocations")
        total, peer = (int(x) for x in out.split())
        samples.append(total - peer)
        return len(samples) >= 2 and samples[-1] == samples[-2]
    vmkit.wait_until(stable, 60, "a stable allocations - peer_allocations")
    return samples[-1]


def mars_value(vm, name):
    """An integer from /proc/sys/mars/NAME."""
    out = vm.check("cat /proc/sys/mars/%s" % name).strip()
    expect(re.fullmatch(r"-?\d+", out), "/proc/sys/mars/%s is not a number: %r" % (name, out))
    return int(out)


def set_mars_value(vm, name, value):
    vm.check("echo %d > /proc/sys/mars/%s" % (value, name))
    got = mars_value(vm, name)
    expect(got == value, "/proc/sys/mars/%s reads %d after writing %d" % (name, got, value))


def marsadm(vm, args, timeout=CMD_TIMEOUT):
    """marsadm ARGS -> (rc, output); waiting commands get --timeout WAIT."""
    return vm.run("marsadm %s --timeout %d" % (args, WAIT), timeout=timeout)


def marsadm_ok(vm, args, timeout=CMD_TIMEOUT):
    rc, out = marsadm(vm, args, timeout)
    if rc != 0:
        raise vmkit.CommandFailed(vm, "marsadm " + args, rc, out + "\n" + diagnostics(vm))
    return out


def diagnostics(vm):
    """What the lead wants to see when the module does not answer."""
    with contextlib.suppress(vmkit.VMError):
        rc, out = vm.run("echo '--- marsadm view'; marsadm view %s --timeout 0 2>&1; "
                         "echo '--- %s'; ls -l %s 2>&1 | cut -c1-200; echo '--- actual-%s'; "
                         "ls -l %s/actual-%s 2>&1 | sed 's/.* \\([^ ]* -> .*\\)/\\1/'; "
                         "echo '--- /proc/sys/mars'; for f in /proc/sys/mars/*; do "
                         "echo \"${f##*/}=$(cat $f 2>/dev/null)\"; done; "
                         "echo '--- dmesg'; dmesg | tail -n 25"
                         % (RES, RDIR, RDIR, HOST, RDIR, HOST), timeout=60)
        return out
    return "(no diagnostics: guest does not answer)"


@contextlib.contextmanager
def diagnosed(vm):
    """Print the module's state when the body fails."""
    try:
        yield
    except Exception:
        if vm.running:
            print(diagnostics(vm))
        raise


def start_module(vm, fresh):
    """/mars on vda (fresh: mkfs first), then insmod."""
    if fresh:
        vm.check("mkfs.ext4 -q -F /dev/vda", timeout=120)
    vm.check("mkdir -p /mars && mount /dev/vda /mars && insmod /mars.ko")


def wait_device(vm):
    marsadm_ok(vm, "wait-resource %s is-device" % RES)
    vm.check("test -b %s" % DEV)


def create_r0(vm, data_dev="/dev/vdb"):
    """create-cluster, create-resource r0 on data_dev (this host primary), up, device."""
    marsadm_ok(vm, "create-cluster --ip 10.0.0.1")
    marsadm_ok(vm, "create-resource %s %s" % (RES, data_dev))
    up(vm)


def up(vm):
    marsadm_ok(vm, "up %s" % RES)
    wait_device(vm)


def down(vm):
    marsadm_ok(vm, "down %s" % RES)
    vm.check("test ! -e %s" % DEV)


def setup_r0(vm, data_dev="/dev/vdb", sysctls=()):
    start_module(vm, fresh=True)
    for name, value in sysctls:
        set_mars_value(vm, name, value)
    create_r0(vm, data_dev)


def mars_threads(vm):
    """Sorted names of the tasks whose name starts with mars."""
    out = vm.check("cat /proc/[0-9]*/comm 2>/dev/null | grep '^mars' | sort; true")
    return out.split()


def logfiles(vm):
    """[(number, name, size)] of the regular logfiles of r0, by number."""
    out = vm.check("cd %s && for f in log-*; do [ -f \"$f\" ] && [ ! -L \"$f\" ] && "
                   "echo \"$f $(stat -c %%s \"$f\")\"; done; true" % RDIR)
    files = []
    for line in out.splitlines():
        name, size = line.split()
        m = re.fullmatch(r"log-(\d{9})-(\S+)", name)
        expect(m, "unexpected logfile name %r" % name)
        files.append((int(m.group(1)), name, int(size)))
    return sorted(files)


def dump_log_end(vm, name):
    """(rc, last line of `marsadm dump-log`) for a logfile of r0."""
    rc, out = vm.run("marsadm dump-log %s/%s > /tmp/dump.out 2>&1; rc=$?; tail -n 2 /tmp/dump.out; "
                     "exit $rc" % (RDIR, name), timeout=300)
    lines = out.strip().splitlines()
    return rc, (lines[-1] if lines else "")


def fio_job(dev, size_mb):
    """Three verified jobs in separate regions of dev, one after the other."""
    return ("[global]\nfilename=%s\ndirect=1\nioengine=libaio\niodepth=8\nverify=crc32c\n"
            "verify_fatal=1\nrandrepeat=1\n\n"
            "[randwrite-4k]\nrw=randwrite\nbs=4k\noffset=0\nsize=%dm\nverify_backlog=256\nstonewall\n\n"
            "[randrw-4k]\nrw=randrw\nbs=4k\noffset=%dm\nsize=%dm\nstonewall\n\n"
            "[seqwrite-1m]\nrw=write\nbs=1m\noffset=%dm\nsize=%dm\nstonewall\n"
            % (dev, size_mb, size_mb, size_mb, 2 * size_mb, size_mb))


def run_fio(vm, jobfile, extra="", timeout=900):
    t0 = time.monotonic()
    rc, out = vm.run("fio %s %s 2>&1" % (jobfile, extra), timeout=timeout)
    expect(rc == 0 and "err= 0" in out and not re.search(r"err=\s*[1-9]", out),
           "fio %s %s failed (rc %d):\n%s" % (jobfile, extra, rc, out[-3000:]))
    return time.monotonic() - t0


# ---- tests

def test_fio_verify(env):
    """fio with crc32c verification on /dev/mars/r0, then verify-only on the data device."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB], fio=True) as c:
        vm = c[0]
        with diagnosed(vm):
            setup_r0(vm)
            sysdev = ("/sys/dev/block/$((0x$(stat -c %%t %s))):$((0x$(stat -c %%T %s)))" % (DEV, DEV))
            out = vm.check("blockdev --getsize64 %s; d=%s; cat $d/queue/logical_block_size "
                           "$d/queue/write_cache $d/queue/fua" % (DEV, sysdev)).splitlines()
            expect(out[0] == str(DATA_MB * MIB), "device size %s, expected %d" % (out[0], DATA_MB * MIB))
            expect(out[1] == "4096", "logical block size %s, expected 4096" % out[1])
            expect(out[2] == "write back", "write_cache %r, expected a volatile write cache" % out[2])
            expect(out[3] == "1", "fua %r, expected 1" % out[3])
            vm.put("/tmp/mars.fio", fio_job(DEV, FIO_MB))
            dt = run_fio(vm, "/tmp/mars.fio")
            logged = mars_value(vm, "bytes_logged")
            print("    fio 3 x %d MiB with verify on %s: %.1fs; bytes_logged=%d" % (FIO_MB, DEV, dt, logged))
            expect(logged >= 2 * FIO_MB * MIB, "bytes_logged %d < %d written" % (logged, 2 * FIO_MB * MIB))
            down(vm)
            written = mars_value(vm, "bytes_written_back")
            expect(written > 0, "bytes_written_back is 0 after down")
            vm.put("/tmp/vdb.fio", fio_job("/dev/vdb", FIO_MB))
            dt = run_fio(vm, "/tmp/vdb.fio", "--verify_only")
            print("    fio verify-only on /dev/vdb after down: %.1fs; bytes_written_back=%d" % (dt, written))


def test_ext4(env):
    """ext4 on /dev/mars/r0: files survive umount/e2fsck/remount, down/up; busy device refusals."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB]) as c:
        vm = c[0]
        with diagnosed(vm):
            setup_r0(vm)
            vm.check("mkfs.ext4 -q %s && mkdir -p /mnt/r0 && mount %s /mnt/r0" % (DEV, DEV), timeout=300)
            # random files of odd sizes plus a real tree (modules, libraries, binaries)
            vm.check("mkdir /mnt/r0/rnd && i=0; while [ $i -lt 24 ]; do "
                     "dd if=/dev/urandom of=/mnt/r0/rnd/f$i bs=$((i * 37 + 1))k count=1 2>/dev/null; "
                     "i=$((i+1)); done && cp -a /lib/modules /usr/sbin /mnt/r0/ && "
                     "cd /mnt/r0 && find . -type f | sort | xargs md5sum > /tmp/sums && sync",
                     timeout=600)
            nfiles = len(vm.check("cat /tmp/sums").splitlines())
            merged = mars_value(vm, "writes_merged")
            print("    %d files copied; writes_merged=%d" % (nfiles, merged))
            # ext4's journal writes its blocks one 4 KiB request at a time
            # (write-path.md, "Contiguous writes share a record").
            expect(merged > 0, "no write shared a log record with the one before it")
            # mounted: down is refused (device open), rmmod is refused, the device keeps working
            rc, out = marsadm(vm, "down %s" % RES)
            expect(rc == 1, "marsadm down while mounted: rc %d, expected 1 (device open):\n%s" % (rc, out))
            rc, out = vm.run("rmmod mars")
            expect(rc != 0, "rmmod mars succeeded while %s was mounted" % DEV)
            expect("mars" in vm.check("lsmod"), "mars not loaded after a refused rmmod")
            vm.check("test -b %s && echo after-refusals > /mnt/r0/after && sync && "
                     "grep -q after-refusals /mnt/r0/after" % DEV)
            vm.check("cd /mnt/r0 && md5sum after >> /tmp/sums")
            vm.check("umount /mnt/r0")
            rc, out = vm.run("e2fsck -fn %s" % DEV, timeout=300)
            expect(rc == 0, "e2fsck -fn %s: rc %d\n%s" % (DEV, rc, out[-2000:]))
            # remount with cold caches: the data come from the module
            vm.check("echo 3 > /proc/sys/vm/drop_caches && mount %s /mnt/r0 && cd /mnt/r0 && "
                     "md5sum -c -s /tmp/sums && cd / && umount /mnt/r0" % DEV, timeout=300)
            # down writes everything back: the data device alone holds the filesystem
            down(vm)
            rc, out = vm.run("e2fsck -fn /dev/vdb", timeout=300)
            expect(rc == 0, "e2fsck -fn /dev/vdb after down: rc %d\n%s" % (rc, out[-2000:]))
            up(vm)
            vm.check("mount %s /mnt/r0 && cd /mnt/r0 && md5sum -c -s /tmp/sums && cd / && umount /mnt/r0"
                     % DEV, timeout=300)
            down(vm)
            vm.check("rmmod mars && test ! -e /proc/sys/mars")


def test_power_cut(env):
    """Acknowledged O_DIRECT|O_DSYNC writes survive power cuts; the device returns by itself."""
    seed = int(os.environ.get("MARS_VM_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    print("    seed %d (MARS_VM_SEED=%d repeats the delays)" % (seed, seed))
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB, ACK_MB], vm_tools=True) as c:
        vm = c[0]
        with diagnosed(vm):
            setup_r0(vm)
            check = "ackwrite check %s /dev/vdc --blocks %d" % (DEV, CUT_BLOCKS)
            for run in range(1, POWER_CUTS + 1):
                vm.check("ackwrite write %s /dev/vdc --blocks %d --run %d --threads 4 --seed %d "
                         "> /tmp/aw.log 2>&1 & echo $! > /tmp/aw.pid" % (DEV, CUT_BLOCKS, run, seed + run))

                def writing():
                    rc, out = vm.run("grep -q '^acked' /tmp/aw.log && echo acked; "
                                     "kill -0 $(cat /tmp/aw.pid) 2>/dev/null || echo dead")
                    return out.split() or None
                state = vmkit.wait_until(writing, 120, "the first acknowledged write of run %d" % run)
                expect("dead" not in state, "ackwrite ended early:\n%s" % vm.check("cat /tmp/aw.log"))
                delay = rng.uniform(0.2, 6.0)
                time.sleep(delay)          # the random moment of the power cut
                rc, out = vm.run("kill -0 $(cat /tmp/aw.pid) && tail -n 1 /tmp/aw.log")
                expect(rc == 0, "ackwrite ended before the power cut:\n%s" % vm.check("cat /tmp/aw.log"))
                vm.power_cut()
                vm.boot()
                t0 = time.monotonic()
                start_module(vm, fresh=False)
                wait_device(vm)            # no marsadm command: the module restores r0 itself
                back = time.monotonic() - t0
                out = vm.check(check + " --min-acks-run %d:1" % run, timeout=300)
                acks = re.search(r"^run %d: (\d+) acks" % run, out, re.M)
                print("    cut %d after %.1fs (%s acked); device back in %.1fs; bytes_replayed=%d; %s"
                      % (run, delay, acks.group(1) if acks else "?", back, mars_value(vm, "bytes_replayed"),
                         out.splitlines()[0]))
                vm.check_console()
            # every logfile ends cleanly or with a torn tail, never corrupt
            for num, name, size in logfiles(vm):
                rc, last = dump_log_end(vm, name)
                expect(rc == 0 and re.search(r"end=(clean-end|torn-tail|older-incarnation)", last),
                       "dump-log %s (%d bytes): rc %d, %s" % (name, size, rc, last))
            down(vm)
            out = vm.check("ackwrite check /dev/vdb /dev/vdc --blocks %d" % CUT_BLOCKS, timeout=300)
            print("    after down, on /dev/vdb: %s" % out.splitlines()[0])


def test_memory_limit(env):
    """4x the buffer limit written against a slow (at first suspended) data device."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB], modules=["dm-delay"], vm_tools=True) as c:
        vm = c[0]
        with diagnosed(vm):
            vm.check("modprobe dm-delay && s=$(blockdev --getsz /dev/vdb) && "
                     "dmsetup create slow --table \"0 $s delay /dev/vdb 0 0 /dev/vdb 0 %d\" && "
                     "dmsetup mknodes slow && test -b /dev/mapper/slow" % DELAY_MS)
            setup_r0(vm, "/dev/mapper/slow", sysctls=[("buffer_limit_bytes", BUFFER_LIMIT)])
            total = 4 * BUFFER_LIMIT
            vm.check("dd if=/dev/urandom of=/tmp/pat bs=1M count=%d 2>/dev/null" % (total // MIB))
            throttled0 = mars_value(vm, "writes_throttled")
            # the data device holds every write back until the writer is throttled
            vm.check("dmsetup suspend slow")
            vm.check("rm -f /tmp/stop; samplemax /proc/sys/mars/bytes_buffered /tmp/stop --limit %d "
                     "> /tmp/samples 2>&1 &" % (BUFFER_LIMIT + SLACK))
            vm.start_job("dd", "dd if=/tmp/pat of=%s bs=1M oflag=direct conv=fsync 2>/tmp/dd.err" % DEV)
            t0 = time.monotonic()
            try:
                vmkit.wait_until(lambda: mars_value(vm, "writes_throttled") > throttled0, 120,
                                 "a throttled write (writes_throttled) while the data device is suspended")
                buffered = mars_value(vm, "bytes_buffered")
                expect(vm.job_status("dd") is None,
                       "dd finished against a suspended data device: %s" % vm.run("cat /tmp/dd.err")[1])
                print("    throttled after %.1fs with bytes_buffered=%d" % (time.monotonic() - t0, buffered))
            finally:
                vm.run("dmsetup resume slow")
            rc = vm.wait_job("dd", 600)
            vm.check("touch /tmp/stop")
            samples = vmkit.wait_until(lambda: vm.run("grep samples= /tmp/samples")[1].strip(), 60,
                                       "samplemax to stop")
            expect(rc == 0, "dd failed: rc %d, %s" % (rc, vm.check("cat /tmp/dd.err")))
            vals = dict(kv.split("=") for kv in samples.split())
            throttled = mars_value(vm, "writes_throttled")
            print("    16 MiB in %.1fs; bytes_buffered %s; writes_throttled=%d"
                  % (time.monotonic() - t0, samples, throttled))
            expect(int(vals["max"]) <= BUFFER_LIMIT + SLACK,
                   "bytes_buffered reached %s > limit %d + %d" % (vals["max"], BUFFER_LIMIT, SLACK))
            expect(int(vals["samples"]) > 100, "too few samples of bytes_buffered: %s" % samples)
            expect(throttled > throttled0, "writes_throttled did not grow: %d" % throttled)
            want = vm.check("md5sum < /tmp/pat").split()[0]
            got = vm.check("dd if=%s bs=1M count=%d iflag=direct 2>/dev/null | md5sum"
                           % (DEV, total // MIB), timeout=300).split()[0]
            expect(got == want, "data read back from %s differ" % DEV)
            down(vm)
            got = vm.check("dd if=/dev/mapper/slow bs=1M count=%d iflag=direct 2>/dev/null | md5sum"
                           % (total // MIB), timeout=300).split()[0]
            expect(got == want, "data on the data device differ after down")
            vm.check("dmsetup remove slow")


def test_log_rotation(env):
    """marsadm log-rotate while fio writes, then logrotate_bytes 1 MiB under fio load."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB], fio=True) as c:
        vm = c[0]
        with diagnosed(vm):
            # phase A: no size rotation; marsadm log-rotate while fio writes
            setup_r0(vm, sysctls=[("logrotate_bytes", 256 * MIB)])
            a_mb, b_mb = (8, 32) if FULL else (4, 8)
            job = ("[%s]\nfilename=%s\ndirect=1\nioengine=libaio\niodepth=8\nrw=randwrite\nbs=4k\n"
                   "offset=%dm\nsize=%dm\nverify=crc32c\nverify_fatal=1\nrandrepeat=1\n")
            jobs = {"a": job % ("a", DEV, 0, a_mb), "b": job % ("b", DEV, 64, b_mb)}
            for k, text in jobs.items():
                vm.put("/tmp/%s.fio" % k, text)
                vm.put("/tmp/%s-vdb.fio" % k, text.replace(DEV, "/dev/vdb"))
            first = logfiles(vm)
            vm.start_job("fio", "fio /tmp/a.fio > /tmp/fio.out 2>&1")
            vmkit.wait_until(lambda: mars_value(vm, "bytes_logged") >= MIB
                             or vm.job_status("fio") is not None, 300, "1 MiB logged")
            newest = logfiles(vm)[-1][0]
            marsadm_ok(vm, "log-rotate %s" % RES)
            expect(logfiles(vm)[-1][0] == newest + 1, "marsadm log-rotate made no log-%09d" % (newest + 1))
            wait_fio(vm)
            # one more write after the rotation at the latest: the new logfile must receive it
            vm.check("dd if=/dev/urandom of=%s bs=4k count=16 seek=%d oflag=direct conv=fsync 2>/dev/null"
                     % (DEV, 48 * 256))     # at 48 MiB: outside both fio regions
            rotated = [f for f in logfiles(vm) if f[0] == newest + 1]
            expect(rotated and rotated[0][2] > 0, "the module did not switch to log-%09d: %s"
                   % (newest + 1, logfiles(vm)))
            # phase B: size-triggered rotation every 1 MiB under load
            set_mars_value(vm, "logrotate_bytes", MIB)
            before = logfiles(vm)
            logged_before = mars_value(vm, "bytes_logged")
            vm.start_job("fio", "fio /tmp/b.fio > /tmp/fio.out 2>&1")
            wait_fio(vm)
            files = logfiles(vm)
            nums = [n for n, _, _ in files]
            print("    logfiles: %s at the start, log-rotate at %d, %s before phase B; now %s"
                  % ([n for n, _, _ in first], newest, [n for n, _, _ in before],
                     ", ".join("%d:%d" % (n, sz) for n, _, sz in files)))
            expect(nums == list(range(nums[0], nums[0] + len(nums))), "logfile numbers not contiguous: %s" % nums)
            # write-path.md §6: a logfile that reached logrotate_bytes takes no
            # further record, so each ends within one record (here a 4 KiB write
            # and its 72-byte header) of the limit
            record = 4096 + 72
            logged = mars_value(vm, "bytes_logged") - logged_before
            expect(nums[-1] - before[-1][0] >= logged // (MIB + record) - 1,
                   "only %d new logfiles for %d bytes logged with logrotate_bytes 1 MiB"
                   % (nums[-1] - before[-1][0], logged))
            for num, name, size in files:
                if before[-1][0] < num < nums[-1]:
                    expect(MIB <= size < MIB + record, "%s has %d bytes; logrotate_bytes is %d"
                           % (name, size, MIB))
            for num, name, size in files:
                rc, last = dump_log_end(vm, name)
                expect(rc == 0 and "end=clean-end" in last, "dump-log %s: rc %d, %s" % (name, rc, last))
                if num == nums[-1]:
                    continue
                # a finished logfile has its version link with the final length
                rc, link = vm.run("readlink %s/version-%09d-%s" % (RDIR, num, HOST))
                m = re.search(r",%s,(\d+):" % re.escape(name), link)
                expect(rc == 0 and m, "version link of finished %s: %r" % (name, link.strip()))
                expect(int(m.group(1)) == size, "version-%09d-%s says %s bytes, logfile has %d"
                       % (num, HOST, m.group(1), size))
            down(vm)
            for k in jobs:
                run_fio(vm, "/tmp/%s-vdb.fio" % k, "--verify_only")


def wait_fio(vm):
    """Wait for the background fio of test_log_rotation; fail unless it passed."""
    rc = vm.wait_job("fio", 900)
    out = vm.check("cat /tmp/fio.out")
    expect(rc == 0 and not re.search(r"err=\s*[1-9]", out), "fio failed with rc %d:\n%s" % (rc, out[-3000:]))


def test_attach_detach_cycles(env):
    """up/write/down cycles leak nothing; rmmod refused while the device is open."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB]) as c:
        vm = c[0]
        with diagnosed(vm):
            start_module(vm, fresh=True)
            baseline = mars_threads(vm)
            expect(baseline, "no thread named mars* after insmod (the module's main thread)")
            print("    threads after insmod: %s" % " ".join(baseline))
            allocations = []
            t0 = time.monotonic()
            for i in range(CYCLES):
                if i == 0:
                    create_r0(vm)
                else:
                    up(vm)
                vm.check("dd if=/dev/urandom of=/tmp/pat%d bs=64k count=1 2>/dev/null && "
                         "dd if=/tmp/pat%d of=%s bs=64k seek=%d oflag=direct conv=fsync 2>/dev/null"
                         % (i, i, DEV, i))
                down(vm)
                allocations.append(engine_allocations(vm))
            print("    %d cycles in %.1fs; allocations after each down: %s"
                  % (CYCLES, time.monotonic() - t0, allocations))
            expect(allocations[-1] == allocations[0],
                   "allocations %d after cycle %d, %d after cycle 1: %s"
                   % (allocations[-1], CYCLES, allocations[0], allocations))
            threads = mars_threads(vm)
            expect(threads == baseline, "threads after the last down %s, after insmod %s" % (threads, baseline))
            for i in range(CYCLES):
                vm.check("dd if=/dev/vdb bs=64k skip=%d count=1 iflag=direct 2>/dev/null | cmp - /tmp/pat%d"
                         % (i, i))
            # open device: rmmod and down refused, the device keeps working
            up(vm)
            vm.check("sh -c 'exec 3<%s; exec sleep 600' >/dev/null 2>&1 & echo $! > /tmp/holder.pid" % DEV)
            vmkit.wait_until(lambda: vm.run("ls -l /proc/$(cat /tmp/holder.pid)/fd | grep -q %s" % DEV)[0] == 0,
                             30, "the holder to open %s" % DEV)
            rc, out = vm.run("rmmod mars")
            expect(rc != 0, "rmmod mars succeeded while %s was open" % DEV)
            rc, out = marsadm(vm, "down %s" % RES)
            expect(rc == 1, "marsadm down while open: rc %d, expected 1:\n%s" % (rc, out))
            vm.check("dd if=%s bs=64k count=1 iflag=direct 2>/dev/null | cmp - /tmp/pat0" % DEV)
            vm.check("kill $(cat /tmp/holder.pid)")
            marsadm_ok(vm, "wait-umount %s" % RES)
            down(vm)
            vm.check("rmmod mars && test ! -e /proc/sys/mars")
            expect(mars_threads(vm) == [], "threads left after rmmod: %s" % mars_threads(vm))


if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
