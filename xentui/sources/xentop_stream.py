"""xentop's figures as a stream: one long-running `xentop -b -f -d N` on the dom0, read frame by frame.

Why xentop and not the alternatives: the measured cost to beat is xentop's own (2.0–2.2 % of a dom0 core at
1 s with 3 guests in the project's Xen 4.17 lab), while forking `xl list` every refresh cost 11–16x that.
One xentop child is that cost plus reading its frames here: measured on this project's development machine,
assembling and parsing a frame takes 0.1 ms of CPU at 8 domains, 1 ms at 100, 11 ms at 1000, and the
source as a whole (frames, merge with the configurations, snapshot) used 0.1 % of a core at a 1 s interval
with the lab's 4 domains replayed. xentop is on every dom0 (over ssh nothing needs installing) and gives what
`xl list` lacks: CPU% over its own window, network and block counters. libxenstat through ctypes would spare
the pipe but binds us to a C ABI that changes between Xen releases, and cannot cross ssh.

Batch output has no summary lines and no domain IDs: a header line, then one row a domain, flushed once per
iteration. A frame is complete when the next header arrives or when the pipe goes quiet after its rows.
`-f` keeps names whole (without it xentop cuts them to 10 characters). `-d` takes whole seconds: intervals
below 1 s read 1 s frames. The first frame of each xentop has no CPU% (it has no earlier sample; it prints
0.0), nor has a domain's first row: those are None here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from xentui.parsers.errors import ParseError
from xentui.parsers.tables import TopRow, parse_xentop
from xentui.sources.child import Child
from xentui.sources.runner import LocalRunner, Runner

HEADER = ("NAME", "STATE")


@dataclass(frozen=True)
class XentopFrame:
    rows: tuple[TopRow, ...]
    taken_at: float  # time.monotonic() when the frame was complete
    seq: int  # 1, 2, … across restarts
    fresh: bool  # the first frame of its xentop: no CPU%, and CPU time not comparable with the frames before


class XentopStream:
    """`frame` is the newest complete frame; `problem` the one-line trouble of the moment ("" when fine).
    `on_change` (any thread) is called on each new frame and each new problem."""

    def __init__(self, runner: Runner | None = None, quiet_s: float = 0.1, stall_grace_s: float = 5.0) -> None:
        self.runner: Runner = runner or LocalRunner()
        self.on_change: Callable[[], None] | None = None
        self.stall_grace_s = stall_grace_s
        self._delay = 1
        self._cond = threading.Condition()
        self._frame: XentopFrame | None = None
        self._problem = ""
        self._ended = False  # the child failed since the last frame (wakes a first snapshot waiting)
        # Assembly of the frame under way (the child's thread only).
        self._header = ""
        self._rows: list[str] = []
        self._dirty = False  # rows since the frame was last published
        self._tail = b""
        self._before: dict[str, TopRow] | None = None  # the previous frame of this xentop, by name
        self._shown: dict[str, TopRow] | None = None  # the frame under way as last emitted (split frames)
        self._child = Child(
            "xentop",
            self._argv,
            self._output,
            self._trouble,
            on_start=self._reset,
            on_quiet=self._quiet,
            quiet_s=quiet_s,
            silent_after=lambda: 3 * self._delay + self.stall_grace_s,
        )

    @property
    def delay(self) -> int:
        return self._delay

    @property
    def frame(self) -> XentopFrame | None:
        with self._cond:
            return self._frame

    @property
    def problem(self) -> str:
        with self._cond:
            return self._problem

    @property
    def missing(self) -> bool:
        return self._child.missing

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def start(self) -> None:
        self._child.start()

    def set_interval(self, seconds: float) -> None:
        delay = max(1, round(seconds))
        if delay != self._delay:
            self._delay = delay
            self._child.restart()

    def wait_frame(self, timeout: float) -> XentopFrame | None:
        """The newest frame, waiting up to `timeout` for a first one; None when xentop failed or is missing."""
        end = time.monotonic() + timeout
        with self._cond:
            self._ended = False
            while self._frame is None and not self._ended and not self._child.missing:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return self._frame

    def close(self) -> None:
        self._child.close()

    def _argv(self) -> list[str]:
        return self.runner.argv(["xentop", "-b", "-f", "-d", str(self._delay)])

    def _reset(self) -> None:
        self._header, self._rows, self._tail, self._dirty = "", [], b"", False
        self._before = self._shown = None

    def _output(self, data: bytes) -> None:
        lines = (self._tail + data).split(b"\n")
        self._tail = lines.pop()
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if tuple(line.split()[:2]) == HEADER:
                if self._dirty:
                    self._finish()
                if self._shown is not None:
                    self._before = self._shown
                self._header, self._rows, self._shown = line, [], None
            elif line.strip() and self._header:
                self._rows.append(line)
                self._dirty = True

    def _quiet(self) -> None:
        if self._dirty and not self._tail:
            self._finish()

    def _finish(self) -> None:
        """Parse the frame under way and publish it. Rows that arrive after a pause but before the next header
        (a frame split in transit) extend it, and it is published again whole."""
        self._dirty = False
        text = "\n".join([self._header, *self._rows]) + "\n"
        try:
            rows = parse_xentop(text, "xentop -b")
            if len(rows) < len(self._rows):
                rows = self._one_by_one()
        except ParseError as exc:
            self._set_problem(f"unexpected output from xentop: {exc}")
            return
        before = self._before
        fixed = tuple(row if before is not None and row.name in before else replace(row, cpu_pct=None) for row in rows)
        self._shown = {r.name: r for r in fixed}
        with self._cond:
            seq = self._frame.seq + 1 if self._frame is not None else 1
            self._frame = XentopFrame(fixed, time.monotonic(), seq, before is None)
            self._problem = ""
            self._cond.notify_all()
        self._child.healthy()
        self._notify()

    def _one_by_one(self) -> tuple[TopRow, ...]:
        """A name twice in one frame (a rebooting guest: the old domain dying, the new one there): the parser
        would take the second for the next frame. Each row alone; of a name's rows, one not dying wins."""
        by_name: dict[str, TopRow] = {}
        for line in self._rows:
            (row,) = parse_xentop(f"{self._header}\n{line}\n", "xentop -b")
            if row.name not in by_name or "d" not in row.flags:
                by_name[row.name] = row
        return tuple(by_name.values())

    def _trouble(self, line: str) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify_all()
        self._set_problem(line)

    def _set_problem(self, line: str) -> None:
        with self._cond:
            self._problem = line
        self._notify()

    def _notify(self) -> None:
        callback = self.on_change
        if callback is not None:
            callback()
