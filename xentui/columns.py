"""The columns of a domain listing, each defined once: label, width, priority, alignment, sort key, rendering.

The dashboard's table and `xentui list` both read this spec. Rendering gives `rich.text.Text` (never
markup): guest-controlled strings are made printable first.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from rich.text import Text

from xentui.model import Domain, Mode, State
from xentui.poller import Rates
from xentui.text import printable

STATE_STYLE = {
    State.RUNNING: "green", State.BLOCKED: "green", State.PAUSED: "yellow", State.SHUTDOWN: "yellow",
    State.SHUTOFF: "bright_black", State.CRASHED: "bold red", State.DYING: "red", State.UNKNOWN: "magenta",
}  # fmt: skip
MODE_STYLE = {Mode.PV: "cyan", Mode.HVM: "magenta", Mode.PVH: "blue", Mode.UNKNOWN: "bright_black"}
NAME_LIMIT = 48  # characters of a name kept before it is cut (the column is narrower still)


class Group(str, enum.Enum):
    """When a column is shown: always, with the I/O columns (`i`), or when several hosts are watched."""

    CORE = "core"
    IO = "io"
    HOST = "host"


Render = Callable[[Domain, Optional[Rates]], Text]
SortKey = Callable[[Domain, Optional[Rates]], Any]


@dataclass(frozen=True)
class Column:
    """One column. `priority`: lower is kept longer when the terminal is narrow (0 = never dropped).

    `fit`: the width follows the content (up to `width`) instead of being fixed.
    """

    key: str
    label: str
    width: int
    priority: int
    render: Render
    sort: SortKey
    right: bool = True  # numbers are right-aligned
    group: Group = Group.CORE
    fit: bool = False
    descending_first: bool = True  # the first sort on a figure puts the biggest on top

    def text(self, d: Domain, r: Rates | None) -> Text:
        return self.render(d, r)


# -- formatting helpers ----------------------------------------------------------------------------------------
def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "K", "M", "G", "T"):
        if abs(n) < 1024 or unit == "T":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return "-"


def human_mib(kib: int | None) -> str:
    if kib is None:
        return "-"
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


def has_pv_drivers(d: Domain) -> bool:
    """HVM+pv: live, at least one PV disk or network frontend connected where the source read xenstore; else the
    configuration's verdict (platform device on, or PV devices configured)."""
    if d.frontends is not None:
        return any(f.connected and f.io for f in d.frontends)
    return d.pv_drivers


def mode_text(d: Domain) -> str:
    if d.details_pending:  # listed before its configuration was read: not known yet
        return "…"
    return d.mode.value + ("+pv" if d.mode is Mode.HVM and has_pv_drivers(d) else "")


def _vcpus(d: Domain) -> str:
    if d.vcpus is None:
        return "-"
    if d.max_vcpus is not None and d.vcpus != d.max_vcpus:
        return f"{d.vcpus}/{d.max_vcpus}"
    return str(d.vcpus)


def _max_memory(d: Domain) -> str:
    if getattr(d, "max_memory_unlimited", False):
        return "no limit"
    return human_mib(d.max_memory_kib)


def _access(d: Domain) -> Text:
    exposed = any(g.exposed for g in d.graphics)
    text = ("con " if d.has_console else "    ") + (d.vnc.kind if d.vnc else "") + ("!" if exposed else "")
    return Text(text.rstrip(), style="bold red" if exposed else "")


def _num(v: float | None) -> float:
    return -1.0 if v is None else v


def _size(v: int | None) -> int:
    return -1 if v is None else v


def _rate(name: str) -> Column:
    key, label = {
        "net_rx_bps": ("netrx", "NetRX/s"),
        "net_tx_bps": ("nettx", "NetTX/s"),
        "block_read_bps": ("blkrd", "BlkRd/s"),
        "block_write_bps": ("blkwr", "BlkWr/s"),
    }[name]
    return Column(
        key,
        label,
        7,
        20,
        lambda d, r: Text(human_bytes(getattr(r, name) if r else None)),
        lambda d, r: _num(getattr(r, name) if r else None),
        group=Group.IO,
    )


