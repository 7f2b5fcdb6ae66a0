"""The header: host, hypervisor, the host's memory and CPUs, source, totals by state and by mode, interval,
read-only and demo markers.

With several hosts: a line of fleet totals, then a line per host with its condition, memory, CPUs and totals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from xentui.columns import human_mib
from xentui.fleet import FleetFrame, HostStatus
from xentui.model import Domain, HostInfo, Mode, State
from xentui.poller import Frame
from xentui.text import printable

CONDITION_STYLE = {
    "connecting": "italic",
    "connected": "green",
    "auth failed": "bold red",
    "unreachable": "bold red",
    "disconnected": "bold red",
}


def resources_text(host: HostInfo, compact: bool = False) -> str:
    """The host's memory and CPUs as xentop's header gives them ("Mem: …k total, …k used, …k free  CPUs: …"),
    in MiB/GiB: "Mem 64.0G total, 22.5G used, 41.5G free, 32 CPUs", compact "41.5G free/64.0G, 32 CPUs".
    A figure the source does not know is left out (never shown as 0); "" when it knows none."""
    total, free = host.memory_kib, host.free_memory_kib
    parts: list[str] = []
    if total is not None and free is not None:
        if compact:
            parts.append(f"{human_mib(free)} free/{human_mib(total)}")
        else:
            parts.append(
                f"Mem {human_mib(total)} total, {human_mib(max(0, total - free))} used, {human_mib(free)} free"
            )
    elif total is not None:
        parts.append(f"{human_mib(total)} mem" if compact else f"Mem {human_mib(total)} total")
    elif free is not None:
        parts.append(f"{human_mib(free)} free")
    if host.cpus is not None:
        parts.append(f"{host.cpus} CPU" + ("" if host.cpus == 1 else "s"))
    return ", ".join(parts)


def _identity(frame: Frame, interval: float, resources: str, with_source: bool) -> Text:
    """The first line of one host: name, hypervisor, memory and CPUs, source, markers, interval."""
    host = frame.snapshot.host if frame.snapshot is not None else None
    t = Text(no_wrap=True, overflow="ellipsis")
    if host is None:
        return t
    t.append(f" {printable(host.hostname)} ", style="bold reverse")
    t.append(f" {printable(host.hypervisor)}", style="bold")
    if resources:
        t.append(f"  {resources}")
    if with_source:
        t.append(f"  {printable(host.source)}", style="bright_black" if resources else "")
    if host.demo:
        t.append("  DEMO DATA", style="bold black on yellow")
    t.append("  read-only" if host.read_only else "  READ-WRITE", style="cyan" if host.read_only else "bold red")
    t.append(f"  every {interval:g}s")
    if not frame.connected:
        t.append(f"  DISCONNECTED — retrying in {frame.retry_in:.0f} s: {printable(frame.error, 80)}", style="bold red")
    return t


def summary_text(frame: Frame | None, interval: float, source_label: str, width: int | None = None) -> Text:
    """Two lines for one host. When the memory and CPUs make the first line wider than `width` (the classic 80
    columns), the source's label goes first, then the figures get compact, then they move to the end of the
    second line, and only if that cannot hold them either they get a third line."""
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
    full, compact = resources_text(snap.host), resources_text(snap.host, compact=True)
    second = totals(snap.domains)
    if snap.problems:
        second.append(f"  {len(snap.problems)} warning(s): {printable(snap.problems[0], 60)}", style="yellow")
    # Away: the figures are the last snapshot's, not worth a line; the reason is.
    first = _identity(frame, interval, full if frame.connected else "", with_source=True)
    extra = ""  # the memory and CPUs on a line of their own
    if width is not None and full and first.cell_len > width and frame.connected:
        for resources, with_source in ((full, False), (compact, False)):
            first = _identity(frame, interval, resources, with_source)
            if first.cell_len <= width:
                break
        else:
            first = _identity(frame, interval, "", with_source=False)
            second.rstrip()
            if compact and second.cell_len + 3 + len(compact) <= width:
                second.append(f" | {compact}")
            else:
                extra = full
    t.append_text(first)
    t.append("\n")
    t.append_text(second)
    if extra:
        t.append(f"\n {extra}")
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
        resources = resources_text(snap.host, compact=True)
        if resources:
            t.append(f"  {resources}")
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
        self._shown_args = (frame, interval)
        single = frame.single
        if single is not None:
            text = summary_text(single.frame, interval, single.label, self.size.width or None)
        else:
            text = fleet_text(frame, interval)
        if text.plain != getattr(self, "_plain", None):  # repaint only when something changed
            self._plain = text.plain
            self.update(text)

    def on_resize(self) -> None:
        shown = getattr(self, "_shown_args", None)
        if shown is not None:
            self.show(*shown)
