"""Kernels: short name -> headers dir -> release -> unpacked linux-image package."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .common import DEBUG_KERNELS, KERNELS, TOP, VMError, _locked, cache_dir, log
from .modules import ModuleIndex


def kdir_for(short):
    """Headers dir for kernel short name '6.1' or '6.12' (env MARS_KDIR_6_1 ...)."""
    if short not in KERNELS:
        raise VMError("unknown kernel %r (known: %s)" % (short, ", ".join(KERNELS)))
    env = os.environ.get("MARS_KDIR_" + short.replace(".", "_"))
    if env:
        if not Path(env, "include/generated/utsrelease.h").is_file():
            raise VMError("MARS_KDIR_%s=%s is not a kernel headers dir" % (short.replace(".", "_"), env))
        return Path(env)
    cands = [Path(p) for p in glob.glob("/lib/modules/%s.*-cloud-amd64/build" % short)]
    cands = [p for p in cands if (p / "include/generated/utsrelease.h").is_file()]
    if not cands:
        raise VMError("no kernel headers for %s (/lib/modules/%s.*-cloud-amd64/build): "
                      "run scripts/install-deps" % (short, short))

    def key(p):
        rel = uts_release(p)
        return [int(x) if x.isdigit() else x for x in re.split(r"[.+-]", rel)]
    return sorted(cands, key=key)[-1]


def uts_release(kdir):
    text = Path(kdir, "include/generated/utsrelease.h").read_text()
    m = re.search(r'#define\s+UTS_RELEASE\s+"([^"]+)"', text)
    if not m:
        raise VMError("no UTS_RELEASE in %s/include/generated/utsrelease.h" % kdir)
    return m.group(1)


class Kernel:
    """An unpacked linux-image-<release> package in the cache."""

    def __init__(self, short, kdir, release, root, debug=False):
        self.short = short
        self.line = DEBUG_KERNELS.get(short, short)    # '6.1' for '6.1-debug'
        self.debug = debug          # a debug kernel: slower boots, kmemleak checks
        self.kdir = Path(kdir)
        self.release = release
        self.root = Path(root)
        self.vmlinuz = self.root / "boot" / ("vmlinuz-" + release)
        self.moddir = self.root / "lib" / "modules" / release
        self._modindex = None

    @property
    def modules(self):
        if self._modindex is None:
            self._modindex = ModuleIndex(self.moddir)
        return self._modindex

    def __repr__(self):
        return "Kernel(%s, %s)" % (self.short, self.release)


def _apt_download(pkg, dest):
    cmd = ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", pkg]
    r = subprocess.run(cmd, cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 and os.geteuid() == 0:
        log("apt-get download failed, running apt-get update once")
        subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run(cmd, cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise VMError("apt-get download %s failed:\n%s" % (pkg, r.stdout))
    debs = list(Path(dest).glob("*.deb"))
    if len(debs) != 1:
        raise VMError("apt-get download %s: expected one .deb in %s, found %s" % (pkg, dest, debs))
    return debs[0]


def get_debug_kernel(short):
    """The Kernel for a debug kernel short name ('6.1-debug'): the complete
    build of scripts/build-debug-kernel in the cache (the source tree is
    its KDIR, root/ is laid out like an unpacked linux-image package)."""
    script = TOP / "scripts" / "build-debug-kernel"
    r = subprocess.run([str(script), "--print"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=dict(os.environ, MARS_VM_CACHE=str(cache_dir())))
    if r.returncode != 0:
        raise VMError("no complete debug kernel build in %s/debug-kernel: run %s (or make check-debug)"
                      % (cache_dir(), script))
    d = Path(r.stdout.strip())
    release = (d / "complete").read_text().strip()
    return Kernel(short, d / "linux", release, d / "root", debug=True)


def get_kernel(short):
    """Fetch (once) and return the Kernel for short name '6.1' / '6.12' / '6.1-debug'."""
    if short in DEBUG_KERNELS:
        return get_debug_kernel(short)
    kdir = kdir_for(short)
    release = uts_release(kdir)
    kroot = cache_dir() / "kernels"
    final = kroot / release
    if not (final / "boot" / ("vmlinuz-" + release)).is_file():
        with _locked(cache_dir() / ".lock-kernels"):
            if not (final / "boot" / ("vmlinuz-" + release)).is_file():
                kroot.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=".tmp-%s-" % release, dir=kroot))
                try:
                    pkg = "linux-image-" + release
                    log("downloading %s" % pkg)
                    dl = tmp / "dl"
                    dl.mkdir()
                    deb = _apt_download(pkg, dl)
                    root = tmp / "root"
                    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
                    if not (root / "boot" / ("vmlinuz-" + release)).is_file():
                        raise VMError("%s has no boot/vmlinuz-%s" % (deb.name, release))
                    if final.exists():
                        shutil.rmtree(final)
                    os.rename(root, final)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
                # leftovers of interrupted runs
                for old in kroot.glob(".tmp-*"):
                    shutil.rmtree(old, ignore_errors=True)
    return Kernel(short, kdir, release, final)
