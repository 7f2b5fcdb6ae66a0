"""Consoles inside the dashboard: the VT screen and its scrollback, the session's reconnects and log, the pane.

The sessions here read fake streams (a unit test's stand-in for libvirt's) and a real program in a real pty;
the lab tests (tests/integration/test_console_lab.py) do the same against real QEMU guests.
"""

from __future__ import annotations

import os
import re
import select
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from conftest import FIXTURES

from bench.pty_run import PtyProcess
from xentui.actions.console_log import ConsoleLog, log_path, safe_part
from xentui.actions.console_session import RESTART_MARK, ConsoleSession, PtyConsole, State
from xentui.console.keys import control_code, is_detach, key_bytes
from xentui.console.screen import SCROLLBACK, Terminal
from xentui.model import Domain, HostInfo, Mode, Snapshot
from xentui.model import State as DomState
from xentui.sources.base import ActionError, CommandConsole, ConsoleRoute, ConsoleStream
from xentui.ui.app import XenTUI
from xentui.ui.widgets.console_pane import ConsolePane, ConsoleView, line_strip
from xentui.ui.widgets.domain_table import DomainTable

HOSTILE = (
    b"\x1b]52;c;SGVsbG8gY2xpcGJvYXJk\x07"  # OSC 52: set the clipboard
    b"\x1b]0;pwned title\x07\x1b]2;pwned\x1b\\"  # window title
    b"\x07\x07\x07\x07"  # bell storm
    b"\x9b31m\x1bP+q544e\x1b\\"  # C1 CSI, DCS query
    b"\x1b[6n"  # cursor position query (answered to the guest only)
    b"safe \xe2\x80\xae-override\r\n"  # bidi override
)


def wait(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.01)


# -- the screen --------------------------------------------------------------------------------------------
def test_scrollback_keeps_ten_thousand_lines_and_search_reaches_the_first() -> None:
    t = Terminal(80, 24)
    t.feed(b"".join(b"boot line %05d\r\n" % i for i in range(SCROLLBACK + 100)))
    # 10100 lines on a 24-line screen: 10077 scrolled off, the oldest 77 of them went out of the scrollback.
    assert SCROLLBACK >= 10_000 and len(t.history) == SCROLLBACK
    first = t.search("boot line 00077")
    assert first is not None and first.row == 0 and t.text()[0] == "boot line 00077"
    assert t.search("boot line 00076") is None
    newest = t.search("BOOT LINE")
    assert newest is not None and t.text()[newest.row] == f"boot line {SCROLLBACK + 99:05d}"
    older = t.search("boot line", before=newest.row)
    assert older is not None and older.row == newest.row - 1


def test_hostile_output_is_inert_text() -> None:
    t = Terminal(40, 5)
    replies: list[bytes] = []
    t.set_reply(replies.append)
    t.feed(HOSTILE)
    text = "\n".join(t.text())
    assert "safe" in text  # pyte stops drawing a run at a character it cannot place (the override)
    for bad in ("\x1b", "\x07", "\x9b", "\u202e", "pwned", "SGVsbG8"):
        assert bad not in text
    # The cursor report goes back to the guest, not to our terminal.
    assert len(replies) == 1 and replies[0].startswith(b"\x1b[1;") and replies[0].endswith(b"R")
    for i in range(t.total()):
        for seg in line_strip(t.row(i), 40):
            assert seg.text.isprintable(), repr(seg.text)


def test_resize_keeps_the_lines_above_the_cursor() -> None:
    t = Terminal(20, 6)
    t.feed(b"one\r\ntwo\r\nthree\r\nfour\r\nfive\r\n")
    t.resize(40, 3)
    assert t.text() == ["one", "two", "three", "four", "five", ""] and t.size == (40, 3)
    assert len(t.history) == 3 and t.cursor == (0, 2, True)
    t.mark(RESTART_MARK)
    assert RESTART_MARK in t.text()


def test_keys_become_terminal_bytes() -> None:
    assert key_bytes("enter", "\r") == b"\r"
    assert key_bytes("up", None) == b"\x1b[A"
    assert key_bytes("ctrl+c", None) == b"\x03"
    assert key_bytes("a", "a") == b"a"
    assert key_bytes("ö", "ö") == "ö".encode()
    assert control_code("ctrl+right_square_bracket") == 0x1D
    assert is_detach("ctrl+right_square_bracket", None, 0x1D) and is_detach("x", "\x1d", 0x1D)
    assert not is_detach("ctrl+a", None, 0x1D)


