"""`xenstore-ls -f PATH`: one key a line, and the PV frontends found in a guest's `device` subtree.

The format, from Xen's xenstore_client.c (`do_ls`, `sanitise_value`), the same in Xen 4.x through 4.20:

    /local/domain/3/name = "hvmguest"      a key and its value
    /local/domain/3/device:                a key whose value could not be read (permissions)

Values are quoted but `"` itself is not escaped: the value runs to the last `"` of the line. Printable ASCII
other than `\\` is written as is; `\\t \\n \\r \\\\` as such; bytes below 8 as `\\NNN` (octal), every other byte
as `\\xNN`. Output is therefore one line per key, whatever the value holds. When stdout is a terminal,
xenstore-ls cuts a value to the terminal's width and ends it with `\\...`; through a pipe (as read here) it
never does, and a cut value is kept with "…" at its end.

Values are decoded back to what xenstore holds (UTF-8, bad bytes replaced): they are hostile text, shown
inert by the views.
"""

from __future__ import annotations

import re

from xentui.model import Frontend, XenstoreEntry
from xentui.parsers.errors import ParseError

_SIMPLE = {"t": 0x09, "n": 0x0A, "r": 0x0D, "\\": 0x5C}
_HEX = re.compile(r"[0-9a-fA-F]{2}")
_OCT = re.compile(r"[0-7]{1,3}")
_CUT = "\\..."


def unescape(body: str) -> str:
    """A value as xenstore-ls printed it (between the quotes) decoded to the text it stands for."""
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        if body[i:] == _CUT:
            return out.decode("utf-8", "replace") + "…"
        nxt = body[i + 1 : i + 2]
        if nxt in _SIMPLE:
            out.append(_SIMPLE[nxt])
            i += 2
        elif nxt == "x" and _HEX.match(body, i + 2):
            out.append(int(body[i + 2 : i + 4], 16))
            i += 4
        elif (m := _OCT.match(body, i + 1)) is not None:
            out.append(int(m.group(), 8) & 0xFF)
            i = m.end()
        else:  # not an escape xenstore-ls writes: keep the backslash as read
            out.append(0x5C)
            i += 1
    return out.decode("utf-8", "replace")


def parse_xenstore_ls(text: str, source: str = "xenstore-ls") -> tuple[XenstoreEntry, ...]:
    """Every key of `xenstore-ls -f` output, in its order (parents before children). A key whose value could
    not be read gets the value ""."""
    entries: list[XenstoreEntry] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        at = line.find(' = "')
        if at > 0 and line.endswith('"') and len(line) >= at + 5:
            entries.append(XenstoreEntry(line[:at], unescape(line[at + 4 : -1])))
        elif line.endswith(":") and " " not in line:
            entries.append(XenstoreEntry(line[:-1], ""))
        else:
            shown = line.strip()
            found = repr(shown if len(shown) <= 40 else shown[:39] + "…")
            raise ParseError(source, f"{n}:1", 'a key: PATH = "VALUE" or PATH:', found)
    return tuple(entries)


def _devid_order(f: Frontend) -> tuple[str, int, str]:
    return (f.kind, int(f.devid) if f.devid.isdigit() else -1, f.devid)


def frontends_of(entries: tuple[XenstoreEntry, ...], domid: int) -> tuple[Frontend, ...]:
    """The PV frontends under `/local/domain/N/device`: `<kind>/<devid>/state`, a XenbusState number. A state
    that is not a number (a guest may write anything there) counts as 0, Unknown."""
    pattern = re.compile(rf"/local/domain/{domid}/device/([^/]+)/([^/]+)/state")
    found = []
    for e in entries:
        m = pattern.fullmatch(e.path)
        if m is None:
            continue
        value = e.value.strip()
        state = int(value) if value.isdigit() and len(value) < 4 else 0
        found.append(Frontend(m.group(1), m.group(2), state))
    return tuple(sorted(found, key=_devid_order))
