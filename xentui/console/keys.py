"""Textual key events as the bytes a VT100-style terminal sends to the guest."""

from __future__ import annotations

_SPECIAL = {
    "enter": b"\r",
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "backspace": b"\x7f",
    "escape": b"\x1b",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "insert": b"\x1b[2~",
    "delete": b"\x1b[3~",
    "f1": b"\x1bOP",
    "f2": b"\x1bOQ",
    "f3": b"\x1bOR",
    "f4": b"\x1bOS",
    "f5": b"\x1b[15~",
    "f6": b"\x1b[17~",
    "f7": b"\x1b[18~",
    "f8": b"\x1b[19~",
    "f9": b"\x1b[20~",
    "f10": b"\x1b[21~",
    "f11": b"\x1b[23~",
    "f12": b"\x1b[24~",
}
_CTRL_NAMES = {
    "ctrl+right_square_bracket": 0x1D,
    "ctrl+backslash": 0x1C,
    "ctrl+circumflex_accent": 0x1E,
    "ctrl+underscore": 0x1F,
    "ctrl+at": 0x00,
    "ctrl+space": 0x00,
}


def control_code(key: str) -> int | None:
    """The control character a `ctrl+…` key name stands for (ctrl+a → 1, ctrl+right_square_bracket → 0x1d)."""
    if key in _CTRL_NAMES:
        return _CTRL_NAMES[key]
    if key.startswith("ctrl+") and len(key) == 6 and key[5].isalpha() and key[5].isascii():
        return ord(key[5].lower()) - 96
    return None


def control_key_name(code: int) -> str:
    """Textual's name for the key that sends control character `code` (0x1d → ctrl+right_square_bracket)."""
    for name, value in _CTRL_NAMES.items():
        if value == code:
            return name
    return f"ctrl+{chr(code + 96)}"


def key_bytes(key: str, character: str | None) -> bytes:
    """What to send for one key; b"" for keys a serial terminal has no code for."""
    if key in _SPECIAL:
        return _SPECIAL[key]
    code = control_code(key)
    if code is not None:
        return bytes([code])
    if character:
        return character.encode("utf-8", "replace")
    return b""


def is_detach(key: str, character: str | None, detach: int) -> bool:
    return character == chr(detach) or control_code(key) == detach
