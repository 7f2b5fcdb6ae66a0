"""`xl list -l` JSON: `[{"domid": N, "config": {"c_info": ..., "b_info": ...}}]`, or one bare
libxl_domain_config `{"c_info": ..., "b_info": ...}` as `xl create -n` prints it (a domain without an ID).

This output carries no run state; callers merge it with `xl list`. Booleans are strings
("True", "False", "<default>"). b_info holds libxl's keyed union: "type.pv" / "type.hvm" / "type.pvh".
"""

from __future__ import annotations

import json
import re
from typing import Any

from xentui.model import Domain, DomainConfig, Endpoint, Mode, State
from xentui.parsers.errors import ParseError, found_at, line_col
from xentui.parsers.result import ParseResult
from xentui.parsers.tree import from_json, json_get, json_str, mark_decisive, to_int, truthy
from xentui.parsers.verdict import xl_verdict

# Domain IDs above this are libxl's "invalid" placeholder (4294967295 in c_info.domid).
_MAX_DOMID = 0x7FF0
_ELIDED_LINE = re.compile(r"^[ \t]*(\.{3,}|…+)[ \t]*,?[ \t]*$", re.M)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
MAX_DEPTH = 200


def _depth_ok(text: str) -> bool:
    depth = 0
    in_str = False
    esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _records(text: str, source: str) -> tuple[list[tuple[Any, int, str]], list[str]]:
    """The array's elements with their offsets and texts; tolerates a cut-short end and '...' elisions."""
    problems: list[str] = []
    if _ELIDED_LINE.search(text):
        text = _TRAILING_COMMA.sub(r"\1", _ELIDED_LINE.sub("", text))
        problems.append(f"{source}: lines elided with '...' were skipped")
    if not _depth_ok(text):
        raise ParseError(source, "1:1", f"JSON nested at most {MAX_DEPTH} deep", f"more than {MAX_DEPTH}")
    decoder = json.JSONDecoder()
    i = len(text) - len(text.lstrip())
    if i >= len(text):
        raise ParseError(source, "1:1", "a JSON array of domains", "nothing")
    if text[i] == "{":  # a single object, as printed for one domain by some tools
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise ParseError(
                source, line_col(text, exc.pos), "valid JSON", f"{found_at(text, exc.pos)} ({exc.msg})"
            ) from None
        return [(obj, i, text[i:end])], problems
    if text[i] != "[":
        raise ParseError(source, line_col(text, i), "'[' opening a JSON array of domains", found_at(text, i))
    i += 1
    out: list[tuple[Any, int, str]] = []
    n = len(text)
    while True:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n:
            problems.append(f"{source}:{line_col(text, n)}: output cut short; complete records kept")
            return out, problems
        if text[i] == "]":
            rest = text[i + 1 :].strip()
            if rest:
                at = i + 1 + text[i + 1 :].index(rest[0])
                raise ParseError(source, line_col(text, at), "the end of the input", found_at(text, at))
            return out, problems
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            if exc.pos >= n - 1 or "Unterminated" in exc.msg or exc.pos >= len(text.rstrip()):
                problems.append(f"{source}:{line_col(text, i)}: record cut short (output truncated?), skipped")
                return out, problems
            raise ParseError(
                source, line_col(text, exc.pos), "valid JSON", f"{found_at(text, exc.pos)} ({exc.msg})"
            ) from None
        except RecursionError:
            raise ParseError(source, line_col(text, i), "JSON nested less deeply", "deeper nesting") from None
        out.append((obj, i, text[i:end]))
        i = end


def _vnc(node: Any, kind: str = "vnc") -> Endpoint | None:
    if not isinstance(node, dict) or truthy(json_str(node.get("enable"))) is not True:
        return None
    host = json_str(node.get("listen")) or "127.0.0.1"
    if kind == "spice":
        port = to_int(json_str(node.get("port")), 0) or None
        return Endpoint("spice", json_str(node.get("host")) or host, port)
    display = node.get("display")
    unused = truthy(json_str(node.get("findunused")))
    port = 5900 + to_int(json_str(display)) if display is not None and unused is not True else None
    return Endpoint("vnc", host, port)


