"""Cluster (several meshed VMs of one kernel) and TestEnv (what a test gets as env)."""

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from .builds import build_marsadm, build_module, build_vm_tools
from .common import (DEBUG_BOOT_SCALE, DEBUG_MEM, DEFAULT_MEM, DEFAULT_TOOLS, FIO_TOOLS, NET_PREFIX, ConsoleError, VMError,
                     _tail, log, wait_until)
from .initramfs import build_initramfs
from .kernels import get_kernel
from .qemu import VM, free_udp_port


def _pin(initrd, workdir):
    """A private link (or copy) of a cached initramfs in workdir: reboots
    (power-cut tests) need it long after the cache of a concurrent run may
    have pruned it."""
    workdir.mkdir(parents=True, exist_ok=True)
    pinned = workdir / initrd.name
    with contextlib.suppress(FileNotFoundError):
        pinned.unlink()
    try:
        os.link(initrd, pinned)
    except OSError:
        shutil.copy2(initrd, pinned)
    return pinned


KMEMLEAK = "/sys/kernel/debug/kmemleak"
KMEMLEAK_MIN_AGE = 5.5      # s; kmemleak reports no object younger than 5 s at the scan


class KmemleakError(ConsoleError):
    """kmemleak on a debug kernel lists unreferenced objects at the end of a test."""


def _uptime(vm):
    return float(vm.check("cut -d' ' -f1 /proc/uptime", timeout=60).strip())


def _kmemleak_report(vm):
    """On a debug kernel: unload mars if loaded, scan, return kmemleak's list.

    After rmmod, kmemleak prints addresses in the unloaded module as bare
    hex; they are annotated here as offsets into mars.ko's .text (taken
    from /sys/module/mars/sections before the unload): `addr2line -e
    build/kernel/<release>/mars.ko -j .text OFFSET` names the line."""
    notes = []
    text = None
    rc, out = vm.run("grep '^mars ' /proc/modules && cat /sys/module/mars/sections/.text", timeout=60)
    if rc == 0:
        lines = out.split()
        size, text = int(lines[1]), int(out.splitlines()[-1].strip(), 16)
        rc, out = vm.run("rmmod mars", timeout=180)
        if rc != 0:
            notes.append("rmmod mars failed (%s); scanned with the module loaded" % out.strip())
            text = None
    t0 = _uptime(vm)
    # objects allocated up to now (also by the module's exit) must be old enough
    wait_until(lambda: _uptime(vm) >= t0 + KMEMLEAK_MIN_AGE, 120, "%s: kmemleak minimum age" % vm, 0.5)
    # twice: an object whose contents changed since the previous scan (a new
    # one too) is only reported by the next scan that finds it unchanged
    vm.check("echo scan > %s && echo scan > %s" % (KMEMLEAK, KMEMLEAK), timeout=600)
    report = vm.check("cat %s" % KMEMLEAK, timeout=120)
    if text is not None:
        def note(m):
            a = int(m.group(1), 16)
            return m.group(0) + (" (mars.ko .text+0x%x)" % (a - text) if text <= a < text + size else "")
        # a backtrace line is "[<hashed address>] SYMBOL+OFF/LEN", or the
        # bare address when it has no symbol any more
        report = re.sub(r"(?m)\] 0x([0-9a-f]{16})$", note, report)
    return report.strip(), notes


