"""S-expressions as xend (`xm list -l`) and xl (`output_format="sxp"`) print them.

xend writes atoms bare and other strings as Python reprs, so `'a|b'`, `''` and `"it's"` all occur.
Pasted outputs are often cut short. This module finds the top-level records, tokenizes them with
positions (for good errors), and lets sexpdata build the nested lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import sexpdata

from xentui.model import ConfigNode
from xentui.parsers.errors import ParseError, found_at, line_col

Sx = Union[str, list["Sx"]]

MAX_DEPTH = 200
_ELISION = re.compile(r"\.{3,}|…+")  # "......" marks lines elided when pasted
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}


@dataclass(frozen=True)
class Record:
    """One complete top-level list and where it starts in the text."""

    value: list[Sx]
    offset: int
    text: str
    cut: bool = False  # the text ended inside this record


@dataclass(frozen=True)
class Records:
    records: tuple[Record, ...]
    truncated_at: str | None  # line:column where the text ended inside a record
    stray_closes: tuple[str, ...] = ()  # line:column of ')' after a complete record, closing nothing


class _TextAtoms(sexpdata.Parser):  # type: ignore[misc]
    """Every atom stays the text it was; numbers are converted by the reader that needs them."""

    def atom(self, token: str) -> str:
        return token


def _read_quoted(text: str, i: int, source: str) -> tuple[str, int]:
    """Decode a Python-repr style string starting at text[i] (a quote); return it and the index after it."""
    quote = text[i]
    out: list[str] = []
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == quote:
            return "".join(out), j + 1
        if c == "\\" and j + 1 < n:
            e = text[j + 1]
            if e == "x" and j + 3 < n:
                try:
                    out.append(chr(int(text[j + 2 : j + 4], 16)))
                    j += 4
                    continue
                except ValueError:
                    pass
            out.append(_ESCAPES.get(e, "\\" + e))
            j += 2
            continue
        out.append(c)
        j += 1
    raise _Cut()


class _Cut(Exception):
    """The text ended inside a string or list."""


def _quote_for_sexpdata(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tokenize_record(text: str, start: int, source: str) -> tuple[str, int, bool]:
    """Rewrite one record starting at text[start] == '(' into sexpdata-safe text.

    Returns the rewritten text, the index after the record, and whether the text ended first
    (then the open lists are closed so the record can still be read as far as it goes).
    """
    out: list[str] = []
    depth = 0
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise ParseError(
                    source, line_col(text, i), f"lists nested at most {MAX_DEPTH} deep", f"more than {MAX_DEPTH}"
                )
            out.append("(")
            i += 1
        elif c == ")":
            depth -= 1
            out.append(")")
            i += 1
            if depth == 0:
                return " ".join(out), i, False
        elif c.isspace():
            i += 1
        elif c in "'\"":
            try:
                value, i = _read_quoted(text, i, source)
            except _Cut:
                break
            out.append(_quote_for_sexpdata(value))
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "()'\"":
                j += 1
            atom = text[i:j]
            if not _ELISION.fullmatch(atom):
                out.append(atom if _plain_atom(atom) else _quote_for_sexpdata(atom))
            i = j
    return " ".join(out) + ")" * depth, n, True


def _plain_atom(atom: str) -> bool:
    return all(ch.isalnum() or ch in "-_./:@+=,*%<>!?&|~^$" for ch in atom) and atom not in ("nil", "t")


def read_records(text: str, source: str = "<input>") -> Records:
    """All top-level records. A record cut short at the end is read as far as it goes and reported."""
    if "\0" in text:
        raise ParseError(source, line_col(text, text.index("\0")), "text", "a NUL byte (binary data)")
    records: list[Record] = []
    i = 0
    n = len(text)
    truncated: str | None = None
    stray: list[str] = []
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == ")" and records:
            # One ')' too many after a record (libvirt's own xend test data has them); xend's reader stopped
            # at the end of the first expression, so the record stands.
            stray.append(line_col(text, i))
            i += 1
            continue
        if c != "(":
            if records:
                raise ParseError(source, line_col(text, i), "'(' to open a record", found_at(text, i))
            # Text before the first record: a pasted shell prompt or command line. Skip that line.
            nl = text.find("\n", i)
            if nl < 0:
                break
            i = nl + 1
            continue
        rewritten, end, cut = _tokenize_record(text, i, source)
        try:
            value = _TextAtoms(rewritten, nil=None, true=None, line_comment="\0").parse()
        except (sexpdata.ExpectClosingBracket, sexpdata.ExpectNothing, RecursionError, IndexError) as exc:
            raise ParseError(source, line_col(text, i), "a well-formed S-expression", str(exc)) from None
        if not value or not isinstance(value[0], list):
            raise ParseError(source, line_col(text, i), "a list", found_at(text, i))
        records.append(Record(value[0], i, text[i:end], cut))
        if cut:
            truncated = line_col(text, n)
        i = end
    if not records:
        raise ParseError(source, line_col(text, n), "an S-expression record such as '(domain ...)'", found_at(text, n))
    return Records(tuple(records), truncated, tuple(stray))


def render(sx: Sx) -> str:
    """Back to one-line text, for values that are not simple atoms."""
    if isinstance(sx, str):
        return sx if sx and _plain_atom(sx) else repr(sx)
    return "(" + " ".join(render(x) for x in sx) + ")"


def to_node(sx: Sx, key: str = "") -> ConfigNode:
    """`(key atom...)` becomes a leaf; `(key (sub ...) ...)` a branch."""
    if isinstance(sx, str):
        return ConfigNode(key or sx)
    if not sx:
        return ConfigNode(key or "()", "")
    head, rest = sx[0], sx[1:]
    if not isinstance(head, str):
        return ConfigNode(key or "()", render(sx))
    atoms = [x for x in rest if isinstance(x, str)]
    lists = [x for x in rest if not isinstance(x, str)]
    named = [x for x in lists if x and isinstance(x[0], str)]
    if lists and len(named) == len(lists):
        children = tuple(to_node(x) for x in named)
        return ConfigNode(head, " ".join(atoms) or None, children)
    if lists:
        return ConfigNode(head, " ".join(render(x) for x in rest))
    return ConfigNode(head, " ".join(atoms))