# The display order. Priorities: at 80 columns Name, State, Mode, Mem, VCPUs and CPU% always stay.
COLUMNS: tuple[Column, ...] = (
    Column("host", "Host", 14, 0, lambda d, r: Text(printable(d.host, 32), style="bold"),
           lambda d, r: d.host.lower(), right=False, group=Group.HOST, fit=True, descending_first=False),
    Column("name", "Name", 28, 0, lambda d, r: Text(printable(d.name, NAME_LIMIT)),
           lambda d, r: d.name.lower(), right=False, fit=True, descending_first=False),
    Column("id", "ID", 5, 7, lambda d, r: Text(str(d.id) if d.id is not None else "-"),
           lambda d, r: (d.id is None, d.id or 0), descending_first=False),
    Column("state", "State", 8, 1, lambda d, r: Text(d.state.value, style=STATE_STYLE[d.state]),
           lambda d, r: d.state.value, right=False, descending_first=False),
    Column("mode", "Mode", 7, 2, lambda d, r: Text(mode_text(d), style=MODE_STYLE[d.mode]),
           lambda d, r: d.mode.value, right=False, descending_first=False),
    Column("mem", "Mem", 6, 3, lambda d, r: Text(human_mib(d.memory_kib)), lambda d, r: _size(d.memory_kib)),
    Column("maxmem", "MaxMem", 8, 10, lambda d, r: Text(_max_memory(d)), lambda d, r: _size(d.max_memory_kib)),
    Column("vcpus", "VCPUs", 5, 4, lambda d, r: Text(_vcpus(d)), lambda d, r: _size(d.vcpus)),
    Column("cpu", "CPU%", 5, 5, lambda d, r: Text(f"{r.cpu_pct:.1f}" if r and r.cpu_pct is not None else "-"),
           lambda d, r: _num(r.cpu_pct if r else None)),
    Column("time", "CPU time", 9, 9, lambda d, r: Text(human_duration(d.cpu_time_ns)),
           lambda d, r: d.cpu_time_ns or -1),
    Column("access", "Con Gfx", 9, 8, lambda d, r: _access(d), lambda d, r: (d.has_console, bool(d.graphics)),
           right=False, descending_first=False),
    _rate("net_rx_bps"),
    _rate("net_tx_bps"),
    _rate("block_read_bps"),
    _rate("block_write_bps"),
)  # fmt: skip
BY_KEY = {c.key: c for c in COLUMNS}
GAP = 1  # blank cells between columns (and before the first)


def column(key: str) -> Column:
    """The column of that key; a key that is not one is a programming error, not a default."""
    return BY_KEY[key]


def content_width(col: Column, domains: Sequence[Domain]) -> int:
    """A fitting column's width: its widest value or its label, at most `col.width`."""
    if not col.fit:
        return col.width
    widest = max((col.render(d, None).cell_len for d in domains), default=0)
    return max(len(col.label), min(col.width, widest))


@dataclass(frozen=True)
class Layout:
    """The columns chosen for a width, in display order, with their widths and x offsets."""

    columns: tuple[Column, ...]
    widths: tuple[int, ...]
    offsets: tuple[int, ...]
    line_width: int

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


def layout(candidates: Sequence[Column], domains: Sequence[Domain], width: int | None) -> Layout:
    """Fit columns into `width` cells: drop the lowest priority until the rest fit (priority 0 is never dropped).

    The name column shrinks (down to 12) before a priority-0 column would leave the screen.
    `width=None` keeps every candidate (for output that is not bound to a screen).
    """
    widths = {c.key: content_width(c, domains) for c in candidates}
    chosen = list(candidates)

    def total() -> int:
        return GAP + sum(widths[c.key] + GAP for c in chosen)

    if width is not None:
        # The lowest priority first; among equals, the rightmost first.
        for _, col in sorted(enumerate(candidates), key=lambda ic: (-ic[1].priority, -ic[0])):
            if total() <= width or col.priority == 0:
                break
            chosen.remove(col)
        if total() > width and "name" in widths:
            widths["name"] = max(12, widths["name"] - (total() - width))
    offsets, x = [], GAP
    for c in chosen:
        offsets.append(x)
        x += widths[c.key] + GAP
    return Layout(tuple(chosen), tuple(widths[c.key] for c in chosen), tuple(offsets), x)


def cell(col: Column, width: int, d: Domain, r: Rates | None) -> Text:
    """One cell cut or padded to its width, aligned as the column says."""
    text = col.render(d, r)
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    if col.right:
        text.pad_left(width - text.cell_len)
    else:
        text.pad_right(width - text.cell_len)
    return text


def plain_table(domains: Sequence[Domain], keys: Sequence[str]) -> str:
    """A plain-text table of these columns (for `xentui list`): no styles, every column as wide as it needs."""
    cols = [column(k) for k in keys]
    widths = [max([len(c.label), *(c.render(d, None).cell_len for d in domains)]) for c in cols]
    lines = []
    head = [c.label.rjust(w) if c.right else c.label.ljust(w) for c, w in zip(cols, widths)]
    lines.append("  ".join(head).rstrip())
    for d in domains:
        cells = [cell(c, w, d, None).plain for c, w in zip(cols, widths)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
