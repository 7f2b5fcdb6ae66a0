"""`?`: every key, written from the app's own bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from xentui.ui.screens.dialog import Dialog


def keys_table(bindings: list[BindingType]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", justify="right")
    table.add_column()
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            table.add_row(Text(b.key_display or b.key), Text(b.description))
    return table


class HelpScreen(Dialog[None]):
    BINDINGS = [("escape,q,question_mark", "dismiss", "Close")]
    DEFAULT_CSS = "HelpScreen > .box { width: 84; }"

    def __init__(self, bindings: list[BindingType]) -> None:
        super().__init__()
        self.key_list = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="box"):
            yield Static(Text("xentui — keys", style="bold"))
            yield Static(keys_table(self.key_list))
            yield Static(
                Text(
                    "\nModes, and what decides them (marked ◀ mode in the detail pane):\n"
                    "  PV   image (linux …) or no image; c_info.type pv; <os><type>linux|xen\n"
                    "  HVM  image (hvm …), loader hvmloader; c_info.type hvm; <os><type>hvm\n"
                    "       +pv: PV frontends connected, where the source reads xenstore;\n"
                    "       else by the config (xen_platform_pci 1, Xen PV disks/NICs)\n"
                    "  PVH  c_info.type pvh (or pv with pvh True); <os><type>xenpvh\n"
                    "\nX: the selected domain's xenstore (/local/domain/N), read when it is\n"
                    "opened or another domain is selected, not on every refresh.\n"
                    "\nMouse: click a header to sort (again to reverse), click a row's con\n"
                    "to attach its console, double-click a row for its detail.\n"
                    "Lifecycle actions need xentui --rw. Esc closes this.",
                    style="dim",
                )
            )
