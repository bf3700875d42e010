"""Builds of mars.ko and marsadm (make -C TOP ...) and of the guest test tools
(make -C testing/vm/tools: static C programs, see tools/Makefile)."""

import os
import shlex
import subprocess
import time

from .common import HERE, TOP, VMError, _locked, _tail, cache_dir, log
from .modules import modinfo


def _run_make(args, what, directory=TOP):
    cmd = ["make", "-C", str(directory)] + args
    log("building %s: %s" % (what, " ".join(cmd)))
    t0 = time.monotonic()
    # one build at a time (runners for several kernels share build/user)
    with _locked(cache_dir() / ".lock-build"):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log("built %s in %.1fs" % (what, time.monotonic() - t0))
    if r.returncode != 0:
        raise VMError("building %s failed (%s):\n%s" % (what, " ".join(cmd), _tail(r.stdout, 60)))


def module_path(kernel):
    return TOP / "build" / "kernel" / kernel.release / "mars.ko"


def marsadm_path():
    return TOP / "build" / "user" / "userspace" / "marsadm" / "marsadm"


def build_module(kernel, build=True):
    """mars.ko for kernel (make -C TOP module KDIR=...); returns its path."""
    if build:
        # MARS_VM_MODULE_MAKE_ARGS: extra make arguments (shell words), e.g. a
        # CFLAGS_KASAN override while mars.ko does not build on a KASAN kernel
        extra = shlex.split(os.environ.get("MARS_VM_MODULE_MAKE_ARGS", ""))
        _run_make(["-j2", "module", "KDIR=%s" % kernel.kdir] + extra,
                  "mars.ko for %s" % kernel.release)
    p = module_path(kernel)
    if not p.is_file():
        raise VMError("no %s (make -C %s module KDIR=%s)" % (p, TOP, kernel.kdir))
    vm = modinfo(p.read_bytes()).get("vermagic", "")
    if vm.split(" ")[0] != kernel.release:
        raise VMError("%s has vermagic %r, expected %s" % (p, vm, kernel.release))
    return p


def build_marsadm(build=True):
    if build:
        _run_make(["marsadm"], "marsadm")
    p = marsadm_path()
    if not p.is_file():
        raise VMError("no %s (make -C %s marsadm)" % (p, TOP))
    return p


def vm_tools_dir():
    return TOP / "build" / "vm-tools"


def build_vm_tools(build=True):
    """The static test programs of testing/vm/tools (one per TOOL.c), built
    into build/vm-tools/; returns their paths, sorted by name."""
    out = vm_tools_dir()
    if build:
        _run_make(["OUT=%s" % out], "VM test tools", directory=HERE / "tools")
    paths = []
    for src in sorted((HERE / "tools").glob("*.c")):
        p = out / src.stem
        if not p.is_file():
            raise VMError("no %s (make -C %s OUT=%s)" % (p, HERE / "tools", out))
        paths.append(p)
    return paths
