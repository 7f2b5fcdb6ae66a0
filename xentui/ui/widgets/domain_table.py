"""The live domain table: a Line-API widget that repaints only the cells that changed.

Textual's DataTable repaints every visible row when any cell changes; on a busy dom0 with CPU%
moving every second that is most of the screen, every second. This widget keeps one rendered strip
per row and, on a refresh, marks dirty just the changed cells' regions, so the terminal receives
only those characters. Selection follows the domain (its key), not the row number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from xentui.fleet import FleetFrame
from xentui.model import Domain, Mode, State
from xentui.poller import Rates
from xentui.text import printable

STATE_STYLE = {
    State.RUNNING: "green", State.BLOCKED: "green", State.PAUSED: "yellow", State.SHUTDOWN: "yellow",
    State.SHUTOFF: "bright_black", State.CRASHED: "bold red", State.DYING: "red", State.UNKNOWN: "magenta",
}  # fmt: skip
MODE_STYLE = {Mode.PV: "cyan", Mode.HVM: "magenta", Mode.PVH: "blue", Mode.UNKNOWN: "bright_black"}
PAD = 1  # blank cells each side of a column


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    sort: Callable[[Domain, Rates | None], Any]
    io: bool = False
    numeric: bool = True
    host: bool = False  # shown only when several hosts are watched


def _num(v: float | None) -> float:
    return -1.0 if v is None else v


COLUMNS: tuple[Column, ...] = (
    Column("host", "Host", 14, lambda d, r: d.host.lower(), numeric=False, host=True),
    Column("name", "Name", 24, lambda d, r: d.name.lower(), numeric=False),
    Column("id", "ID", 5, lambda d, r: (d.id is None, d.id or 0)),
    Column("state", "State", 9, lambda d, r: d.state.value, numeric=False),
    Column("mode", "Mode", 8, lambda d, r: d.mode.value, numeric=False),
    Column("mem", "Mem", 8, lambda d, r: d.memory_kib),
    Column("maxmem", "MaxMem", 8, lambda d, r: d.max_memory_kib),
    Column("vcpus", "VCPUs", 5, lambda d, r: d.vcpus),
    Column("cpu", "CPU%", 6, lambda d, r: _num(r.cpu_pct if r else None)),
    Column("time", "CPU time", 10, lambda d, r: d.cpu_time_ns or -1),
    Column("access", "Con Gfx", 9, lambda d, r: (d.has_console, bool(d.graphics)), numeric=False),
    Column("netrx", "NetRX/s", 8, lambda d, r: _num(r.net_rx_bps if r else None), io=True),
    Column("nettx", "NetTX/s", 8, lambda d, r: _num(r.net_tx_bps if r else None), io=True),
    Column("blkrd", "BlkRd/s", 8, lambda d, r: _num(r.block_read_bps if r else None), io=True),
    Column("blkwr", "BlkWr/s", 8, lambda d, r: _num(r.block_write_bps if r else None), io=True),
)
_WIDTH = {c.key: c.width for c in COLUMNS}


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "K", "M", "G", "T"):
        if abs(n) < 1024 or unit == "T":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return "-"


def human_mib(kib: int) -> str:
    mib = kib / 1024
    return f"{mib / 1024:.1f}G" if mib >= 10240 else f"{mib:.0f}M"


def human_duration(ns: int | None) -> str:
    if ns is None:
        return "-"
    s = int(ns // 1_000_000_000)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{d}d{h:02d}h{m:02d}m" if d else f"{h}:{m:02d}:{s:02d}"


def cell_texts(d: Domain, r: Rates | None, io: bool, host: bool = False, stale: bool = False) -> tuple[Text, ...]:
    """Every cell as rich Text (never markup): guest-controlled strings are made printable first.

    `host` adds the host column; `stale` dims the row (its host is disconnected: these are its last figures).
    """

    def num(key: str, value: str) -> Text:
        return Text(value.rjust(_WIDTH[key]))

    mode = d.mode.value + ("+pv" if d.pv_drivers and d.mode is Mode.HVM else "")
    access = ("con " if d.has_console else "    ") + ((d.vnc.kind if d.vnc else "") or "")
    exposed = any(g.exposed for g in d.graphics)
    cells = [Text(printable(d.host, 32), style="bold")] if host else []
    cells += [
        Text(printable(d.name, 48)),
        num("id", str(d.id) if d.id is not None else "-"),
        Text(d.state.value, style=STATE_STYLE[d.state]),
        Text(mode, style=MODE_STYLE[d.mode]),
        num("mem", human_mib(d.memory_kib)),
        num("maxmem", human_mib(d.max_memory_kib)),
        num("vcpus", f"{d.vcpus}/{d.max_vcpus}" if d.vcpus != d.max_vcpus else str(d.vcpus)),
        num("cpu", f"{r.cpu_pct:.1f}" if r and r.cpu_pct is not None else "-"),
        num("time", human_duration(d.cpu_time_ns)),
        Text(access + ("!" if exposed else ""), style="bold red" if exposed else ""),
    ]
    if io:
        values = (r.net_rx_bps, r.net_tx_bps, r.block_read_bps, r.block_write_bps) if r else (None,) * 4
        for key, v in zip(("netrx", "nettx", "blkrd", "blkwr"), values):
            cells.append(num(key, human_bytes(v)))
    if stale:
        for cell in cells:
            cell.stylize("dim")
    return tuple(cells)


def matches(d: Domain, needle: str) -> bool:
    if not needle:
        return True
    n = needle.lower()
    return n in d.name.lower() or n == d.state.value or n == d.mode.value.lower() or n in (d.host or "").lower()


class DomainTable(ScrollView, can_focus=True):
    """Header line plus one line per domain."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"domain-table--header", "domain-table--cursor"}
    DEFAULT_CSS = """
    DomainTable { height: 1fr; background: $surface; }
    DomainTable > .domain-table--header { text-style: bold; background: $primary 30%; }
    DomainTable > .domain-table--cursor { text-style: bold; background: $foreground 22%; }
    DomainTable:blur > .domain-table--cursor { background: $foreground 12%; }
    """

    class RowHighlighted(Message):
        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class RowSelected(Message):
        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class ConsoleRequested(Message):
        """The "con" marker of a row was clicked."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class HeaderSelected(Message):
        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    def __init__(self, fleet: bool = False, **kwargs: Any) -> None:
        """`fleet`: several hosts are watched, so there is a Host column and rows are grouped by host."""
        super().__init__(**kwargs)
        self.filter_text = ""
        self.show_inactive = True
        self.show_io = False
        self.show_host = fleet
        self.group_by_host = fleet
        self.sort_key = "id"
        self.sort_reverse = False
        self.cursor = 0
        self._columns: list[Column] = []
        self._offsets: list[int] = []  # x of each visible column's first cell
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._strips: dict[str, Strip] = {}  # rendered rows, without the cursor
        self._header: Strip | None = None
        self._domains: dict[str, Domain] = {}
        self._rates: dict[str, Rates] = {}
        self._hosts: dict[str, int] = {}  # domain key → its host's place in the fleet
        self._stale: dict[str, bool] = {}  # domain key → its host is disconnected
        self._order: list[str] = []
        self._set_columns()

    # -- columns and geometry --------------------------------------------------------------------------------
    def _set_columns(self) -> None:
        self._columns = [c for c in COLUMNS if (self.show_io or not c.io) and (self.show_host or not c.host)]
        x = 0
        self._offsets = []
        for c in self._columns:
            self._offsets.append(x)
            x += c.width + 2 * PAD
        self._header = None
        self._strips.clear()
        self._cells.clear()

    @property
    def line_width(self) -> int:
        return sum(c.width + 2 * PAD for c in self._columns)

    @property
    def visible_column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self._columns)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.line_width, len(self._order) + 1)

    # -- reading -------------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._order)

    def keys_in_order(self) -> list[str]:
        return list(self._order)

    def cells(self, key: str) -> tuple[Text, ...]:
        return self._cells[key]

    @property
    def selected_key(self) -> str | None:
        return self._order[self.cursor] if 0 <= self.cursor < len(self._order) else None

    @property
    def selected(self) -> Domain | None:
        key = self.selected_key
        return self._domains.get(key) if key else None

    def shows(self, d: Domain) -> bool:
        return (self.show_inactive or d.state.active) and matches(d, self.filter_text)

    # -- applying frames -----------------------------------------------------------------------------------
    def apply(self, frame: FleetFrame) -> None:
        """Bring the table to the frame. Unchanged rows cost nothing; changed cells alone are repainted.

        A row whose domain is the very object of the last frame, with equal rates and the same host condition
        (another host refreshed, or nothing moved) is not even rendered again.
        """
        keep = self.selected_key
        old_domains, old_rates, old_stale = self._domains, self._rates, self._stale
        self._rates = frame.rates
        self._hosts = frame.owners
        away = [h.frame is not None and not h.frame.connected for h in frame.hosts]
        wanted = {d.key: d for d in frame.domains if self.shows(d)}
        self._stale = {k: away[frame.owners.get(k, 0)] for k in wanted}
        self._domains = wanted
        structural = set(wanted) != set(self._cells)
        dirty: list[tuple[str, int]] = []
        for key in [k for k in self._cells if k not in wanted]:
            del self._cells[key]
            self._strips.pop(key, None)
        for key, d in wanted.items():
            rate = self._rates.get(key)
            if (
                key in self._cells
                and old_domains.get(key) is d
                and old_rates.get(key) == rate
                and old_stale.get(key) == self._stale[key]
            ):
                continue
            cells = cell_texts(d, rate, self.show_io, self.show_host, self._stale[key])
            old = self._cells.get(key)
            if old != cells:
                self._cells[key] = cells
                self._strips.pop(key, None)
                if old is not None:
                    dirty.extend((key, i) for i, (a, b) in enumerate(zip(old, cells)) if a != b)
        order = self._sorted_keys()
        if structural or order != self._order:
            self._order = order
            self._update_virtual_size()
            self._place_cursor(keep)
            self.refresh()
        else:
            self._refresh_cells(dirty)

    def _sorted_keys(self) -> list[str]:
        col = next(c for c in COLUMNS if c.key == self.sort_key)
        order = sorted(
            self._domains,
            key=lambda k: (col.sort(self._domains[k], self._rates.get(k)), self._domains[k].name),
            reverse=self.sort_reverse,
        )
        if self.group_by_host:  # a stable sort: each host's rows together, in the fleet's order, sorted within
            order.sort(key=lambda k: self._hosts.get(k, 0))
        return order

    def _refresh_cells(self, dirty: list[tuple[str, int]]) -> None:
        if not dirty:
            return
        row_of = {k: i for i, k in enumerate(self._order)}
        scroll_x, scroll_y = self.scroll_offset
        height = self.size.height
        for key, col in dirty:
            y = row_of[key] - scroll_y + 1
            if 1 <= y < height:
                self.refresh(Region(self._offsets[col] - scroll_x, y, self._columns[col].width + 2 * PAD, 1))

    def _place_cursor(self, keep: str | None) -> None:
        if keep is not None and keep in self._domains:
            self.cursor = self._order.index(keep)
        self.cursor = max(0, min(self.cursor, len(self._order) - 1))
        self._scroll_to_cursor()

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        """Sort by a column; the same column again flips the direction. Call rebuild() after."""
        if key == self.sort_key and reverse is None:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key = key
            numeric = next((c.numeric for c in COLUMNS if c.key == key), False) and key != "id"
            self.sort_reverse = reverse if reverse is not None else numeric
        self._header = None

    def rebuild(self, frame: FleetFrame | None) -> None:
        """After a change of filter, inactive toggle, sort or columns: rebuild the rows, keeping the selection."""
        keep = self.selected_key
        self._set_columns()
        self._order = []
        if frame is not None:
            self.apply(frame)
        self._place_cursor(keep)
        self._update_virtual_size()
        self.refresh()
        self.post_message(self.RowHighlighted(self.selected_key))

    # -- rendering -----------------------------------------------------------------------------------------
    def _render_row(self, texts: list[Text], style: Style) -> Strip:
        line = Text(no_wrap=True, end="")
        for col, text in zip(self._columns, texts):
            cell = text.copy()
            cell.truncate(col.width, overflow="ellipsis", pad=True)
            line.append(" " * PAD)
            line.append_text(cell)
            line.append(" " * PAD)
        segments = list(line.render(self.app.console))
        return Strip(Segment.apply_style(segments, style), self.line_width).adjust_cell_length(self.line_width, style)

    def _header_strip(self) -> Strip:
        if self._header is None:
            labels = []
            for c in self._columns:
                arrow = ("▼" if self.sort_reverse else "▲") if c.key == self.sort_key else ""
                label = c.label + arrow
                labels.append(Text(label.rjust(c.width) if c.numeric else label))
            self._header = self._render_row(labels, self.get_component_rich_style("domain-table--header"))
        return self._header

    def _row_strip(self, key: str) -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(list(self._cells[key]), self.rich_style)
            self._strips[key] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            strip = self._header_strip()
        else:
            index = scroll_y + y - 1
            if index >= len(self._order):
                return Strip.blank(width, self.rich_style)
            strip = self._row_strip(self._order[index])
            if index == self.cursor:  # over the row's own background, keeping its text colours
                full = self.get_component_rich_style("domain-table--cursor")
                cursor = Style(bgcolor=full.bgcolor, bold=full.bold)
                strip = Strip(Segment.apply_style(iter(strip), post_style=cursor), strip.cell_length)
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def on_resize(self) -> None:
        self._update_virtual_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._header = None
        self._strips.clear()

    # -- cursor, keys and mouse ----------------------------------------------------------------------------
    def _move_cursor(self, row: int) -> None:
        if not self._order:
            return
        row = max(0, min(row, len(self._order) - 1))
        if row == self.cursor:
            return
        old, self.cursor = self.cursor, row
        scroll_y = self.scroll_offset.y
        for r in (old, row):
            self.refresh(Region(0, r - scroll_y + 1, self.size.width, 1))
        self._scroll_to_cursor()
        self.post_message(self.RowHighlighted(self.selected_key))

    def _scroll_to_cursor(self) -> None:
        rows_visible = max(1, self.size.height - 1)
        scroll_y = self.scroll_offset.y
        if self.cursor < scroll_y:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= scroll_y + rows_visible:
            self.scroll_to(y=self.cursor - rows_visible + 1, animate=False)

    def select_name(self, name: str) -> bool:
        """Move the cursor to the first domain of that name; False when none is shown."""
        for row, key in enumerate(self._order):
            if self._domains[key].name == name:
                self._move_cursor(row)
                return True
        return False

    def action_cursor(self, delta: int) -> None:
        self._move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_cursor(self.cursor + direction * max(1, self.size.height - 2))

    def action_cursor_to(self, row: int) -> None:
        self._move_cursor(row if row >= 0 else len(self._order) - 1)

    def action_select(self) -> None:
        self.post_message(self.RowSelected(self.selected_key))

    def on_click(self, event: events.Click) -> None:
        scroll_x, scroll_y = self.scroll_offset
        if event.y == 0:
            x = event.x + scroll_x
            for col, start in zip(self._columns, self._offsets):
                if start <= x < start + col.width + 2 * PAD:
                    self.post_message(self.HeaderSelected(col.key))
                    return
            return
        row = scroll_y + event.y - 1
        if 0 <= row < len(self._order):
            self._move_cursor(row)
            if self._on_console_marker(event.x + scroll_x):
                self.post_message(self.ConsoleRequested(self.selected_key))
            elif event.chain > 1:  # double click: open the detail
                self.post_message(self.RowSelected(self.selected_key))

    def _on_console_marker(self, x: int) -> bool:
        domain = self.selected
        if domain is None or not domain.has_console or "access" not in self.visible_column_keys:
            return False
        start = self._offsets[self.visible_column_keys.index("access")] + PAD
        return start <= x < start + 3
