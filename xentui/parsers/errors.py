"""The one exception every parser raises."""

from __future__ import annotations


class ParseError(ValueError):
    """Bad input: names the file, the position (line:column) and what was expected there."""

    def __init__(self, source: str, position: str, expected: str) -> None:
        self.source = source
        self.position = position
        self.expected = expected
        super().__init__(f"{source}:{position}: {expected}")


def line_col(text: str, offset: int) -> str:
    """1-based `line:column` of a character offset."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"
