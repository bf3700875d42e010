"""Faults under the primary write path (issue 8): failing and slow devices below r0.

Every test builds a fresh single-VM cluster: vda (MARS_MB) holds /mars, vdb
(DATA_MB) is the data device of r0, vdc (ACK_MB) the ack log of ackwrite
(testing/vm/tools) where one is needed. A device-mapper device sits under the
data device (`data`) or under /mars (`marsdev`); its table is switched between
linear and a fault while the resource runs (docu/write-path.md §9):

  test_data_device_errors  dm-flakey error_writes under the data device while
                           writes are buffered: writes are accepted up to
                           buffer_limit_bytes, then wait; DiskError in view,
                           status --json and the kernel log (once); back to
                           linear: writeback resumes by itself, the error
                           clears, down, the data device holds everything
  test_log_errors          error_writes on the blocks ext4 has free under /mars
                           (blocks in use spared: ext4 stays writable, the
                           logfile's new data cannot be written): O_DSYNC
                           writes, plain writes and flushes fail with EIO;
                           back to linear, down, up: every acknowledged write
                           present, the logfile cut at its durable end
  test_recovery_errors     power cut while only the log holds some writes;
                           at the next boot the data device fails writes:
                           msg-err-attach, no device; back to linear: the
                           module's retry (every 10 s) attaches and replays
  test_down_while_data_device_fails  (MARS_VM_FULL=1 only) `marsadm down`
                           while the data device fails: the log keeps the
                           data; `up` fails with msg-err-attach until the
                           fault is gone, then replays
  test_mars_read_only      `mount -o remount,ro /mars` is refused while the
                           module holds its logfile; an error table under all
                           of /mars: ext4 aborts its journal and refuses
                           writes, writes to r0 fail with EIO, `marsadm down`
                           cannot write the tree; rmmod, e2fsck, mount, insmod:
                           the module restores r0 and every acknowledged
                           write is present
  test_slow_log_device     dm-delay (DELAY_MS on writes and flushes) under
                           /mars: O_DSYNC writes take at least DELAY_MS each,
                           nothing fails, the data verify

Every test ends with `rmmod mars`; the kit checks the consoles for oopses,
WARNINGs and hung tasks.

Run: testing/vm/run-tests faults   or   python3 testing/vm/tests/test_faults.py --kernel 6.1
"""
import json
import os
import random
import re
import sys
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import vmkit  # noqa: E402
from test_write_path import (DEV, HOST, MIB, RDIR, RES, create_r0, diagnosed,  # noqa: E402
                             down, dump_log_end, expect, logfiles, marsadm, marsadm_ok, mars_value,
                             set_mars_value, up, wait_device)

MARS_MB = 512            # vda: /mars
DATA_MB = 128            # vdb: data device of r0
ACK_MB = 32              # vdc: ackwrite's ack log
ACK_BLOCKS = 4096        # ackwrite region of r0: 16 MiB
BUFFER_LIMIT = 4 * MIB
SLACK = 1 * MIB          # one request (dd bs=1M) beyond the limit
DELAY_MS = 100           # dm-delay under /mars
SLOW_WRITES = 20         # O_DSYNC writes timed against the slow log device
ACTUAL = "%s/actual-%s" % (RDIR, HOST)
FULL = os.environ.get("MARS_VM_FULL", "") not in ("", "0")


# ---- device-mapper

def sectors(vm, dev):
    return int(vm.check("blockdev --getsz %s" % dev).strip())


def linear(vm, dev):
    return "0 %d linear %s 0" % (sectors(vm, dev), dev)


def error_writes(dev, start, length):
    """dm-flakey that is always down and fails writes (reads pass), mapping 1:1."""
    return "%d %d flakey %s %d 0 1 1 error_writes" % (start, length, dev, start)


def dm_create(vm, name, table):
    vm.put("/tmp/%s.table" % name, table + "\n")
    vm.check("dmsetup create %s /tmp/%s.table && dmsetup mknodes %s && test -b /dev/mapper/%s"
             % (name, name, name, name))


