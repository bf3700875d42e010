"""Faults under replication (issues 7 and 8): a failing data device on the
secondary during its block sync and its replay, and cable cuts during the
sync and during fetch.

Two VMs (alpha 10.77.0.1, beta 10.77.0.2) joined by a virtual cable; vda is
/mars on each, vdb the data disk. Beta's data device of r0 is the dm device
`data` (linear over vdb), whose table is switched to dm-flakey error_writes
(reads pass) and back while the resource runs (docu/replication.md §6,
docu/write-path.md §10):

  test_secondary_faults  alpha is primary of r0 with 8 MiB on its device;
                         beta sets peer_inflight_bytes to 64 KiB (its proc
                         file refuses 0 and garbage) and joins with its
                         data device failing writes:
                         the sync compares, cannot write, says so in
                         msg-err-sync (seen on both hosts) and retries; the
                         cable is pulled, the device repaired, the cable
                         plugged: the sync finishes by itself. Then the
                         device fails again while alpha writes: replay
                         stops with replay-code -5 and msg-err-replay in
                         view, fetch goes on; the cable is pulled while
                         alpha writes across a log-rotate and plugged again;
                         the device is repaired: replay resumes by itself,
                         reaches alpha's log end, the messages go, and
                         beta's disk equals alpha's device

Run: testing/vm/run-tests replication_faults   or
     python3 testing/vm/tests/test_replication_faults.py --kernel 6.1
"""
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import vmkit  # noqa: E402
from test_faults import dm_create, dm_switch, error_writes, linear, sectors  # noqa: E402
from test_replication import (copy_secret, diagnose, expect, link, marsadm,  # noqa: E402
                              marsadm_ok, replay_link, start_mars)

MARS_MB = 256
DATA_MB = 64
WAIT = 300               # seconds for a state to be reached under TCG


def actual(vm, host, leaf):
    """A link below actual-HOST/, or None when absent or deleted."""
    value = link(vm, "resource-r0/actual-%s/%s" % (host, leaf))
    return None if value == ".deleted" else value


def wait_for(what, cond, timeout=WAIT):
    vmkit.wait_until(cond, timeout, what)


def view_shows(vm, text):
    rc, out = marsadm(vm, "view r0")
    return rc == 0 and text in out


def log_end(vm):
    """(newest logfile of r0, its size) on alpha, the primary, once every
    write so far is in it: plain writes are acknowledged when they are
    logged in memory, a flush of /dev/mars/r0 when they are durable in the
    logfile (docu/write-path.md); `sync` flushes no raw block device."""
    vm.check("dd if=/dev/null of=/dev/mars/r0 conv=notrunc,fsync 2>/dev/null")
    logs = sorted(vm.check("cd /mars/resource-r0 && ls log-*").split())
    return logs[-1], int(vm.check("stat -c %s /mars/resource-r0/" + logs[-1]).strip())


