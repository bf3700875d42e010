"""vmkit: boot Debian 12 cloud kernels under qemu (TCG) with mars.ko and marsadm.

Python 3 standard library only. See README.md beside this file for the model
(kernel cache, initramfs, guest agent protocol, power cut, network, console
rule). The short version for a test:

    def test_something(env):
        with env.cluster(2, mars=True, disks=[256]) as c:
            a, b = c.vms
            a.check("insmod /mars.ko")
            rc, out = b.run("ping -c1 -W5 %s" % a.ip, timeout=30)
            a.power_cut()
            a.boot()
"""

import atexit
import contextlib
import fcntl
import glob
import hashlib
import json
import lzma
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = HERE.parent.parent            # repository root (testing/vm/../..)
KIT_VERSION = "1"                   # bump to invalidate cached initramfs images

KERNELS = ("6.1", "6.12")

# Lines in the guest console that fail a test (see README "console rule").
CONSOLE_BAD = ("BUG:", "WARNING:", "Oops", "general protection", "Kernel panic",
               "list_del corruption", "refcount_t:", "hung_task")

# Virtio drivers, loaded in this order when they are modules (skipped when
# built in or absent).
VIRTIO_MODULES = ("virtio_ring", "virtio", "virtio_pci_modern_dev",
                  "virtio_pci_legacy_dev", "virtio_pci", "virtio_console", "failover",
                  "net_failover", "virtio_net", "virtio_blk")
AGENT_PORT = "vmkit.agent"          # name of the virtio-serial port of the agent

# Host binaries copied into every guest (with their shared libraries). fio is
# opt-in (fio=True): Debian's fio pulls in ~85 MiB of libraries, which would
# cost every boot a second or two and pin that much guest RAM in the rootfs.
DEFAULT_TOOLS = ("mke2fs", "mkfs.ext4", "e2fsck", "fsck.ext4", "tune2fs", "dumpe2fs", "debugfs")
FIO_TOOLS = ("fio",)

NET_PREFIX = "10.77.0."
AGENT_READY = b"@@VMAGENT READY"


class VMError(Exception):
    """Any failure of the kit or of a guest."""


class BootError(VMError):
    pass


class GuestTimeout(VMError):
    """A guest command did not finish within its timeout (it was killed)."""

    def __init__(self, msg, output=""):
        super().__init__(msg)
        self.output = output


class CommandFailed(VMError):
    def __init__(self, vm, cmd, rc, output):
        super().__init__("%s: command failed (rc=%s): %s\n%s" % (vm, rc, cmd, _tail(output, 40)))
        self.rc = rc
        self.output = output


class ConsoleError(VMError):
    """The guest console shows a kernel warning (BUG:, WARNING:, Oops, ...)."""


# --------------------------------------------------------------------------
# small helpers

_verbose = bool(os.environ.get("MARS_VM_VERBOSE"))
_t0 = time.monotonic()


def set_verbose(on):
    global _verbose
    _verbose = bool(on)


def log(msg):
    if _verbose:
        sys.stderr.write("[vmkit %7.2f] %s\n" % (time.monotonic() - _t0, msg))
        sys.stderr.flush()


def _tail(text, n):
    lines = text.splitlines()
    return "\n".join(lines[-n:])


def wait_until(pred, timeout, what, interval=0.05, max_interval=0.5):
    """Poll pred() until it returns a true value; raise VMError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise VMError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)
        interval = min(interval * 1.5, max_interval)


def cache_dir():
    d = os.environ.get("MARS_VM_CACHE")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "mars-vm")
    p = Path(d)
    p.mkdir(parents=True, exist_ok=True)
    return p


@contextlib.contextmanager
def _locked(path):
    """Exclusive advisory lock on a file (serialises concurrent runners)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _sha256_file(path, h=None):
    h = h or hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h


# --------------------------------------------------------------------------
# kernels: headers dir -> release -> unpacked linux-image package

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

    def __init__(self, short, kdir, release, root):
        self.short = short
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


def get_kernel(short):
    """Fetch (once) and return the Kernel for short name '6.1' / '6.12'."""
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


# --------------------------------------------------------------------------
# kernel modules: .modinfo parsing and dependency resolution

def read_ko(path):
    """Bytes of a kernel module, decompressing .ko.xz / .ko.gz / .ko.zst(no)."""
    data = Path(path).read_bytes()
    name = str(path)
    if name.endswith(".xz"):
        return lzma.decompress(data)
    if name.endswith(".gz"):
        import gzip
        return gzip.decompress(data)
    if name.endswith(".zst"):
        r = subprocess.run(["zstd", "-dc", name], stdout=subprocess.PIPE, check=True)
        return r.stdout
    return data


