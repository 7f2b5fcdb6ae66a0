"""The SSH tunnel and viewer commands to run on the admin's workstation."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from xentui.actions.vnc import Hint
from xentui.text import printable
from xentui.ui.screens.dialog import Dialog


class VncHintScreen(Dialog[None]):
    BINDINGS = [("escape,q,enter", "dismiss", "Close")]
    DEFAULT_CSS = "VncHintScreen > .box { width: 100; border: thick $accent; }"

    def __init__(self, hint: Hint, copied: bool) -> None:
        super().__init__()
        self.hint = hint
        self.copied = copied

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            body = Text()
            for line in self.hint.lines:
                body.append(printable(line) + "\n", style="bold" if line.startswith("  ") else "")
            if self.hint.warning:
                body.append("\n" + printable(self.hint.warning) + "\n", style="bold red")
            body.append("\nOpen: ")
            body.append(self.hint.url, style=f"link {self.hint.url} underline")
            if self.copied:
                body.append(
                    "\nThe commands were copied to your clipboard (OSC 52, where the terminal allows it).", style="dim"
                )
            body.append("\nEsc closes this.", style="dim")
            yield Static(body, id="vnc-hint")
