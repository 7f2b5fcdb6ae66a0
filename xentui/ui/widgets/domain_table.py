"""The live domain table: only changed cells are repainted; selection follows the domain, not the row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from xentui.model import Domain, Mode, State
from xentui.poller import Frame, Rates
from xentui.text import printable

STATE_STYLE = {
    State.RUNNING: "green", State.BLOCKED: "green", State.PAUSED: "yellow", State.SHUTDOWN: "yellow",
    State.SHUTOFF: "bright_black", State.CRASHED: "bold red", State.DYING: "red", State.UNKNOWN: "magenta",
}  # fmt: skip
MODE_STYLE = {Mode.PV: "cyan", Mode.HVM: "magenta", Mode.PVH: "blue", Mode.UNKNOWN: "bright_black"}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    sort: Callable[[Domain, Rates | None], Any]
    io: bool = False


def _num(v: float | None) -> float:
    return -1.0 if v is None else v


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 24, lambda d, r: d.name.lower()),
    Column("id", "ID", 5, lambda d, r: (d.id is None, d.id or 0)),
    Column("state", "State", 9, lambda d, r: d.state.value),
    Column("mode", "Mode", 8, lambda d, r: d.mode.value),
    Column("mem", "Mem", 8, lambda d, r: d.memory_kib),
    Column("maxmem", "MaxMem", 8, lambda d, r: d.max_memory_kib),
    Column("vcpus", "VCPUs", 5, lambda d, r: d.vcpus),
    Column("cpu", "CPU%", 6, lambda d, r: _num(r.cpu_pct if r else None)),
    Column("time", "CPU time", 10, lambda d, r: d.cpu_time_ns or -1),
    Column("access", "Con Gfx", 9, lambda d, r: (d.has_console, bool(d.graphics))),
    Column("netrx", "NetRX/s", 8, lambda d, r: _num(r.net_rx_bps if r else None), io=True),
    Column("nettx", "NetTX/s", 8, lambda d, r: _num(r.net_tx_bps if r else None), io=True),
    Column("blkrd", "BlkRd/s", 8, lambda d, r: _num(r.block_read_bps if r else None), io=True),
    Column("blkwr", "BlkWr/s", 8, lambda d, r: _num(r.block_write_bps if r else None), io=True),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)


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


def cell_texts(d: Domain, r: Rates | None, io: bool) -> tuple[Text, ...]:
    """Every cell as rich Text (never markup): guest-controlled strings are made printable first.

    Numbers are padded here rather than justified by the table, so they line up in every terminal.
    """
    w = {c.key: c.width for c in COLUMNS}

    def num(key: str, value: str) -> Text:
        return Text(value.rjust(w[key]))

    mode = d.mode.value + ("+pv" if d.pv_drivers and d.mode is Mode.HVM else "")
    access = ("con " if d.has_console else "    ") + ((d.vnc.kind if d.vnc else "") or "")
    exposed = any(g.exposed for g in d.graphics)
    cells = [
        Text(printable(d.name, 48), no_wrap=True, overflow="ellipsis"),
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
        for key, v in zip(("netrx", "nettx", "blkrd", "blkwr"), values, strict=True):
            cells.append(num(key, human_bytes(v)))
    return tuple(cells)


def matches(d: Domain, needle: str) -> bool:
    if not needle:
        return True
    n = needle.lower()
    return n in d.name.lower() or n == d.state.value or n == d.mode.value.lower() or n in (d.host or "").lower()


class DomainTable(DataTable[Text]):
    """A DataTable that applies frames as diffs."""

    DEFAULT_CSS = "DomainTable { height: 1fr; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.filter_text = ""
        self.show_inactive = True
        self.show_io = False
        self.sort_key = "id"
        self.sort_reverse = False
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._domains: dict[str, Domain] = {}
        self._rates: dict[str, Rates] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        self._build_columns()

    def _build_columns(self) -> None:
        self.clear(columns=True)
        self._cells.clear()
        self._order = []
        for col in COLUMNS:
            if col.io and not self.show_io:
                continue
            label = col.label + self._arrow(col.key)
            numeric = col.key not in ("name", "state", "mode", "access")
            self.add_column(Text(label.rjust(col.width) if numeric else label), width=col.width, key=col.key)

    def _arrow(self, key: str) -> str:
        return ("▼" if self.sort_reverse else "▲") if key == self.sort_key else ""

    @property
    def selected_key(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    @property
    def selected(self) -> Domain | None:
        key = self.selected_key
        return self._domains.get(key) if key else None

    def shows(self, d: Domain) -> bool:
        return (self.show_inactive or d.state.active) and matches(d, self.filter_text)

    def apply(self, frame: Frame) -> None:
        """Bring the table to the frame: add, remove and update rows; repaint only changed cells."""
        if frame.snapshot is None:
            return
        keep = self.selected_key
        self._rates = frame.rates
        wanted = {d.key: d for d in frame.snapshot.domains if self.shows(d)}
        self._domains = wanted
        for key in [k for k in self._cells if k not in wanted]:
            self.remove_row(key)
            del self._cells[key]
        for key, d in wanted.items():
            cells = cell_texts(d, self._rates.get(key), self.show_io)
            old = self._cells.get(key)
            if old is None:
                self.add_row(*cells, key=key)
            else:
                for col_key, new, was in zip(self._visible_columns(), cells, old, strict=True):
                    if new != was:
                        self.update_cell(key, col_key, new)
            self._cells[key] = cells
        self._resort(keep)

    def _visible_columns(self) -> tuple[str, ...]:
        return tuple(c.key for c in COLUMNS if self.show_io or not c.io)

    def _resort(self, keep: str | None) -> None:
        col = next(c for c in COLUMNS if c.key == self.sort_key)
        order = sorted(
            self._domains,
            key=lambda k: (col.sort(self._domains[k], self._rates.get(k)), self._domains[k].name),
            reverse=self.sort_reverse,
        )
        if order != self._order_in_table():
            # DataTable.sort hands the key function cell values: find each row by its name cell object.
            rank = {id(self._cells[k][0]): i for i, k in enumerate(order)}
            self.sort("name", key=lambda cell: rank.get(id(cell), len(rank)))
        self._order = order
        if keep is not None and keep in self._domains:
            row = order.index(keep)
            if row != self.cursor_row:
                self.move_cursor(row=row, animate=False)

    def _order_in_table(self) -> list[str]:
        return [str(r.key.value) for r in self.ordered_rows]

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        """Sort by a column; the same column again flips the direction. Call rebuild() after."""
        if key == self.sort_key and reverse is None:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key = key
            numeric = ("cpu", "mem", "maxmem", "vcpus", "time", "netrx", "nettx", "blkrd", "blkwr")
            self.sort_reverse = reverse if reverse is not None else key in numeric

    def rebuild(self, frame: Frame | None) -> None:
        """After a change of filter, inactive toggle or columns: rebuild the rows, keeping the selection."""
        keep = self.selected_key
        self._build_columns()
        if frame is not None:
            self.apply(frame)
        if keep is not None and keep in self._order:
            self.move_cursor(row=self._order.index(keep), animate=False)
