"""The summary card: a domain's boot, size, disks, NICs, consoles and graphics in plain words, one line each.

Every value comes from a guest's configuration and is hostile: lines are rich Text (never markup), control
characters are escaped, and each line is cut with … to the card's width instead of wrapping.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from xentui.model import Endpoint
from xentui.summary import Boot, Console, Disk, Nic, Summary
from xentui.text import printable

LABEL_WIDTH = 10
VALUE_LIMIT = 300  # characters kept of one value before the line is cut to the card's width
SEP = " · "


def _v(value: str) -> str:
    return printable(value, VALUE_LIMIT)


def _join(parts: list[Text]) -> Text:
    return Text(SEP, style="dim").join(parts)


def boot_text(boot: Boot) -> Text:
    if boot.by_hypervisor:
        return Text("started by the hypervisor (Domain-0)")
    parts: list[Text] = []
    if boot.firmware:
        parts.append(Text.assemble(("firmware ", "dim"), _v(boot.firmware)))
    if boot.order:
        parts.append(Text.assemble(("boots from ", "dim"), _v(", ".join(boot.order))))
    if boot.bootloader:
        args = f" {boot.bootloader_args}" if boot.bootloader_args else ""
        parts.append(Text.assemble(("bootloader ", "dim"), _v(boot.bootloader + args)))
    for word, value in (("kernel", boot.kernel), ("initrd", boot.ramdisk), ("cmdline", boot.cmdline)):
        if value:
            parts.append(Text.assemble((word + " ", "dim"), _v(value)))
    return _join(parts) if parts else Text("not in this configuration", style="dim italic")


def size_text(summary: Summary) -> Text:
    if summary.vcpus is None:
        cpus = "VCPUs unknown"
    else:
        cpus = f"{summary.vcpus} VCPU" + ("" if summary.vcpus == 1 else "s")
        if summary.max_vcpus is not None and summary.max_vcpus != summary.vcpus:
            cpus += f" (max {summary.max_vcpus})"
    if summary.memory_mib is None:
        mem = "memory unknown"
    else:
        mem = f"{summary.memory_mib} MiB"
        if summary.max_memory_unlimited:
            mem += " (no maximum)"
        elif summary.max_memory_mib is not None and summary.max_memory_mib != summary.memory_mib:
            mem += f" (max {summary.max_memory_mib} MiB)"
    return _join([Text(cpus), Text(mem)])


def disk_text(disk: Disk) -> Text:
    notes = [disk.device] if disk.device != "disk" else []
    if disk.readonly:
        notes.append("ro")
    line = Text(_v(disk.target or "?"), style="bold")
    line.append(" ← ", style="dim")
    if disk.source:
        line.append(_v(disk.source))
    else:
        line.append("(empty)", style="dim italic")
    if notes:
        line.append(f" ({', '.join(notes)})", style="dim")
    return line


def nic_text(nic: Nic) -> Text:
    line = Text(" ").join(Text(_v(part)) for part in (nic.link, nic.mac) if part)
    if nic.model:
        line.append(" " if line else "")
        line.append(_v(nic.model), style="bold")
    return line if line else Text("?", style="dim")


def console_text(console: Console) -> Text:
    line = Text(_v(console.kind))
    detail = " ".join(_v(p) for p in (console.type, console.path) if p)
    if detail:
        line.append(f" ({detail})", style="dim")
    return line


def graphics_text(endpoint: Endpoint) -> Text:
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    port = str(endpoint.port) if endpoint.port is not None else "auto"
    line = Text.assemble((_v(endpoint.kind).upper() + " ", "bold"), _v(f"{host or '*'}:{port}"))
    if endpoint.exposed:
        line.append(" ! listens on every interface", style="bold red")
    return line


def card_lines(summary: Summary) -> list[tuple[str, Text]]:
    """(label, value) for each fact the source gave; a fact it did not give has no line.

    Kinds of device the configuration lists none of share one last line, to leave the tree its room.
    """
    lines: list[tuple[str, Text]] = []
    if summary.boot is not None:
        lines.append(("Boot", boot_text(summary.boot)))
    lines.append(("CPU/Mem", size_text(summary)))
    # An exposed graphics server first, so that its warning is the last thing cut.
    graphics = sorted(summary.graphics, key=lambda e: not e.exposed) if summary.graphics is not None else None
    kinds: list[tuple[str, str, list[Text] | None]] = [
        ("Disks", "disks", [disk_text(d) for d in summary.disks] if summary.disks is not None else None),
        ("NICs", "NICs", [nic_text(n) for n in summary.nics] if summary.nics is not None else None),
        ("Console", "console", [console_text(c) for c in summary.consoles] if summary.consoles is not None else None),
        ("Graphics", "graphics", [graphics_text(e) for e in graphics] if graphics is not None else None),
    ]
    absent: list[str] = []
    for label, word, items in kinds:
        if items is None:
            continue
        if not items:
            absent.append(word)
            continue
        lines.append((label + (f" ({len(items)})" if len(items) > 1 else ""), _join(items)))
    if absent and summary.cut_short:
        lines.append(("Not seen", Text(", ".join(absent) + " (the configuration is cut short)", style="dim")))
    elif absent:
        lines.append(("Without", Text(", ".join(absent), style="dim")))
    return lines


def render_card(summary: Summary, width: int) -> list[Text]:
    """The card's lines, each at most `width` cells."""
    out = []
    for label, value in card_lines(summary):
        line = Text(label.ljust(LABEL_WIDTH - 1) + " ", style="bold", no_wrap=True, overflow="ellipsis")
        line.append_text(value)
        line.truncate(max(1, width), overflow="ellipsis")
        out.append(line)
    return out


class SummaryCard(Widget):
    DEFAULT_CSS = """
    SummaryCard { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.summary: Summary | None = None

    def show(self, summary: Summary | None) -> None:
        if summary == self.summary and self.display == (summary is not None):
            return
        self.summary = summary
        self.display = summary is not None
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(card_lines(self.summary)) if self.summary is not None else 0

    def lines(self) -> list[Text]:
        """What the card shows at its present width."""
        return render_card(self.summary, self.content_size.width) if self.summary is not None else []

    def render(self) -> Text:
        text = Text("\n", no_wrap=True, overflow="ellipsis").join(self.lines())
        text.no_wrap = True
        return text
