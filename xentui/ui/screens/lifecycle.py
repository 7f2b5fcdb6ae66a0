"""Lifecycle actions: choose one, then confirm it by name and host (destroy: type the name back)."""

from __future__ import annotations

from typing import Optional

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from xentui.model import Domain
from xentui.sources.base import Lifecycle
from xentui.text import printable
from xentui.ui.screens.dialog import Dialog


class LifecycleScreen(Dialog[Optional[Lifecycle]]):  # a base class is evaluated at run time
    """`choices`: what makes sense for the domain and its source (`xentui.sources.base.lifecycle_choices`)."""

    BINDINGS = [("escape", "dismiss(None)", "Cancel")]

    def __init__(self, domain: Domain, host: str, choices: tuple[Lifecycle, ...]) -> None:
        super().__init__()
        self.domain = domain
        self.host = host
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="box warning"):
            yield Static(Text(f"{printable(self.domain.name, 60)} on {printable(self.host, 40)}", style="bold"))
            yield OptionList(*(Option(a.label, id=a.value) for a in self.choices), id="actions")
            yield Static(Text("Enter chooses, Esc cancels", style="dim"))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(Lifecycle(event.option.id) if event.option.id else None)


class ConfirmScreen(Dialog[bool]):
    """y confirms; for destroy, the domain's name must be typed back exactly."""

    BINDINGS = [("escape", "dismiss(False)", "Cancel")]

    def __init__(self, domain: Domain, host: str, action: Lifecycle) -> None:
        super().__init__()
        self.domain = domain
        self.host = host
        self.action = action

    @property
    def typed(self) -> bool:
        return self.action.destructive

    def compose(self) -> ComposeResult:
        name = printable(self.domain.name, 60)
        with Vertical(classes="box warning"):
            question = Text(f"{self.action.verb} {name} on {printable(self.host, 40)}?", style="bold")
            yield Static(question, id="question")
            if self.typed:
                yield Static(Text("Destroy stops it at once, like pulling the power cord. Type its name to go on:"))
                yield Input(placeholder=name, id="typed-name")
            else:
                yield Static(Text("y: yes   n or Esc: no", style="dim"))

    def on_mount(self) -> None:
        if self.typed:
            self.query_one(Input).focus()

    def on_key(self, event: events.Key) -> None:
        if self.typed:
            return
        if event.key == "y":
            self.dismiss(True)
        elif event.key == "n":
            self.dismiss(False)

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        if event.value == self.domain.name:
            self.dismiss(True)
        else:
            self.notify("the name does not match: nothing was done", severity="warning", markup=False)
            self.dismiss(False)