def test_secondary_faults(env):
    with env.cluster(2, mars=True, names=["alpha", "beta"], disks=[MARS_MB, DATA_MB],
                     modules=["dm-flakey"]) as c:
        a, b = c.vms
        for vm in c.vms:
            start_mars(vm)
        b.check("modprobe dm-flakey")
        dm_create(b, "data", linear(b, "/dev/vdb"))
        size = sectors(b, "/dev/vdb")
        failing = error_writes("/dev/vdb", 0, size)
        marsadm_ok(a, "create-cluster --ip %s" % a.ip)
        copy_secret(a, b)
        marsadm_ok(b, "join-cluster alpha %s --ip %s" % (a.ip, b.ip))
        marsadm_ok(a, "create-resource r0 /dev/vdb")
        marsadm_ok(a, "wait-resource r0 is-device")
        a.check("dd if=/dev/urandom of=/dev/mars/r0 bs=1M count=8 oflag=direct 2>/dev/null",
                timeout=300)
        wait_for("alpha's writeback",
                 lambda: a.check("cat /proc/sys/mars/bytes_buffered").strip() == "0")
        wait_for("beta sees alpha's replay link",
                 lambda: replay_link(b, "r0", "alpha") is not None)
        marsadm_ok(b, "join-resource r0 /dev/mapper/data")

        # beta asks alpha for at most 64 KiB at a time from here on
        # (peer_inflight_bytes); the proc file refuses 0, garbage and values
        # below 4 KiB and keeps its value
        tunable = "/proc/sys/mars/peer_inflight_bytes"
        expect(b.check("cat " + tunable).strip() == str(5 << 20),
               "peer_inflight_bytes is not 5 MiB by default")
        b.check("echo 65536 > " + tunable)
        for bad in ("0", "garbage", "4095"):
            rc, out = b.run("echo %s > %s" % (bad, tunable))
            expect(rc != 0 and "Invalid argument" in out,
                   "writing %s to %s: rc %d, %r" % (bad, tunable, rc, out))
        expect(b.check("cat " + tunable).strip() == "65536",
               "peer_inflight_bytes changed by a refused write")

        # the sync under a device that fails writes, and a cable cut
        dm_switch(b, "data", failing, lockfs=False)
        marsadm_ok(b, "up r0")
        wait_for("msg-err-sync on beta and alpha", lambda: all(
            "sync cannot write the data device" in (actual(vm, "beta", "msg-err-sync") or "")
            for vm in (a, b)))
        expect(view_shows(b, "err-sync"), "beta's view does not show msg-err-sync")
        expect(link(b, "resource-r0/syncstatus-beta") == "0",
               "beta's syncstatus moved although no write succeeded")
        a.set_link(b, False)
        dm_switch(b, "data", linear(b, "/dev/vdb"), lockfs=False)
        a.set_link(b, True)
        full = str(DATA_MB << 20)
        wait_for("beta's sync after the repair",
                 lambda: link(b, "resource-r0/syncstatus-beta") == full)
        wait_for("msg-err-sync gone", lambda: actual(b, "beta", "msg-err-sync") is None)
        copied = int(b.check("cat /proc/sys/mars/sync_bytes_copied"))
        expect(copied >= 8 << 20, "beta copied %d bytes; alpha's first 8 MiB differ" % copied)

        # replay under a device that fails writes
        wait_for("beta replays", lambda: actual(b, "beta", "is-replaying") == "1")
        dm_switch(b, "data", failing, lockfs=False)
        a.check("dd if=/dev/urandom of=/dev/mars/r0 bs=1M seek=16 count=4 oflag=direct "
                "2>/dev/null", timeout=300)
        wait_for("replay-code -5 on beta", lambda: actual(b, "beta", "replay-code") == "-5")
        text = actual(b, "beta", "msg-err-replay") or ""
        expect("cannot write to the data device" in text, "msg-err-replay is %r" % text)
        expect(view_shows(b, "err-replay"), "beta's view does not show msg-err-replay")

        # fetch goes on, also across a cable cut and a log-rotate
        a.set_link(b, False)
        a.check("dd if=/dev/urandom of=/dev/mars/r0 bs=1M seek=24 count=4 oflag=direct "
                "2>/dev/null", timeout=300)
        marsadm_ok(a, "log-rotate r0")
        a.check("dd if=/dev/urandom of=/dev/mars/r0 bs=1M seek=30 count=2 oflag=direct "
                "2>/dev/null && sync", timeout=300)
        a.set_link(b, True)
        last, end = log_end(a)
        try:
            wait_for("beta fetches %s up to %d" % (last, end), lambda: b.run(
                "stat -c %%s /mars/resource-r0/%s" % last)[1].strip() == str(end))
        except vmkit.VMError as e:
            raise AssertionError("%s\nbeta:\n%s\nalpha:\n%s" % (e, diagnose(b), diagnose(a)))

        # repaired: replay resumes by itself (retried every 10 s)
        dm_switch(b, "data", linear(b, "/dev/vdb"), lockfs=False)
        wait_for("beta replays up to %s:%d" % (last, end),
                 lambda: replay_link(b, "r0", "beta") == (last, end))
        wait_for("replay-code 0 and no msg-err-replay", lambda: (
            actual(b, "beta", "replay-code") == "0"
            and actual(b, "beta", "msg-err-replay") is None))
        want = a.check("dd if=/dev/mars/r0 bs=1M count=%d 2>/dev/null | md5sum" % DATA_MB)
        marsadm_ok(b, "down r0")
        got = b.check("dd if=/dev/vdb bs=1M count=%d 2>/dev/null | md5sum" % DATA_MB)
        expect(want == got, "beta's data disk differs from alpha's device")
        marsadm_ok(a, "down r0")
        b.check("dmsetup remove data")
        for vm in c.vms:
            vm.check("rmmod mars", timeout=120)


if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
