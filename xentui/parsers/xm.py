"""`xm list -l` (xend) and `xl list -l` with output_format="sxp": S-expression domain records."""

from __future__ import annotations

from xentui.model import ConfigNode, Domain, DomainConfig, Endpoint, Mode, State, state_from_flags
from xentui.parsers.errors import ParseError, line_col
from xentui.parsers.result import ParseResult
from xentui.parsers.sxp import Record, read_records, to_node
from xentui.parsers.tree import mark_decisive, to_float, to_int, truthy
from xentui.parsers.verdict import sxp_verdict


def parse_sxp_domains(text: str, source: str = "<input>") -> ParseResult:
    """Every complete `(domain ...)` record; a record cut short is reported in `problems`."""
    found = read_records(text, source)
    domains: list[Domain] = []
    for record in found.records:
        if not record.value or record.value[0] != "domain":
            head = record.value[0] if record.value and isinstance(record.value[0], str) else "a list"
            raise ParseError(source, line_col(text, record.offset), "a '(domain ...)' record", f"'({head} ...)'")
        domains.append(_domain(record, source, text))
    problems = [
        f"{source}:{found.truncated_at}: record of {d.name!r} cut short; fields after this point are missing"
        for r, d in zip(found.records, domains)
        if r.cut
    ]
    problems += [f"{source}:{at}: a ')' that closes nothing, skipped" for at in found.stray_closes]
    return ParseResult(tuple(domains), tuple(problems))


def _endpoint_from_location(location: str, kind: str = "vnc") -> Endpoint | None:
    host, sep, port = location.rpartition(":")
    if not sep:
        return None
    try:
        return Endpoint(kind, host.strip("[]") or "0.0.0.0", int(port))
    except ValueError:
        return None


def _graphics(tree: ConfigNode, image: ConfigNode | None) -> tuple[Endpoint, ...]:
    found: list[Endpoint] = []
    for dev in (c for c in tree.children if c.key == "device"):
        for vfb in (c for c in dev.children if c.key == "vfb"):
            # As libvirt reads a vfb: its type, else vnc 1 means VNC, else sdl 1 means SDL (no endpoint).
            kind = _value(vfb, "type") or ("vnc" if truthy(_value(vfb, "vnc")) else "sdl")
            if kind not in ("vnc", "spice"):
                continue
            loc = _value(vfb, "location")
            ep = _endpoint_from_location(loc, kind) if loc else None
            if ep is None and kind == "vnc":
                ep = _vnc_from_settings(vfb)
            if ep is not None:
                found.append(ep)
    if not found and image is not None and truthy(_value(image, "vnc")):
        found.append(_vnc_from_settings(image))
    return tuple(found)


def _vnc_from_settings(node: ConfigNode) -> Endpoint:
    host = _value(node, "vnclisten") or "127.0.0.1"
    display = _value(node, "vncdisplay")
    unused = truthy(_value(node, "vncunused"))
    n = to_int(display, -1) if display is not None and not unused else -1
    port = None if n < 0 else n if n >= 5900 else 5900 + n  # a display number, or (as libvirt reads it) a port
    return Endpoint("vnc", host, port)


def _value(node: ConfigNode | None, key: str) -> str | None:
    if node is None:
        return None
    child = node.find(key)
    return child.value if child is not None else None


# xend reports an uncapped Domain-0's maximum as 16777215 MiB (2**24 - 1): no limit, not 16 TiB.
XEND_NO_LIMIT_MIB = 16777215


def _opt_int(text: str | None) -> int | None:
    value = to_int(text, -1) if text not in (None, "", "None") else -1
    return value if value >= 0 else None


def _online_vcpus(tree: ConfigNode, max_vcpus: int | None, has_id: bool) -> int | None:
    """Running domains: online_vcpus; else xend's vcpu_avail bitmap (bit n set: VCPU n online); else all."""
    online = _opt_int(_value(tree, "online_vcpus")) if has_id else None
    if online:
        return online
    avail = _opt_int(_value(tree, "vcpu_avail"))
    count = bin(avail).count("1") if avail else 0
    # As libvirt reads it: an empty or impossible bitmap means every configured VCPU.
    return count if count and (max_vcpus is None or count <= max_vcpus) else max_vcpus


def _dashed(uuid: str | None) -> str | None:
    """xend wrote some UUIDs as 32 bare hex digits; show them in the usual 8-4-4-4-12 form."""
    if uuid and len(uuid) == 32 and all(c in "0123456789abcdefABCDEF" for c in uuid):
        return f"{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
    return uuid or None


def _domain(record: Record, source: str, text: str) -> Domain:
    tree = to_node(record.value)
    verdict = sxp_verdict(tree)
    image_node = tree.find("image")
    kind = image_node.children[0] if image_node is not None and image_node.children else None
    name = _value(tree, "name")
    if not name:
        raise ParseError(source, line_col(text, record.offset), "a (name ...) in the domain record", "none")
    domid = _opt_int(_value(tree, "domid"))
    flags = (_value(tree, "state") or "").strip()
    has_id = domid is not None
    state = state_from_flags(flags) if has_id else State.SHUTOFF
    if has_id and not flags:
        state = State.UNKNOWN
    # xend gives MiB; xl's sxp gives KiB fields.
    mem_mib, max_mib = _opt_int(_value(tree, "memory")), _opt_int(_value(tree, "maxmem"))
    memory_kib = mem_mib * 1024 if mem_mib is not None else _opt_int(_value(tree, "target_memkb"))
    unlimited = max_mib == XEND_NO_LIMIT_MIB
    max_kib = None if unlimited else (max_mib * 1024 if max_mib is not None else _opt_int(_value(tree, "max_memkb")))
    if not unlimited:
        known = [v for v in (max_kib, memory_kib) if v is not None]
        max_kib = max(known) if known else None
    max_vcpus = _opt_int(_value(tree, "vcpus")) or _opt_int(_value(tree, "max_vcpus"))
    cpu = to_float(_value(tree, "cpu_time"))
    serial = _value(kind, "serial")
    has_console = (
        has_id
        and domid != 0
        and (
            verdict.mode is not Mode.HVM
            or any(c.key == "console" for d in tree.children if d.key == "device" for c in d.children)
            or (serial not in (None, "", "none"))
        )
    )
    fmt = "xl-sxp" if tree.find("create_info") is not None or tree.find("c_info") is not None else "xm-sxp"
    decisive = {tuple(f.split("/")) for f in verdict.fields}
    return Domain(
        name=name,
        id=domid,
        uuid=_dashed(_value(tree, "uuid")),
        state=state,
        flags=flags if len(flags) == 6 else ("------" if not has_id else flags.ljust(6, "-")[:6]),
        memory_kib=memory_kib,
        max_memory_kib=max_kib,
        max_memory_unlimited=unlimited,
        vcpus=_online_vcpus(tree, max_vcpus, has_id),
        max_vcpus=max_vcpus,
        mode=verdict.mode,
        pv_drivers=verdict.pv_drivers,
        cpu_time_ns=int(cpu * 1e9) if cpu is not None and cpu >= 0 else None,
        source=source,
        hypervisor="xen",
        has_console=bool(has_console),
        graphics=_graphics(tree, kind),
        config=DomainConfig(fmt, mark_decisive(tree, decisive), record.text, verdict),
    )