# -- sessions ----------------------------------------------------------------------------------------------
class FakeStream:
    """A unit-test stand-in for libvirt's console stream: what the guest prints is queued by the test."""

    def __init__(self) -> None:
        self.incoming: deque[bytes] = deque()
        self.sent: list[bytes] = []
        self.ended = False
        self.closed = False

    def recv(self, size: int) -> bytes | None:
        if self.incoming:
            return self.incoming.popleft()
        return b"" if self.ended else None

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True


def domain(name: str = "web-01", domid: int | None = 3, host: str = "dom0-a") -> Domain:
    return Domain(name, domid, None, DomState.RUNNING, 262144, 262144, 1, 1, Mode.PV, host=host, has_console=True)


class Opener:
    def __init__(self) -> None:
        self.streams: list[FakeStream] = []
        self.busy = 0
        self.asked: list[int | None] = []

    def __call__(self, d: Domain) -> CommandConsole | ConsoleStream:
        self.asked.append(d.id)
        if self.busy:
            self.busy -= 1
            raise ActionError(f"the console of {d.name} is in use by another client (operation failed)")
        s = FakeStream()
        s.incoming.append(b"boot %d\r\nlogin: " % len(self.streams))
        self.streams.append(s)
        return s


def test_session_reconnects_with_a_mark_and_logs_both_boots(tmp_path: Path) -> None:
    opener = Opener()
    current = [domain(domid=3)]
    changes = threading.Event()
    log = ConsoleLog(log_path(tmp_path, "dom0-a", "web-01"))
    s = ConsoleSession(domain(), "dom0-a:web-01", opener, lambda: current[0], lambda _: changes.set(), log=log)
    s.start()
    try:
        wait(lambda: s.state is State.CONNECTED and "login:" in "".join(s.terminal.text()), "the first boot")
        s.send(b"root\r")
        wait(lambda: opener.streams[0].sent == [b"root\r"], "the typed line sent")
        current[0] = domain(domid=7)  # destroyed and started again: a new ID, as under xl
        opener.streams[0].ended = True
        wait(lambda: len(opener.streams) == 2 and s.state is State.CONNECTED, "the reconnect")
        wait(lambda: "boot 1" in s.terminal.text(), "the second boot")
        text = s.terminal.text()
        assert text.index("boot 0") < text.index(RESTART_MARK) < text.index("boot 1")
        assert opener.asked == [3, 7] and changes.is_set()
    finally:
        s.close()
    assert not s.alive and opener.streams[1].closed
    logged = (tmp_path / "dom0-a" / "web-01.log").read_bytes()
    assert logged.index(b"boot 0") < logged.index(RESTART_MARK.encode()) < logged.index(b"boot 1")
    assert logged.count(b"[xentui 20") >= 4  # opened, closed by the guest, reconnected, closed


def test_console_held_by_another_client_says_so_and_retries_on_demand() -> None:
    opener = Opener()
    opener.busy = 1
    s = ConsoleSession(domain(), "dom0-a:web-01", opener, lambda: None, lambda _: None)
    s.start()
    try:
        wait(lambda: s.state is State.HELD, "the console held by another client")
        assert "in use by another client" in s.status and "retries" in s.status
        time.sleep(0.3)
        assert opener.asked == [3]  # no retry until asked
        s.retry()
        wait(lambda: s.state is State.CONNECTED, "the retry")
    finally:
        s.close()


def test_nothing_printed_is_lost_when_the_pane_closes(tmp_path: Path) -> None:
    opener = Opener()
    log = ConsoleLog(log_path(tmp_path, "h", "g"))
    s = ConsoleSession(domain(), "h:g", opener, lambda: None, lambda _: None, log=log)
    s.start()
    wait(lambda: s.state is State.CONNECTED, "connected")
    opener.streams[0].incoming.extend([b"last words %d\r\n" % i for i in range(50)])
    s.close()
    assert b"last words 49" in (tmp_path / "h" / "g.log").read_bytes()


