"""Kernel modules: .ko reading, .modinfo parsing and dependency resolution."""

import lzma
import os
import struct
import subprocess
from pathlib import Path

from .common import VMError


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
