"""One guest console kept open beside the dashboard: a reader thread, reconnects, the log.

The thread gets its stream through the source (libvirt's stream, or `xl console` run in a pty of its own),
feeds what arrives to the console's `Terminal` and its log, and tells the UI through `on_change` (called
from the thread; at most once until the UI calls `seen()`). When the stream ends the thread waits for the
guest to run again and reattaches, marking the break in the text and the log. Keys typed in the pane are
queued with `send()` and written by the thread: the UI never touches the stream.
"""

from __future__ import annotations

import enum
import errno
import fcntl
import os
import pty
import signal
import struct
import subprocess
import termios
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from xentui.actions.console_log import ConsoleLog
from xentui.model import Domain
from xentui.sources.base import ActionError, CommandConsole, ConsoleStream
from xentui.text import printable

if TYPE_CHECKING:  # pyte is loaded with the first console, not when the dashboard starts
    from xentui.console.screen import Terminal

RESTART_MARK = "— guest restarted, reconnected —"
FAST_POLL = 0.01
SLOW_POLL = 0.25  # an idle console is looked at 4 times a second
RETRY_S = 1.0


class State(str, enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"  # the guest is not running (or its console cannot be opened yet)
    HELD = "held"  # another client holds the console: retry() tries again
    CLOSED = "closed"


def held_by_another(exc: ActionError) -> bool:
    return "in use by another client" in str(exc)


def _take_terminal() -> None:
    # In the child, a session leader already: the pty becomes its controlling terminal, so that when our end
    # closes (xentui ends, however it ends) the kernel hangs the console program up.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyConsole:
    """A console program (`xl console NAME`) in a pseudo-terminal of its own, as a ConsoleStream."""

    def __init__(self, argv: tuple[str, ...], columns: int = 80, lines: int = 24) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        tty.setraw(slave)  # bytes pass as they are (xl console makes its terminal raw too); our terminal emulates
        try:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                close_fds=True,
                start_new_session=True,
                preexec_fn=_take_terminal,
            )
        except OSError as exc:
            os.close(master)
            raise ActionError(f"{argv[0]}: {exc.strerror or exc}") from None
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self.fd = master

    def recv(self, size: int) -> bytes | None:
        if self.fd < 0:
            return b""
        try:
            return os.read(self.fd, size)
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno == errno.EIO:  # the program ended and its side of the pty closed
                return b""
            raise

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + 1.0
        while view and self.fd >= 0 and time.monotonic() < deadline:
            try:
                view = view[os.write(self.fd, view) :]
            except BlockingIOError:
                time.sleep(0.005)
            except OSError:
                return

    def close(self) -> None:
        if self.fd < 0:
            return
        os.close(self.fd)
        self.fd = -1
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


Opener = Callable[[Domain], "CommandConsole | ConsoleStream"]


class ConsoleSession:
    """The console of one guest, `title` (host:name), until `close()`."""

    def __init__(
        self,
        domain: Domain,
        title: str,
        opener: Opener,
        lookup: Callable[[], Domain | None],
        on_change: Callable[[ConsoleSession], None],
        log: ConsoleLog | None = None,
        terminal: Terminal | None = None,
    ) -> None:
        self.domain = domain
        self.title = title
        if terminal is None:
            from xentui.console.screen import Terminal

            terminal = Terminal()
        self.terminal = terminal
        self.state = State.CONNECTING
        self.status = "connecting…"
        self._opener = opener
        self._lookup = lookup
        self._on_change = on_change
        self._log = log
        self._outbox: deque[bytes] = deque()
        self._wake = threading.Event()
        self._retry = threading.Event()
        self._stop = threading.Event()
        self._notified = threading.Event()
        self._stream: ConsoleStream | None = None
        self.terminal.set_reply(self.send)
        self._thread = threading.Thread(target=self._run, name=f"console-{title}", daemon=True)

    # -- from the UI ---------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def send(self, data: bytes) -> None:
        if data:
            self._outbox.append(data)
            self._wake.set()

    def retry(self) -> None:
        self._retry.set()
        self._wake.set()

    def seen(self) -> None:
        """The UI has shown the latest change: the next one notifies again."""
        self._notified.clear()

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the thread ----------------------------------------------------------------------------------------
    def _changed(self) -> None:
        if not self._notified.is_set():
            self._notified.set()
            self._on_change(self)

    def _set(self, state: State, status: str) -> None:
        self.state, self.status = state, status
        self._changed()

    def _note(self, text: str) -> None:
        if self._log is not None:
            self._log.note(text)

    def _run(self) -> None:
        name = printable(self.domain.name)
        self._note(f"console of {printable(self.title)} opened")
        broken = False
        try:
            while not self._stop.is_set():
                stream = self._open(name)
                if stream is None:
                    continue
                if broken:
                    self.terminal.mark(RESTART_MARK)
                    self._note(RESTART_MARK)
                self._set(State.CONNECTED, "connected")
                self._pump(stream)
                if self._stop.is_set():
                    break
                broken = True
                self._note("console closed by the guest side")
                self.terminal.mark("— console closed: waiting for the guest —")
                self._set(State.WAITING, f"{name}: console closed — waiting for the guest to run again")
                self._stop.wait(RETRY_S / 2)
        finally:
            self._note(f"console of {printable(self.title)} closed")
            if self._log is not None:
                self._log.close()
            self._set(State.CLOSED, "closed")

    def _open(self, name: str) -> ConsoleStream | None:
        """The stream, or None after waiting (guest not running, console held: retry on demand)."""
        fresh = self._lookup()
        if fresh is not None:
            self.domain = fresh
        try:
            handle = self._opener(self.domain)
            return PtyConsole(handle.argv, *self.terminal.size) if isinstance(handle, CommandConsole) else handle
        except ActionError as exc:
            if held_by_another(exc):
                self._set(State.HELD, f"{printable(str(exc))} — Enter or R retries")
                self._retry.clear()
                while not self._stop.is_set() and not self._retry.is_set():
                    self._wake.wait(1.0)
                    self._wake.clear()
                self._set(State.CONNECTING, "retrying…")
            else:
                self._set(State.WAITING, f"{printable(str(exc))} — waiting")
                self._stop.wait(RETRY_S)
            return None

    def _pump(self, stream: ConsoleStream) -> None:
        """Copy until the stream ends or the session closes; then read what is left and close it."""
        self._stream = stream
        poll = FAST_POLL
        try:
            while True:
                got = False
                while self._outbox:
                    stream.send(self._outbox.popleft())
                    poll = FAST_POLL  # an answer to what was typed is due
                while True:
                    chunk = stream.recv(65536)
                    if chunk is None:
                        break
                    if chunk == b"":
                        return
                    got = True
                    if self._log is not None:
                        self._log.write(chunk)
                    self.terminal.feed(chunk)
                if got:
                    self._changed()
                    poll = FAST_POLL
                if self._stop.is_set():
                    return
                self._wake.wait(poll)
                self._wake.clear()
                if not got:
                    poll = min(SLOW_POLL, poll * 2)
        finally:
            self._stream = None
            stream.close()