def test_log_paths_stay_inside_the_directory(tmp_path: Path) -> None:
    assert log_path(tmp_path, "../../etc", "../passwd").resolve().is_relative_to(tmp_path)
    assert safe_part("") == "_" and safe_part(".hidden") == "hidden"


def test_pty_console_runs_a_program_and_sees_it_end() -> None:
    c = PtyConsole(("sh", "-c", "printf 'XENTUI-PTY\\n'; read line; echo got:$line"))
    got = b""
    try:
        deadline = time.monotonic() + 5
        while b"XENTUI-PTY" not in got and time.monotonic() < deadline:
            got += c.recv(4096) or b""
            time.sleep(0.01)
        c.send(b"abc\n")  # raw: the line discipline does not turn \r into \n
        end = None
        while end != b"" and time.monotonic() < deadline:
            end = c.recv(4096)
            got += end or b""
            time.sleep(0.01)
        assert b"got:abc" in got and end == b""
    finally:
        c.close()


# -- the pane in the app -----------------------------------------------------------------------------------
class ConsoleHost:
    """A host of two running guests whose consoles are fake streams the test controls."""

    def __init__(self) -> None:
        self.label = "test+fake:///consoles"
        self.host_name = "lab"
        self.read_only = True
        self.console_route = ConsoleRoute.STREAM
        self.opener = Opener()
        self.domains = (domain("alpha", 1, "lab"), domain("beta", 2, "lab"))

    def snapshot(self) -> Snapshot:
        return Snapshot(HostInfo("lab", self.label, "Fake 1.0", True), self.domains, time.monotonic())

    def set_interval(self, seconds: float) -> None:
        pass

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        pass

    def console(self, d: Domain) -> CommandConsole | ConsoleStream:
        return self.opener(d)

    def lifecycle(self, d: Domain, action: object) -> None:
        raise ActionError("no")

    def close(self) -> None:
        pass