def dm_switch(vm, name, table, lockfs=True):
    """Replaces the table of a live dm device.

    lockfs: freeze a filesystem on it first (everything written so far reaches
    the old table). A filesystem that already has failed I/O cannot be frozen:
    remove faults with lockfs=False."""
    vm.put("/tmp/%s.table" % name, table + "\n")
    rc, out = vm.run("dmsetup load %s /tmp/%s.table && dmsetup suspend %s %s && dmsetup resume %s"
                     % (name, name, "" if lockfs else "--nolockfs", name, name), timeout=120)
    if rc != 0:
        vm.run("dmsetup resume %s" % name)      # never leave it suspended
        raise AssertionError("dmsetup table switch of %s failed (rc %d): %s" % (name, rc, out))
    active = [line.split()[2] for line in vm.check("dmsetup table %s" % name).splitlines() if line.strip()]
    wanted = [line.split()[2] for line in table.splitlines() if line.strip()]
    expect(active == wanted, "dm %s runs %s, expected %s" % (name, active, wanted))


def mars_on_dm(vm, mkfs_options=""):
    """/mars: ext4 on the dm device `marsdev` (linear over vda); insmod."""
    dm_create(vm, "marsdev", linear(vm, "/dev/vda"))
    vm.check("mkfs.ext4 -q -F %s /dev/mapper/marsdev" % mkfs_options, timeout=120)
    vm.check("mkdir -p /mars && mount /dev/mapper/marsdev /mars && insmod /mars.ko")


def fail_new_blocks(vm, spare_first_groups=False):
    """Makes marsdev fail every write to the blocks ext4 has free now: the
    logfile's next data. Blocks in use (metadata, journal, directories,
    what the logfile has) stay writable, so ext4 itself keeps working.

    spare_first_groups: the free blocks of the first group of every flex
    group stay writable too. ext4 puts the blocks of new directories and
    symlinks there and regular files' data from the next group on
    (ext4_inode_to_goal_block, flex groups of 4 or more), so links written
    during the fault (a value over 60 bytes needs a block, e.g.
    msg-err-fetch) do not meet it: a metadata write that fails makes ext4
    abort its journal, and /mars is read-only from then on (seen on 6.12
    with a secondary's fetch, block 7992 of group 0). Only for files written
    in large pieces (a fetched copy): small appends that are synced one by
    one (a primary's logfile) may take blocks of the first group.

    The suspend freezes ext4 (everything reaches the disk); the block
    bitmaps are then read from vda beneath, and the new table is loaded
    before the resume."""
    total = sectors(vm, "/dev/vda")
    vm.check("dmsetup suspend marsdev", timeout=120)
    try:
        layout = vm.check("blockdev --flushbufs /dev/vda && dumpe2fs /dev/vda 2>/dev/null", timeout=120)
        block = int(re.search(r"^Block size:\s+(\d+)", layout, re.M).group(1)) // 512
        flex = re.search(r"^Flex block group size:\s+(\d+)", layout, re.M)
        flex = int(flex.group(1)) if flex else 1
        expect(flex >= 4 or not spare_first_groups,
               "ext4 without flex groups of 4 or more:\n%s" % layout[:2000])
        free, group = [], None
        for line in layout.splitlines():
            m = re.match(r"^Group (\d+):", line)
            if m:
                group = int(m.group(1))
                continue
            m = re.match(r"^  Free blocks: (.*)$", line)
            if not m or (spare_first_groups and group % flex == 0):
                continue
            for r in filter(None, (x.strip() for x in m.group(1).split(","))):
                a, _, b = r.partition("-")
                free.append((int(a) * block, (int(b or a) + 1) * block))
        expect(free, "no free blocks in dumpe2fs /dev/vda:\n%s" % layout[:2000])
        lines, at = [], 0
        for a, b in sorted(free):
            if a > at:
                lines.append("%d %d linear /dev/vda %d" % (at, a - at, at))
            lines.append(error_writes("/dev/vda", a, b - a))
            at = b
        if total > at:
            lines.append("%d %d linear /dev/vda %d" % (at, total - at, at))
        vm.put("/tmp/marsdev.table", "\n".join(lines) + "\n")
        vm.check("dmsetup load marsdev /tmp/marsdev.table")
    finally:
        vm.check("dmsetup resume marsdev", timeout=120)
    active = vm.check("dmsetup table marsdev")
    expect("flakey" in active, "marsdev runs no fault:\n%s" % active)
    return len(free)


# ---- what the module shows

def link(vm, path):
    """Value of a link, or None when absent or a tombstone."""
    rc, out = vm.run("readlink %s" % path)
    value = out.strip()
    return value if rc == 0 and value != ".deleted" else None


def disk_error(vm):
    return link(vm, ACTUAL + "/disk-error")


