"""Crash states rebuilt from the recorded block write stream (issue 8, part 3).

Method of CrashMonkey and of xfstests with dm-log-writes: record every write
that reaches the disk, with its FLUSH/FUA marks, in the order it became
durable; rebuild the disk as it could be after a power cut at a chosen entry;
run recovery there and check. docu/crash-replay.md has the details.

One guest, three disks:
  vda  the base disk, under ONE dm-log-writes device cr-log (log on vdb), with
       three dm-linear ranges over cr-log: cr-mars (/mars, ext4), cr-data (the
       data device of r0), cr-ack (the ack log of ackwrite); so one log keeps
       the global order of all three
  vdb  the dm-log-writes log
  vdc  the replay target, as large as vda; for each crash point it is zeroed,
       rebuilt with `logreplay replay --upto INDEX`, and gets the same three
       dm-linear names (data-HOST names /dev/mapper/cr-data)

Workload on /dev/mars/r0: ackwrite (O_DIRECT|O_DSYNC, 4 threads, each ack
durable in cr-ack) in blocks ACK_OFFSET.. of r0, and at the same time an ext4
in the first EXT4_MB of r0 with rounds of: new files, `sync`, their md5sums
appended to `sums` on the same ext4, fsync of `sums`. Marks in the log: start,
r0-up (the device exists, the tree synced), ext4-made (mkfs.ext4 of r0
returned), workload-end.

  test_crash_replay   the workload, `logreplay list`, logreplay's refusal of bad
                      logs, the replay of the whole log equal to the base disk,
                      then for each chosen crash point (a FLUSH or FUA entry
                      after r0-up): replay, mount /mars, insmod (the module restores
                      r0 by itself), `ackwrite check` with the replayed ack log,
                      and after ext4-made: mount r0 read-write (journal replay),
                      every recorded file's md5sum, umount, `e2fsck -fn` clean;
                      rmmod, umount, dm teardown; console and dmesg clean

Crash points: 6 (MARS_VM_CRASH_POINTS=N: N), a quarter before ext4-made and the
rest after it, one chosen at random in each of as many equal slices of that
part of the run. MARS_VM_FULL=1: a shorter workload and every FLUSH/FUA entry
after r0-up (~230). MARS_VM_SEED=N fixes the choice and the workload's seeds;
MARS_VM_WAIT=S how long marsadm waits for the module (default 120 s).

Run: testing/vm/run-tests --kernel 6.1 crash_replay
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
MIB = 1 << 20
SECTOR = 512
BLOCK = 4096
HOST = "vm0"
RES = "r0"
DEV = "/dev/mars/r0"
RDIR = "/mars/resource-r0"
WAIT = int(os.environ.get("MARS_VM_WAIT") or 120)
CMD_TIMEOUT = WAIT + 60

# base disk vda: [ /mars | data device of r0 | ack log ]
MARS_MB = 128
DATA_MB = 64
ACKLOG_MB = 8                      # 16384 ack entries of 512 bytes
BASE_MB = MARS_MB + DATA_MB + ACKLOG_MB
LOG_MB = 2048                      # vdb, sparse: every write of the run plus a 512-byte header each
RANGES = (("cr-mars", 0, MARS_MB), ("cr-data", MARS_MB, DATA_MB), ("cr-ack", MARS_MB + DATA_MB, ACKLOG_MB))
MARS_DEV, DATA_DEV, ACK_DEV = ("/dev/mapper/" + r[0] for r in RANGES)
LOGDEV, TARGET = "/dev/vdb", "/dev/vdc"

# /dev/mars/r0: ext4 in [0, EXT4_MB), ackwrite's region in [ACK_OFFSET, ACK_OFFSET + ACK_BLOCKS)
EXT4_MB = 40
ACK_OFFSET = 48 * MIB // BLOCK
ACK_BLOCKS = 16 * MIB // BLOCK
MKFS_OPTS = "-q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0,nodiscard"

ACK_COUNT = 48 if FULL else 300    # writes of ackwrite (4 threads)
ROUNDS = 2 if FULL else 3          # ext4 rounds of FILES files each
FILES = 3
CRASH_POINTS = int(os.environ.get("MARS_VM_CRASH_POINTS") or 6)   # sample size (make check)
CRASH_POINTS_A = max(1, CRASH_POINTS // 4)                          # of them before ext4-made
CRASH_POINTS_B = max(1, CRASH_POINTS - CRASH_POINTS_A)              # after ext4-made

FS_ERRORS = re.compile(r"EXT4-fs error|EXT4-fs warning|JBD2: .*(error|abort|[Cc]orrupt|checksum)"
                       r"|I/O error|[Cc]orrupt")


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


# ---- guest helpers

def marsadm_ok(vm, args):
    rc, out = vm.run("marsadm %s --timeout %d" % (args, WAIT), timeout=CMD_TIMEOUT)
    if rc != 0:
        raise vmkit.CommandFailed(vm, "marsadm " + args, rc, out)
    return out


def diagnostics(vm):
    """The module's view, the tree, blocked tasks and the kernel log, when something hangs or fails."""
    with contextlib.suppress(vmkit.VMError):
        rc, out = vm.run("echo '--- processes'; ps | grep -v ' \\[' ; "
                         "for p in /proc/[0-9]*; do grep -q '^State:.*D' $p/status 2>/dev/null && "
                         "echo \"--- blocked: $(cat $p/comm) (${p#/proc/})\" && cat $p/stack; "
                         "done 2>/dev/null; "
                         "echo '--- marsadm view'; timeout 20 marsadm view %s --timeout 0 2>&1; "
                         "echo '--- %s'; timeout 10 ls -l %s 2>&1 | cut -c1-200; echo '--- actual-%s'; "
                         "timeout 10 ls -l %s/actual-%s 2>&1 | sed 's/.* \\([^ ]* -> .*\\)/\\1/'; "
                         "echo '--- /proc/sys/mars'; for f in /proc/sys/mars/*; do "
                         "echo \"${f##*/}=$(cat $f 2>/dev/null)\"; done; "
                         "echo '--- dmesg'; dmesg | tail -n 40"
                         % (RES, RDIR, RDIR, HOST, RDIR, HOST), timeout=120)
        return out
    return "(no diagnostics: guest does not answer)"


