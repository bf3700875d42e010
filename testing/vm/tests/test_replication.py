"""Replication between hosts (issue 7): tree exchange, sync, fetch and replay.

Two VMs (alpha 10.77.0.1, beta 10.77.0.2) joined by a virtual cable; vda is
/mars on each. Each test starts from fresh /mars filesystems.

  test_join_and_tree_exchange  create-cluster on alpha; first a wrong secret
                               on beta: join-cluster times out, no tree entry
                               crosses, the refusal is in the kernel log; then
                               the right secret: beta pulls uuid and alpha's
                               address, alpha learns beta's; changes and
                               deletions travel both ways with their stamps; a
                               pulled cable delays but loses nothing; both
                               modules unload with the connection open
  test_secondaries_follow  three VMs: create-resource on alpha and a pattern
                           written to its /dev/mars/r0; join-resource on beta,
                           whose data disk holds the same bytes already, and
                           on gamma, whose disk holds others: both sync
                           (beta copies nothing, gamma what differs); 16 MiB
                           of random writes on alpha's /dev/mars/r0 across a
                           log-rotate, then fio with verification; both fetch
                           the logfiles, gamma replays them as they grow,
                           beta (replay paused) once they are complete and
                           evicted from its page cache (readahead off),
                           until their replay links reach alpha's log end
                           (beta reads the
                           payloads of 1 MiB records with direct I/O, each
                           ahead of its verification); after
                           `down` fio verifies each data disk, which equals
                           alpha's device

Run: testing/vm/run-tests replication   or
     python3 testing/vm/tests/test_replication.py --kernel 6.1
"""
import os
import re
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import vmkit  # noqa: E402

MARS_MB = 256
DATA_MB = 64
WAIT = int(os.environ.get("MARS_VM_WAIT", "120"))
TREE_WAIT = 120          # seconds for a tree change to reach the other host


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def start_mars(vm):
    """/mars on vda (fresh), then insmod."""
    vm.check("mkfs.ext4 -q -F /dev/vda && mkdir -p /mars && mount /dev/vda /mars "
             "&& insmod /mars.ko", timeout=300)


def marsadm(vm, args, timeout=None):
    return vm.run("marsadm %s --timeout %d" % (args, WAIT),
                  timeout=timeout or WAIT + 60)


def marsadm_ok(vm, args):
    rc, out = marsadm(vm, args)
    if rc != 0:
        raise vmkit.CommandFailed(vm, "marsadm " + args, rc,
                                  out + "\n" + vm.run("dmesg | grep -i mars | tail -30")[1])
    return out


def link(vm, path):
    """The value of /mars/PATH, or None."""
    rc, out = vm.run("readlink /mars/%s" % path)
    return out.strip() if rc == 0 else None


def wait_link(vm, path, value, what):
    vmkit.wait_until(lambda: link(vm, path) == value, TREE_WAIT,
                     "%s: /mars/%s -> %s (%s)" % (vm, path, value, what))


def copy_secret(src, dst, secret=None):
    data = secret if secret is not None else src.get("/mars/secret")
    dst.put("/mars/secret", data)
    dst.check("chmod 600 /mars/secret")


