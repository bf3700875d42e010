"""Constants, exceptions and small helpers shared by every vmkit module."""

import contextlib
import fcntl
import hashlib
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent   # testing/vm
TOP = HERE.parent.parent            # repository root (testing/vm/../..)
KIT_VERSION = "1"                   # bump to invalidate cached initramfs images

KERNELS = ("6.1", "6.12")
# Debug kernels (scripts/build-debug-kernel): short name -> the kernel line
# whose tests they run (a test file's KERNELS names lines). Not in "all".
DEBUG_KERNELS = {"6.1-debug": "6.1"}
# A debug kernel (KASAN, lockdep, kmemleak, debugobjects) under TCG boots and
# runs several times slower: boot deadlines are multiplied by this.
DEBUG_BOOT_SCALE = 5
# Guest RAM where a test names none. A debug kernel's guests get more:
# KASAN's shadow, kmemleak's pool and the debug objects leave a 512M guest
# about 350M, too little beside an initramfs with fio (114M, unpacked into
# RAM) for the files the tests write to /tmp.
DEFAULT_MEM = "512M"
DEBUG_MEM = "1G"

# Lines in the guest console that fail a test (see README "console rule").
CONSOLE_BAD = ("BUG:", "WARNING:", "Oops", "general protection", "Kernel panic",
               "list_del corruption", "refcount_t:", "hung_task",
               # debug kernel reports that print no BUG:/WARNING: line (lockdep
               # on an uninitialised lock, debugobjects or kmemleak giving up)
               "INFO: trying to register non-static key", "ODEBUG:",
               "Kernel memory leak detector disabled")

# Virtio drivers, loaded in this order when they are modules (skipped when
# built in or absent).
VIRTIO_MODULES = ("virtio_ring", "virtio", "virtio_pci_modern_dev",
                  "virtio_pci_legacy_dev", "virtio_pci", "virtio_console", "failover",
                  "net_failover", "virtio_net", "virtio_blk")
AGENT_PORT = "vmkit.agent"          # name of the virtio-serial port of the agent

# Host binaries copied into every guest (with their shared libraries). fio is
# opt-in (fio=True): Debian's fio pulls in ~85 MiB of libraries, which would
# cost every boot a second or two and pin that much guest RAM in the rootfs.
DEFAULT_TOOLS = ("mke2fs", "mkfs.ext4", "e2fsck", "fsck.ext4", "tune2fs", "dumpe2fs", "debugfs",
                 "dmsetup")
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


def wait_until(pred, timeout, what, interval=0.05, max_interval=0.5, state=None):
    """Poll pred() until it returns a true value; raise VMError after timeout.

    state: optional callable whose text describes what was seen instead
    (added to the error).
    """
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            seen = ""
            if state is not None:
                try:
                    seen = "; seen:\n%s" % state()
                except Exception as e:  # the description must not hide the timeout
                    seen = "; (state unavailable: %s)" % e
            raise VMError("timed out after %.0fs waiting for %s%s" % (timeout, what, seen))
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
