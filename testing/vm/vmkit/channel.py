"""The guest command protocol: host side of the agent on the virtio-serial port.

Framing (see README.md and AGENT in initramfs.py):
  host -> guest  "@@TAG MODE TIMEOUT SCRIPTLEN DATALEN\n" script data
  guest -> host  "@@TAG DONE RC TIMEDOUT OUTLEN ERRLEN\n" stdout stderr
"""

import re
import secrets
import socket
import time

from .common import CommandFailed, GuestTimeout, VMError, _tail, wait_until


def _shquote(s):
    s = str(s)
    if re.fullmatch(r"[A-Za-z0-9_./=:,+@%-]+", s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


class AgentChannel:
    """Mixin of VM: commands through the agent socket (self.sock, self.buf,
    self._lock, self.name, self._check_alive() come from the VM)."""

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

    def start_job(self, name, cmd):
        """Start cmd in the background as job NAME (redirect its output in cmd).

        Its exit status is written to /tmp/NAME.rc.part and then renamed to
        /tmp/NAME.rc, so job_status never reads a status half written."""
        self.check("rm -f /tmp/{n}.rc /tmp/{n}.rc.part; ({c}; echo $? > /tmp/{n}.rc.part "
                   "&& mv /tmp/{n}.rc.part /tmp/{n}.rc) >/dev/null 2>&1 &".format(n=name, c=cmd))

    def job_status(self, name):
        """Exit status of the job NAME started by start_job, or None while it runs."""
        rc, out = self.run("cat /tmp/%s.rc" % name)
        return int(out) if rc == 0 else None

    def wait_job(self, name, timeout):
        """Wait up to timeout seconds for the job NAME to end; its exit status."""
        wait_until(lambda: self.job_status(name) is not None, timeout, "%s: job %s to end" % (self, name))
        return self.job_status(name)

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
