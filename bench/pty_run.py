"""Run a program in a real pseudo-terminal of a given size and measure it from outside.

CPU comes from /proc/<pid>/stat (utime+stime, plus reaped children for `watch`); terminal bytes are
counted at the pty master; "first frame" is the moment a marker first appears in the output.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, children: bool = False) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[11..14] are utime, stime, cutime, cstime (stat fields 14-17)
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _own_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty (so a hang-up sends SIGHUP)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class PtyProcess:
    argv: Sequence[str]
    cols: int = 160
    rows: int = 50
    env: dict[str, str] | None = None
    marker: bytes = b""

    def start(self) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        env = {**os.environ, **(self.env or {}), "TERM": "xterm-256color"}
        for var in ("COLUMNS", "LINES"):
            env.pop(var, None)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            list(self.argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            preexec_fn=_own_terminal,  # setsid + TIOCSCTTY, as sshd gives a login shell
        )
        os.close(slave)
        self.master = master
        self.bytes = 0
        self.first_frame: float | None = None
        self._tail = b""
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.bytes += len(data)
            if self.first_frame is None and self.marker:
                window = self._tail + data
                if self.marker in window:
                    self.first_frame = time.monotonic() - self.started
                self._tail = window[-len(self.marker) :]

    def wait_first_frame(self, timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while self.first_frame is None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]}: no first frame within {timeout} s")
            time.sleep(0.01)
        return self.first_frame

    def measure(self, seconds: float, children: bool = False) -> tuple[float, float]:
        """(% of one core, terminal bytes per second) over the next `seconds`."""
        c0, b0, t0 = cpu_seconds(self.proc.pid, children), self.bytes, time.monotonic()
        time.sleep(seconds)
        c1, b1, t1 = cpu_seconds(self.proc.pid, children), self.bytes, time.monotonic()
        return (c1 - c0) / (t1 - t0) * 100, (b1 - b0) / (t1 - t0)

    def hang_up(self) -> None:
        """Close the terminal as a dropped SSH session does: the kernel sends SIGHUP to the session."""
        self._stop.set()
        self._reader.join(5)
        os.close(self.master)
        self.master = -1

    def stop(self) -> None:
        self._stop.set()
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
