"""The look every dialog shares: a bordered box centred over the dashboard."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT]):
    """Subclasses put their content in a container of class "box" ("box warning" for actions on a guest)."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > .box { height: auto; max-height: 90%; background: $surface; padding: 1 2; border: thick $primary; }
    Dialog > .box.warning { width: 72; border: thick $warning; }
    Dialog OptionList { height: auto; max-height: 10; }
    """