@contextlib.contextmanager
def diagnosed(vm, what):
    """Print what failed and the guest's state when the body raises."""
    try:
        yield
    except Exception:
        print("    FAILED at %s" % what)
        if vm.running:
            print(diagnostics(vm))
        raise


def linear_tables(vm, under):
    """The three dm-linear ranges over device `under`, with /dev/mapper nodes."""
    cmds = ["dmsetup create %s --table '0 %d linear %s %d'" % (name, size * MIB // SECTOR, under,
                                                              start * MIB // SECTOR)
            for name, start, size in RANGES]
    vm.check(" && ".join(cmds) + " && dmsetup mknodes && " +
             " && ".join("test -b /dev/mapper/%s" % r[0] for r in RANGES))


def remove_linear(vm):
    vm.check("dmsetup remove %s" % " ".join(r[0] for r in reversed(RANGES)))


def mark(vm, text):
    vm.check("dmsetup message cr-log 0 mark %s" % text)


def fs_errors(vm):
    """Kernel log lines of this crash point that report filesystem or I/O errors; clears the log."""
    out = vm.check("dmesg -c")
    return [ln for ln in out.splitlines() if FS_ERRORS.search(ln)]


def parse_list(out):
    """`logreplay list` output -> (header, [(index, flags, rest)], summary dict)."""
    lines = out.strip().splitlines()
    expect(lines and lines[0].startswith("log ") and lines[-1].startswith("entries="),
           "unexpected logreplay list output:\n%s" % out[-2000:])
    points = []
    for ln in lines[1:-1]:
        m = re.fullmatch(r"(\d+) ([A-Z|]+)(?: (.*))?", ln)
        expect(m, "unexpected logreplay list line %r" % ln)
        points.append((int(m.group(1)), m.group(2).split("|"), m.group(3) or ""))
    summary = dict(kv.split("=") for kv in lines[-1].split())
    return lines[0], points, {k: int(v) for k, v in summary.items()}


# ---- workload

def run_workload(vm, seed):
    """Record: mkfs /mars, r0 up, ackwrite and ext4 rounds on r0, then tear down. -> seconds."""
    t0 = time.monotonic()
    vm.check("modprobe dm-log-writes && "
             "dmsetup create cr-log --table \"0 $(blockdev --getsz /dev/vda) log-writes /dev/vda %s\" && "
             "dmsetup mknodes && test -b /dev/mapper/cr-log" % LOGDEV)
    mark(vm, "start")                   # writes the super block at once
    linear_tables(vm, "/dev/mapper/cr-log")
    vm.check("mkfs.ext4 %s %s && mkdir -p /mars /mnt/r0 && mount %s /mars && insmod /mars.ko"
             % (MKFS_OPTS, MARS_DEV, MARS_DEV), timeout=300)
    marsadm_ok(vm, "create-cluster --ip 10.0.0.1")
    marsadm_ok(vm, "create-resource %s %s" % (RES, DATA_DEV))
    marsadm_ok(vm, "up %s" % RES)
    marsadm_ok(vm, "wait-resource %s is-device" % RES)
    # marsadm writes the tree without fsync: until ext4 commits (5 s, or the first
    # fdatasync of the logfile) a crash loses resource-r0. Make it durable, so every
    # crash point after r0-up has the resource to restore.
    vm.check("sync")
    mark(vm, "r0-up")
    vm.start_job("aw", "ackwrite write %s %s --blocks %d --offset %d --run 1 --threads 4 --count %d --seed %d "
                 "> /tmp/aw.log 2>&1" % (DEV, ACK_DEV, ACK_BLOCKS, ACK_OFFSET, ACK_COUNT, seed))
    vmkit.wait_until(lambda: vm.run("grep -q '^acked' /tmp/aw.log")[0] == 0 or vm.job_status("aw") is not None,
                     120, "the first acknowledged write")
    vm.check("mkfs.ext4 %s %s %dM" % (MKFS_OPTS, DEV, EXT4_MB), timeout=300)
    mark(vm, "ext4-made")
    vm.check("mount %s /mnt/r0 && : > /mnt/r0/sums && sync /mnt/r0/sums" % DEV)
    rng = random.Random(seed)
    for k in range(ROUNDS):
        names = ["d%d/f%d" % (k, i) for i in range(FILES)]
        sizes = [rng.randrange(1, 256) for _ in names]
        vm.check("cd /mnt/r0 && mkdir d%d && %s && sync && md5sum %s >> sums && sync sums"
                 % (k, " && ".join("dd if=/dev/urandom of=%s bs=1k count=%d 2>/dev/null" % (n, s)
                                   for n, s in zip(names, sizes)), " ".join(names)), timeout=300)
    rc = vm.wait_job("aw", 600)
    expect(rc == 0, "ackwrite failed with rc %d:\n%s" % (rc, vm.check("cat /tmp/aw.log")[-2000:]))
    vm.check("umount /mnt/r0")
    mark(vm, "workload-end")
    vm.check("rmmod mars && umount /mars", timeout=CMD_TIMEOUT)
    status = vm.check("dmsetup status cr-log")
    expect("logging_disabled" not in status, "dm-log-writes stopped logging (log device full?): %s" % status)
    remove_linear(vm)
    vm.check("dmsetup remove cr-log")
    return time.monotonic() - t0


def check_bad_logs(vm, entries):
    """logreplay refuses a log with a bad magic, an unknown flag, a truncated log."""
    # the first 1 MiB of the log; with nr_entries set to 1 it is a valid log of one entry
    one = ("printf '\\001\\000\\000\\000\\000\\000\\000\\000' | "
           "dd of=/tmp/bad.log bs=1 seek=16 conv=notrunc 2>/dev/null")
    vm.check("dd if=%s of=/tmp/good.log bs=64k count=16 2>/dev/null && cp /tmp/good.log /tmp/bad.log && "
             "%s && logreplay list /tmp/bad.log | grep -qx 'entries=1 .*marks=1'" % (LOGDEV, one))
    cases = [("bad magic", one + " && printf '\\001' | dd of=/tmp/bad.log bs=1 conv=notrunc 2>/dev/null",
              "bad super block magic"),
             ("unknown flag in entry 0", one + " && printf '\\100' | dd of=/tmp/bad.log bs=1 seek=%d "
              "conv=notrunc 2>/dev/null" % (SECTOR + 16), "entry 0 at byte 512 .*unknown flags 0x40"),
             ("truncated", "true", "claims %d entries|run past the end of the log|beyond the end of the log"
              % entries)]
    for what, patch, want in cases:
        rc, out = vm.run("cp /tmp/good.log /tmp/bad.log && %s && logreplay list /tmp/bad.log" % patch)
        expect(rc == 1 and re.search("^logreplay: .*(%s)" % want, out, re.M),
               "logreplay list of a log with %s: rc %d, expected 1 and /%s/:\n%s"
               % (what, rc, want, out[-1000:]))
    rc, out = vm.run("logreplay replay %s %s --upto %d" % (LOGDEV, TARGET, entries))
    expect(rc == 1 and "no entry %d" % entries in out, "replay beyond the last entry: rc %d\n%s" % (rc, out))
    vm.check("rm -f /tmp/good.log /tmp/bad.log")


def region_of(offset):
    """The dm-linear range of the base disk that byte `offset` lies in, and the offset within it."""
    for name, start, size in RANGES:
        if start * MIB <= offset < (start + size) * MIB:
            return name, offset - start * MIB
    return "beyond the ranges", offset


def explain_mismatch(vm, max_blocks=8):
    """Why the whole-log replay on vdc differs from the base disk vda: the sums read past the
    page cache, the first differing 4 KiB blocks, and for each the log entries that wrote it
    (`logreplay blame`) and, in /mars, the file that holds it. -> text for the test log."""
    out = ["    --- the replay differs from the base disk; reading both past the page cache:"]
    out.append(vm.run("echo 3 > /proc/sys/vm/drop_caches; for d in /dev/vda %s; do "
                      "echo \"$(dd if=$d bs=1M iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1) $d\"; done"
                      % TARGET, timeout=600)[1].strip())
    rc, blocks = vm.run("cmp -l /dev/vda %s | awk '{b = int(($1 - 1) / %d); n[b]++; "
                        "if (k == 0 || b != l) { if (++k > %d) exit; l = b; o[k] = b } } "
                        "END { for (i = 1; i <= k && i <= %d; i++) print o[i], n[o[i]] }'"
                        % (TARGET, BLOCK, max_blocks, max_blocks), timeout=600)
    out.append("differing 4 KiB blocks (block, differing bytes in it), first %d:\n%s"
               % (max_blocks, blocks.strip() or "(none)"))
    for ln in blocks.strip().splitlines():
        block = int(ln.split()[0])
        name, rel = region_of(block * BLOCK)
        out.append("  block %d: byte %d of %s" % (block, rel, name))
        out.append(vm.run("logreplay blame %s /dev/vda --offset %d --length %d | tail -n 12"
                          % (LOGDEV, block * BLOCK, BLOCK), timeout=600)[1].rstrip())
        if name == "cr-mars":
            out.append(vm.run("debugfs -R 'icheck %d' /dev/vda 2>/dev/null | tail -n 1 | "
                              "while read b i; do echo \"inode $i\"; "
                              "case $i in [0-9]*) debugfs -R \"ncheck $i\" /dev/vda 2>/dev/null | tail -n 1;; esac; done"
                              % (rel // BLOCK), timeout=120)[1].rstrip())
    return "\n    ".join("\n".join(out).splitlines())


def choose(points, parts, rng):
    """One random entry out of each of `parts` equal slices of points (all when fewer)."""
    if len(points) <= parts:
        return list(points)
    bounds = [len(points) * i // parts for i in range(parts + 1)]
    return [points[rng.randrange(bounds[i], bounds[i + 1])] for i in range(parts)]


def verify_files(vm, idx):
    """Every record in sums (complete line) names a file with that md5sum. -> records checked."""
    if vm.run("test -e /mnt/r0/sums")[0] != 0:
        return 0                       # the crash came before sums was created
    sums = vm.get("/mnt/r0/sums")
    text, _, tail = sums.rpartition(b"\n")
    if not text and not sums.endswith(b"\n"):
        text, tail = b"", sums
    lines = text.split(b"\n") if text else []
    for ln in lines:
        expect(re.fullmatch(rb"[0-9a-f]{32}  d\d+/f\d+", ln),
               "crash point %d: malformed record %r in sums (%d bytes)" % (idx, ln, len(sums)))
    # an append that was not yet fsync'ed may be missing or cut short, never garbage
    expect(re.fullmatch(rb"[0-9a-f]{0,32}( {0,2}(d\d*(/(f\d*)?)?)?)?|\x00*", tail),
           "crash point %d: garbage at the end of sums: %r" % (idx, tail))
    if lines:
        vm.put("/tmp/sums.ok", text + b"\n")
        rc, out = vm.run("cd /mnt/r0 && md5sum -c /tmp/sums.ok", timeout=120)
        expect(rc == 0, "crash point %d: files recorded in sums differ after recovery:\n%s"
               % (idx, out[-2000:]))
    return len(lines)


def check_crash_point(vm, idx, flags, ext4):
    """Rebuild the disk up to entry idx, let the module recover, check. -> summary text."""
    t0 = time.monotonic()
    out = vm.check("logreplay replay %s %s --upto %d --zero" % (LOGDEV, TARGET, idx), timeout=600)
    t_replay = time.monotonic() - t0
    linear_tables(vm, TARGET)
    vm.check("mount %s /mars && insmod /mars.ko" % MARS_DEV, timeout=300)
    t1 = time.monotonic()
    marsadm_ok(vm, "wait-resource %s is-device" % RES)     # no marsadm command: restored at load
    t_device = time.monotonic() - t1
    rc, out = vm.run("ackwrite check %s %s --blocks %d --offset %d" % (DEV, ACK_DEV, ACK_BLOCKS, ACK_OFFSET),
                     timeout=300)
    expect(rc == 0, "crash point %d (%s): ackwrite check failed:\n%s" % (idx, "|".join(flags), out[-3000:]))
    acks = re.search(r"acks=(\d+)", out)
    files = "-"
    if ext4:
        vm.check("mount %s /mnt/r0" % DEV, timeout=300)         # journal replay by the kernel
        files = verify_files(vm, idx)
        vm.check("umount /mnt/r0", timeout=300)
        rc, fsck = vm.run("e2fsck -fn %s" % DEV, timeout=300)
        expect(rc == 0, "crash point %d (%s): e2fsck -fn %s after journal replay: rc %d\n%s"
               % (idx, "|".join(flags), DEV, rc, fsck[-3000:]))
    replayed = vm.check("cat /proc/sys/mars/bytes_replayed").strip()
    vm.check("rmmod mars && umount /mars", timeout=CMD_TIMEOUT)
    remove_linear(vm)
    vm.check_console()
    bad = fs_errors(vm)
    expect(not bad, "crash point %d: errors in the kernel log:\n  %s" % (idx, "\n  ".join(bad[:20])))
    return ("entry %d %s: replay %.1fs, device back in %.1fs, bytes_replayed=%s, acks=%s, files=%s, %.1fs"
            % (idx, "|".join(flags), t_replay, t_device, replayed, acks.group(1) if acks else "?", files,
               time.monotonic() - t0))


# ---- test

def test_crash_replay(env):
    """Recovery at crash points rebuilt from the dm-log-writes log of a mars workload."""
    seed = int(os.environ.get("MARS_VM_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    print("    seed %d (MARS_VM_SEED=%d repeats the choice and the workload's seeds)" % (seed, seed))
    with env.cluster(1, mars=True, disks=[BASE_MB, LOG_MB, BASE_MB], modules=["dm-log-writes"],
                     vm_tools=True) as c:
        vm = c[0]
        with diagnosed(vm, "the workload"):
            dt = run_workload(vm, seed)
        t0 = time.monotonic()
        out = vm.check("logreplay list %s" % LOGDEV, timeout=300)
        header, points, summary = parse_list(out)
        print("    workload %.1fs; list %.1fs: %s" % (dt, time.monotonic() - t0, header))
        print("    %s" % out.strip().splitlines()[-1])
        marks = {rest: i for i, flags, rest in points if flags == ["MARK"]}
        for name in ("start", "r0-up", "ext4-made", "workload-end", "dm-log-writes-end"):
            expect(name in marks, "mark %s missing in the log: %s" % (name, sorted(marks)))
        expect(marks["start"] == 0 and marks["dm-log-writes-end"] == summary["entries"] - 1,
               "marks start at %d, dm-log-writes-end at %d of %d entries"
               % (marks["start"], marks["dm-log-writes-end"], summary["entries"]))
        expect(marks["r0-up"] < marks["ext4-made"] < marks["workload-end"], "marks out of order: %s" % marks)
        check_bad_logs(vm, summary["entries"])
        # the whole log, replayed onto a zeroed disk, is the base disk byte for byte
        t0 = time.monotonic()
        vm.check("logreplay replay %s %s --upto %d --zero" % (LOGDEV, TARGET, summary["entries"] - 1),
                 timeout=600)
        sums = vm.check("blockdev --flushbufs /dev/vda && md5sum /dev/vda %s" % TARGET, timeout=600).split()
        if sums[0] != sums[2]:
            print(explain_mismatch(vm))
        expect(sums[0] == sums[2], "the replay of all %d entries differs from the base disk: %s"
               % (summary["entries"], sums))
        print("    replay of all %d entries equals the base disk (%.1fs)"
              % (summary["entries"], time.monotonic() - t0))
        crash = [(i, flags) for i, flags, _ in points
                 if ("FLUSH" in flags or "FUA" in flags) and i > marks["r0-up"]]
        part_a = [p for p in crash if p[0] < marks["ext4-made"]]
        part_b = [p for p in crash if p[0] > marks["ext4-made"]]
        expect(part_a and part_b, "no crash points before or after ext4-made: %d / %d"
               % (len(part_a), len(part_b)))
        chosen = crash if FULL else choose(part_a, CRASH_POINTS_A, rng) + choose(part_b, CRASH_POINTS_B, rng)
        print("    %d crash points after r0-up (%d before ext4-made, %d after); checking %d"
              % (len(crash), len(part_a), len(part_b), len(chosen)))
        vm.check("dmesg -c > /dev/null")
        t0 = time.monotonic()
        for n, (idx, flags) in enumerate(chosen):
            with diagnosed(vm, "crash point %d/%d: entry %d %s" % (n + 1, len(chosen), idx, "|".join(flags))):
                line = check_crash_point(vm, idx, flags, ext4=idx > marks["ext4-made"])
            if not FULL or n % 25 == 0 or n == len(chosen) - 1:
                print("    %d/%d %s" % (n + 1, len(chosen), line))
        print("    %d crash points checked in %.1fs" % (len(chosen), time.monotonic() - t0))


if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