def test_join_and_tree_exchange(env):
    with env.cluster(2, mars=True, names=["alpha", "beta"], disks=[MARS_MB]) as c:
        a, b = c.vms
        for vm in (a, b):
            start_mars(vm)
        marsadm_ok(a, "create-cluster --ip %s" % a.ip)

        # a wrong secret: refused, nothing crosses, said once in the log
        copy_secret(a, b, secret=b"0123456789abcdef" * 4 + b"\n")
        rc, out = b.run("marsadm join-cluster alpha %s --ip %s --timeout 15" % (a.ip, b.ip),
                        timeout=120)
        expect(rc != 0, "join-cluster with a wrong secret succeeded:\n" + out)
        expect(link(b, "uuid") is None, "beta got alpha's uuid with a wrong secret")
        expect(link(a, "ips/ip-beta") is None, "alpha got beta's entry with a wrong secret")
        log = a.check("dmesg | grep 'mars:' || true") + b.check("dmesg | grep 'mars:' || true")
        refusals = re.findall(r"failed: handshake: peer (?:failed|refused) .*authentication", log)
        expect(refusals, "no word on the refusal in the kernel logs:\n" + log)
        expect(len(refusals) <= 4, "the refusal is logged per attempt, not once a "
               "minute:\n" + "\n".join(refusals))

        # the right secret: join-cluster again completes the join
        copy_secret(a, b)
        marsadm_ok(b, "join-cluster alpha %s --ip %s" % (a.ip, b.ip))
        expect(link(b, "uuid") == link(a, "uuid"),
               "uuid: beta %r, alpha %r" % (link(b, "uuid"), link(a, "uuid")))
        wait_link(a, "ips/ip-beta", b.ip, "alpha learns beta's address")
        expect(link(b, "ips/ip-alpha") == a.ip, "beta: ips/ip-alpha")

        # both directions, values and deletions, with their stamps
        marsadm_ok(b, "lowlevel-set-host-ip gamma 10.77.0.99")
        wait_link(a, "ips/ip-gamma", "10.77.0.99", "beta's change on alpha")
        stamp_b = b.check("stat -c %y /mars/ips/ip-gamma").strip()
        stamp_a = a.check("stat -c %y /mars/ips/ip-gamma").strip()
        expect(stamp_a == stamp_b, "the entry's stamp differs: beta %s, alpha %s"
               % (stamp_b, stamp_a))
        marsadm_ok(a, "lowlevel-delete-host gamma")
        wait_link(b, "ips/ip-gamma", ".deleted", "alpha's deletion on beta")

        # a pulled cable delays the exchange; nothing is lost
        a.set_link(b, False)
        marsadm_ok(a, "lowlevel-set-host-ip delta 10.77.0.98")
        a.set_link(b, True)
        wait_link(b, "ips/ip-delta", "10.77.0.98", "a change made while the cable was out")

        # both modules unload with the connection open
        for vm in (a, b):
            vm.check("rmmod mars", timeout=120)
        log = a.check("dmesg | grep 'mars:' || true")
        expect("connected to peer beta" in log, "alpha's log does not show the peer:\n" + log)


def run_fio(vm, jobfile, extra=""):
    rc, out = vm.run("fio %s %s 2>&1" % (jobfile, extra), timeout=900)
    expect(rc == 0 and "err= 0" in out and not re.search(r"err=\s*[1-9]", out),
           "%s: fio %s %s failed (rc %d):\n%s" % (vm, jobfile, extra, rc, out[-3000:]))


def diagnose(vm, res="r0"):
    """What a stalled fetch or replay leaves to look at, compactly: the sizes
    of the logfiles, every link of the resource, its view, the module's
    counters, the end of the kernel log, the requests each disk holds
    (inflight: reads, writes) and what blk-mq holds for it (debugfs: the
    requeue and dispatch lists, busy requests, the scheduler's lists), where
    each mars thread waits, and qemu's side of each disk's queue
    (VM.virtio_blk_queues())."""
    cmd = ("cd /mars/resource-%s && for f in *; do if [ -L \"$f\" ]; then "
           "echo \"$f -> $(readlink $f)\"; elif [ -f \"$f\" ]; then "
           "echo \"$f $(stat -c %%s $f) bytes\"; fi; done; "
           "for f in actual-*/*; do echo \"$f -> $(readlink $f)\"; done; "
           "marsadm view %s; cd /proc/sys/mars && for f in *; do "
           "printf '%%s=%%s ' $f \"$(cat $f 2>/dev/null)\"; done; echo; "
           "dmesg | grep mars | tail -15; "
           "for d in /sys/block/vd*; do echo \"${d##*/} inflight: $(cat $d/inflight)\"; done; "
           "cd /sys/kernel/debug/block 2>/dev/null && for f in vd*/state vd*/requeue_list "
           "vd*/hctx*/state vd*/hctx*/busy vd*/hctx*/dispatch vd*/hctx*/dispatch_busy "
           "vd*/hctx*/run vd*/sched/*; do v=$(head -c 300 $f 2>/dev/null | tr '\\n' ' '); "
           "[ -n \"$v\" ] && echo \"blk-mq $f: $v\"; done; "
           "for p in $(ps | awk '/\\[mars_/ {print $1}'); do "
           "echo \"== $p $(cat /proc/$p/comm)\"; cat /proc/$p/stack; done" % (res, res))
    rc, out = vm.run(cmd, timeout=120)
    try:
        host = "\n".join("qemu " + line for line in vm.virtio_blk_queues())
    except vmkit.VMError as e:
        host = "qemu: %s" % e
    return "--- %s (rc %d):\n%s\n%s" % (vm, rc, out.strip(), host)


