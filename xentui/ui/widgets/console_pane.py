"""Guest consoles inside the dashboard: tabs over one terminal view, a status line and a search box.

The view renders a `Terminal` (xentui/console/screen.py) and turns keys into messages; it never reads or
writes a console itself. Every cell is printable text with a style we chose, so nothing a guest prints
reaches the real terminal as an escape.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

from rich.color import Color, ColorParseError
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static, Tab, Tabs

from xentui.console.keys import control_key_name, is_detach, key_bytes

if TYPE_CHECKING:  # pyte (the emulator behind Terminal) is loaded with the first console, not at start
    from xentui.console.screen import Line, Match, StyleKey, Terminal

FRAME_S = 0.05
HIGHLIGHT = Style(bgcolor="yellow", color="black")
CURSOR = Style(reverse=True)
Span = tuple[int, int, Style]
_HEX = frozenset("0123456789abcdefABCDEF")


def _color(name: str) -> Color | None:
    if name == "default":
        return None
    if len(name) == 6 and set(name) <= _HEX:
        name = "#" + name
    else:
        name = name.replace("brown", "yellow")
        if name.startswith("bright") and not name.startswith("bright_"):
            name = "bright_" + name[6:]
    try:
        return Color.parse(name)
    except ColorParseError:
        return None


@lru_cache(maxsize=1024)
def style_of(key: StyleKey) -> Style:
    fg, bg, bold, italic, underline, strike, reverse = key
    return Style(
        color=_color(fg), bgcolor=_color(bg), bold=bold, italic=italic, underline=underline, strike=strike,
        reverse=reverse,
    )  # fmt: skip


def line_strip(line: Line, width: int, spans: tuple[Span, ...] = ()) -> Strip:
    """One console line as a strip of `width` cells; `spans` (character ranges) get an extra style."""
    segments = [Segment(chunk, style_of(key)) for chunk, key in line]
    if spans:
        length = sum(len(chunk) for chunk, _ in line)
        end = max(e for _, e, _ in spans)
        if length < end:
            segments.append(Segment(" " * (end - length)))
        cuts = sorted({p for s, e, _ in spans for p in (s, e)})
        pieces: list[Segment] = []
        pos = 0
        for seg in segments:
            text = seg.text
            bounds = [0, *(c - pos for c in cuts if pos < c < pos + len(text)), len(text)]
            for i in range(len(bounds) - 1):
                a, b = bounds[i], bounds[i + 1]
                style = seg.style
                for s, e, extra in spans:
                    if s <= pos + a < e:
                        style = (style or Style()) + extra
                pieces.append(Segment(text[a:b], style))
            pos += len(text)
        segments = pieces
    return Strip(segments).crop_extend(0, width, None)


class ConsoleView(Widget, can_focus=True):
    """The active console's terminal. While focused it takes every key except the detach key and scrolling."""

    class Typed(Message):
        def __init__(self, data: bytes) -> None:
            super().__init__()
            self.data = data

    class Detach(Message):
        pass

    class KeysMoved(Message):
        """The view got or lost the keys (focus)."""

    def __init__(self, detach: int, detach_name: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.detach = detach
        self.terminal: Terminal | None = None
        self.back = 0  # lines scrolled back from the live screen
        self.match: Match | None = None
        self.match_text = ""
        self._seen = -1
        self._last_paint = 0.0
        self._paint_due = False
        self._painted: Callable[[], None] | None = None
        # Shown in the footer while the guest has the keys (the keys themselves are handled in _on_key).
        self._bindings.bind(control_key_name(detach), "detach", "Keys back to the table", key_display=detach_name)
        self._bindings.bind("pageup", "page_up", "Scroll back", key_display="PgUp/PgDn")

    def action_detach(self) -> None:
        self.post_message(self.Detach())

    def action_page_up(self) -> None:
        self.scroll_lines(max(1, self.size.height - 1))

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self.post_message(self.KeysMoved())
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self.post_message(self.KeysMoved())
        self.refresh()

    def show(self, terminal: Terminal | None) -> None:
        if terminal is not self.terminal:
            self.terminal, self.back, self.match = terminal, 0, None
            self._fit()
        self.refresh()

    def changed(self, painted: Callable[[], None]) -> None:
        """The terminal got output: repaint at most FRAME_S apart, then call `painted` (the reader may tell
        us again). A guest printing flat out costs some 20 repaints a second, not one per chunk."""
        self._painted = painted
        wait = self._last_paint + FRAME_S - time.monotonic()
        if wait <= 0:
            self._paint()
        elif not self._paint_due:
            self._paint_due = True
            self.set_timer(wait, self._paint)

    def _paint(self) -> None:
        self._paint_due = False
        self._last_paint = time.monotonic()
        t = self.terminal
        if t is not None and t.version != self._seen:
            self._seen = t.version
            self.refresh()
        painted, self._painted = self._painted, None
        if painted is not None:
            painted()

    def _fit(self) -> None:
        if self.terminal is not None and self.size.width and self.size.height:
            self.terminal.resize(self.size.width, self.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    # -- scrolling -----------------------------------------------------------------------------------------
    def scroll_lines(self, delta: int) -> None:
        """Positive: back into the scrollback; 0 or less at the end: live again."""
        if self.terminal is None:
            return
        self.back = max(0, min(len(self.terminal.history), self.back + delta))
        self.refresh()

    def reveal(self, match: Match) -> None:
        assert self.terminal is not None
        from_bottom = self.terminal.total() - 1 - match.row
        height = max(1, self.size.height)
        self.back = max(0, min(len(self.terminal.history), from_bottom - height // 2))
        self.match = match
        self.refresh()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_lines(3)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_lines(-3)

    # -- keys ----------------------------------------------------------------------------------------------
    async def _on_key(self, event: events.Key) -> None:
        # Everything stops here: the app's bindings (q, c, Ctrl-C…) are the guest's keys while we have focus.
        event.stop()
        event.prevent_default()
        page = max(1, self.size.height - 1)
        if is_detach(event.key, event.character, self.detach):
            self.post_message(self.Detach())
        elif event.key in ("pageup", "shift+pageup"):
            self.scroll_lines(page)
        elif event.key in ("pagedown", "shift+pagedown"):
            self.scroll_lines(-page)
        else:
            data = key_bytes(event.key, event.character)
            if data:
                if self.back or self.match:
                    self.back, self.match = 0, None
                    self.refresh()
                self.post_message(self.Typed(data))

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if event.text:
            self.post_message(self.Typed(event.text.replace("\n", "\r").encode()))

    # -- painting ------------------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        t = self.terminal
        width, height = self.size.width, self.size.height
        if t is None:
            return Strip.blank(width)
        with t.lock:
            index = t.total() - self.back - height + y
            if index < 0:
                return Strip.blank(width)
            line = t.row(index)
            spans: list[Span] = []
            if self.match is not None and self.match.row == index:
                spans.append((self.match.start, self.match.end, HIGHLIGHT))
            x, cy, visible = t.cursor
            if self.back == 0 and visible and self.has_focus and index == len(t.history) + cy:
                spans.append((x, x + 1, CURSOR))
        return line_strip(line, width, tuple(spans))


class FindBox(Input):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close search", show=False)]

    class Closed(Message):
        pass

    def action_close(self) -> None:
        self.post_message(self.Closed())


class ConsolePane(Vertical):
    """Tabs (one per console, host:name), a status line saying who has the keys, the view, a search box."""

    def __init__(self, detach: int, detach_name: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.detach = detach
        self.detach_name = detach_name
        self._shown: tuple[str, str, bool] | None = None

    def compose(self) -> ComposeResult:
        yield Tabs(id="console-tabs")
        yield Static(id="console-status")
        yield ConsoleView(self.detach, self.detach_name, id="console-view")
        yield FindBox(placeholder="search the scrollback — Enter: next older match, Esc: close", id="console-find")

    @property
    def view(self) -> ConsoleView:
        return self.query_one(ConsoleView)

    @property
    def tabs(self) -> Tabs:
        return self.query_one(Tabs)

    def add_tab(self, tab_id: str, title: str) -> None:
        self.tabs.add_tab(Tab(Text(title), id=tab_id))
        self.tabs.active = tab_id

    def status(self, title: str, state: str, keys_here: bool) -> None:
        who = (
            f"keys → {title} ({self.detach_name} gives them back)"
            if keys_here
            else "keys → table (c: to the console · [ ] tabs · x close · f find · z size)"
        )
        shown = (who, state, keys_here)
        if shown == self._shown:
            return
        self._shown = shown
        line = Text(state + "  ·  " if state else "")
        line.append(who, style="bold" if keys_here else "dim")
        self.query_one("#console-status", Static).update(line)
