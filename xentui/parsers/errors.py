"""The one exception every parser raises."""

from __future__ import annotations


class ParseError(ValueError):
    """Bad input: names the file, the position (line:column), what was expected there and what was found.

    The message is one line: `FILE:LINE:COL: expected …, found …`.
    """

    def __init__(self, source: str, position: str, expected: str, found: str = "something else") -> None:
        self.source = source
        self.position = position
        self.expected = expected
        self.found = found
        super().__init__(f"{source}:{position}: expected {expected}, found {found}")


def line_col(text: str, offset: int) -> str:
    """1-based `line:column` of a character offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


def found_at(text: str, offset: int, width: int = 24) -> str:
    """What the text holds at `offset`, for "found …": the rest of that line, quoted and cut; or the end."""
    rest = text[max(0, offset) :].split("\n", 1)[0].strip()
    if offset >= len(text) or not text[offset:].strip():
        return "the end of the input"
    if not rest:
        return "an empty line"
    return repr(rest if len(rest) <= width else rest[: width - 1] + "…")