def status_json(vm):
    rc, out, err = vm.run_full("marsadm status --json", split=True, timeout=60)
    expect(rc == 0, "marsadm status --json: rc %d: %s" % (rc, err.decode(errors="replace")))
    doc = json.loads(out.decode())
    res = [r for r in doc["resources"] if r["name"] == RES]
    expect(res, "no resource %s in marsadm status --json" % RES)
    host = [h for h in res[0]["hosts"] if h["name"] == HOST]
    expect(host, "no host %s in resource %s of marsadm status --json" % (HOST, RES))
    return res[0], host[0]


def expect_error_shown(vm, key, regex):
    """msg-KEY matches `regex`; marsadm view and status --json show it."""
    text = link(vm, "%s/msg-%s" % (ACTUAL, key)) or ""
    expect(re.search(regex, text), "%s/msg-%s is %r, expected /%s/" % (ACTUAL, key, text, regex))
    rc, view = marsadm(vm, "view %s" % RES)
    expect(rc == 0 and "%s: %s" % (key, text) in view,
           "marsadm view %s (rc %d) does not show msg-%s %r:\n%s" % (RES, rc, key, text, view))
    res, host = status_json(vm)
    texts = [m["text"] for m in res["messages"] if m["key"] == key]
    expect(text in texts, "marsadm status --json: messages %s lack %r" % (res["messages"], text))
    return view, res, host


def expect_no_error(vm):
    expect(disk_error(vm) == "0", "disk-error is %r, expected 0" % disk_error(vm))
    for key in ("err-io", "err-attach"):
        expect(link(vm, "%s/msg-%s" % (ACTUAL, key)) is None, "msg-%s still present: %r"
               % (key, link(vm, "%s/msg-%s" % (ACTUAL, key))))
    rc, view = marsadm(vm, "view %s" % RES)
    expect(rc == 0 and "error" not in view and "DiskError" not in view,
           "marsadm view %s still shows an error (rc %d):\n%s" % (RES, rc, view))


def kernel_lines(vm, pattern):
    """Lines of the kernel log matching the extended regex `pattern`."""
    rc, out = vm.run("dmesg | grep -E '%s'" % pattern)
    return out.splitlines() if rc == 0 else []


def expect_logged_once(vm, pattern):
    lines = kernel_lines(vm, pattern)
    expect(len(lines) == 1, "kernel log lines matching %r: %d, expected one:\n%s"
           % (pattern, len(lines), "\n".join(lines[:10])))
    return lines[0]


# ---- data

def put_pattern(vm, path, size, seed):
    """A reproducible pattern (also after a power cut, which empties /tmp)."""
    data = random.Random(seed).randbytes(size)
    vm.put(path, data)


def md5_of(vm, path, skip_mb, count_mb):
    direct = " iflag=direct" if path.startswith("/dev/") else ""
    return vm.check("dd if=%s bs=1M skip=%d count=%d%s 2>/dev/null | md5sum"
                    % (path, skip_mb, count_mb, direct), timeout=300).split()[0]


def expect_pattern(vm, dev, skip_mb, pattern, count_mb, what):
    """count_mb MiB of dev from skip_mb MiB on equal the start of the pattern file."""
    want = md5_of(vm, pattern, 0, count_mb)
    got = md5_of(vm, dev, skip_mb, count_mb)
    expect(got == want, "%s: %d MiB at %d MiB of %s differ from %s" % (what, count_mb, skip_mb, dev, pattern))


def start_ackwrite(vm, run, count=0, threads=4):
    vm.start_job("aw", "ackwrite write %s /dev/vdc --blocks %d --run %d --threads %d --seed %d%s > /tmp/aw.log 2>&1"
                 % (DEV, ACK_BLOCKS, run, threads, 4242 + 1000 * run, " --count %d" % count if count else ""))


def ackwrite_acks(vm):
    """Acknowledged writes of the running ackwrite (its last progress line)."""
    out = vm.check("grep '^acked' /tmp/aw.log | tail -n 1; true").split()
    return int(out[1]) if len(out) == 2 else 0


def ackwrite_done(vm):
    """(rc, log) of a finished ackwrite, or None while it runs."""
    rc = vm.job_status("aw")
    if rc is None:
        return None
    return rc, vm.check("cat /tmp/aw.log")


def ackwrite_check(vm, dev, min_acks=None):
    extra = " --min-acks-run %d:%d" % min_acks if min_acks else ""
    rc, out = vm.run("ackwrite check %s /dev/vdc --blocks %d%s" % (dev, ACK_BLOCKS, extra), timeout=300)
    expect(rc == 0, "ackwrite check %s failed:\n%s" % (dev, out))
    return out.splitlines()[0]


