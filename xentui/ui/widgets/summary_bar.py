"""The header: host, source, hypervisor, totals by state and by mode, interval, read-only and demo markers."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual.widgets import Static

from xentui.model import Mode, State
from xentui.poller import Frame
from xentui.text import printable


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
    states = Counter(d.state for d in snap.domains)
    modes = Counter(d.mode for d in snap.domains)
    t.append(f" {len(snap.domains)} domains: ", style="bold")
    parts = [
        (states[State.RUNNING] + states[State.BLOCKED], "running", "green"),
        (states[State.PAUSED], "paused", "yellow"),
        (states[State.SHUTOFF], "off", "bright_black"),
        (states[State.CRASHED] + states[State.DYING], "crashed", "red"),
        (states[State.SHUTDOWN] + states[State.UNKNOWN], "other", "magenta"),
    ]
    t.append_text(Text(", ").join(Text(f"{n} {label}", style=style) for n, label, style in parts if n))
    t.append("  |  ")
    for mode in (Mode.PV, Mode.HVM, Mode.PVH, Mode.UNKNOWN):
        if modes[mode] or mode is not Mode.UNKNOWN:
            t.append(f"{mode.value} {modes[mode]}  ", style="bold")
    if snap.problems:
        t.append(f"  {len(snap.problems)} warning(s): {printable(snap.problems[0], 60)}", style="yellow")
    return t


class SummaryBar(Static):
    DEFAULT_CSS = "SummaryBar { height: 2; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }"

    def show(self, frame: Frame | None, interval: float, source_label: str) -> None:
        text = summary_text(frame, interval, source_label)
        if text.plain != getattr(self, "_plain", None):  # repaint only when something changed
            self._plain = text.plain
            self.update(text)
