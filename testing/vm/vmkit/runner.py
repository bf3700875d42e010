"""Test harness: discovery, per-kernel workers in parallel, reporting, main()."""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from .cluster import TestEnv
from .common import DEBUG_KERNELS, HERE, KERNELS, VMError, set_verbose
from .qemu import _kill_all, install_signal_handlers


def collect_tests(path):
    """Import a test file; return (module, [(name, function)]) in file order."""
    import importlib.util
    path = Path(path).resolve()
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location("vmtest_" + path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tests = [(n, f) for n, f in vars(mod).items() if n.startswith("test_") and callable(f)]
    tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
    return mod, tests


def run_tests(files, kernels, only=None, build=True, keep=False, out=sys.stdout, blocks=False):
    """Run test files for kernels; prints PASS/FAIL lines and returns (passed, failed).

    blocks=True (worker mode) ends every test's report with a line "@@end"."""
    install_signal_handlers()
    passed = failed = 0
    workroot = Path(tempfile.mkdtemp(prefix="mars-vm-"))

    def emit(text):
        out.write(text if text.endswith("\n") else text + "\n")
        if blocks:
            out.write("@@end\n")
        out.flush()
    try:
        for short in kernels:
            env = TestEnv(short, workroot, build=build)
            try:
                emit("== kernel %s: %s" % (short, env.kernel.release))
            except VMError as e:
                emit("FAIL kernel %s: %s" % (short, e))
                failed += 1
                continue
            for f in files:
                try:
                    mod, tests = collect_tests(f)
                except Exception:
                    emit("FAIL %s [%s]: cannot load\n%s" % (Path(f).name, short, traceback.format_exc()))
                    failed += 1
                    continue
                if DEBUG_KERNELS.get(short, short) not in getattr(mod, "KERNELS", KERNELS):
                    continue
                # only: names for every file, or {file: names or None (all)}
                sel = only.get(f) if isinstance(only, dict) else only
                for name, fn in tests:
                    if sel and name not in sel and name[5:] not in sel:
                        continue
                    label = "%s::%s [%s]" % (Path(f).name, name, short)
                    t0 = time.monotonic()
                    env.begin(name)
                    err = None
                    buf = _Tee(out if not blocks else None)
                    saved = sys.stdout
                    sys.stdout = buf
                    try:
                        fn(env)
                    except KeyboardInterrupt:
                        sys.stdout = saved
                        env.end()
                        env.cleanup(keep)
                        raise
                    except Exception:
                        err = traceback.format_exc()
                    finally:
                        sys.stdout = saved
                    if err:
                        env.dump_blocked_tasks()
                    problems = env.end()
                    if problems and not (err and "ConsoleError" in err):
                        err = (err or "") + "\n".join(problems) + "\n"
                    dt = time.monotonic() - t0
                    text = buf.getvalue() if blocks else ""
                    if err:
                        failed += 1
                        text += "FAIL %s %.1fs\n%s%s\n" % (label, dt, _indent(err), _indent(env.console_tails()))
                        text += ("     (kept %s)\n" % env.tmpdir if keep else
                                 "     (run with --keep to keep the consoles and disks)\n")
                    else:
                        passed += 1
                        text += "PASS %s %.1fs\n" % (label, dt)
                    emit(text)
                    env.cleanup(keep and bool(err))
    finally:
        _kill_all()
        if not keep:
            shutil.rmtree(workroot, ignore_errors=True)
    return passed, failed


class _Tee:
    """stdout of a test: kept for the report, and passed through unless None."""

    def __init__(self, through):
        self.through = through
        self.parts = []

    def write(self, s):
        self.parts.append(s)
        if self.through:
            self.through.write(s)
        return len(s)

    def flush(self):
        if self.through:
            self.through.flush()

    def getvalue(self):
        return "".join(self.parts)


def _indent(s, pre="    "):
    return "".join(pre + l + "\n" for l in s.splitlines())


def _run_workers(kernels, argv, out=sys.stdout):
    """One `run-tests --kernel K --worker` process per kernel, in parallel.

    Each worker's test reports are printed whole, as they finish."""
    lock = threading.Lock()
    results = {}
    procs = []

    def pump(k, p):
        block = []
        for line in p.stdout:
            if line == "@@end\n":
                with lock:
                    out.write("".join(block))
                    out.flush()
                block = []
            elif line.startswith("@@totals "):
                results[k] = tuple(int(x) for x in line.split()[1:3])
            else:
                block.append(line)
        if block:
            with lock:
                out.write("".join(block))
                out.flush()
    threads = []
    try:
        for k in kernels:
            cmd = [sys.executable, str(HERE / "run-tests"), "--worker", "--kernel", k] + argv
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1)
            procs.append(p)
            t = threading.Thread(target=pump, args=(k, p), daemon=True)
            t.start()
            threads.append(t)
        for p in procs:
            p.wait()
        for t in threads:
            t.join()
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            with contextlib.suppress(Exception):
                p.wait(timeout=60)
    passed = failed = 0
    for k in kernels:
        if k not in results:
            out.write("FAIL worker for kernel %s ended without a result\n" % k)
            failed += 1
        else:
            passed += results[k][0]
            failed += results[k][1]
    return passed, failed