def parse_xl_json(text: str, source: str = "<input>") -> ParseResult:
    if "\0" in text:
        raise ParseError(source, line_col(text, text.index("\0")), "text", "a NUL byte (binary data)")
    items, problems = _records(text, source)
    domains: list[Domain] = []
    for obj, offset, raw in items:
        where = line_col(text, offset)
        if isinstance(obj, dict) and isinstance(obj.get("config"), dict):
            domains.append(_domain(obj, obj["config"], raw, source, where))
        elif isinstance(obj, dict) and isinstance(obj.get("c_info"), dict):
            # A bare libxl_domain_config (`xl create -n`, libvirt's libxl test data): one domain, no ID.
            domains.append(_domain(obj, obj, raw, source, where))
        else:
            found = f"an object with keys {', '.join(list(obj)[:4])}" if isinstance(obj, dict) and obj else _kind(obj)
            raise ParseError(source, where, 'an object with "domid" and "config", or a libxl_domain_config', found)
    return ParseResult(tuple(domains), tuple(problems))


def _kind(obj: Any) -> str:
    return {dict: "an empty object", list: "an array", str: "a string", bool: "a boolean"}.get(type(obj), "a number")


def _size(v: Any) -> int | None:
    """A size or count; None when absent, elided, "<default>" or libxl's all-ones "not set" value."""
    n = to_int(json_str(v), -1)
    return n if 0 < n < 2**62 else None


def _domain(obj: dict[str, Any], config: dict[str, Any], raw: str, source: str, where: str) -> Domain:
    c_info = json_get(config, "c_info") or {}
    b_info = json_get(config, "b_info") or {}
    name = json_str(json_get(c_info, "name"))
    if not name:
        raise ParseError(source, where, 'a "c_info.name"', "none")
    verdict = xl_verdict(config)
    wrapped = config is not obj
    domid_raw = obj.get("domid") if wrapped else None
    domid = domid_raw if isinstance(domid_raw, int) and 0 <= domid_raw < _MAX_DOMID else None
    memory = _size(json_get(b_info, "target_memkb"))
    max_memory = _size(json_get(b_info, "max_memkb")) or memory
    max_vcpus = _size(json_get(b_info, "max_vcpus"))
    avail = json_get(b_info, "avail_vcpus")
    online = len(avail) if isinstance(avail, list) and avail else max_vcpus
    hvm = json_get(b_info, "type.hvm") if isinstance(b_info, dict) else None
    graphics: list[Endpoint] = []
    for node, kind in ((json_get(hvm, "vnc"), "vnc"), (json_get(hvm, "spice"), "spice")):
        ep = _vnc(node, kind)
        if ep is not None:
            graphics.append(ep)
    for vfb in config.get("vfbs") or []:
        ep = _vnc(json_get(vfb, "vnc"))
        if ep is not None and ep not in graphics:  # libvirt writes an HVM guest's VNC in both places
            graphics.append(ep)
    serial = json_get(hvm, "serial") or json_get(hvm, "serial_list")
    has_console = domid != 0 and (verdict.mode is not Mode.HVM or bool(serial))
    prefix = ("config",) if wrapped else ()
    decisive = {(*prefix, *f.split("/")) for f in verdict.fields}
    tree = mark_decisive(from_json("domain" if wrapped else "config", obj), decisive)
    return Domain(
        name=name,
        id=domid,
        uuid=json_str(json_get(c_info, "uuid")),
        state=State.UNKNOWN,
        memory_kib=memory,
        max_memory_kib=max(max_memory, memory or 0) if max_memory is not None else None,
        vcpus=online,
        max_vcpus=max_vcpus,
        mode=verdict.mode,
        pv_drivers=verdict.pv_drivers,
        source=source,
        hypervisor="xen",
        has_console=has_console,
        graphics=tuple(graphics),
        config=DomainConfig("xl-json", tree, raw, verdict),
    )