class Cluster:
    """Several VMs of one kernel sharing an initramfs, fully meshed by UDP links.

    with Cluster(kernel, n=2, mars_ko=..., marsadm=..., disks=[256]) as c:
        a, b = c.vms

    Every pair of VMs gets its own virtual cable: a virtio-net NIC in each,
    joined by two UDP sockets on 127.0.0.1. Guest i has address 10.77.0.(i+1)
    on all its NICs with a /32 route to each peer through the matching NIC,
    and /etc/hosts names all VMs. On exit every VM is stopped, consoles are
    checked (ConsoleError unless the body already raised) and, when the
    Cluster made its own work dir, it is removed.

    vm_tools: True (build and include every testing/vm/tools program) or
    paths of static binaries; each goes to /usr/bin/NAME in the guest."""

    def __init__(self, kernel, n=1, names=None, mars_ko=None, marsadm=None, modules=(),
                 boot_modules=(), disks=(), mem=None, smp=1, net=True, workdir=None,
                 tools=DEFAULT_TOOLS, fio=False, files=None, cmdline="", boot=True, allow_console=(),
                 vm_tools=()):
        if isinstance(kernel, str):
            kernel = get_kernel(kernel)
        self.kernel = kernel
        if mem is None:
            mem = DEBUG_MEM if kernel.debug else DEFAULT_MEM
        names = list(names) if names else ["vm%d" % i for i in range(n)]
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="mars-vm-"))
        self.allow_console = tuple(allow_console)
        self.boot_on_enter = boot
        tools = tuple(tools) + (FIO_TOOLS if fio else ())
        if vm_tools is True:
            vm_tools = build_vm_tools()
        cached = build_initramfs(kernel, modules=modules, mars_ko=mars_ko, marsadm=marsadm,
                                 tools=tools, boot_modules=boot_modules, files=files,
                                 vm_tools=vm_tools or ())
        self.initrd = _pin(cached, self.workdir)
        hosts = [(nm, NET_PREFIX + str(i + 1)) for i, nm in enumerate(names)]
        links = {nm: [] for nm in names}
        if net and len(names) > 1:
            for i, a in enumerate(names):
                for j, b in enumerate(names):
                    if i < j:
                        pa, pb = free_udp_port(), free_udp_port()
                        while pb == pa:
                            pb = free_udp_port()
                        links[a].append((b, NET_PREFIX + str(j + 1), pa, pb, "52:54:00:77:%02x:%02x" % (i, j)))
                        links[b].append((a, NET_PREFIX + str(i + 1), pb, pa, "52:54:00:77:%02x:%02x" % (j, i)))
        self.vms = []
        for i, nm in enumerate(names):
            self.vms.append(VM(nm, kernel, self.initrd, self.workdir / nm, index=i, disks=disks,
                               mem=mem, smp=smp, links=links[nm], hosts=hosts if net else (),
                               cmdline=cmdline,
                               boot_timeout=(float(os.environ.get("MARS_VM_BOOT_TIMEOUT", "240"))
                                             * DEBUG_BOOT_SCALE if kernel.debug else None)))

    def __getitem__(self, k):
        if isinstance(k, int):
            return self.vms[k]
        for v in self.vms:
            if v.name == k:
                return v
        raise KeyError(k)

    def __iter__(self):
        return iter(self.vms)

    def __len__(self):
        return len(self.vms)

    def boot(self, vms=None):
        """Boot VMs (default: all not running) in parallel."""
        vms = [v for v in (vms or self.vms) if not v.running]
        try:
            for v in vms:
                v.start()
            for v in vms:
                v.wait_booted()
        except BaseException:
            for v in vms:
                v.kill()
            raise
        return self

    def power_cut(self, vms=None):
        for v in (vms or self.vms):
            v.power_cut()

    def check_console(self):
        errors = []
        for v in self.vms:
            try:
                v.check_console(self.allow_console)
            except ConsoleError as e:
                errors.append(str(e))
        if errors:
            raise ConsoleError("\n".join(errors))

    def shutdown(self):
        """Orderly stop of every VM (sync + power off)."""
        for v in self.vms:
            with contextlib.suppress(Exception):
                v.shutdown(timeout=30)
        self.kill()

    def kill(self):
        """Hard stop of every VM (teardown: the disks are thrown away anyway)."""
        for v in self.vms:
            v.kill()

    def leak_check(self):
        """Debug kernel: kmemleak report of every running VM (rmmod mars
        first); returns problem texts, also written to kmemleak.txt in the
        VM's work dir."""
        problems = []
        for v in self.vms:
            if not v.running:
                continue
            t0 = time.monotonic()
            try:
                report, notes = _kmemleak_report(v)
            except VMError as e:
                problems.append("%s: kmemleak check failed: %s" % (v, e))
                continue
            log("%s: kmemleak check %.1fs: %s" % (v, time.monotonic() - t0, report or "clean"))
            for n in notes:
                print("    %s: %s" % (v, n))
            if report:
                (v.workdir / "kmemleak.txt").write_text(report + "\n")
                problems.append("%s: kmemleak reports unreferenced objects (%s):\n%s"
                                % (v, v.workdir / "kmemleak.txt", _tail(report, 80)))
        return problems

    def close(self, check=True):
        """Stop every VM; with check, raise ConsoleError for kernel problems in
        the consoles and (debug kernel) KmemleakError for memory leaks."""
        leaks = []
        try:
            if check and self.kernel.debug:
                leaks = self.leak_check()
            self.kill()
            if check:
                try:
                    self.check_console()
                except ConsoleError as e:
                    raise ConsoleError("\n".join([str(e)] + leaks)) from None
                if leaks:
                    raise KmemleakError("\n".join(leaks))
        finally:
            if self._own_workdir and not os.environ.get("MARS_VM_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        if self.boot_on_enter:
            try:
                self.boot()
            except BaseException:
                self.close(check=False)
                raise
        return self

    def __exit__(self, et, ev, tb):
        if et is not None and et is not KeyboardInterrupt:
            self.dump_blocked_tasks()
        self.close(check=et is None)
        return False

    def dump_blocked_tasks(self):
        """After a failure, before the VMs stop: every running guest writes
        its blocked (D state) tasks with their stacks to its console (sysrq
        w), so that a hang shows where it waits. Best effort: a guest whose
        agent does not answer is left as it is."""
        for v in self.vms:
            if not v.running:
                continue
            with contextlib.suppress(Exception):
                v.run("echo w > /proc/sysrq-trigger", timeout=30)


class TestEnv:
    """What a test function gets: the kernel, lazily built artifacts, clusters.

    env.kernel     Kernel (short name env.kernel.short, release env.kernel.release)
    env.mars_ko    Path of mars.ko for this kernel (built on first use)
    env.marsadm    Path of marsadm (built on first use)
    env.vm_tools   paths of the static test programs of testing/vm/tools (built on first use)
    env.cluster(n, mars=False, **kw)   Cluster; mars=True adds mars.ko and marsadm,
                   vm_tools=True the test programs
    env.tmpdir     scratch dir of this test (removed afterwards)
    """

    _artifacts = {}     # (kind, release) -> Path or VMError, shared across tests

    def __init__(self, short, workroot, build=True):
        self.short = short
        self.build = build
        self.workroot = Path(workroot)
        self._kernel = None
        self.clusters = []
        self.tmpdir = None

    @property
    def kernel(self):
        if self._kernel is None:
            self._kernel = get_kernel(self.short)
        return self._kernel

    def _artifact(self, kind, fn):
        key = (kind, self.kernel.release if kind == "module" else "")
        if key not in TestEnv._artifacts:
            try:
                TestEnv._artifacts[key] = fn()
            except VMError as e:
                TestEnv._artifacts[key] = e
        v = TestEnv._artifacts[key]
        if isinstance(v, Exception):
            raise VMError(str(v))
        return v

    @property
    def mars_ko(self):
        return self._artifact("module", lambda: build_module(self.kernel, self.build))

    @property
    def marsadm(self):
        return self._artifact("marsadm", lambda: build_marsadm(self.build))

    @property
    def vm_tools(self):
        return self._artifact("vm-tools", lambda: build_vm_tools(self.build))

    def cluster(self, n=1, mars=False, **kw):
        if mars:
            kw.setdefault("mars_ko", self.mars_ko)
            kw.setdefault("marsadm", self.marsadm)
        if kw.get("vm_tools") is True:
            kw["vm_tools"] = self.vm_tools
        wd = Path(tempfile.mkdtemp(prefix="c", dir=self.tmpdir))
        c = Cluster(self.kernel, n=n, workdir=wd, **kw)
        self.clusters.append(c)
        return c

    def begin(self, name):
        self.clusters = []
        self.tmpdir = Path(tempfile.mkdtemp(prefix="t", dir=self.workroot))

    def end(self, keep=False):
        """Stop every VM of the test and check all consoles; returns problems."""
        problems = []
        for c in self.clusters:
            with contextlib.suppress(Exception):
                c.kill()
            for v in c.vms:
                bad = v.console_problems(c.allow_console)
                if bad:
                    problems.append("%s: kernel problems in the console log:\n  %s"
                                    % (v.name, "\n  ".join(bad[:20])))
        return problems

    def dump_blocked_tasks(self):
        """Cluster.dump_blocked_tasks() of every cluster still running (a
        test that failed outside its `with` block)."""
        for c in self.clusters:
            c.dump_blocked_tasks()

    def console_tails(self, n=40):
        out = []
        for c in self.clusters:
            for v in c.vms:
                out.append("---- console of %s (%s), last %d lines ----\n%s"
                           % (v.name, v.console_path, n, _tail(v.console_text(), n)))
        return "\n".join(out)

    def cleanup(self, keep=False):
        if self.tmpdir and not keep:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
