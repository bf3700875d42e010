"""An I/O error under the secondary's /mars while it fetches (issue 8).

Two VMs (alpha 10.77.0.1, beta 10.77.0.2). Beta's /mars is ext4 on the dm
device `marsdev` (linear over vda). Its table is switched so that every
write to the blocks ext4 has free for file data fails
(test_faults.fail_new_blocks, sparing the first group of each flex group,
where the blocks of new symlinks go): the fetched logfile's new data cannot
reach the disk, while ext4's metadata, the journal and the tree's links
keep working. Writes into the page cache
succeed; the fdatasync of the local copy reports the failed writeback
(docu/replication.md §5):

  test_secondary_mars_faults  beta follows alpha's r0; its /mars starts
                              failing; alpha writes 4 MiB at full speed;
                              beta reports `cannot sync the local copy`
                              in msg-err-fetch (seen in view on both
                              hosts); the fault is removed: beta fetches
                              again what it cut, the message goes, replay
                              reaches alpha's log end and beta's disk
                              equals alpha's device

Only with MARS_VM_FULL=1 (make check-full), on both kernels.

Run: testing/vm/run-tests replication_mars_faults
"""
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import vmkit  # noqa: E402
from test_faults import dm_switch, fail_new_blocks, linear, mars_on_dm  # noqa: E402
from test_replication import (copy_secret, expect, link, marsadm, marsadm_ok,  # noqa: E402
                              replay_link, start_mars)
from test_replication_faults import actual, diagnose, log_end, view_shows, wait_for  # noqa: E402

FULL = os.environ.get("MARS_VM_FULL", "") not in ("", "0")
KERNELS = vmkit.KERNELS if FULL else ()    # make check-full only

MARS_MB = 256
DATA_MB = 32


def test_secondary_mars_faults(env):
    with env.cluster(2, mars=True, names=["alpha", "beta"], disks=[MARS_MB, DATA_MB],
                     modules=["dm-flakey"], vm_tools=True) as c:
        a, b = c.vms
        start_mars(a)
        b.check("modprobe dm-flakey")
        mars_on_dm(b)
        marsadm_ok(a, "create-cluster --ip %s" % a.ip)
        copy_secret(a, b)
        marsadm_ok(b, "join-cluster alpha %s --ip %s" % (a.ip, b.ip))
        marsadm_ok(a, "create-resource r0 /dev/vdb")
        marsadm_ok(a, "wait-resource r0 is-device")
        wait_for("beta sees alpha's replay link",
                 lambda: replay_link(b, "r0", "alpha") is not None)
        marsadm_ok(b, "join-resource r0 /dev/vdb")
        full = str(DATA_MB << 20)
        wait_for("beta's sync", lambda: link(b, "resource-r0/syncstatus-beta") == full)
        wait_for("beta replays", lambda: actual(b, "beta", "is-replaying") == "1")

        # beta's /mars fails every write to a free block from here on
        fail_new_blocks(b, spare_first_groups=True)
        a.check("dd if=/dev/urandom of=/dev/mars/r0 bs=1M count=4 oflag=direct 2>/dev/null",
                timeout=300)
        wait_for("msg-err-fetch on beta and alpha", lambda: all(
            "cannot sync the local copy" in (actual(vm, "beta", "msg-err-fetch") or "")
            for vm in (a, b)))
        for vm in (a, b):
            expect(view_shows(vm, "err-fetch"), "%s's view does not show msg-err-fetch" % vm.name)
        text = actual(b, "beta", "msg-err-fetch")
        print("    beta: %s" % text)
        expect("input/output error" in text, "msg-err-fetch is %r" % text)

        # repaired: what was cut is fetched again, replay reaches the end
        dm_switch(b, "marsdev", linear(b, "/dev/vda"), lockfs=False)
        last, end = log_end(a)
        try:
            wait_for("beta replays up to %s:%d" % (last, end),
                     lambda: replay_link(b, "r0", "beta") == (last, end))
            wait_for("msg-err-fetch gone on both", lambda: all(
                actual(vm, "beta", "msg-err-fetch") is None for vm in (a, b)))
        except vmkit.VMError as e:
            raise AssertionError("%s\nbeta:\n%s\nalpha:\n%s" % (e, diagnose(b), diagnose(a)))
        want = a.check("dd if=/dev/mars/r0 bs=1M count=%d 2>/dev/null | md5sum" % DATA_MB)
        marsadm_ok(b, "down r0")
        got = b.check("dd if=/dev/vdb bs=1M count=%d 2>/dev/null | md5sum" % DATA_MB)
        expect(want == got, "beta's data disk differs from alpha's device")
        marsadm_ok(a, "down r0")
        for vm in c.vms:
            vm.check("rmmod mars", timeout=120)


if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
