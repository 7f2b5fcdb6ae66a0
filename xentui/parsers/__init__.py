"""Pure parsers from text to the model. No I/O; each raises only ParseError."""

from xentui.parsers.errors import ParseError

__all__ = ["ParseError"]
