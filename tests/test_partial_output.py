from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from textual._compositor import ChopsUpdate
from textual.strip import Strip

from xentui.ui import partial_output


def _update(text: str, span: tuple[int, int, int]) -> ChopsUpdate:
    strip = Strip([Segment(text[:10]), Segment(text[10:])])
    return ChopsUpdate([{0: strip}], [span], [[len(text)]])


def test_installed_and_writes_only_the_dirty_cells() -> None:
    assert partial_output.install()
    out = _update("guest-0001  73.2  18:14:30", (0, 12, 16)).render_segments(Console())
    assert out.startswith("\x1b[1;13H") and "guest" not in out and "73.2" in out and "18:14" not in out


def test_double_width_character_is_never_split() -> None:
    partial_output.install()
    # "名" is two cells wide at cells 0-1: a cut at cell 1 would split it, so the whole chop is written.
    strip = Strip([Segment("名ab"), Segment("cd")])
    out = ChopsUpdate([{0: strip}], [(0, 1, 4)], [[6]]).render_segments(Console())
    assert out.startswith("\x1b[1;1H") and "名" in out