def expect_eio(vm, cmd, what):
    rc, out = vm.run(cmd, timeout=120)
    expect(rc != 0 and "Input/output error" in out, "%s: rc %d, expected EIO:\n%s" % (what, rc, out))


def unload(vm):
    vm.check("rmmod mars && test ! -e /proc/sys/mars", timeout=120)


# ---- tests

def test_data_device_errors(env):
    """Write errors on the data device during writeback: buffered, shown, resumed."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB], modules=["dm-flakey"]) as c:
        vm = c[0]
        with diagnosed(vm):
            vm.check("modprobe dm-flakey")
            dm_create(vm, "data", linear(vm, "/dev/vdb"))
            vm.check("mkfs.ext4 -q -F /dev/vda && mkdir -p /mars && mount /dev/vda /mars && insmod /mars.ko",
                     timeout=120)
            set_mars_value(vm, "buffer_limit_bytes", BUFFER_LIMIT)
            create_r0(vm, "/dev/mapper/data")
            total_mb = 3 * BUFFER_LIMIT // MIB
            vm.check("dd if=/dev/urandom of=/tmp/pat bs=1M count=%d 2>/dev/null" % total_mb)
            vm.check("dd if=/tmp/pat of=%s bs=1M count=1 oflag=direct conv=fsync 2>/dev/null" % DEV)
            vmkit.wait_until(lambda: mars_value(vm, "bytes_buffered") == 0, 120, "the first MiB written back")
            throttled0 = mars_value(vm, "writes_throttled")

            dm_switch(vm, "data", error_writes("/dev/vdb", 0, sectors(vm, "/dev/vdb")))
            vm.start_job("dd", "dd if=/tmp/pat of=%s bs=1M skip=1 seek=1 oflag=direct conv=fsync 2>/tmp/dd.err"
                         % DEV)
            t0 = time.monotonic()
            vmkit.wait_until(lambda: mars_value(vm, "writes_throttled") > throttled0, 120,
                             "a writer waiting at the buffer limit")
            vmkit.wait_until(lambda: disk_error(vm) == "-5", 60, "disk-error -5")
            buffered = mars_value(vm, "bytes_buffered")
            expect(BUFFER_LIMIT - SLACK <= buffered <= BUFFER_LIMIT + SLACK,
                   "bytes_buffered %d while the data device fails, limit %d" % (buffered, BUFFER_LIMIT))
            expect(vm.job_status("dd") is None,
                   "dd ended while the data device fails: rc %s, %s"
                   % (vm.job_status("dd"), vm.run("cat /tmp/dd.err")[1]))
            print("    writer waits with bytes_buffered=%d after %.1fs" % (buffered, time.monotonic() - t0))
            view, res, host = expect_error_shown(vm, "err-io", "^cannot write back to the data device: "
                                                 "input/output error")
            expect("DiskError" in view, "marsadm view does not say DiskError:\n%s" % view)
            expect(host["actual"]["disk_error"] == "-5" and host["disk_state"] == "DiskError",
                   "status --json: actual.disk_error %r, disk_state %r"
                   % (host["actual"]["disk_error"], host["disk_state"]))
            line = expect_logged_once(vm, "mars: resource r0: cannot write back")
            print("    kernel log: %s" % line.split("] ", 1)[-1])
            # the log keeps everything accepted; reads are served meanwhile
            logged = sum(size for _, _, size in logfiles(vm))
            expect(logged >= buffered + MIB, "logfiles hold %d bytes, %d buffered" % (logged, buffered))
            expect_pattern(vm, DEV, 0, "/tmp/pat", 2, "read while the data device fails")

            dm_switch(vm, "data", linear(vm, "/dev/vdb"))
            t1 = time.monotonic()
            rc = vm.wait_job("dd", 300)
            expect(rc == 0, "dd failed: rc %d, %s" % (rc, vm.check("cat /tmp/dd.err")))
            vmkit.wait_until(lambda: disk_error(vm) == "0", 60, "disk-error 0 after the fault")
            print("    writeback resumed: dd done %.1fs after the fault was removed" % (time.monotonic() - t1))
            expect_no_error(vm)
            expect_logged_once(vm, "mars: resource r0: cannot write back")
            expect_logged_once(vm, "mars: resource r0: writeback to /dev/mapper/data works again")
            expect_pattern(vm, DEV, 0, "/tmp/pat", total_mb, "read back after the fault")
            down(vm)
            expect_pattern(vm, "/dev/mapper/data", 0, "/tmp/pat", total_mb, "data device after down")
            unload(vm)
            vm.check("dmsetup remove data")


def test_log_errors(env):
    """Write errors on the logfile's data (ext4 stays writable): EIO, down, up, nothing acked lost."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB, ACK_MB], modules=["dm-flakey"],
                     vm_tools=True) as c:
        vm = c[0]
        with diagnosed(vm):
            vm.check("modprobe dm-flakey")
            mars_on_dm(vm, "-e continue")
            create_r0(vm)
            start_ackwrite(vm, run=1)
            vmkit.wait_until(lambda: ackwrite_acks(vm) >= 200 or ackwrite_done(vm), 120, "200 acks")
            expect(ackwrite_done(vm) is None, "ackwrite ended early: %s" % (ackwrite_done(vm),))

            ranges = fail_new_blocks(vm)
            rc, log = vmkit.wait_until(lambda: ackwrite_done(vm), 120, "ackwrite to fail")
            expect(rc != 0 and "Input/output error" in log, "ackwrite: rc %d, expected EIO:\n%s" % (rc, log))
            acks = ackwrite_acks(vm)
            vmkit.wait_until(lambda: disk_error(vm) == "-5", 60, "disk-error -5")
            # later writes and flushes fail too; reads work; /mars itself is fine
            expect_eio(vm, "dd if=/dev/zero of=%s bs=4k count=1 seek=%d oflag=direct 2>&1"
                       % (DEV, ACK_BLOCKS + 1), "a plain write after the log failed")
            expect_eio(vm, "dd if=/dev/null of=%s conv=fsync 2>&1" % DEV, "a flush after the log failed")
            vm.check("dd if=%s of=/dev/null bs=1M count=16 iflag=direct 2>/dev/null" % DEV)
            vm.check("mkdir /mars/probe && rmdir /mars/probe")
            view, res, host = expect_error_shown(vm, "err-io", "^cannot (sync|write) the logfile: "
                                                 "input/output error")
            expect(host["actual"]["disk_error"] == "-5", "status --json: disk_error %r"
                   % host["actual"]["disk_error"])
            line = expect_logged_once(vm, "mars: resource r0: cannot (write|sync) the logfile")
            print("    %d acks before the fault on %d free ranges; kernel log: %s"
                  % (acks, ranges, line.split("] ", 1)[-1]))

            dm_switch(vm, "marsdev", linear(vm, "/dev/vda"), lockfs=False)
            # ext4 itself took no error: a syncfs of /mars (as marsadm makes
            # for every change of the tree) succeeds
            vm.check("sync -f /mars")
            marsadm_ok(vm, "down %s" % RES)
            cut = expect_logged_once(vm, "mars: resource r0: logfile [0-9]+ cut at its durable end")
            print("    %s" % cut.split("] ", 1)[-1])
            up(vm)
            expect_no_error(vm)
            print("    after down/up: %s" % ackwrite_check(vm, DEV, (1, acks)))
            # on disk (not in the page cache): every logfile ends cleanly, a
            # finished one exactly where its version link says
            vm.check("sync && echo 3 > /proc/sys/vm/drop_caches")
            files = logfiles(vm)
            for num, name, size in files:
                rc, last = dump_log_end(vm, name)
                expect(rc == 0 and "end=clean-end" in last, "dump-log %s (%d bytes): rc %d, %s"
                       % (name, size, rc, last))
                if num != files[-1][0]:
                    value = link(vm, "%s/version-%09d-%s" % (RDIR, num, HOST)) or ""
                    m = re.search(r",%s,(\d+):" % re.escape(name), value)
                    expect(m and int(m.group(1)) == size, "version link of %s: %r, logfile has %d bytes"
                           % (name, value, size))
            start_ackwrite(vm, run=2, count=200)
            rc, log = vmkit.wait_until(lambda: ackwrite_done(vm), 300, "ackwrite run 2")
            expect(rc == 0, "ackwrite after recovery failed:\n%s" % log)
            down(vm)
            print("    after down, on /dev/vdb: %s" % ackwrite_check(vm, "/dev/vdb", (2, 200)))
            unload(vm)


