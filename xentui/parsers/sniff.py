"""Recognise a saved output by its content and parse it; merge run state from tables into configs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from xentui.model import Domain, IOCounters, Mode, State, flags_for
from xentui.parsers.errors import ParseError
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


def detect(text: str) -> str:
    """One of: xl-json, xml, sxp, list-table, xentop; or "" when unrecognised."""
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if s[0] in "[{":
            return "xl-json"
        if s[0] == "<":
            return "xml"
        if s[0] == "(":
            return "sxp"
        words = s.split()
        if words[0] == "Name" and "Mem" in words:
            return "list-table"
        if words[:2] == ["NAME", "STATE"]:
            return "xentop"
        # A pasted prompt line such as "# xm list -l": keep looking.
    return ""


def parse_text(text: str, source: str = "<input>") -> Parsed:
    if len(text) > MAX_BYTES:
        raise ParseError(source, "1:1", f"at most {MAX_BYTES // (1024 * 1024)} MiB of text")
    fmt = detect(text)
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
    raise ParseError(
        source, "1:1", "a known format: xm/xl list table, xm/xl list -l (S-expressions or JSON), domain XML, xentop -b"
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
        max_memory_kib=max(row.max_memory_kib or 0, row.memory_kib),
        vcpus=row.vcpus,
        max_vcpus=row.vcpus,
        mode=Mode.UNKNOWN,
        cpu_time_ns=int(row.cpu_seconds * 1e9),
        source=source,
        hypervisor="xen",
        io=IOCounters(row.net_rx_kib * 1024, row.net_tx_kib * 1024, row.vbd_read, row.vbd_write),
    )


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
        out[i] = replace(
            d,
            id=row.id if row.id is not None else d.id,
            state=row.state if row.state is not State.UNKNOWN else d.state,
            flags=row.flags if row.state is not State.UNKNOWN else d.flags,
            memory_kib=row.memory_kib or d.memory_kib,
            max_memory_kib=max(d.max_memory_kib, row.memory_kib),
            vcpus=row.vcpus or d.vcpus,
            max_vcpus=max(d.max_vcpus, row.vcpus),
            cpu_time_ns=row.cpu_time_ns if row.cpu_time_ns is not None else d.cpu_time_ns,
            io=row.io or d.io,
            has_console=d.has_console and (row.id != 0),
        )
    return out