async def test_two_console_tabs_keys_to_the_guest_and_back(tmp_path: Path) -> None:
    host = ConsoleHost()
    app = XenTUI([host], interval=0.2, console_log=str(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        table = app.query_one(DomainTable)
        for _ in range(100):
            if table.row_count >= 2:
                break
            await pilot.pause(0.05)
        assert table.select_name("alpha")
        await pilot.press("c")
        view = app.query_one(ConsoleView)
        pane = app.query_one(ConsolePane)
        assert pane.display and view.has_focus
        for _ in range(100):
            if "login:" in "".join(view.terminal.text() if view.terminal else []):
                break
            await pilot.pause(0.05)
        status = str(app.query_one("#console-status").render())
        assert "keys → lab:alpha" in status
        await pilot.press("q", "l", "s", "slash", "enter", "ctrl+c")  # q, not quit; "/" not the filter: the guest's
        await pilot.pause(0.2)
        assert app.is_running and not app.query_one("#filter").has_class("shown")
        assert b"".join(host.opener.streams[0].sent) == b"qls/\r\x03"
        await pilot.press("ctrl+right_square_bracket")
        assert table.has_focus and "keys → table" in str(app.query_one("#console-status").render())
        assert table.select_name("beta")
        await pilot.press("c")
        await pilot.pause(0.3)
        tabs = [str(t.label) for t in pane.tabs.query("Tab")]
        assert tabs == ["lab:alpha", "lab:beta"]
        await pilot.press("ctrl+right_square_bracket", "left_square_bracket")
        assert app.active_console() is not None and app.active_console().title == "lab:alpha"  # type: ignore[union-attr]
        await pilot.press("x")
        await pilot.pause(0.3)
        assert [str(t.label) for t in pane.tabs.query("Tab")] == ["lab:beta"]
    assert (tmp_path / "lab" / "alpha.log").read_bytes().count(b"login:") == 1
    assert os.path.exists(tmp_path / "lab" / "beta.log")


async def test_search_scrolls_back_to_the_match() -> None:
    host = ConsoleHost()
    app = XenTUI([host], interval=0.2)
    async with app.run_test(size=(100, 40)) as pilot:
        table = app.query_one(DomainTable)
        for _ in range(100):
            if table.row_count >= 2:
                break
            await pilot.pause(0.05)
        table.select_name("alpha")
        await pilot.press("c")
        await pilot.pause(0.2)
        host.opener.streams[0].incoming.append(b"".join(b"line %d\r\n" % i for i in range(3000)))
        view = app.query_one(ConsoleView)
        for _ in range(100):
            if view.terminal is not None and len(view.terminal.history) > 2900:
                break
            await pilot.pause(0.05)
        await pilot.press("pageup")
        assert view.back > 0
        await pilot.press("ctrl+right_square_bracket", "f", *"boot 0", "enter")
        assert view.match is not None and view.terminal is not None
        assert view.terminal.text()[view.match.row] == "boot 0"
        assert view.back > 2900
        await pilot.press("escape")
        assert table.has_focus


# -- the real terminal -------------------------------------------------------------------------------------
class CapturingPty(PtyProcess):
    """xentui in a real pty, keeping every byte it writes to the terminal."""

    def _read(self) -> None:
        self.captured = bytearray()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.captured += data
                if self.first_frame is None and self.marker in self.captured:
                    self.first_frame = time.monotonic() - self.started


def test_guest_escapes_never_reach_the_real_terminal(tmp_path: Path) -> None:
    """`xl console` of a guest that prints OSC 52, title changes, a bell storm, C1 controls and bidi
    overrides, in the pane of the real xentui in a real pty: none of it is written to the terminal."""
    (tmp_path / "hostile.bin").write_bytes(HOSTILE + b"GUEST-PRINTED-THIS\r\n")
    xl = tmp_path / "xl"
    xl.write_text(
        "#!/bin/sh\n"
        'case "$1 $2" in\n'
        f'  "list ") cat {FIXTURES}/xl-list.txt ;;\n'
        f'  "list -l") cat {FIXTURES}/xl-list-long.json ;;\n'
        '  "info "*) echo "xen_version : 4.17.7" ;;\n'
        f'  "console "*) cat {tmp_path}/hostile.bin; exec sleep 60 ;;\n'
        "  *) exit 0 ;;\n"
        "esac\n"
    )
    xl.chmod(0o755)
    logs = tmp_path / "logs"
    app = CapturingPty(
        [str(Path(sys.executable).with_name("xentui")), "--xl", "--console-log", str(logs)],
        marker=b"domains:",
        env={"PATH": f"{tmp_path}:{os.environ['PATH']}"},
    )
    app.start()
    try:
        app.wait_first_frame()
        time.sleep(1)
        for ch in b"/pvguest\r":  # a person's pace: the filter box takes the focus after the "/"
            os.write(app.master, bytes([ch]))
            time.sleep(0.05)
        time.sleep(0.5)
        os.write(app.master, b"c")
        wait(lambda: b"GUEST-PRINTED-THIS" in app.captured, "the guest's text on the terminal", 20)
        time.sleep(0.5)
        out = bytes(app.captured)
    finally:
        app.stop()
    out = re.sub(rb"\x1b\]22;[a-z-]*\x07", b"", out)  # Textual's own pointer-shape OSC, ended by BEL
    bad = (b"\x1b]52", b"\x1b]0;", b"\x1b]2;", b"pwned", b"SGVsbG8", b"\x07", b"\x9b", b"\x1bP", "\u202e".encode())
    assert [(b, out[max(0, out.find(b) - 40) : out.find(b) + 20]) for b in bad if b in out] == []
    log = next(logs.glob("*/pvguest.log")).read_bytes()
    assert HOSTILE in log  # the log keeps what the guest printed, byte for byte


async def test_another_detach_key_and_ctrl_bracket_goes_to_the_guest() -> None:
    host = ConsoleHost()
    app = XenTUI([host], interval=0.2, detach_key="ctrl-a")
    async with app.run_test(size=(100, 40)) as pilot:
        table = app.query_one(DomainTable)
        for _ in range(100):
            if table.row_count >= 2:
                break
            await pilot.pause(0.05)
        table.select_name("alpha")
        await pilot.press("c")
        await pilot.pause(0.3)
        assert "(Ctrl-A gives them back)" in str(app.query_one("#console-status").render())
        await pilot.press("ctrl+right_square_bracket", "ctrl+q", "ctrl+p")  # the guest's, like any other key
        await pilot.pause(0.2)
        assert app.query_one(ConsoleView).has_focus and app.is_running
        assert b"".join(host.opener.streams[0].sent) == b"\x1d\x11\x10"
        await pilot.press("ctrl+a")
        assert table.has_focus
