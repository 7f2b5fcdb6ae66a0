"""The header: host, source, hypervisor, totals by state and by mode, interval, read-only and demo markers.

With several hosts: a line of fleet totals, then a line per host with its condition and its own totals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from xentui.fleet import FleetFrame, HostStatus
from xentui.model import Domain, Mode, State
from xentui.poller import Frame
from xentui.text import printable

CONDITION_STYLE = {
    "connecting": "italic",
    "connected": "green",
    "auth failed": "bold red",
    "unreachable": "bold red",
    "disconnected": "bold red",
}


def summary_text(frame: Frame | None, interval: float, source_label: str) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    if frame is None or frame.snapshot is None:
        t.append(" xentui ", style="bold reverse")
        t.append(f"  {printable(source_label)}  ")
        if frame is not None and not frame.connected:
            t.append(f"unreachable, retrying in {frame.retry_in:.0f} s: {printable(frame.error)}", style="bold red")
        else:
            t.append("connecting…", style="italic")
        return t
    snap = frame.snapshot
    host = snap.host
    t.append(f" {printable(host.hostname)} ", style="bold reverse")
    t.append(f" {printable(host.hypervisor)}", style="bold")
    t.append(f"  {printable(host.source)}")
    if host.demo:
        t.append("  DEMO DATA", style="bold black on yellow")
    t.append("  read-only" if host.read_only else "  READ-WRITE", style="cyan" if host.read_only else "bold red")
    t.append(f"  every {interval:g}s")
    if not frame.connected:
        t.append(f"  DISCONNECTED — retrying in {frame.retry_in:.0f} s: {printable(frame.error, 80)}", style="bold red")
    t.append("\n")
    t.append_text(totals(snap.domains))
    if snap.problems:
        t.append(f"  {len(snap.problems)} warning(s): {printable(snap.problems[0], 60)}", style="yellow")
    return t


def totals(domains: Sequence[Domain], modes_too: bool = True) -> Text:
    """ "12 domains: 9 running, 3 off  |  PV 4  HVM 8  PVH 0"."""
    t = Text()
    states = Counter(d.state for d in domains)
    modes = Counter(d.mode for d in domains)
    t.append(f" {len(domains)} domains: ", style="bold")
    parts = [
        (states[State.RUNNING] + states[State.BLOCKED], "running", "green"),
        (states[State.PAUSED], "paused", "yellow"),
        (states[State.SHUTOFF], "off", "bright_black"),
        (states[State.CRASHED] + states[State.DYING], "crashed", "red"),
        (states[State.SHUTDOWN] + states[State.UNKNOWN], "other", "magenta"),
    ]
    t.append_text(Text(", ").join(Text(f"{n} {label}", style=style) for n, label, style in parts if n))
    if not modes_too:
        return t
    t.append("  |  ")
    for mode in (Mode.PV, Mode.HVM, Mode.PVH, Mode.UNKNOWN):
        if modes[mode] or mode is not Mode.UNKNOWN:
            t.append(f"{mode.value} {modes[mode]}  ", style="bold")
    return t


def host_line(host: HostStatus, width: int) -> Text:
    """One host of a fleet: name, condition (with the retry delay and reason when away), its own totals."""
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f" {printable(host.name, width).ljust(width)} ", style="bold reverse")
    cond = host.condition
    f = host.frame
    snap = f.snapshot if f is not None else None
    t.append(f" {cond}", style=CONDITION_STYLE[cond])
    if f is not None and not f.connected:
        t.append(f", retrying in {f.retry_in:.0f} s: {printable(f.reason or f.error, 90)}", style=CONDITION_STYLE[cond])
    elif snap is not None:
        t.append(f"  {printable(snap.host.hypervisor)}", style="bold")
    if snap is not None:
        t.append_text(totals(snap.domains, modes_too=f is not None and f.connected))
    t.append(f"  {printable(host.label)}", style="bright_black")
    return t


def fleet_text(frame: FleetFrame, interval: float) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    conditions = Counter(h.condition for h in frame.hosts)
    t.append(f" {len(frame.hosts)} hosts ", style="bold reverse")
    t.append("  " + ", ".join(f"{n} {c}" for c, n in conditions.items()), style="bold")
    if any(h.frame is not None and h.frame.snapshot is not None and h.frame.snapshot.host.demo for h in frame.hosts):
        t.append("  DEMO DATA", style="bold black on yellow")
    read_only = all(h.read_only for h in frame.hosts)
    t.append("  read-only" if read_only else "  READ-WRITE", style="cyan" if read_only else "bold red")
    t.append(f"  every {interval:g}s\n")
    t.append_text(totals(frame.domains))
    width = min(24, max(len(printable(h.name)) for h in frame.hosts))
    for host in frame.hosts:
        t.append("\n")
        t.append_text(host_line(host, width))
    return t


class SummaryBar(Static):
    """Two lines for one host; for a fleet, the totals and a line per host (at most 12 lines, then it scrolls)."""

    DEFAULT_CSS = """
    SummaryBar { height: auto; min-height: 2; max-height: 14; background: $boost; text-wrap: nowrap;
                 text-overflow: ellipsis; }
    """

    def show(self, frame: FleetFrame, interval: float) -> None:
        single = frame.single
        if single is not None:
            text = summary_text(single.frame, interval, single.label)
        else:
            text = fleet_text(frame, interval)
        if text.plain != getattr(self, "_plain", None):  # repaint only when something changed
            self._plain = text.plain
            self.update(text)
