"""A long-running program on the dom0 (`xentop -b`, `xenstore-watch`), read by a daemon thread.

It is started once and kept running: when it exits, or prints nothing for longer than its owner allows, it is
killed, the owner is told in one line ("xentop exited (status 1): restarting in 2 s") and it is started
again after a backoff of 1, 2, 4 … 30 s. A program that is not there at all is reported once and not retried.
"""

from __future__ import annotations

import os
import select
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
NOT_FOUND = 127  # the shell's status for a missing command (over ssh, the remote shell's)


class Child:
    """`argv()` is asked again at every start (an interval may have changed). Callbacks run on the child's
    thread: `on_start` before each start, `on_output(bytes)` for what it prints, `on_quiet()` once the output
    pauses for `quiet_s` after some output, `on_trouble(line)` when it fails. `silent_after()` is how long it
    may print nothing before it counts as hung (None: forever)."""

    def __init__(
        self,
        what: str,
        argv: Callable[[], Sequence[str]],
        on_output: Callable[[bytes], None],
        on_trouble: Callable[[str], None],
        on_start: Callable[[], None] = lambda: None,
        on_quiet: Callable[[], None] = lambda: None,
        quiet_s: float = 0.1,
        silent_after: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.what = what
        self._argv = argv
        self._on_output = on_output
        self._on_trouble = on_trouble
        self._on_start = on_start
        self._on_quiet = on_quiet
        self._quiet_s = quiet_s
        self._silent_after = silent_after
        self.missing = False  # the program is not there: reported once, not retried
        self.pid: int | None = None  # of the running program, for tests and diagnostics
        self._failures = 0
        self._closed = False
        self._restart = False
        self._wake_r, self._wake_w = os.pipe()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name=f"xentui-{self.what}", daemon=True)
                self._thread.start()

    def restart(self) -> None:
        """Stop the running program and start it again at once (no backoff, nothing reported)."""
        with self._lock:
            self._restart = True
        self._poke()

    def healthy(self) -> None:
        """Its output made sense: the next failure waits the shortest backoff again."""
        self._failures = 0

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        self._poke()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
            if thread.is_alive():
                return  # still stopping its program: it may yet read the wake pipe, which stays open
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def _poke(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass  # closed already

    def _drain_wake(self) -> None:
        try:
            os.read(self._wake_r, 4096)
        except OSError:
            pass

    def _loop(self) -> None:
        while not self._closed:
            with self._lock:
                self._restart = False
            self._on_start()
            reason = self._run_once()
            if self._closed:
                break
            if reason is None:
                continue  # a restart was asked for: at once
            if self.missing:
                self._on_trouble(f"{self.what}: command not found")
                break
            delay = BACKOFF_S[min(self._failures, len(BACKOFF_S) - 1)]
            self._failures += 1
            self._on_trouble(f"{self.what} {reason}: restarting in {delay:g} s")
            self._sleep(delay)

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not (self._closed or self._restart):
            left = end - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self._wake_r], [], [], left)
            if ready:
                self._drain_wake()

    def _run_once(self) -> str | None:
        """Run the program until it ends, hangs, or is to be restarted: why it ended, or None when asked to."""
        try:
            argv = list(self._argv())
        except Exception as exc:  # a runner that cannot say how now (closed, no connection…)
            return f"could not start ({exc})"
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, "LC_ALL": "C"},
                start_new_session=True,  # a terminal's ^C or hang-up reaches it through us, not behind our back
            )
        except FileNotFoundError:
            self.missing = True
            return "not found"
        except OSError as exc:
            return f"could not start ({exc.strerror or exc})"
        assert proc.stdout is not None and proc.stderr is not None
        self.pid = proc.pid
        out, err = proc.stdout.fileno(), proc.stderr.fileno()
        open_fds = [out, err]
        said = b""  # the end of its stderr, for the report
        printed = False
        pending = False  # output since the last quiet pause
        last = time.monotonic()
        try:
            while out in open_fds:
                if self._closed or self._restart:
                    return None
                silent = self._silent_after()
                # Asleep until output, a wake (restart, close), the end of a quiet pause or of the allowed silence.
                wait: float | None = self._quiet_s if pending else None
                if silent is not None:
                    left = max(0.01, last + silent - time.monotonic())
                    wait = left if wait is None else min(wait, left)
                ready, _, _ = select.select([*open_fds, self._wake_r], [], [], wait)
                if self._wake_r in ready:
                    self._drain_wake()
                now = time.monotonic()
                if not any(fd in ready for fd in open_fds):
                    if pending and now - last >= self._quiet_s:
                        pending = False
                        self._on_quiet()
                    elif silent is not None and now - last >= silent:
                        return f"printed nothing for {silent:g} s"
                    continue
                for fd in (out, err):
                    if fd not in ready:
                        continue
                    data = os.read(fd, 65536)
                    if not data:
                        open_fds.remove(fd)
                    elif fd == out:
                        printed, pending, last = True, True, now
                        self._on_output(data)
                    else:
                        said = (said + data)[-4096:]
            if pending:
                self._on_quiet()
            try:
                status = proc.wait(5)
            except subprocess.TimeoutExpired:
                return "closed its output"
        finally:
            self._stop(proc)
            self.pid = None
        if status == NOT_FOUND and not printed:
            self.missing = True
            return "not found"
        lines = [ln.strip() for ln in said.decode("utf-8", "replace").splitlines() if ln.strip()]
        how = f"killed by signal {-status}" if status < 0 else f"status {status}"
        return f"exited ({how}: {lines[-1]})" if lines else f"exited ({how})"

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(1)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