def replay_link(vm, res, host):
    """(logfile, position) of resource-RES/replay-HOST on vm, or None."""
    value = link(vm, "resource-%s/replay-%s" % (res, host))
    if not value:
        return None
    name, pos, _ = value.split(",")
    return name, int(pos)


def test_secondaries_follow(env):
    with env.cluster(3, mars=True, names=["alpha", "beta", "gamma"],
                     disks=[MARS_MB, DATA_MB], fio=True) as c:
        a, b, g = c.vms
        secondaries = (b, g)
        for vm in c.vms:
            start_mars(vm)
        marsadm_ok(a, "create-cluster --ip %s" % a.ip)
        for s in secondaries:
            copy_secret(a, s)
            marsadm_ok(s, "join-cluster alpha %s --ip %s" % (a.ip, s.ip))
        marsadm_ok(a, "create-resource r0 /dev/vdb")
        marsadm_ok(a, "wait-resource r0 is-device")
        # alpha's device: a pattern at 0 and at 10 MiB, written back; beta's
        # disk holds the same bytes, gamma's others at the same places
        for vm, step in ((a, 7919), (b, 7919), (g, 31)):
            vm.check("awk 'BEGIN{for(i=0;i<131072;i++) printf \"%%015d\\n\", i*%d}' "
                     "> /tmp/pattern" % step, timeout=300)
            dev = "/dev/mars/r0" if vm is a else "/dev/vdb"
            for seek in (0, 10):
                vm.check("dd if=/tmp/pattern of=%s bs=1M seek=%d oflag=direct conv=fsync "
                         "2>/dev/null" % (dev, seek), timeout=300)
        vmkit.wait_until(lambda: a.check("cat /proc/sys/mars/bytes_buffered").strip() == "0",
                         300, "alpha's writeback of the pattern")
        size = DATA_MB << 20
        for s in secondaries:
            vmkit.wait_until(lambda: replay_link(s, "r0", "alpha") is not None, TREE_WAIT,
                             "%s: alpha's replay link" % s)
            marsadm_ok(s, "join-resource r0 /dev/vdb")
            marsadm_ok(s, "up r0")
        for s in secondaries:
            vmkit.wait_until(lambda: link(s, "resource-r0/syncstatus-%s" % s.name) == str(size),
                             600, "%s syncs r0 (now %s)" % (s, link(s, "resource-r0/syncstatus-%s" % s.name)))
            copied = int(s.check("cat /proc/sys/mars/sync_bytes_copied"))
            compared = int(s.check("cat /proc/sys/mars/sync_bytes_compared"))
            print("    %s: sync compared %d bytes, copied %d, syncpos %s"
                  % (s, compared, copied, link(s, "resource-r0/syncpos-%s" % s.name)))
            expect(compared == size, "%s compared %d bytes of %d" % (s, compared, size))
            expect(link(s, "resource-r0/syncpos-%s" % s.name), "%s has no syncpos link" % s)
            if s is b:
                expect(copied == 0, "beta's disk equals alpha's, yet %d bytes were copied" % copied)
            else:
                # the two 2 MiB patterns differ (in 64 KiB digest blocks)
                expect(4 << 20 <= copied <= 4 << 20, "gamma copied %d bytes; 4 MiB differ" % copied)

        # beta catches up later from complete copies; gamma follows as the
        # logfiles grow
        marsadm_ok(b, "pause-replay r0")
        vmkit.wait_until(lambda: link(b, "resource-r0/actual-beta/is-replaying") == "0",
                         TREE_WAIT, "beta stops replaying")
        # 16 MiB of random data in two logfiles
        a.check("dd if=/dev/urandom of=/tmp/data bs=1M count=16 2>&1 || { free; false; }")
        a.check("dd if=/tmp/data of=/dev/mars/r0 bs=1M count=8 oflag=direct 2>/dev/null",
                timeout=300)
        marsadm_ok(a, "log-rotate r0")
        a.check("dd if=/tmp/data of=/dev/mars/r0 bs=1M skip=8 seek=20 count=8 "
                "oflag=direct 2>/dev/null", timeout=300)
        # fio with verification at 40..56 MiB (apart from the writes above)
        job = ("[v]\nfilename=%s\ndirect=1\nioengine=libaio\niodepth=8\nrw=randwrite\n"
               "bs=4k\noffset=40m\nsize=16m\nverify=crc32c\nverify_fatal=1\nrandrepeat=1\n")
        a.put("/tmp/v.fio", job % "/dev/mars/r0")
        run_fio(a, "/tmp/v.fio")
        # a flush: everything acknowledged is in alpha's logfile now
        a.check("dd if=/dev/null of=/dev/mars/r0 conv=notrunc,fsync 2>/dev/null")
        logs = sorted(a.check("cd /mars/resource-r0 && ls log-*").split())
        expect(len(logs) >= 2, "alpha has logfiles %s, expected two after log-rotate" % logs)
        last = logs[-1]
        end = int(a.check("stat -c %s /mars/resource-r0/" + last).strip())
        want = a.check("dd if=/dev/mars/r0 bs=1M count=%d 2>/dev/null | md5sum" % DATA_MB)

        for name in logs:
            size_a = int(a.check("stat -c %s /mars/resource-r0/" + name).strip())
            vmkit.wait_until(lambda: b.run("stat -c %%s /mars/resource-r0/%s" % name)[1]
                             .strip() == str(size_a), 600,
                             "beta fetches %s up to %d" % (name, size_a))
        # beta's copies on its disk only, as after a long pause, and no
        # readahead on that disk (which would bring the pages in ahead of
        # replay): replay reads the large payloads directly (a copy in the
        # page cache is read through it)
        b.check("sync && echo 3 > /proc/sys/vm/drop_caches && "
                "echo 0 > /sys/block/vda/queue/read_ahead_kb")
        marsadm_ok(b, "resume-replay r0")

        # each secondary replays up to alpha's log end; its disk equals alpha's
        for s in secondaries:
            try:
                vmkit.wait_until(lambda: replay_link(s, "r0", s.name) == (last, end), 600,
                                 "%s replays %s up to %d" % (s, last, end))
            except vmkit.VMError as e:
                raise AssertionError("%s (at %s)\n%s"
                                     % (e, replay_link(s, "r0", s.name),
                                        "\n".join(diagnose(vm) for vm in c.vms)))
            for name in logs:
                size_a = a.check("stat -c %s /mars/resource-r0/" + name).strip()
                size_s = s.check("stat -c %s /mars/resource-r0/" + name).strip()
                expect(size_a == size_s, "%s: %s bytes on alpha, %s on %s"
                       % (name, size_a, size_s, s))
            # the 1 MiB records (oflag=direct) have aligned payloads, which
            # replay reads with direct I/O past the first window of each
            # logfile where the page cache does not hold them (write-path.md,
            # "Aligned payloads are read directly"): beta's evicted copies,
            # each while the one before it is verified ("The next payload is
            # read ahead"); gamma's copies, just fetched, mostly through the
            # page cache
            direct = int(s.check("cat /proc/sys/mars/bytes_read_direct"))
            ahead = int(s.check("cat /proc/sys/mars/bytes_read_ahead"))
            print("    %s: replay read %d bytes directly, %d of them ahead"
                  % (s, direct, ahead))
            if s is b:
                expect(direct >= 8 << 20, "beta read only %d bytes of 1 MiB records directly"
                       % direct)
                # of 16 1 MiB records, all but the first three of each
                # logfile (two in the first window, one read when it ends)
                expect(ahead >= 4 << 20, "beta read only %d bytes of 1 MiB records ahead"
                       % ahead)
            marsadm_ok(s, "down r0")
            s.put("/tmp/v.fio", job % "/dev/vdb")
            run_fio(s, "/tmp/v.fio", "--verify_only")
            got = s.check("dd if=/dev/vdb bs=1M count=%d 2>/dev/null | md5sum" % DATA_MB)
            expect(want == got, "%s's data disk differs from alpha's device" % s)
        marsadm_ok(a, "down r0")
        for vm in c.vms:
            vm.check("rmmod mars", timeout=120)

if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
