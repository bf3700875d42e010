"""Initramfs: newc cpio writer, ldd closure, guest init and agent scripts."""

import contextlib
import hashlib
import os
import re
import stat
import subprocess
import time
from pathlib import Path

from .common import DEFAULT_TOOLS, KIT_VERSION, VIRTIO_MODULES, VMError, _sha256_file, cache_dir, log
from .modules import _modname, modinfo, read_ko


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
    rm -f $D/out $D/err $D/in
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
    # The watchdog acts only while this command's marker exists: `kill -$wd`
    # misses a watchdog that has not yet called setsid (a command that ends at
    # once), and such a watchdog must not time out a later command.
    run=$D/run.${tag#@@}
    : > $run
    setsid sh -c "sleep $tmo; [ -e $run ] && touch $run.timedout && kill -9 -$pid" </dev/null >/dev/null 2>&1 &
    wd=$!
    wait $pid
    rc=$?
    rm -f $run
    kill -9 -$wd 2>/dev/null
    to=0; [ -e $run.timedout ] && to=1
    rm -f $run.timedout
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
                    boot_modules=(), files=None, vm_tools=()):
    """Build (or reuse from the cache) an initramfs for kernel; returns its path.

    modules:      extra kernel modules from the image to include (with deps),
                  loadable in the guest with `modprobe NAME`
    boot_modules: modules to insmod at boot (after virtio), included automatically
    mars_ko:      path of mars.ko -> /mars.ko and /lib/modules/<rel>/extra/mars.ko
    marsadm:      path of marsadm -> /usr/sbin/marsadm (+ its libraries)
    tools:        host binaries to copy with their libraries (missing ones are skipped)
    files:        {guest path: bytes or str} extra files
    vm_tools:     paths of static test programs (build_vm_tools) -> /usr/bin/NAME
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
    vm_tools = [Path(p) for p in vm_tools]

    # cache key: everything that goes in
    h = hashlib.sha256()
    for src in sorted(Path(__file__).resolve().parent.glob("*.py")):
        _sha256_file(src, h)            # any change of the kit rebuilds
    h.update(("%s\0%s\0%s\0%s\0%s\0%s\0" % (KIT_VERSION, kernel.release, include, boot,
                                                INIT_RC + AGENT + INITTAB, sorted((files or {}).keys()))).encode())
    for p in ([Path("/bin/busybox")] + binpaths + [Path(l) for l in libs] + ([mars_ko] if mars_ko else [])
              + vm_tools):
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
    for p in vm_tools:
        c.host_file(p, "usr/bin/" + p.name, 0o755)
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
