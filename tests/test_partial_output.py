from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
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


styles = st.sampled_from([Style(), Style(bold=True), Style(color="red"), Style(bgcolor="blue", italic=True)])
segments = st.lists(st.tuples(st.text(alphabet="abc xyz019-.", min_size=1, max_size=8), styles), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.lists(st.tuples(st.integers(0, 30), segments), min_size=1, max_size=3), min_size=1, max_size=4),
    data=st.data(),
)
def test_byte_identical_to_textual_where_nothing_is_cropped_at_the_start(lines, data) -> None:  # type: ignore[no-untyped-def]
    """Chops that start inside the dirty span (no start cropping): the output equals Textual's own, byte for byte."""
    assert partial_output.TEXTUAL_RENDER_SEGMENTS is not None
    chops: list[dict[int, Strip | None]] = []
    chop_ends: list[list[int]] = []
    spans: list[tuple[int, int, int]] = []
    for y, line in enumerate(lines):
        row: dict[int, Strip | None] = {}
        ends: list[int] = []
        x = 0
        for gap, segs in line:
            x += gap
            strip = Strip([Segment(text, style) for text, style in segs])
            row[x] = strip
            x += strip.cell_length
            ends.append(x)
        chops.append(row)
        chop_ends.append(ends)
        first = min(row)  # the dirty span starts at or before every chop: nothing is cut at a chop's start
        x1 = data.draw(st.integers(0, first))
        x2 = data.draw(st.integers(x1, x + 5))
        spans.append((y, x1, x2))
    update = ChopsUpdate(chops, spans, chop_ends)
    console = Console(color_system="truecolor", force_terminal=True, width=200)
    ours = partial_output.render_segments(update, console)
    textual = partial_output.TEXTUAL_RENDER_SEGMENTS(update, console)
    assert ours == textual


def test_installed_only_on_the_tested_textual_major(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import textual

    assert partial_output.install()  # this Textual is the tested one (pyproject pins it)
    monkeypatch.setattr(textual, "__version__", f"{partial_output.TESTED_TEXTUAL_MAJOR + 1}.0.0")
    assert not partial_output.install()
