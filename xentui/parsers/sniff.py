"""Recognise a saved output by its content and parse it; merge run state from tables into configs."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from xentui.model import Domain, IOCounters, Mode, State, flags_for
from xentui.parsers.errors import ParseError, found_at, line_col
from xentui.parsers.libvirt_xml import parse_domain_xml
from xentui.parsers.tables import ListRow, TopRow, parse_list_table, parse_xentop, xentop_state
from xentui.parsers.xl_json import parse_xl_json
from xentui.parsers.xm import parse_sxp_domains

MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Parsed:
    format: str
    domains: tuple[Domain, ...]
    problems: tuple[str, ...] = ()
    table: bool = False  # rows from a table: run state without configuration


# A shell prompt pasted before the output: "[root@host ~]# xm list -l", "root@dom0:~# ...", "dom0:~ # ..."
# (SUSE), "$ xl list -l".
_PROMPT = re.compile(r"^\s*(\[[^\]\n]*\]|[\w.-]+@[\w.-]+(:[^\s#$]*)?|[\w.-]+:[^\s#$]*|[~/\w.-]*)\s?[#$%>](\s|$)")


def _format_of(line: str) -> str:
    s = line.strip()
    if s[0] in "[{":
        return "xl-json"
    if s[0] == "<":
        return "xml"
    if s[0] == "(":
        return "sxp"
    words = s.split()
    if words[0] == "Name" and ("Mem" in words or "Mem(MiB)" in words):
        return "list-table"
    if words[:2] == ["NAME", "STATE"]:
        return "xentop"
    return ""


def detect(text: str) -> str:
    """One of: xl-json, xml, sxp, list-table, xentop; or "" when unrecognised."""
    return _detect(text)[0]


def _detect(text: str) -> tuple[str, int]:
    """The format and the offset of the line it starts on; prompt lines and other lines before it are skipped."""
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip() and not _PROMPT.match(line):
            fmt = _format_of(line)
            if fmt:
                return fmt, offset
        offset += len(line)
    return "", 0


def _blank(text: str, end: int) -> str:
    """The text with everything before `end` made spaces (newlines kept), so positions stay those of the file."""
    head = text[:end]
    return "".join(c if c == "\n" else " " for c in head) + text[end:]


def parse_text(text: str, source: str = "<input>") -> Parsed:
    if len(text) > MAX_BYTES:
        raise ParseError(source, "1:1", f"at most {MAX_BYTES // (1024 * 1024)} MiB of text", "more")
    if text.startswith("\ufeff"):  # a UTF-8 byte-order mark, as some editors save
        text = " " + text[1:]
    fmt, start = _detect(text)
    if start:
        text = _blank(text, start)
    if fmt == "xl-json":
        j = parse_xl_json(text, source)
        return Parsed(fmt, j.domains, j.problems)
    if fmt == "xml":
        x = parse_domain_xml(text, source)
        return Parsed("libvirt-xml", x.domains, x.problems)
    if fmt == "sxp":
        s = parse_sxp_domains(text, source)
        kinds = {d.config.format for d in s.domains if d.config}
        return Parsed(kinds.pop() if len(kinds) == 1 else "sxp", s.domains, s.problems)
    if fmt == "list-table":
        return Parsed(fmt, tuple(row_domain(r, source) for r in parse_list_table(text, source)), table=True)
    if fmt == "xentop":
        return Parsed(fmt, tuple(top_domain(r, source) for r in parse_xentop(text, source)), table=True)
    first = next((i for i, c in enumerate(text) if not c.isspace()), len(text))
    raise ParseError(
        source,
        line_col(text, first),
        "a known format: xm/xl list table, xm/xl list -l (S-expressions or JSON), domain XML, xentop -b",
        found_at(text, first),
    )


def row_domain(row: ListRow, source: str) -> Domain:
    return Domain(
        name=row.name,
        id=row.id,
        uuid=None,
        state=row.state,
        flags=row.flags,
        memory_kib=row.memory_mib * 1024,
        max_memory_kib=row.memory_mib * 1024,
        vcpus=row.vcpus,
        max_vcpus=row.vcpus,
        mode=Mode.UNKNOWN,
        cpu_time_ns=int(row.cpu_seconds * 1e9) if row.cpu_seconds is not None else None,
        source=source,
        hypervisor="xen",
    )


def top_domain(row: TopRow, source: str) -> Domain:
    state = xentop_state(row.flags)
    return Domain(
        name=row.name,
        id=None,
        uuid=None,
        state=state,
        flags=flags_for(state),
        memory_kib=row.memory_kib,
        max_memory_kib=None if row.max_memory_unlimited else max(row.max_memory_kib or 0, row.memory_kib),
        max_memory_unlimited=row.max_memory_unlimited,
        vcpus=row.vcpus,
        max_vcpus=row.vcpus,
        mode=Mode.UNKNOWN,
        cpu_time_ns=int(row.cpu_seconds * 1e9),
        source=source,
        hypervisor="xen",
        io=IOCounters(row.net_rx_kib * 1024, row.net_tx_kib * 1024, row.vbd_read, row.vbd_write),
    )


def _larger(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def merge_run_state(configs: list[Domain], rows: list[Domain]) -> list[Domain]:
    """Configs (modes, devices) completed with run state from table rows; rows with no config kept as is.

    Rows match configs by domain ID where both have one, else by name.
    """
    by_id = {d.id: i for i, d in enumerate(configs) if d.id is not None}
    by_name = {d.name: i for i, d in enumerate(configs)}
    out = list(configs)
    for row in rows:
        i = by_id.get(row.id) if row.id is not None else None
        if i is None:
            i = by_name.get(row.name)
        if i is None:
            out.append(row)
            by_name[row.name] = len(out) - 1
            continue
        d = out[i]
        unlimited = d.max_memory_unlimited or row.max_memory_unlimited
        out[i] = replace(
            d,
            id=row.id if row.id is not None else d.id,
            state=row.state if row.state is not State.UNKNOWN else d.state,
            flags=row.flags if row.state is not State.UNKNOWN else d.flags,
            memory_kib=row.memory_kib if row.memory_kib is not None else d.memory_kib,
            max_memory_kib=None if unlimited else _larger(d.max_memory_kib, row.memory_kib),
            max_memory_unlimited=unlimited,
            vcpus=row.vcpus if row.vcpus is not None else d.vcpus,
            max_vcpus=_larger(d.max_vcpus, row.vcpus),
            cpu_time_ns=row.cpu_time_ns if row.cpu_time_ns is not None else d.cpu_time_ns,
            io=row.io or d.io,
            has_console=d.has_console and (row.id != 0),
        )
    return out


def _uuid_key(uuid: str | None) -> str | None:
    """xend writes UUIDs with or without dashes; compare them as 32 hex digits."""
    return uuid.replace("-", "").lower() if uuid else None


def merge_configs(configs: list[Domain]) -> tuple[list[Domain], list[str]]:
    """The same domain given in several configurations (S-expression and XML...) becomes one: matched by
    UUID, else by name when one of them has none (xl gives Domain-0 no UUID, libvirt the all-zero one). The
    first keeps its verdict and devices; it gains run state, sizes and a UUID it lacks; a disagreement on the
    mode is reported.
    """
    out: list[Domain] = []
    problems: list[str] = []
    index: dict[str, int] = {}
    for d in configs:
        key = _uuid_key(d.uuid)
        i = index.get(f"u:{key}") if key else index.get(f"n:{d.name}")
        if i is None and key:
            i = index.get(f"no-uuid:{d.name}")
        if i is None:
            index[f"u:{key}" if key else f"no-uuid:{d.name}"] = len(out)
            index.setdefault(f"n:{d.name}", len(out))
            out.append(d)
            continue
        if key:
            index.pop(f"no-uuid:{d.name}", None)
            index[f"u:{key}"] = i
        first = out[i]
        if first.mode is not d.mode and Mode.UNKNOWN not in (first.mode, d.mode):
            problems.append(
                f"{d.source}: {d.name!r} is {d.mode.value} there but {first.mode.value} in {first.source}; "
                f"keeping {first.mode.value}"
            )
        out[i] = replace(
            first,
            uuid=first.uuid or d.uuid,
            id=first.id if first.id is not None else d.id,
            state=first.state if first.state is not State.UNKNOWN else d.state,
            flags=first.flags if first.state is not State.UNKNOWN else d.flags,
            memory_kib=first.memory_kib if first.memory_kib is not None else d.memory_kib,
            max_memory_kib=first.max_memory_kib if first.max_memory_kib is not None else d.max_memory_kib,
            max_memory_unlimited=first.max_memory_unlimited
            or (first.max_memory_kib is None and d.max_memory_unlimited),
            vcpus=first.vcpus if first.vcpus is not None else d.vcpus,
            max_vcpus=first.max_vcpus if first.max_vcpus is not None else d.max_vcpus,
            cpu_time_ns=first.cpu_time_ns if first.cpu_time_ns is not None else d.cpu_time_ns,
            graphics=first.graphics or d.graphics,
            has_console=first.has_console or d.has_console,
        )
    return out, problems