def modinfo(ko_bytes):
    """Dict of the .modinfo section of an ELF64 module (multi-valued keys joined by ',')."""
    b = ko_bytes
    if b[:4] != b"\x7fELF" or b[4] != 2:
        raise VMError("not an ELF64 module")
    end = "<" if b[5] == 1 else ">"
    shoff, = struct.unpack_from(end + "Q", b, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", b, 0x3A)

    def sh(i):
        o = shoff + i * shentsize
        name, typ, flags, addr, off, size = struct.unpack_from(end + "IIQQQQ", b, o)
        return name, off, size
    _, stroff, _ = sh(shstrndx)
    info = {}
    for i in range(shnum):
        name, off, size = sh(i)
        nend = b.index(b"\0", stroff + name)
        if b[stroff + name:nend] == b".modinfo":
            for item in b[off:off + size].split(b"\0"):
                if b"=" in item:
                    k, v = item.decode("utf-8", "replace").split("=", 1)
                    info[k] = info[k] + "," + v if k in info else v
            break
    return info


def _modname(s):
    s = os.path.basename(s)
    for suf in (".xz", ".gz", ".zst"):
        if s.endswith(suf):
            s = s[:-len(suf)]
    if s.endswith(".ko"):
        s = s[:-3]
    return s.replace("-", "_")


class ModuleIndex:
    """Modules of one unpacked kernel image: name -> path, deps, built-ins."""

    def __init__(self, moddir):
        self.moddir = Path(moddir)
        self.paths = {}
        for p in (self.moddir / "kernel").rglob("*.ko*"):
            self.paths[_modname(p.name)] = p
        self.builtin = set()
        bl = self.moddir / "modules.builtin"
        if bl.is_file():
            self.builtin = {_modname(l) for l in bl.read_text().split()}
        self._deps = {}

    def relpath(self, name):
        p = self.paths[_modname(name)]
        rel = str(p.relative_to(self.moddir))
        for suf in (".xz", ".gz", ".zst"):
            if rel.endswith(suf):
                rel = rel[:-len(suf)]
        return rel

    def deps(self, name):
        n = _modname(name)
        if n not in self._deps:
            info = modinfo(read_ko(self.paths[n]))
            self._deps[n] = [d for d in info.get("depends", "").split(",") if d]
        return self._deps[n]

    def has(self, name):
        return _modname(name) in self.paths

    def is_builtin(self, name):
        return _modname(name) in self.builtin

    def resolve(self, names, extra_deps=None):
        """Module names (with dependencies first) that must be loaded for names.

        Built-in modules are dropped; an unknown module raises VMError.
        extra_deps maps a name not in the image (mars) to its dependency list."""
        order, seen = [], set()
        extra_deps = extra_deps or {}

        def visit(n, chain):
            n = _modname(n)
            if n in seen:
                return
            if n in extra_deps:
                deps = extra_deps[n]
            elif n in self.paths:
                deps = self.deps(n)
            elif n in self.builtin:
                seen.add(n)
                return
            else:
                raise VMError("module %s not in %s (needed by %s)" % (n, self.moddir, " <- ".join(chain) or "test"))
            seen.add(n)
            for d in deps:
                visit(d, chain + [n])
            order.append(n)
        for n in names:
            visit(n, [])
        return order


# --------------------------------------------------------------------------
# builds

def _run_make(args, what):
    cmd = ["make", "-C", str(TOP)] + args
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
        _run_make(["module", "KDIR=%s" % kernel.kdir], "mars.ko for %s" % kernel.release)
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


# --------------------------------------------------------------------------
# initramfs (newc cpio written directly, no cpio binary needed)

class Cpio:
    """Writer of a newc archive. Like Debian (usr-merged), /lib and /lib64 are
    symlinks to usr/lib and usr/lib64: paths under them are stored there."""

    def __init__(self):
        self.entries = {}     # path -> (mode, data or link target)
        self.entries["lib"] = (stat.S_IFLNK | 0o777, b"usr/lib")
        self.entries["lib64"] = (stat.S_IFLNK | 0o777, b"usr/lib64")

    @staticmethod
    def _norm(path):
        path = path.strip("/")
        for d in ("lib", "lib64"):
            if path.startswith(d + "/"):
                return "usr/" + path
        return path

    def _parents(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.entries:
                self.entries[d] = (stat.S_IFDIR | 0o755, b"")

    def dir(self, path, mode=0o755):
        path = self._norm(path)
        self._parents(path)
        self.entries[path] = (stat.S_IFDIR | mode, b"")

    def file(self, path, data, mode=0o644):
        path = self._norm(path)
        if isinstance(data, str):
            data = data.encode()
        self._parents(path)
        self.entries[path] = (stat.S_IFREG | mode, data)

    def symlink(self, path, target):
        path = self._norm(path)
        self._parents(path)
        self.entries[path] = (stat.S_IFLNK | 0o777, target.encode())

    def host_file(self, src, dest=None, mode=None):
        """Copy a host file (following symlinks) to dest (default: same path)."""
        src = Path(src)
        real = src.resolve()
        m = mode if mode is not None else (real.stat().st_mode & 0o7777)
        self.file(str(dest or src), real.read_bytes(), m)

    def write(self, out):
        with open(out, "wb") as f:
            ino = 1000
            for path in sorted(self.entries, key=lambda p: (p.count("/"), p)):
                mode, data = self.entries[path]
                self._entry(f, path, mode, data, ino)
                ino += 1
            self._entry(f, "TRAILER!!!", 0, b"", 0)
            pad = (-f.tell()) % 512
            f.write(b"\0" * pad)

    @staticmethod
    def _entry(f, name, mode, data, ino):
        nb = name.encode() + b"\0"
        nlink = 2 if stat.S_ISDIR(mode) else 1
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        f.write(hdr.encode() + nb)
        f.write(b"\0" * ((-(110 + len(nb))) % 4))
        f.write(data)
        f.write(b"\0" * ((-len(data)) % 4))


def _ldd_closure(binaries):
    """Shared libraries (and the dynamic loader) needed by binaries, via ldd."""
    libs = set()
    for b in binaries:
        r = subprocess.run(["ldd", str(b)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if "not a dynamic executable" in r.stdout or "statically linked" in r.stdout:
            continue
        if r.returncode != 0:
            raise VMError("ldd %s failed:\n%s" % (b, r.stdout))
        for line in r.stdout.splitlines():
            line = line.strip()
            m = re.match(r"\S+ => (/\S+) \(", line)
            if m:
                libs.add(m.group(1))
                continue
            if "=> not found" in line:
                raise VMError("ldd %s: %s" % (b, line))
            m = re.match(r"(/\S+) \(", line)
            if m:
                libs.add(m.group(1))
    return sorted(libs)


def _which(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        p = Path(d, name)
        if p.is_file() and os.access(p, os.X_OK):
            return p
    return None


INIT_RC = r"""#!/bin/sh
# vmkit guest init (run by busybox init as sysinit). Messages go to the console.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp /var/tmp /var/log
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t configfs configfs /sys/kernel/config 2>/dev/null
ln -sf /proc/mounts /etc/mtab
err() { echo "vm-init: error: $*"; echo "$*" >> /run/vm-init.err; }
param() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^mars_vm\.$1=//p" | tail -n1; }
rel=$(uname -r)
name=$(param name); [ -n "$name" ] && hostname "$name"
# virtio and requested modules (listed by the host in load order)
for m in $(cat /etc/vm/boot-modules); do
    insmod "/lib/modules/$rel/$m" || err "insmod $m failed"
done
ip link set lo up
# disks: wait for /dev/vda.. (they appear a moment after virtio_blk loads)
n=$(param disks); n=${n:-0}
i=0
for l in a b c d e f g h i j k l m n o p; do
    [ $i -lt $n ] || break
    t=0
    while [ ! -b /dev/vd$l ] && [ $t -lt 1200 ]; do sleep 0.05; t=$((t+1)); done
    [ -b /dev/vd$l ] || err "no /dev/vd$l"
    i=$((i+1))
done
# network: one NIC per peer, found by MAC; own address /32 plus a host route
ip=$(param ip)
echo "127.0.0.1 localhost" > /etc/hosts
for h in $(param hosts | tr ',' ' '); do echo "${h#*@} ${h%@*}" >> /etc/hosts; done
for link in $(param links | tr ',' ' '); do
    mac=${link%@*}; peer=${link#*@}; dev=
    t=0
    while [ -z "$dev" ] && [ $t -lt 1200 ]; do
        for d in /sys/class/net/*; do
            [ "$(cat $d/address 2>/dev/null)" = "$mac" ] && dev=${d##*/}
        done
        [ -n "$dev" ] || { sleep 0.05; t=$((t+1)); }
    done
    if [ -z "$dev" ]; then err "no NIC with MAC $mac"; continue; fi
    ip link set "$dev" up || err "ip link set $dev up"
    ip addr add "$ip/32" dev "$dev" || err "ip addr add $ip on $dev"
    ip route add "$peer/32" dev "$dev" || err "ip route add $peer via $dev"
done
touch /run/vm-init.done
echo "vm-init: ready ($rel, $(cat /proc/uptime | cut -d' ' -f1)s)"
"""

AGENT = r"""#!/bin/sh
# vmkit command agent on the virtio-serial port "vmkit.agent" (respawned by
# busybox init). Protocol: README.md.
# In:  "@@TAG MODE TIMEOUT SCRIPTLEN DATALEN\n" script data   (MODE: comb = 2>&1, or split)
# Out: "@@TAG DONE RC TIMEDOUT OUTLEN ERRLEN\n" stdout stderr
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
export HOME=/root
port=
t=0
while [ -z "$port" ] && [ $t -lt 1200 ]; do
    for p in /sys/class/virtio-ports/*; do
        [ "$(cat $p/name 2>/dev/null)" = vmkit.agent ] && [ -c /dev/${p##*/} ] && port=/dev/${p##*/}
    done
    [ -n "$port" ] || { sleep 0.05; t=$((t+1)); }
done
if [ -z "$port" ]; then echo "vm-agent: error: no virtio port vmkit.agent"; sleep 5; exit 1; fi
exec <>$port >&0     # a virtio port can be opened only once
D=/run/agent
mkdir -p $D /root
cd /
echo "@@VMAGENT READY"
while read -r tag mode tmo clen dlen; do
    case "$tag" in @@*) ;; *) continue ;; esac
    rm -f $D/out $D/err $D/in $D/timedout
    dd of=$D/cmd bs=65536 count=$clen iflag=count_bytes,fullblock status=none
    in=/dev/null
    if [ "$dlen" -gt 0 ]; then
        dd of=$D/in bs=65536 count=$dlen iflag=count_bytes,fullblock status=none
        in=$D/in
    fi
    : > $D/err
    if [ "$mode" = split ]; then
        setsid sh $D/cmd <$in >$D/out 2>$D/err &
    else
        setsid sh $D/cmd <$in >$D/out 2>&1 &
    fi
    pid=$!
    setsid sh -c "sleep $tmo; touch $D/timedout; kill -9 -$pid" </dev/null >/dev/null 2>&1 &
    wd=$!
    wait $pid
    rc=$?
    kill -9 -$wd 2>/dev/null
    to=0; [ -e $D/timedout ] && to=1
    set -- $(stat -c %s $D/out $D/err)
    echo "$tag DONE $rc $to $1 $2"
    head -c $1 $D/out
    [ "$2" = 0 ] || head -c $2 $D/err
done
"""

INITTAB = """::sysinit:/etc/init.d/rcS
::respawn:/sbin/vm-agent
::shutdown:/bin/sync
"""


def build_initramfs(kernel, modules=(), mars_ko=None, marsadm=None, tools=DEFAULT_TOOLS,
                    boot_modules=(), files=None):
    """Build (or reuse from the cache) an initramfs for kernel; returns its path.

    modules:      extra kernel modules from the image to include (with deps),
                  loadable in the guest with `modprobe NAME`
    boot_modules: modules to insmod at boot (after virtio), included automatically
    mars_ko:      path of mars.ko -> /mars.ko and /lib/modules/<rel>/extra/mars.ko
    marsadm:      path of marsadm -> /usr/sbin/marsadm (+ its libraries)
    tools:        host binaries to copy with their libraries (missing ones are skipped)
    files:        {guest path: bytes or str} extra files
    """
    idx = kernel.modules
    extra = {}
    mars_deps = []
    if mars_ko:
        mars_ko = Path(mars_ko)
        info = modinfo(mars_ko.read_bytes())
        mars_deps = [d for d in info.get("depends", "").split(",") if d]
        extra["mars"] = mars_deps
    virtio = [m for m in VIRTIO_MODULES if idx.has(m)]
    include = idx.resolve(list(virtio) + list(modules) + list(boot_modules) + mars_deps)
    # mars's own dependencies (libcrc32c, ...) are loaded at boot, so that a
    # plain `insmod /mars.ko` works
    boot = idx.resolve(list(virtio) + [m for m in boot_modules if _modname(m) != "mars"] + mars_deps,
                       extra)
    if any(_modname(m) == "mars" for m in boot_modules):
        if not mars_ko:
            raise VMError("boot_modules has mars but no mars_ko")
        boot = idx.resolve(boot + ["mars"], extra)
    bins = []
    for t in tools:
        p = _which(t)
        if p:
            bins.append((p, t))
        else:
            log("tool %s not found on the host, skipped" % t)
    binpaths = [p for p, _ in bins] + ([Path(marsadm)] if marsadm else [])
    libs = _ldd_closure(binpaths)

    # cache key: everything that goes in
    h = hashlib.sha256()
    _sha256_file(__file__, h)           # any change of the kit rebuilds
    h.update(("%s\0%s\0%s\0%s\0%s\0%s\0" % (KIT_VERSION, kernel.release, include, boot,
                                                INIT_RC + AGENT + INITTAB, sorted((files or {}).keys()))).encode())
    for p in [Path("/bin/busybox")] + binpaths + [Path(l) for l in libs] + ([mars_ko] if mars_ko else []):
        h.update(str(p).encode() + b"\0")
        _sha256_file(p, h)
    for k, v in sorted((files or {}).items()):
        h.update(v.encode() if isinstance(v, str) else v)
    key = h.hexdigest()[:24]
    outdir = cache_dir() / "initramfs"
    out = outdir / ("%s-%s.cpio" % (kernel.release, key))
    if out.is_file():
        os.utime(out)
        return out

    c = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc/init.d", "etc/vm", "proc", "sys", "dev",
              "run", "tmp", "root", "var/tmp", "mnt", "usr/lib64"):
        c.dir(d)
    c.dir("tmp", 0o1777)
    c.host_file("/bin/busybox", "bin/busybox", 0o755)
    r = subprocess.run(["/bin/busybox", "--list-full"], stdout=subprocess.PIPE, text=True, check=True)
    for applet in r.stdout.split():
        if applet != "bin/busybox":
            c.symlink(applet, "/bin/busybox")
    c.symlink("init", "/bin/busybox")
    c.file("etc/inittab", INITTAB)
    c.file("etc/init.d/rcS", INIT_RC, 0o755)
    c.file("sbin/vm-agent", AGENT, 0o755)
    c.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
    c.file("etc/group", "root:x:0:\n")
    c.file("etc/vm/boot-modules", "".join(idx.relpath(m) + "\n" if m != "mars" else "extra/mars.ko\n"
                                          for m in boot))
    moddir = "lib/modules/%s" % kernel.release
    dep_lines = []
    for m in include:
        rel = idx.relpath(m)
        c.file("%s/%s" % (moddir, rel), read_ko(idx.paths[m]))
        # modules.dep: dependencies in reverse load order (as depmod writes them)
        deps = [idx.relpath(d) for d in reversed(idx.resolve([m])[:-1])]
        dep_lines.append("%s:%s\n" % (rel, "".join(" " + d for d in deps)))
    if mars_ko:
        c.host_file(mars_ko, "mars.ko", 0o644)
        c.host_file(mars_ko, moddir + "/extra/mars.ko", 0o644)
        deps = [idx.relpath(d) for d in reversed(idx.resolve(mars_deps))]
        dep_lines.append("extra/mars.ko:%s\n" % "".join(" " + d for d in deps))
    c.file(moddir + "/modules.dep", "".join(dep_lines))
    for extra_file in ("modules.builtin", "modules.order"):
        if (kernel.moddir / extra_file).is_file():
            c.host_file(kernel.moddir / extra_file, moddir + "/" + extra_file)
    for p, t in bins:
        c.host_file(p, str(p), 0o755)
        if t != p.name:
            c.symlink(str(p.parent / t), str(p))
    if marsadm:
        c.host_file(marsadm, "usr/sbin/marsadm", 0o755)
    for lib in libs:
        c.host_file(lib, lib)
    for k, v in (files or {}).items():
        c.file(k, v, 0o755 if k.startswith(("bin/", "sbin/", "usr/bin/", "usr/sbin/", "/bin/", "/sbin/", "/usr/")) else 0o644)

    outdir.mkdir(parents=True, exist_ok=True)
    tmp = outdir / (".tmp-%d-%s" % (os.getpid(), out.name))
    c.write(tmp)
    os.replace(tmp, out)
    _prune(outdir, keep=int(os.environ.get("MARS_VM_KEEP_INITRAMFS", "6")))
    log("built initramfs %s (%.1f MiB)" % (out, out.stat().st_size / 2**20))
    return out


def _prune(d, keep):
    files = sorted(d.glob("*.cpio"), key=lambda p: p.stat().st_mtime, reverse=True)
    for p in files[keep:]:
        with contextlib.suppress(OSError):
            p.unlink()
    for p in d.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if time.time() - p.stat().st_mtime > 3600:
                p.unlink()


# --------------------------------------------------------------------------
# qemu processes

_LIVE = set()          # qemu Popen objects still running
_LIVE_LOCK = threading.Lock()


def _kill_all():
    with _LIVE_LOCK:
        procs = list(_LIVE)
    for p in procs:
        with contextlib.suppress(Exception):
            p.kill()
    for p in procs:
        with contextlib.suppress(Exception):
            p.wait(timeout=10)
    with _LIVE_LOCK:
        _LIVE.difference_update(procs)


atexit.register(_kill_all)


def _sigterm(signum, frame):
    # turn SIGTERM/SIGHUP into an exception so that every `finally`/`with` runs
    raise SystemExit(128 + signum)


def install_signal_handlers():
    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, _sigterm)


def _pdeathsig():
    # last resort: qemu dies with the python process that started it
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)     # PR_SET_PDEATHSIG
    except Exception:
        pass


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QMP:
    """Minimal QMP client over a unix socket."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""
        self.events = []
        self._read()                         # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise VMError("QMP connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, _cmd, **args):
        name = _cmd
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise VMError("QMP %s: %s" % (name, r["error"]))
            self.events.append(r)

    def close(self):
        with contextlib.suppress(Exception):
            self.sock.close()


class Disk:
    """A raw image file attached as virtio-blk (/dev/vda, /dev/vdb, ... in order).

    cache=writeback (default): a completed guest write is in the host page
    cache, which a `kill -9` of qemu does not lose, and guest flushes become
    fdatasync on the host. So after a power cut the image holds at least every
    write the guest saw completed (in particular everything it flushed)."""

    def __init__(self, size_mb=256, path=None, cache="writeback"):
        self.size_mb = size_mb
        self.path = Path(path) if path else None
        self.cache = cache

    def create(self, path):
        if self.path is None:
            self.path = Path(path)
        if not self.path.exists():
            with open(self.path, "wb") as f:
                f.truncate(self.size_mb * 2**20)
        return self.path


class VM:
    """One qemu guest. Create through Cluster (or directly, then boot())."""

    def __init__(self, name, kernel, initrd, workdir, index=0, disks=(), mem="512M", smp=1,
                 links=(), hosts=(), cmdline="", boot_timeout=None):
        self.name = name
        self.kernel = kernel
        self.initrd = Path(initrd)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.index = index
        self.ip = NET_PREFIX + str(index + 1)
        self.disks = []
        for i, d in enumerate(disks):
            d = d if isinstance(d, Disk) else Disk(size_mb=int(d))
            d.create(self.workdir / ("disk%d.img" % i))
            self.disks.append(d)
        self.mem = mem
        self.smp = smp
        self.links = list(links)      # [(peer_name, peer_ip, my_port, peer_port, mac)]
        self.hosts = list(hosts)      # [(name, ip)]
        self.extra_cmdline = cmdline
        self.boot_timeout = boot_timeout or float(os.environ.get("MARS_VM_BOOT_TIMEOUT", "240"))
        self.console_path = self.workdir / "console.log"
        self.qmp_path = self.workdir / "qmp.sock"
        self.agent_path = self.workdir / "agent.sock"
        for p in (self.qmp_path, self.agent_path):
            if len(str(p)) > 100:
                raise VMError("socket path too long (set TMPDIR shorter): %s" % p)
        self.proc = None
        self.qmp = None
        self.sock = None
        self.buf = b""
        self.boots = 0
        self._lock = threading.Lock()
        self._console_checked = 0      # offset up to which the console was checked
        self.boot_seconds = None

    def __repr__(self):
        return "VM(%s)" % self.name

    def __str__(self):
        return self.name

    # ---- lifecycle

    def qemu_argv(self):
        # mitigations=off: speculative-execution workarounds only slow TCG down
        # no_timer_check: an overloaded host must not fail the IO-APIC timer test
        cmdline = ("console=ttyS0,115200 panic=-1 rdinit=/init mitigations=off no_timer_check "
                   "mars_vm.name=%s mars_vm.disks=%d mars_vm.ip=%s" % (self.name, len(self.disks), self.ip))
        if self.links:
            cmdline += " mars_vm.links=" + ",".join("%s@%s" % (l[4], l[1]) for l in self.links)
        if self.hosts:
            cmdline += " mars_vm.hosts=" + ",".join("%s@%s" % h for h in self.hosts)
        if self.extra_cmdline:
            cmdline += " " + self.extra_cmdline
        argv = ["qemu-system-x86_64", "-name", self.name,
                "-accel", "tcg", "-cpu", "max", "-m", str(self.mem), "-smp", str(self.smp),
                "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none",
                "-no-reboot", "-S",
                "-kernel", str(self.kernel.vmlinuz), "-initrd", str(self.initrd),
                "-append", cmdline,
                "-chardev", "file,id=con0,path=%s,append=on" % self.console_path,
                "-serial", "chardev:con0",
                "-device", "virtio-serial-pci,id=vser0",
                "-chardev", "socket,id=agent0,path=%s,server=on,wait=off" % self.agent_path,
                "-device", "virtserialport,bus=vser0.0,chardev=agent0,name=%s" % AGENT_PORT,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                "-nic", "none"]
        for i, d in enumerate(self.disks):
            argv += ["-drive", "file=%s,format=raw,if=virtio,cache=%s,id=disk%d" % (d.path, d.cache, i)]
        for (peer, peer_ip, my_port, peer_port, mac) in self.links:
            argv += ["-netdev", "socket,id=net-%s,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d" % (peer, peer_port, my_port),
                     "-device", "virtio-net-pci,netdev=net-%s,mac=%s,id=nic-%s" % (peer, mac, peer)]
        return argv

    def start(self):
        """Start qemu (paused), connect QMP and the agent socket, then run the CPU."""
        if self.proc is not None:
            if self.proc.poll() is None:
                raise VMError("%s is already running" % self)
            self.kill()             # qemu ended by itself (guest poweroff/reboot/panic)
        for p in (self.qmp_path, self.agent_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        self.boots += 1
        with open(self.console_path, "ab") as f:
            f.write(("\n===== vmkit: %s boot %d =====\n" % (self.name, self.boots)).encode())
        self._boot_offset = self.console_path.stat().st_size
        argv = self.qemu_argv()
        log("%s: %s" % (self.name, " ".join(argv)))
        errlog = open(self.workdir / "qemu.stderr", "ab")
        kw = {}
        if threading.current_thread() is threading.main_thread():
            kw["preexec_fn"] = _pdeathsig
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog, **kw)
        errlog.close()
        with _LIVE_LOCK:
            _LIVE.add(self.proc)
        self._t_start = time.monotonic()
        try:
            wait_until(lambda: self._check_alive() and self.qmp_path.exists() and self.agent_path.exists(),
                       60, "%s: qemu sockets" % self)
            self.qmp = QMP(self.qmp_path)
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(str(self.agent_path))
            self.buf = b""
            self.qmp.cmd("cont")
        except BaseException:
            self.kill()
            raise

    def _check_alive(self):
        if self.proc is None:
            raise BootError("%s: not running" % self)
        rc = self.proc.poll()
        if rc is not None:
            err = (self.workdir / "qemu.stderr").read_text(errors="replace")
            raise BootError("%s: qemu exited with %s\nqemu stderr:\n%s\nconsole:\n%s"
                            % (self, rc, _tail(err, 20), _tail(self.console_text(this_boot=True), 40)))
        return True

    def wait_ready(self):
        """Wait for the agent's READY line, then check the guest init's status."""
        deadline = time.monotonic() + self.boot_timeout
        try:
            while AGENT_READY not in self.buf:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise BootError("%s: no agent after %.0fs\nconsole:\n%s"
                                    % (self, self.boot_timeout, _tail(self.console_text(this_boot=True), 60)))
                self._recv(0.5)
            self.buf = self.buf.split(AGENT_READY, 1)[1]
            rc, out = self.run("while [ ! -e /run/vm-init.done ]; do sleep 0.05; done; "
                               "cat /run/vm-init.err 2>/dev/null", timeout=120)
            if out.strip():
                raise BootError("%s: guest init failed: %s" % (self, out.strip()))
        except BaseException:
            self.kill()
            raise
        self.boot_seconds = time.monotonic() - self._t_start
        log("%s: up in %.1fs" % (self, self.boot_seconds))

    def boot(self):
        self.start()
        self.wait_ready()
        return self

    def kill(self):
        """Hard stop (SIGKILL) of qemu; nothing else."""
        if self.qmp:
            self.qmp.close()
            self.qmp = None
        if self.sock:
            with contextlib.suppress(Exception):
                self.sock.close()
            self.sock = None
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.proc.kill()
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=30)
            with _LIVE_LOCK:
                _LIVE.discard(self.proc)
            self.proc = None

    def power_cut(self):
        """Pull the plug: kill -9 qemu. Disk images stay; boot() starts it again."""
        log("%s: power cut" % self)
        self.kill()
        with open(self.console_path, "ab") as f:
            f.write(("\n===== vmkit: %s power cut =====\n" % self.name).encode())

    def shutdown(self, timeout=60):
        """Orderly stop: sync and power off in the guest; kill if it does not stop."""
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None and self.sock is not None:
                with contextlib.suppress(VMError, OSError):
                    self.run_full("sync", timeout=timeout, grace=10)
                with contextlib.suppress(VMError, OSError):
                    self._send_nowait("poweroff -f")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=timeout)
        finally:
            self.kill()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- agent protocol

    def _recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        if not d:
            self._check_alive()
            raise VMError("%s: agent connection closed" % self)
        self.buf += d
        return True

    def _send(self, tag, cmd, timeout, split=False, input=b""):
        if isinstance(cmd, (list, tuple)):
            cmd = " ".join(_shquote(a) for a in cmd)
        script = (cmd if isinstance(cmd, bytes) else cmd.encode()) or b":"
        if isinstance(input, str):
            input = input.encode()
        input = input or b""
        hdr = "%s %s %d %d %d\n" % (tag, "split" if split else "comb", max(1, int(timeout + 0.999)),
                                     len(script), len(input))
        self.sock.sendall(hdr.encode() + script + input)

    def _send_nowait(self, cmd, timeout=30):
        tag = "@@%s-%s" % (self.name, secrets.token_hex(6))
        self._send(tag, cmd, timeout)
        return tag

    def run_full(self, cmd, timeout=60, split=False, input=b"", grace=60):
        """Run cmd with `sh` in the guest -> (rc, stdout bytes, stderr bytes).

        cmd is a shell script (str or bytes) or an argv list. input (bytes or
        str) is its stdin (default /dev/null). With split=False stderr is merged
        into stdout (stderr is b""). Raises GuestTimeout if it ran longer than
        timeout seconds (it is killed in the guest, with its process group);
        also when the agent does not answer within timeout + grace seconds
        (a wedged guest)."""
        with self._lock:
            if self.sock is None:
                raise VMError("%s: not running" % self)
            tag = "@@%s-%s" % (self.name, secrets.token_hex(6))
            self._send(tag, cmd, timeout, split, input)
            # the guest kills the command at `timeout`; the host waits a grace
            # period beyond that for the answer (TCG guests can be slow)
            deadline = time.monotonic() + timeout + grace
            head = ("%s DONE " % tag).encode()
            while True:
                i = self.buf.find(head)
                if i >= 0:
                    nl = self.buf.find(b"\n", i)
                    if nl >= 0:
                        rc, to, n1, n2 = (int(x) for x in self.buf[i + len(head):nl].split())
                        if len(self.buf) >= nl + 1 + n1 + n2:
                            break
                self._check_alive()
                if time.monotonic() > deadline:
                    raise GuestTimeout("%s: no answer from the agent %ds after the timeout of: %s"
                                       % (self, grace, cmd))
                self._recv(0.5)
            out = self.buf[nl + 1:nl + 1 + n1]
            err = self.buf[nl + 1 + n1:nl + 1 + n1 + n2]
            self.buf = self.buf[nl + 1 + n1 + n2:]
        if to:
            o = (out + err).decode("utf-8", "replace")
            raise GuestTimeout("%s: command timed out after %ss: %s\n%s" % (self, timeout, cmd, _tail(o, 20)), o)
        return rc, out, err

    def run(self, cmd, timeout=60, binary=False, input=b""):
        """Run cmd in the guest -> (rc, combined stdout+stderr).

        Output is str (undecodable bytes kept via surrogateescape) or bytes with
        binary=True."""
        rc, out, _ = self.run_full(cmd, timeout, input=input)
        return rc, (out if binary else out.decode("utf-8", "surrogateescape"))

    def check(self, cmd, timeout=60, input=b""):
        """Run cmd; raise CommandFailed unless it exits 0. Returns the output."""
        rc, out = self.run(cmd, timeout, input=input)
        if rc != 0:
            raise CommandFailed(self, cmd, rc, out)
        return out

    def put(self, path, data, mode=None, timeout=120):
        """Write bytes (or str) to a guest file."""
        self.check("cat > %s" % _shquote(path), timeout, input=data)
        if mode is not None:
            self.check("chmod %o %s" % (mode, _shquote(path)))

    def get(self, path, timeout=120):
        """Contents of a guest file as bytes."""
        rc, out, err = self.run_full("cat %s" % _shquote(path), timeout, split=True)
        if rc != 0:
            raise CommandFailed(self, "cat " + path, rc, err.decode(errors="replace"))
        return out

    # ---- console

    def console_text(self, this_boot=False):
        try:
            data = self.console_path.read_bytes()
        except FileNotFoundError:
            return ""
        if this_boot:
            data = data[getattr(self, "_boot_offset", 0):]
        return data.decode("utf-8", "replace")

    def console_problems(self, allow=(), since_last_check=False):
        """Lines of the console log (all boots) that match CONSOLE_BAD."""
        text = self.console_text()
        start = self._console_checked if since_last_check else 0
        bad = []
        for line in text[start:].splitlines():
            if any(p in line for p in CONSOLE_BAD) and not any(re.search(a, line) for a in allow):
                bad.append(line.rstrip())
        return bad

    def check_console(self, allow=()):
        """Raise ConsoleError when the console shows a kernel warning.

        allow: regular expressions for lines a test expects (use sparingly)."""
        bad = self.console_problems(allow)
        self._console_checked = len(self.console_text())
        if bad:
            raise ConsoleError("%s: kernel problems in the console log %s:\n%s"
                               % (self, self.console_path, "\n".join(bad[:20])))

    # ---- network / monitor

    def set_link(self, peer, up):
        """Cable to peer (VM or name) plugged (True) or pulled (False); the guest sees carrier."""
        pname = peer.name if isinstance(peer, VM) else peer
        self.qmp.cmd("set_link", name="nic-%s" % pname, up=bool(up))

    def hmp(self, command):
        """A human monitor command (e.g. "info block") through QMP; returns its text."""
        return self.qmp.cmd("human-monitor-command", **{"command-line": command})

    def dmesg(self):
        """The guest kernel log of this boot (dmesg)."""
        return self.check("dmesg")

    def iface(self, peer):
        """Guest interface name of the NIC that leads to peer."""
        pname = peer.name if isinstance(peer, VM) else peer
        mac = [l[4] for l in self.links if l[0] == pname]
        if not mac:
            raise VMError("%s has no link to %s" % (self, pname))
        out = self.check("for d in /sys/class/net/*; do [ \"$(cat $d/address)\" = %s ] && echo ${d##*/}; done; true"
                         % mac[0])
        return out.strip()


def _shquote(s):
    s = str(s)
    if re.fullmatch(r"[A-Za-z0-9_./=:,+@%-]+", s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


class Cluster:
    """Several VMs of one kernel sharing an initramfs, fully meshed by UDP links.

    with Cluster(kernel, n=2, mars_ko=..., marsadm=..., disks=[256]) as c:
        a, b = c.vms

    Every pair of VMs gets its own virtual cable: a virtio-net NIC in each,
    joined by two UDP sockets on 127.0.0.1. Guest i has address 10.77.0.(i+1)
    on all its NICs with a /32 route to each peer through the matching NIC,
    and /etc/hosts names all VMs. On exit every VM is stopped, consoles are
    checked (ConsoleError unless the body already raised) and, when the
    Cluster made its own work dir, it is removed."""

    def __init__(self, kernel, n=1, names=None, mars_ko=None, marsadm=None, modules=(),
                 boot_modules=(), disks=(), mem="512M", smp=1, net=True, workdir=None,
                 tools=DEFAULT_TOOLS, fio=False, files=None, cmdline="", boot=True, allow_console=()):
        if isinstance(kernel, str):
            kernel = get_kernel(kernel)
        self.kernel = kernel
        names = list(names) if names else ["vm%d" % i for i in range(n)]
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="mars-vm-"))
        self.allow_console = tuple(allow_console)
        self.boot_on_enter = boot
        tools = tuple(tools) + (FIO_TOOLS if fio else ())
        self.initrd = build_initramfs(kernel, modules=modules, mars_ko=mars_ko, marsadm=marsadm,
                                      tools=tools, boot_modules=boot_modules, files=files)
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
                               cmdline=cmdline))

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
                v.wait_ready()
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

    def close(self, check=True):
        try:
            self.kill()
            if check:
                self.check_console()
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
        self.close(check=et is None)
        return False


# --------------------------------------------------------------------------
# test harness (used by run-tests and by test files run directly)

class TestEnv:
    """What a test function gets: the kernel, lazily built artifacts, clusters.

    env.kernel     Kernel (short name env.kernel.short, release env.kernel.release)
    env.mars_ko    Path of mars.ko for this kernel (built on first use)
    env.marsadm    Path of marsadm (built on first use)
    env.cluster(n, mars=False, **kw)   Cluster; mars=True adds mars.ko and marsadm
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

    def cluster(self, n=1, mars=False, **kw):
        if mars:
            kw.setdefault("mars_ko", self.mars_ko)
            kw.setdefault("marsadm", self.marsadm)
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
                if short not in getattr(mod, "KERNELS", KERNELS):
                    continue
                for name, fn in tests:
                    if only and name not in only and name[5:] not in only:
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
    ap.add_argument("--kernel", default="all", help="6.1, 6.12 or all (default all); or a comma list")
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
        elif k in KERNELS:
            kernels.append(k)
        else:
            ap.error("unknown kernel %s" % k)
    files, only = [], set()
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
