"""Write only the dirty part of each screen line, not everything from the widget's left edge.

Textual's partial update (ChopsUpdate.render_segments) crops the end of each changed span but starts
writing at the left edge of the widget. The domain table spans the whole line, so a changed CPU% cell
rewrote the name, ID, state, mode and memory columns too: about 60 % of the bytes sent each second.
This replacement also crops the start, unless that would split a double-width character (then it
keeps Textual's behaviour for that chop). It is installed only on the Textual major version it was
tested with and when ChopsUpdate has the shape it expects, so any other Textual keeps its own code.
Where no start is cropped, its output is byte-identical to Textual's (tests/test_partial_output.py).
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.control import Control
from textual.strip import Strip

try:
    from textual import _compositor
except ImportError:  # pragma: no cover - a Textual without it keeps its own output path
    _compositor = None  # type: ignore[assignment]

TESTED_TEXTUAL_MAJOR = 8  # pyproject pins textual below the next major; a new major is tested before it is allowed
TEXTUAL_RENDER_SEGMENTS: Any = getattr(getattr(_compositor, "ChopsUpdate", None), "render_segments", None)


def _textual_major() -> int | None:
    import textual

    try:
        return int(str(textual.__version__).split(".")[0])
    except (ValueError, AttributeError, ImportError):
        return None


def _cuttable(strip: Strip, offset: int) -> bool:
    """True when `offset` falls on a character boundary that single-width cells make safe to cut at."""
    pos = 0
    for segment in strip:
        length = cell_len(segment.text)
        if pos + length > offset:
            return pos == offset or length == len(segment.text)
        pos += length
    return True


def render_segments(self: Any, console: Console) -> str:
    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    chops = self.chops
    chop_ends = self.chop_ends
    last_y = self.spans[-1][0]
    for y, x1, x2 in self.spans:
        for end, (x, strip) in zip(chop_ends[y], chops[y].items()):
            if strip is None or x > x2 or end <= x1:
                continue
            start = x1 - x if x < x1 and _cuttable(strip, x1 - x) else 0
            append(move_to(x + start, y).segment.text)
            append(strip.crop(start, min(end, x2) - x).render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> bool:
    if _textual_major() != TESTED_TEXTUAL_MAJOR:
        return False
    expected = ("chops", "spans", "chop_ends")
    chops_update: Any = getattr(_compositor, "ChopsUpdate", None)
    if chops_update is None or not hasattr(chops_update, "render_segments"):
        return False
    try:
        probe = chops_update([{0: Strip([])}], [(0, 0, 0)], [[0]])
    except TypeError:
        return False
    if not all(hasattr(probe, name) for name in expected):
        return False
    chops_update.render_segments = render_segments
    return True