def main(argv=None, default_files=None):
    """Command line of run-tests (and of a test file run directly)."""
    import argparse
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(description="Run the mars VM tests (qemu/TCG).")
    ap.add_argument("--kernel", default="all",
                    help="6.1, 6.12 or all (default all), 6.1-debug (not in all); or a comma list")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("MARS_VM_JOBS", "0")),
                    help="kernels tested in parallel (default: one per CPU, at most one per kernel)")
    ap.add_argument("--no-build", action="store_true", help="use existing build/ artifacts, do not run make")
    ap.add_argument("--keep", action="store_true", help="keep temp dirs (VM consoles, disks) of failed tests")
    ap.add_argument("-v", "--verbose", action="store_true", help="log VM activity to stderr")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("tests", nargs="*",
                    help="test files or names (smoke, test_smoke, tests/test_smoke.py); FILE::TEST for one test")
    a = ap.parse_args(argv)
    if a.verbose:
        set_verbose(True)
    kernels = []
    for k in a.kernel.split(","):
        if k == "all":
            kernels += [x for x in KERNELS if x not in kernels]
        elif k in KERNELS or k in DEBUG_KERNELS:
            kernels.append(k)
        else:
            ap.error("unknown kernel %s" % k)
    files, only = [], set()
    per_file = {}           # FILE::TEST selects TEST in FILE only; FILE alone all of FILE
    names = list(a.tests)
    if default_files:
        # a test file run directly: its arguments are names of its tests
        only.update(n.partition("::")[2] or n for n in names)
        names = []
    for t in (names or default_files or sorted(str(p) for p in (HERE / "tests").glob("test_*.py"))):
        t, _, fn = t.partition("::")
        if fn:
            only.add(fn)
        cands = [Path(t), HERE / "tests" / t, HERE / "tests" / (t + ".py"), HERE / "tests" / ("test_" + t + ".py")]
        p = next((c for c in cands if c.is_file()), None)
        if p is None:
            ap.error("no test file %s" % t)
        if p.resolve() not in [Path(f).resolve() for f in files]:
            files.append(str(p.resolve()))
        if str(p.resolve()) not in per_file or per_file[str(p.resolve())] is not None:
            per_file[str(p.resolve())] = (per_file.get(str(p.resolve())) or set()) | {fn} if fn else None
    if names and not default_files:
        only = per_file
    t0 = time.monotonic()
    if a.worker:
        try:
            passed, failed = run_tests(files, kernels, only or None, build=not a.no_build, keep=a.keep,
                                       blocks=True)
        except KeyboardInterrupt:
            return 130
        print("@@totals %d %d" % (passed, failed))
        return 0
    jobs = a.jobs or (os.cpu_count() or 1)
    install_signal_handlers()
    try:
        if jobs > 1 and len(kernels) > 1:
            # drop "--kernel VALUE" pairs and -j values; the workers get one kernel each
            rest, skip = [], False
            for x in argv:
                if skip:
                    skip = False
                    continue
                if x in ("--kernel", "-j", "--jobs"):
                    skip = True
                    continue
                if x.startswith(("--kernel=", "--jobs=", "-j")):
                    continue
                rest.append(x)
            if default_files:
                rest = [x for x in rest if x not in a.tests]
                rest += ["%s::%s" % (f, n) for f in default_files for n in only] or list(default_files)
            passed, failed = _run_workers(kernels, rest)
        else:
            passed, failed = run_tests(files, kernels, only or None, build=not a.no_build, keep=a.keep)
    except KeyboardInterrupt:
        print("interrupted")
        return 130
    print("(%.0fs for kernel%s %s)" % (time.monotonic() - t0, "s" if len(kernels) > 1 else "", ", ".join(kernels)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0