def test_recovery_errors(env):
    """The data device fails while attach replays after a power cut; the retry succeeds."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB], modules=["dm-flakey"]) as c:
        vm = c[0]
        with diagnosed(vm):
            fault = error_writes("/dev/vdb", 0, sectors(vm, "/dev/vdb"))
            put_pattern(vm, "/tmp/a", 2 * MIB, 1)
            put_pattern(vm, "/tmp/b", 2 * MIB, 2)
            vm.check("modprobe dm-flakey")
            dm_create(vm, "data", linear(vm, "/dev/vdb"))
            vm.check("mkfs.ext4 -q -F /dev/vda && mkdir -p /mars && mount /dev/vda /mars && insmod /mars.ko",
                     timeout=120)
            create_r0(vm, "/dev/mapper/data")
            vm.check("dd if=/tmp/a of=%s bs=1M oflag=direct conv=fsync 2>/dev/null" % DEV)
            vmkit.wait_until(lambda: mars_value(vm, "bytes_buffered") == 0, 120, "a written back")
            dm_switch(vm, "data", fault)
            # b is durable in the log only
            vm.check("dd if=/tmp/b of=%s bs=1M seek=4 oflag=direct conv=fsync 2>/dev/null" % DEV)
            vmkit.wait_until(lambda: disk_error(vm) == "-5", 60, "the writeback of b to fail")
            vm.power_cut()
            vm.boot()

            put_pattern(vm, "/tmp/a", 2 * MIB, 1)
            put_pattern(vm, "/tmp/b", 2 * MIB, 2)
            vm.check("modprobe dm-flakey")
            dm_create(vm, "data", fault)
            vm.check("mkdir -p /mars && mount /dev/vda /mars && insmod /mars.ko")
            vmkit.wait_until(lambda: link(vm, ACTUAL + "/msg-err-attach"), 120, "msg-err-attach")
            expect_error_shown(vm, "err-attach", "^cannot replay a record of .*: input/output error")
            expect(vm.run("test -e %s" % DEV)[0] != 0, "%s exists though attach failed" % DEV)
            expect(link(vm, ACTUAL + "/is-attached") == "0", "is-attached is %r"
                   % link(vm, ACTUAL + "/is-attached"))
            line = expect_logged_once(vm, "mars: resource r0: cannot replay")
            print("    kernel log: %s" % line.split("] ", 1)[-1])

            dm_switch(vm, "data", linear(vm, "/dev/vdb"))
            t0 = time.monotonic()
            wait_device(vm)
            print("    device back %.1fs after the fault was removed; bytes_replayed=%d"
                  % (time.monotonic() - t0, mars_value(vm, "bytes_replayed")))
            expect(mars_value(vm, "bytes_replayed") >= 2 * MIB, "bytes_replayed %d, b has 2 MiB"
                   % mars_value(vm, "bytes_replayed"))
            expect_no_error(vm)
            expect_pattern(vm, DEV, 0, "/tmp/a", 2, "a after recovery")
            expect_pattern(vm, DEV, 4, "/tmp/b", 2, "b after recovery")
            down(vm)
            expect_pattern(vm, "/dev/mapper/data", 0, "/tmp/a", 2, "a on the data device")
            expect_pattern(vm, "/dev/mapper/data", 4, "/tmp/b", 2, "b on the data device")
            unload(vm)


def down_while_data_device_fails(env):
    """down while the data device fails keeps the log; the next attach replays it once it works."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB], modules=["dm-flakey"]) as c:
        vm = c[0]
        with diagnosed(vm):
            fault = error_writes("/dev/vdb", 0, sectors(vm, "/dev/vdb"))
            put_pattern(vm, "/tmp/a", 4 * MIB, 3)
            vm.check("modprobe dm-flakey")
            dm_create(vm, "data", linear(vm, "/dev/vdb"))
            vm.check("mkfs.ext4 -q -F /dev/vda && mkdir -p /mars && mount /dev/vda /mars && insmod /mars.ko",
                     timeout=120)
            create_r0(vm, "/dev/mapper/data")
            dm_switch(vm, "data", fault)
            vm.check("dd if=/tmp/a of=%s bs=1M oflag=direct conv=fsync 2>/dev/null" % DEV)
            vmkit.wait_until(lambda: disk_error(vm) == "-5", 60, "disk-error -5")
            down(vm)
            expect(link(vm, ACTUAL + "/is-attached") == "0", "is-attached %r after down"
                   % link(vm, ACTUAL + "/is-attached"))
            expect(sum(size for _, _, size in logfiles(vm)) >= 4 * MIB, "the log lost data: %s" % logfiles(vm))
            rc, out = vm.run("marsadm up %s --timeout 10" % RES, timeout=60)
            expect(rc != 0, "marsadm up succeeded though replay cannot write:\n%s" % out)
            vmkit.wait_until(lambda: link(vm, ACTUAL + "/msg-err-attach"), 60, "msg-err-attach")
            expect_error_shown(vm, "err-attach", "^cannot replay a record of .*: input/output error")
            dm_switch(vm, "data", linear(vm, "/dev/vdb"))
            wait_device(vm)
            expect_no_error(vm)
            expect_pattern(vm, DEV, 0, "/tmp/a", 4, "a after the replay")
            down(vm)
            expect_pattern(vm, "/dev/mapper/data", 0, "/tmp/a", 4, "a on the data device")
            unload(vm)


