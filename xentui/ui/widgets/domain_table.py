"""The live domain table: a Line-API widget that repaints only the cells that changed.

Textual's DataTable repaints every visible row when any cell changes; on a busy dom0 with CPU%
moving every second that is most of the screen, every second. This widget keeps one rendered strip
per row and, on a refresh, marks dirty just the changed cells' regions, so the terminal receives
only those characters. Rows are keyed by (host, domain) and the selection follows that key.

Columns come from `xentui.columns`: they are fitted to the width (the least important dropped first),
and the view state (filter, sort, grouping, inactive rows, I/O columns) lives here as reactives.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from xentui.columns import COLUMNS, GAP, Column, Group, Layout, cell, column, layout
from xentui.fleet import FleetFrame, RowKey
from xentui.model import Domain
from xentui.poller import Rates


def matches(d: Domain, needle: str) -> bool:
    if not needle:
        return True
    n = needle.lower()
    return n in d.name.lower() or n == d.state.value or n == d.mode.value.lower() or n in (d.host or "").lower()


# A separate repaint costs a cursor move and a style (some 30 bytes): changed spans of a row closer than this
# are repainted as one, the characters between them sent again.
MERGE_GAP = 24


def changed_span(a: Text, b: Text) -> tuple[int, int]:
    """Where cell `b` differs from cell `a`, in cells from the cell's start: only the changed characters when
    both are ASCII of one length and style (figures: 21:07:14 → 21:07:15 repaints one character), else all."""
    pa, pb = a.plain, b.plain
    if len(pa) != len(pb) or not (pa.isascii() and pb.isascii()) or a.style != b.style or a.spans != b.spans:
        return 0, b.cell_len
    start, end = 0, len(pb)
    while start < end and pa[start] == pb[start]:
        start += 1
    while end > start and pa[end - 1] == pb[end - 1]:
        end -= 1
    return (start, end) if start < end else (0, b.cell_len)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of one line, sorted, those less than MERGE_GAP apart joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start - out[-1][1] < MERGE_GAP:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


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

    filter_text: reactive[str] = reactive("", init=False)
    show_inactive: reactive[bool] = reactive(True, init=False)
    show_io: reactive[bool] = reactive(False, init=False)
    group_by_host: reactive[bool] = reactive(False, init=False)
    sort_key: reactive[str] = reactive("id", init=False)
    sort_reverse: reactive[bool] = reactive(False, init=False)

    class RowHighlighted(Message):
        def __init__(self, key: RowKey | None) -> None:
            super().__init__()
            self.key = key

    class RowSelected(Message):
        def __init__(self, key: RowKey | None) -> None:
            super().__init__()
            self.key = key

    class ConsoleRequested(Message):
        """The "con" marker of a row was clicked."""

        def __init__(self, key: RowKey | None) -> None:
            super().__init__()
            self.key = key

    class HeaderSelected(Message):
        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    def __init__(self, fleet: bool = False, **kwargs: Any) -> None:
        """`fleet`: several hosts are watched, so there is a Host column and rows are grouped by host."""
        super().__init__(**kwargs)
        self.show_host = fleet
        self.set_reactive(DomainTable.group_by_host, fleet)
        self.cursor = 0
        self._frame: FleetFrame | None = None
        self._layout: Layout = layout([], [], None)
        self._layout_basis: tuple[object, ...] = ()
        self._cells: dict[RowKey, tuple[Text, ...]] = {}
        self._strips: dict[RowKey, Strip] = {}  # rendered rows, without the cursor
        self._header: Strip | None = None
        self._domains: dict[RowKey, Domain] = {}
        self._rates: dict[RowKey, Rates] = {}
        self._stale: dict[RowKey, bool] = {}  # row key → its host is disconnected (these are its last figures)
        self._order: list[RowKey] = []
        self._styles: tuple[Style, Style] | None = None  # (rows, cursor), until the styles change

    # -- view state ------------------------------------------------------------------------------------------
    def watch_filter_text(self) -> None:
        self._rebuild()

    def watch_show_inactive(self) -> None:
        self._rebuild()

    def watch_show_io(self) -> None:
        self._rebuild()

    def watch_group_by_host(self) -> None:
        self._rebuild()

    def watch_sort_key(self) -> None:
        self._rebuild()

    def watch_sort_reverse(self) -> None:
        self._rebuild()

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        """Sort by a column; the same column again flips the direction. Figures sort biggest first."""
        if key == self.sort_key and reverse is None:
            self.sort_reverse = not self.sort_reverse
            return
        direction = reverse if reverse is not None else column(key).descending_first
        self.set_reactive(DomainTable.sort_reverse, direction)  # no rebuild yet: the key's watcher does one
        if key == self.sort_key:
            self._rebuild()
        else:
            self.sort_key = key

    # -- columns and geometry --------------------------------------------------------------------------------
    def _candidates(self) -> list[Column]:
        shown = {Group.CORE: True, Group.IO: self.show_io, Group.HOST: self.show_host}
        return [c for c in COLUMNS if shown[c.group]]

    def _available_width(self) -> int:
        width = self.size.width
        if len(self._order) + 1 > self.size.height:  # a vertical scrollbar takes its share
            width -= self.styles.scrollbar_size_vertical
        return max(0, width)

    def _fit_columns(self) -> bool:
        """Choose the columns and their widths for the current width and rows; True when the layout changed."""
        frame = self._frame
        rows = frame.rows if frame is not None else {}
        basis = (self._available_width(), self.show_io, self.show_host, frozenset(rows))
        if basis == self._layout_basis:
            return False
        self._layout_basis = basis
        new = layout(self._candidates(), list(rows.values()), basis[0] or None)
        if new == self._layout:
            return False
        self._layout = new
        self._header = None
        self._strips.clear()
        self._cells.clear()
        return True

    @property
    def line_width(self) -> int:
        return self._layout.line_width

    @property
    def visible_column_keys(self) -> tuple[str, ...]:
        return self._layout.keys

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.line_width, len(self._order) + 1)

    # -- reading -------------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._order)

    def keys_in_order(self) -> list[RowKey]:
        return list(self._order)

    def cell_text(self, key: RowKey, column_key: str) -> str:
        """What a row shows in a column (stripped); "" when that column is not on screen."""
        if column_key not in self._layout.keys:
            return ""
        return self._row_cells(key)[self._layout.keys.index(column_key)].plain.strip()

    def row_texts(self, key: RowKey) -> dict[str, str]:
        """Every visible column of a row, by column key."""
        return {k: c.plain.strip() for k, c in zip(self._layout.keys, self._row_cells(key))}

    def column_styles(self, key: RowKey, column_key: str) -> str:
        """The styles applied to one cell (for tests of dimming and colours)."""
        text = self._row_cells(key)[self._layout.keys.index(column_key)]
        return " ".join([str(text.style), *(str(s.style) for s in text.spans)])

    @property
    def selected_key(self) -> RowKey | None:
        return self._order[self.cursor] if 0 <= self.cursor < len(self._order) else None

    @property
    def selected(self) -> Domain | None:
        key = self.selected_key
        return self._domains.get(key) if key else None

    # -- applying frames -----------------------------------------------------------------------------------
    def apply(self, frame: FleetFrame) -> None:
        """Bring the table to the frame. Unchanged rows cost nothing; changed cells alone are repainted.

        A row whose domain is the very object of the last frame, with equal rates and the same host condition
        (another host refreshed, or nothing moved) is not even rendered again; a changed row that is off-screen
        is only forgotten, and rendered when it scrolls into view.
        """
        keep = self.selected_key
        self._frame = frame
        old_domains, old_rates, old_stale = self._domains, self._rates, self._stale
        self._rates = frame.rates
        away = {h.name: h.frame is not None and not h.frame.connected for h in frame.hosts}
        inactive, needle = self.show_inactive, self.filter_text  # reactives: read once, not per row
        wanted = {k: d for k, d in frame.rows.items() if (inactive or d.state.active) and matches(d, needle)}
        self._stale = {k: away[k.host] for k in wanted}
        self._domains = wanted
        structural = set(wanted) != set(self._order)
        if structural:
            self._order = list(wanted)  # for the width (scrollbar) until sorted below
        relaid = self._fit_columns()
        for key in [k for k in self._cells if k not in wanted]:
            self._forget(key)
        rates, stale = self._rates, self._stale
        changed = [
            k
            for k, d in wanted.items()
            if old_domains.get(k) is not d
            or ((ro := old_rates.get(k)) is not (rn := rates.get(k)) and ro != rn)
            or old_stale.get(k) != stale[k]
        ]
        resort = structural or relaid or self._moves_order(changed, old_domains, old_rates)
        order = self._sorted_keys() if resort else self._order
        if structural or relaid or order != self._order:
            for key in changed:
                self._forget(key)
            self._order = order
            self._update_virtual_size()
            self._place_cursor(keep)
            self.refresh()
            return
        top = self.scroll_offset.y
        on_screen = set(self._order[top : top + max(0, self.size.height - 1)])
        dirty: list[tuple[RowKey, list[tuple[int, int]]]] = []
        offsets = self._layout.offsets
        for key in changed:
            old = self._cells.get(key)
            if key not in on_screen or old is None:
                self._forget(key)
                continue
            cells = self._render_cells(wanted[key], rates.get(key), stale[key])
            spans = [
                (offsets[i] + start, offsets[i] + end)
                for i, (a, b) in enumerate(zip(old, cells))
                if a != b or a.style != b.style
                for start, end in (changed_span(a, b),)
            ]
            if spans:
                self._cells[key] = cells
                self._strips.pop(key, None)
                dirty.append((key, spans))
        self._refresh_cells(dirty)

    def _moves_order(
        self, changed: list[RowKey], old_domains: dict[RowKey, Domain], old_rates: dict[RowKey, Rates]
    ) -> bool:
        """Whether a changed row's sort key moved (else the order stands, and sorting is skipped)."""
        col = column(self.sort_key)
        domains, rates = self._domains, self._rates
        for k in changed:
            old, new = old_domains.get(k), domains[k]
            if old is None or old.name != new.name or col.sort(old, old_rates.get(k)) != col.sort(new, rates.get(k)):
                return True
        return False

    def _forget(self, key: RowKey) -> None:
        self._cells.pop(key, None)
        self._strips.pop(key, None)

    def _row_cells(self, key: RowKey) -> tuple[Text, ...]:
        cells = self._cells.get(key)
        if cells is None:
            cells = self._render_cells(self._domains[key], self._rates.get(key), self._stale[key])
            self._cells[key] = cells
        return cells

    def _render_cells(self, d: Domain, r: Rates | None, stale: bool) -> tuple[Text, ...]:
        lay = self._layout
        cells = tuple(cell(c, w, d, r) for c, w in zip(lay.columns, lay.widths))
        if stale:
            for text in cells:
                text.stylize("dim")
        return cells

    def _sorted_keys(self) -> list[RowKey]:
        col = column(self.sort_key)
        domains, rates = self._domains, self._rates
        order = sorted(
            domains, key=lambda k: (col.sort(domains[k], rates.get(k)), domains[k].name), reverse=self.sort_reverse
        )
        if self.group_by_host and self._frame is not None:
            # A stable sort: each host's rows together, in the fleet's order, sorted within.
            place = {h.name: i for i, h in enumerate(self._frame.hosts)}
            order.sort(key=lambda k: place[k.host])
        return order

    def _refresh_cells(self, dirty: list[tuple[RowKey, list[tuple[int, int]]]]) -> None:
        """Repaint the changed characters of each row: spans closer than a cursor move and a style cost
        in bytes are repainted as one."""
        if not dirty:
            return
        row_of = {k: i for i, k in enumerate(self._order)}
        scroll_x, scroll_y = self.scroll_offset
        height = self.size.height
        for key, spans in dirty:
            y = row_of[key] - scroll_y + 1
            if not 1 <= y < height:
                continue
            for start, end in merge_spans(spans):
                self.refresh(Region(start - scroll_x, y, end - start, 1))

    def _place_cursor(self, keep: RowKey | None) -> None:
        if keep is not None and keep in self._domains:
            self.cursor = self._order.index(keep)
        self.cursor = max(0, min(self.cursor, len(self._order) - 1))
        self._scroll_to_cursor()

    def _rebuild(self) -> None:
        """After a change of view state: rebuild the rows from the last frame, keeping the selection."""
        keep = self.selected_key
        self._header = None
        self._layout_basis = ()
        self._order = []
        self._cells.clear()
        self._strips.clear()
        if self._frame is not None:
            self.apply(self._frame)
        self._place_cursor(keep)
        self._update_virtual_size()
        self.refresh()
        self.post_message(self.RowHighlighted(self.selected_key))

    # -- rendering -----------------------------------------------------------------------------------------
    def _render_row(self, texts: list[Text], style: Style) -> Strip:
        line = Text(" " * GAP, no_wrap=True, end="")
        for text in texts:
            line.append_text(text)
            line.append(" " * GAP)
        segments = list(line.render(self.app.console))
        width = self.line_width
        return Strip(Segment.apply_style(segments, style), width).adjust_cell_length(width, style)

    def _header_strip(self) -> Strip:
        if self._header is None:
            labels = []
            for c, w in zip(self._layout.columns, self._layout.widths):
                arrow = ("▼" if self.sort_reverse else "▲") if c.key == self.sort_key else ""
                label = (c.label + arrow)[: max(w, 1)]
                labels.append(Text(label.rjust(w) if c.right else label.ljust(w)))
            self._header = self._render_row(labels, self.get_component_rich_style("domain-table--header"))
        return self._header

    def _row_styles(self) -> tuple[Style, Style]:
        """The rows' style and the cursor's (its background and weight alone), computed once per style change."""
        if self._styles is None:
            full = self.get_component_rich_style("domain-table--cursor")
            self._styles = (self.rich_style, Style(bgcolor=full.bgcolor, bold=full.bold))
        return self._styles

    def _row_strip(self, key: RowKey) -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            strip = self._render_row(list(self._row_cells(key)), self._row_styles()[0])
            self._strips[key] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base, cursor = self._row_styles()
        if y == 0:
            strip = self._header_strip()
        else:
            index = scroll_y + y - 1
            if index >= len(self._order):
                return Strip.blank(width, base)
            strip = self._row_strip(self._order[index])
            if index == self.cursor:  # over the row's own background, keeping its text colours
                strip = Strip(Segment.apply_style(iter(strip), post_style=cursor), strip.cell_length)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def on_resize(self) -> None:
        if self._fit_columns() and self._frame is not None:
            self._rebuild()
        self._update_virtual_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
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

    def select_name(self, name: str, host: str | None = None) -> bool:
        """Move the cursor to the first domain of that name (on that host); False when none is shown."""
        for row, key in enumerate(self._order):
            if self._domains[key].name == name and (host is None or key.host == host):
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

    def column_at(self, x: int) -> str | None:
        """The key of the column under cell x of the line (scrolling included), or None between columns."""
        lay = self._layout
        for c, start, w in zip(lay.columns, lay.offsets, lay.widths):
            if start <= x < start + w:
                return c.key
        return None

    def column_x(self, column_key: str) -> int:
        """Where a visible column starts on the line (for tests and mouse hit-testing)."""
        return self._layout.offsets[self._layout.keys.index(column_key)]

    def on_click(self, event: events.Click) -> None:
        scroll_x, scroll_y = self.scroll_offset
        x = event.x + scroll_x
        if event.y == 0:
            key = self.column_at(x)
            if key is not None:
                self.post_message(self.HeaderSelected(key))
            return
        row = scroll_y + event.y - 1
        if 0 <= row < len(self._order):
            self._move_cursor(row)
            if self._on_console_marker(x):
                self.post_message(self.ConsoleRequested(self.selected_key))
            elif event.chain > 1:  # double click: open the detail
                self.post_message(self.RowSelected(self.selected_key))

    def _on_console_marker(self, x: int) -> bool:
        domain = self.selected
        if domain is None or not domain.has_console or "access" not in self.visible_column_keys:
            return False
        start = self.column_x("access")
        return start <= x < start + 3
