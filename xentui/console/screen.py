"""A guest console's screen: a VT emulator (pyte) with scrollback and search, and nothing else.

Pure: bytes in, styled lines out. Escape sequences are interpreted here and never passed on, so what a
guest prints (OSC 52, title changes, bells, C1 controls, bidi overrides) cannot reach the real terminal:
every cell is reduced to printable text plus a style key.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyte

SCROLLBACK = 10_000

# (fg, bg, bold, italics, underscore, strikethrough, reverse): what the widget turns into a style.
StyleKey = tuple[str, str, bool, bool, bool, bool, bool]
Run = tuple[str, StyleKey]
Line = tuple[Run, ...]

PLAIN: StyleKey = ("default", "default", False, False, False, False, False)
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_clean_cache: dict[str, str] = {}


def clean(data: str) -> str:
    """A cell's text without controls, format characters (bidi overrides, zero-width) or unassigned code points."""
    if data.isascii() and data.isprintable():
        return data
    hit = _clean_cache.get(data)
    if hit is None:
        hit = "".join(c for c in data if unicodedata.category(c) not in _UNSAFE) or " "
        if len(_clean_cache) < 4096:
            _clean_cache[data] = hit
    return hit


def _key(ch: Any) -> StyleKey:
    return (ch.fg, ch.bg, ch.bold, ch.italics, ch.underscore, ch.strikethrough, ch.reverse)


def runs_of(row: dict[int, Any], columns: int, default: Any) -> Line:
    """One pyte buffer row as runs of equal style, trailing blanks dropped."""
    out: list[Run] = []
    text: list[str] = []
    style = PLAIN
    used = (x for x, ch in row.items() if x < columns and (ch.data not in (" ", "") or ch.bg != "default"))
    last = max(used, default=-1)
    for x in range(last + 1):
        ch = row.get(x, default)
        key = _key(ch)
        if key != style and text:
            out.append(("".join(text), style))
            text = []
        style = key
        text.append(clean(ch.data) if ch.data else "")
    if text:
        out.append(("".join(text), style))
    return tuple(out)


def text_of(line: Line) -> str:
    return "".join(t for t, _ in line)


class _Screen(pyte.Screen):
    """pyte's screen that hands each line scrolled off the top to `on_scroll` and replies through `reply`."""

    def __init__(self, columns: int, lines: int, on_scroll: Callable[[dict[int, Any]], None]) -> None:
        super().__init__(columns, lines)
        self.on_scroll = on_scroll
        self.reply: Callable[[bytes], None] | None = None

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y == bottom and top == 0:
            self.on_scroll(self.buffer[0])
        super().index()

    def write_process_input(self, data: str) -> None:
        # Answers to the guest's own queries (cursor position, device attributes) go back to the guest only.
        if self.reply is not None:
            self.reply(data.encode())

    def set_title(self, param: str) -> None:
        pass  # a guest does not rename the user's terminal, nor our tab

    def set_icon_name(self, param: str) -> None:
        pass


@dataclass(frozen=True)
class Match:
    row: int  # index into all_lines (scrollback first, then the screen)
    start: int
    end: int


class Terminal:
    """Screen + scrollback. Thread-safe: the console's reader feeds it while the UI reads lines."""

    def __init__(self, columns: int = 80, lines: int = 24, scrollback: int = SCROLLBACK) -> None:
        self.lock = threading.RLock()
        self.history: deque[Line] = deque(maxlen=scrollback)
        self._screen = _Screen(columns, lines, self._scrolled)
        self._stream = pyte.ByteStream(self._screen)
        self._rows: dict[int, Line] = {}
        self.version = 0  # bumped on every change: the widget repaints when it moved

    # -- writing -------------------------------------------------------------------------------------------
    def _scrolled(self, row: dict[int, Any]) -> None:
        self.history.append(runs_of(row, self._screen.columns, self._screen.default_char))

    def set_reply(self, reply: Callable[[bytes], None] | None) -> None:
        self._screen.reply = reply

    def feed(self, data: bytes) -> None:
        for i in range(0, len(data), 4096):  # short lock holds: the UI reads between pieces
            with self.lock:
                self._stream.feed(data[i : i + 4096])
                self._invalidate()

    def mark(self, text: str) -> None:
        """A line of our own (a reconnect mark) on a fresh line, styled apart from the guest's text."""
        with self.lock:
            s = self._screen
            if s.cursor.x:
                s.carriage_return()
                s.index()
            s.select_graphic_rendition(1, 7)  # bold, reverse
            s.draw(clean(text))
            s.select_graphic_rendition(0)
            s.carriage_return()
            s.index()
            self._invalidate()

    def resize(self, columns: int, lines: int) -> None:
        with self.lock:
            s = self._screen
            columns, lines = max(columns, 10), max(lines, 2)
            if (columns, lines) == (s.columns, s.lines):
                return
            if lines < s.lines:
                # pyte would drop the top rows: rows above the cursor go to the scrollback, blank ones below go.
                push = max(0, s.cursor.y + 1 - lines)
                for y in range(push):
                    self._scrolled(s.buffer[y])
                for y in range(s.lines):
                    if y + push < s.lines:
                        s.buffer[y] = s.buffer[y + push]
                    else:
                        s.buffer.pop(y, None)  # pyte's buffer makes a blank row when one is read
                for y in range(lines, s.lines):
                    s.buffer.pop(y, None)
                s.cursor.y -= push
                s.lines = lines
            s.resize(lines, columns)
            s.set_margins()  # whole screen
            self._rows.clear()
            self.version += 1

    def _invalidate(self) -> None:
        for y in self._screen.dirty:
            self._rows.pop(y, None)
        self._screen.dirty.clear()
        self.version += 1

    # -- reading -------------------------------------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        return self._screen.columns, self._screen.lines

    @property
    def cursor(self) -> tuple[int, int, bool]:
        c = self._screen.cursor
        return c.x, c.y, not c.hidden

    def total(self) -> int:
        return len(self.history) + self._screen.lines

    def row(self, index: int) -> Line:
        """Line `index` of scrollback + screen (0 is the oldest line kept)."""
        with self.lock:
            n = len(self.history)
            if index < n:
                return self.history[index]
            y = index - n
            cached = self._rows.get(y)
            if cached is None:
                s = self._screen
                cached = runs_of(s.buffer[y], s.columns, s.default_char) if 0 <= y < s.lines else ()
                self._rows[y] = cached
            return cached

    def view(self, height: int, back: int) -> list[Line]:
        """`height` lines ending `back` lines above the bottom of the screen."""
        with self.lock:
            end = self.total() - back
            return [self.row(i) if i >= 0 else () for i in range(end - height, end)]

    def text(self) -> list[str]:
        with self.lock:
            return [text_of(self.row(i)) for i in range(self.total())]

    def search(self, needle: str, before: int | None = None) -> Match | None:
        """The last match of `needle` (case-insensitive) on a line above `before` (default: anywhere)."""
        if not needle:
            return None
        want = needle.casefold()
        with self.lock:
            start = self.total() if before is None else before
            for i in range(min(start, self.total()) - 1, -1, -1):
                at = text_of(self.row(i)).casefold().rfind(want)
                if at >= 0:
                    return Match(i, at, at + len(needle))
        return None