if FULL:
    test_down_while_data_device_fails = down_while_data_device_fails


def test_mars_read_only(env):
    """/mars fails all writes: ext4 turns read-only; rmmod, fsck, mount, insmod restore r0."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB, ACK_MB], modules=["dm-flakey"],
                     vm_tools=True) as c:
        vm = c[0]
        with diagnosed(vm):
            vm.check("modprobe dm-mod")
            mars_on_dm(vm)
            create_r0(vm)
            start_ackwrite(vm, run=1)
            vmkit.wait_until(lambda: ackwrite_acks(vm) >= 100 or ackwrite_done(vm), 120, "100 acks")
            # a read-only remount is refused while the module writes its logfile
            rc, out = vm.run("mount -o remount,ro /mars 2>&1")
            expect(rc != 0 and "busy" in out.lower(), "remount,ro of /mars: rc %d: %s" % (rc, out))
            before = ackwrite_acks(vm)
            vmkit.wait_until(lambda: ackwrite_acks(vm) >= before + 100 or ackwrite_done(vm), 120,
                             "100 more acks after the refused remount")
            expect(ackwrite_done(vm) is None, "ackwrite ended: %s" % (ackwrite_done(vm),))

            dm_switch(vm, "marsdev", "0 %d error" % sectors(vm, "/dev/vda"))
            rc, log = vmkit.wait_until(lambda: ackwrite_done(vm), 120, "ackwrite to fail")
            expect(rc != 0 and "Input/output error" in log, "ackwrite: rc %d, expected EIO:\n%s" % (rc, log))
            acks = ackwrite_acks(vm)
            # ext4 aborts its journal: later writes fail with EROFS (6.1) or EIO (6.12)
            refused = "(Read-only file system|Input/output error)"
            vmkit.wait_until(lambda: re.search(refused, vm.run("mkdir /mars/probe 2>&1 && rmdir /mars/probe 2>&1")[1]),
                             120, "ext4 to refuse writes to /mars")
            expect_eio(vm, "dd if=/dev/zero of=%s bs=4k count=1 seek=%d oflag=direct 2>&1"
                       % (DEV, ACK_BLOCKS + 1), "a plain write after the log failed")
            line = expect_logged_once(vm, "mars: resource r0: cannot (write|sync) the logfile")
            print("    %d acks; kernel log: %s" % (acks, line.split("] ", 1)[-1]))
            # the heartbeat fails from now on, retried every 5 s: logged once
            heartbeat = "mars: cannot write actual-%s/time" % HOST
            first = vmkit.wait_until(lambda: kernel_lines(vm, heartbeat), 60, "the failed heartbeat logged")
            # The tree keeps what was written before ext4 aborted; view says
            # so (the module's tree_write_errno), whatever the tree shows.
            errno = vm.check("cat /proc/sys/mars/tree_write_errno").strip()
            expect(errno in ("5", "30"), "tree_write_errno %r, expected EIO or EROFS" % errno)
            rc, view = marsadm(vm, "view %s" % RES)
            expect(rc == 0, "marsadm view on a read-only /mars: rc %d\n%s" % (rc, view))
            expect(re.search(r"error %s: tree-unwritable: the module cannot write /mars: " % HOST, view),
                   "view does not show that the module cannot write /mars:\n%s" % view)
            print("    marsadm view: %s" % " | ".join(view.strip().splitlines()))
            logged_at = float(re.match(r"\[\s*([0-9.]+)\]", first[0]).group(1))
            vmkit.wait_until(lambda: float(vm.check("cut -d' ' -f1 /proc/uptime")) > logged_at + 6, 60,
                             "the guest clock to pass the next heartbeat")
            expect_logged_once(vm, heartbeat)
            rc, out = marsadm(vm, "down %s" % RES)
            # it cannot write the tree, or refuses on the stale state in it
            # (e.g. open-count 1 when the close came after the abort)
            expect(rc != 0, "marsadm down on a read-only /mars succeeded:\n%s" % out)
            print("    marsadm down: rc %d: %s" % (rc, " | ".join(out.strip().splitlines())))

            dm_switch(vm, "marsdev", linear(vm, "/dev/vda"), lockfs=False)
            unload(vm)
            expect_logged_once(vm, heartbeat)
            vm.check("umount /mars")
            rc, out = vm.run("e2fsck -fy /dev/mapper/marsdev 2>&1", timeout=300)
            expect(rc in (0, 1), "e2fsck -fy: rc %d\n%s" % (rc, out))
            t0 = time.monotonic()
            vm.check("mount /dev/mapper/marsdev /mars && insmod /mars.ko")
            wait_device(vm)        # no marsadm command: the module restores r0
            print("    device back %.1fs after insmod; %s" % (time.monotonic() - t0,
                                                            ackwrite_check(vm, DEV, (1, acks))))
            expect_no_error(vm)
            for num, name, size in logfiles(vm):
                rc, last = dump_log_end(vm, name)
                expect(rc == 0 and re.search(r"end=(clean-end|torn-tail|older-incarnation)", last),
                       "dump-log %s (%d bytes): rc %d, %s" % (name, size, rc, last))
            down(vm)
            print("    after down, on /dev/vdb: %s" % ackwrite_check(vm, "/dev/vdb", (1, acks)))
            unload(vm)


def test_slow_log_device(env):
    """dm-delay under /mars: the primary slows down, nothing fails, the data verify."""
    with env.cluster(1, mars=True, disks=[MARS_MB, DATA_MB, ACK_MB], modules=["dm-delay"],
                     vm_tools=True) as c:
        vm = c[0]
        with diagnosed(vm):
            vm.check("modprobe dm-delay")
            mars_on_dm(vm)
            create_r0(vm)

            def timed_ackwrite(run):
                out = vm.check("a=$(cut -d' ' -f1 /proc/uptime); ackwrite write %s /dev/vdc --blocks %d "
                               "--run %d --threads 1 --count %d --seed %d >/tmp/aw.log 2>&1; rc=$?; "
                               "b=$(cut -d' ' -f1 /proc/uptime); echo $rc $a $b"
                               % (DEV, ACK_BLOCKS, run, SLOW_WRITES, run), timeout=600).split()
                expect(out[0] == "0", "ackwrite run %d failed: %s" % (run, vm.check("cat /tmp/aw.log")))
                return float(out[2]) - float(out[1])
            fast = timed_ackwrite(1)
            flushes = mars_value(vm, "log_flushes")
            total = sectors(vm, "/dev/vda")
            dm_switch(vm, "marsdev", "0 %d delay /dev/vda 0 0 /dev/vda 0 %d" % (total, DELAY_MS))
            slow = timed_ackwrite(2)
            print("    %d O_DSYNC writes: %.2fs on vda, %.2fs with %d ms delay (%d log flushes)"
                  % (SLOW_WRITES, fast, slow, DELAY_MS, mars_value(vm, "log_flushes") - flushes))
            expect(slow >= SLOW_WRITES * DELAY_MS / 1000.0,
                   "%d O_DSYNC writes took %.2fs, less than %d x %d ms: not waiting for the log"
                   % (SLOW_WRITES, slow, SLOW_WRITES, DELAY_MS))
            expect(slow > fast, "the delayed log device was not slower: %.2fs vs %.2fs" % (slow, fast))
            # a burst of plain writes larger than the log ring (8 MiB)
            vm.check("dd if=/dev/urandom of=/tmp/pat bs=1M count=16 2>/dev/null")
            t0 = time.monotonic()
            vm.check("dd if=/tmp/pat of=%s bs=1M seek=32 oflag=direct conv=fsync 2>/dev/null" % DEV, timeout=600)
            print("    16 MiB burst in %.1fs" % (time.monotonic() - t0))
            expect(disk_error(vm) == "0", "disk-error %r on a slow log device" % disk_error(vm))
            complaints = kernel_lines(vm, "mars: resource .*(cannot|error|fail)")
            expect(not complaints, "mars complained:\n%s" % "\n".join(complaints))
            ackwrite_check(vm, DEV, (2, SLOW_WRITES))
            expect_pattern(vm, DEV, 32, "/tmp/pat", 16, "burst read back")
            down(vm)
            print("    after down, on /dev/vdb: %s" % ackwrite_check(vm, "/dev/vdb", (2, SLOW_WRITES)))
            expect_pattern(vm, "/dev/vdb", 32, "/tmp/pat", 16, "burst on the data device")
            unload(vm)


if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
