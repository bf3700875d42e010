"""qemu processes: VM lifecycle, QMP, disks, console, networking."""

import atexit
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from .channel import AgentChannel
from .common import (AGENT_PORT, AGENT_READY, CONSOLE_BAD, NET_PREFIX, BootError, ConsoleError,
                     VMError, _tail, log)


# How often boot() starts a guest again that crashed before /init (see boot()).
EARLY_CRASH_RETRIES = 2
# The guest kernel's line when it hands over to the initramfs /init.
INIT_STARTED = "Run /init as init process"

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


def connect_unix(path, timeout, alive):
    """Connect to the unix socket a starting qemu serves at path.

    Until qemu has created the socket (no file yet) and while it has bound
    but not yet listened (a connect is refused), the connect is retried
    until timeout while alive() holds (it raises once qemu has exited).
    """
    deadline = time.monotonic() + timeout
    while True:
        alive()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            return sock
        except (ConnectionRefusedError, FileNotFoundError) as e:
            sock.close()
            if time.monotonic() >= deadline:
                raise VMError("%s: still refused after %.0fs: %s" % (path, timeout, e))
        time.sleep(0.02)


class QMP:
    """Minimal QMP client over a connected unix socket."""

    def __init__(self, sock, timeout=30):
        self.sock = sock
        self.sock.settimeout(timeout)
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


class VM(AgentChannel):
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
        self.early_crashes = 0

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
        if self.kernel.debug:
            # no5lvl: 6.1's identify_cpu() clears the boot CPU's capabilities,
            # LA57 (-cpu max has it) among them, for a moment with interrupts
            # on; KASAN's shadow bounds follow LA57, so an interrupt then
            # reports a wild access in the 5-level direct map (seen in 4 of
            # 13 debug guests, all booting beside others)
            cmdline += " no5lvl"
        if self.extra_cmdline:
            cmdline += " " + self.extra_cmdline
        # maxcpus of at least 2: QEMU before 8.1 (Debian 12 has 7.2) leaves
        # out every guest memory barrier when the machine can have only one
        # CPU (TCG without CF_PARALLEL; fixed by QEMU commit c914d46d0a,
        # "tcg: Do not elide memory barriers for !CF_PARALLEL in system
        # mode"). virtio's event index then races between the vCPU and the
        # I/O thread, and a completion is now and then never signalled: a
        # guest request waits forever though QEMU has completed it (seen as a
        # replay write pending for minutes, `vdb inflight 0 3` against QEMU's
        # `inuse 0`). With a possible second CPU the barriers are kept.
        smp = "%d,maxcpus=%d" % (self.smp, max(self.smp, 2))
        argv = ["qemu-system-x86_64", "-name", self.name,
                "-accel", "tcg", "-cpu", "max", "-m", str(self.mem), "-smp", smp,
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
            self.qmp = QMP(connect_unix(self.qmp_path, 60, self._check_alive))
            self.sock = connect_unix(self.agent_path, 60, self._check_alive)
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
        self.wait_booted()
        return self

    def wait_booted(self):
        """wait_ready() for a started VM, starting it again after an early crash.

        A guest kernel that crashes before it runs /init has executed nothing
        of this project: Debian 12's QEMU 7.2 TCG rarely mis-executes the
        kernel's boot-time code patching (a double fault between the x86/fpu
        lines and "Freeing SMP alternatives memory"; fixed in QEMU 8). Such a
        boot is started again, at most EARLY_CRASH_RETRIES times; its console
        moves to console-early-crash.log and a note goes to stdout. A crash
        after /init started fails as always."""
        for attempt in range(EARLY_CRASH_RETRIES + 1):
            try:
                self.wait_ready()
                return self
            except VMError:
                crash = self._early_crash_lines()
                if not crash or attempt == EARLY_CRASH_RETRIES:
                    raise
                self._set_aside_early_crash(crash)
                self.start()
        raise AssertionError("unreachable")

    def _early_crash_lines(self):
        """Kernel problem lines of this boot if it never reached /init, else []."""
        text = self.console_text(this_boot=True)
        if INIT_STARTED in text:
            return []
        return [l.rstrip() for l in text.splitlines() if any(p in l for p in CONSOLE_BAD)]

    def _set_aside_early_crash(self, crash):
        self.kill()
        self.early_crashes += 1
        with open(self.console_path, "r+b") as f:
            f.seek(self._boot_offset)
            segment = f.read()
            f.seek(self._boot_offset)
            f.truncate()
            f.write(("===== vmkit: %s boot %d crashed before /init (emulator fault), "
                     "console in console-early-crash.log; booting again =====\n"
                     % (self.name, self.boots)).encode())
        with open(self.workdir / "console-early-crash.log", "ab") as f:
            f.write(("===== vmkit: %s boot %d =====\n" % (self.name, self.boots)).encode() + segment)
        print("    note: %s crashed in early boot before /init (QEMU TCG fault, nothing of mars ran); "
              "booting again: %s" % (self.name, " | ".join(crash[:3])), flush=True)

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

    def virtio_blk_queues(self):
        """qemu's side of each virtio-blk disk's request queue, one line per
        disk in drive order ("disk0: ..."): requests the guest made available
        (shadow-avail-idx), qemu took (last-avail-idx) and holds (inuse), and
        completed (used-idx) and signalled to the guest (signalled-used). A
        request the guest waits for that qemu completed and did not signal is
        a lost notification; one qemu holds is a host I/O still running."""
        lines = []
        for dev in self.qmp.cmd("x-query-virtio"):
            if dev["name"] != "virtio-blk":
                continue
            parent = dev["path"].rsplit("/", 1)[0]
            try:
                drive = self.qmp.cmd("qom-get", path=parent, property="drive")
                st = self.qmp.cmd("x-query-virtio-queue-status", path=dev["path"], queue=0)
            except VMError as e:
                lines.append("%s: %s" % (parent, e))
                continue
            lines.append("%s: avail %d, taken %d, inuse %d, used %d, signalled %d%s"
                         % (drive, st["shadow-avail-idx"], st["last-avail-idx"], st["inuse"],
                            st["used-idx"], st["signalled-used"],
                            "" if st["signalled-used-valid"] else " (not valid)"))
        return sorted(lines)

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
