"""`xm list -l` (xend) and `xl list -l` with output_format="sxp": S-expression domain records."""

from __future__ import annotations

from xentui.model import ConfigNode, Domain, DomainConfig, Endpoint, Mode, State, state_from_flags
from xentui.parsers.errors import ParseError, line_col
from xentui.parsers.result import ParseResult
from xentui.parsers.sxp import Record, read_records, to_node
from xentui.parsers.tree import mark_decisive, to_float, to_int, truthy


def parse_sxp_domains(text: str, source: str = "<input>") -> ParseResult:
    """Every complete `(domain ...)` record; a record cut short is reported in `problems`."""
    found = read_records(text, source)
    domains: list[Domain] = []
    for record in found.records:
        if not record.value or record.value[0] != "domain":
            raise ParseError(source, line_col(text, record.offset), "a '(domain ...)' record")
        domains.append(_domain(record, source))
    problems = [
        f"{source}:{found.truncated_at}: record of {d.name!r} cut short; fields after this point are missing"
        for r, d in zip(found.records, domains)
        if r.cut
    ]
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
            kind = _value(vfb, "type") or "vnc"
            if kind == "sdl":
                continue
            loc = _value(vfb, "location")
            ep = _endpoint_from_location(loc, kind) if loc else None
            if ep is None and truthy(_value(vfb, "vnc")):
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
    port = 5900 + to_int(display) if display is not None and not unused else None
    return Endpoint("vnc", host, port)


def _value(node: ConfigNode | None, key: str) -> str | None:
    if node is None:
        return None
    child = node.find(key)
    return child.value if child is not None else None


def _domain(record: Record, source: str) -> Domain:
    tree = to_node(record.value)
    image_node = tree.find("image")
    kind = image_node.children[0] if image_node is not None and image_node.children else None
    kind_key = kind.key if kind is not None else None
    decisive: set[tuple[str, ...]] = set()
    pv_drivers = False
    if kind_key == "hvm" or (kind_key is None and truthy(_value(tree, "hvm"))):
        mode = Mode.HVM
        decisive |= {("image",), ("image", "hvm"), ("image", "hvm", "loader"), ("image", "hvm", "xen_platform_pci")}
        decisive.add(("hvm",))
        platform = truthy(_value(kind, "xen_platform_pci"))
        pv_drivers = platform is True
        parts = ["image (hvm …)" if kind_key == "hvm" else "hvm 1"]
        loader = _value(kind, "loader")
        if loader:
            parts.append(f"loader {loader.rsplit('/', 1)[-1]}")
        if platform is not None:
            parts.append(f"xen_platform_pci {_value(kind, 'xen_platform_pci')}")
        verdict = "HVM: " + ", ".join(parts)
        verdict += (
            " → PV drivers available" if pv_drivers else (" → emulated devices only" if platform is False else "")
        )
    elif kind_key == "pvh" or truthy(_value(tree, "pvh")) or truthy(_value(kind, "pvh")):
        mode = Mode.PVH
        decisive |= {("image",), ("image", "pvh"), ("pvh",), ("image", "linux", "pvh")}
        verdict = "PVH: " + ("image (pvh …)" if kind_key == "pvh" else "pvh 1")
    else:
        mode = Mode.PV
        decisive |= {("image",), ("image", "linux"), ("bootloader",), ("hvm",)}
        if kind_key == "linux":
            kernel = _value(kind, "kernel")
            verdict = "PV: image (linux …)" + (f", kernel {kernel}" if kernel else "")
        else:
            loader = _value(tree, "bootloader")
            verdict = "PV: no image (hvm …) section" + (f", bootloader {loader}" if loader else "")

    name = _value(tree, "name")
    if not name:
        raise ParseError(source, line_col(record.text, 0), "a (name ...) in the domain record")
    domid_text = _value(tree, "domid")
    domid = to_int(domid_text, -1) if domid_text not in (None, "", "None") else -1
    flags = (_value(tree, "state") or "").strip()
    has_id = domid >= 0
    state = state_from_flags(flags) if has_id else State.SHUTOFF
    if has_id and not flags:
        state = State.UNKNOWN
    # xend gives MiB; xl's sxp gives KiB fields.
    memory_kib = to_int(_value(tree, "memory")) * 1024 or to_int(_value(tree, "target_memkb"))
    max_kib = to_int(_value(tree, "maxmem")) * 1024 or to_int(_value(tree, "max_memkb")) or memory_kib
    max_vcpus = to_int(_value(tree, "vcpus")) or to_int(_value(tree, "max_vcpus"))
    online = to_int(_value(tree, "online_vcpus"), max_vcpus) if has_id else max_vcpus
    cpu = to_float(_value(tree, "cpu_time"))
    serial = _value(kind, "serial")
    has_console = (
        has_id
        and domid != 0
        and (
            mode is not Mode.HVM
            or any(c.key == "console" for d in tree.children if d.key == "device" for c in d.children)
            or (serial not in (None, "", "none"))
        )
    )
    fmt = "xl-sxp" if tree.find("create_info") is not None or tree.find("c_info") is not None else "xm-sxp"
    return Domain(
        name=name,
        id=domid if has_id else None,
        uuid=_value(tree, "uuid") or None,
        state=state,
        flags=flags if len(flags) == 6 else ("------" if not has_id else flags.ljust(6, "-")[:6]),
        memory_kib=memory_kib,
        max_memory_kib=max(max_kib, memory_kib),
        vcpus=online,
        max_vcpus=max_vcpus,
        mode=mode,
        pv_drivers=pv_drivers,
        cpu_time_ns=int(cpu * 1e9) if cpu is not None and cpu >= 0 else None,
        source=source,
        hypervisor="xen",
        has_console=has_console,
        graphics=_graphics(tree, kind),
        config=DomainConfig(fmt, mark_decisive(tree, decisive), record.text, verdict),
    )
