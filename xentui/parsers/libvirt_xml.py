"""libvirt domain XML (`virsh dumpxml`, `virDomainGetXMLDesc`).

For `<domain type='xen'>`: os type `linux`/`xen` (machine `xenpv`) is PV, `hvm` is HVM, `xenpvh`
(or machine `xenpvh`) is PVH. KVM/QEMU guests are HVM. Several documents in one file are accepted.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from xentui.model import ConfigNode, Domain, DomainConfig, Endpoint, State
from xentui.parsers.errors import ParseError, found_at, line_col
from xentui.parsers.result import ParseResult
from xentui.parsers.tree import mark_decisive, to_int
from xentui.parsers.verdict import xml_verdict

_UNITS = {
    "b": 1 / 1024, "bytes": 1 / 1024, "kb": 1000 / 1024, "k": 1, "kib": 1,
    "mb": 1000**2 / 1024, "m": 1024, "mib": 1024, "gb": 1000**3 / 1024, "g": 1024**2, "gib": 1024**2,
    "tb": 1000**4 / 1024, "t": 1024**3, "tib": 1024**3,
}  # fmt: skip
_XML_DECL = re.compile(r"<\?xml[^>]*\?>")
MAX_DEPTH = 200
_WRAPPER = "<xentui-wrapper>"


def parse_domain_xml(text: str, source: str = "<input>", state: State = State.UNKNOWN) -> ParseResult:
    """Every `<domain>` in the text; a document cut short is read as far as it goes and reported."""
    if "\0" in text:
        raise ParseError(source, line_col(text, text.index("\0")), "text", "a NUL byte (binary data)")
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        at = upper.find("<!DOCTYPE") if "<!DOCTYPE" in upper else upper.find("<!ENTITY")
        raise ParseError(
            source, line_col(text, at), "domain XML without DOCTYPE or entity declarations", found_at(text, at)
        )
    body = _XML_DECL.sub(lambda m: " " * len(m.group()), text)
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    # A wrapper root lets several concatenated documents parse as one.
    parser.feed(_WRAPPER)
    problems: list[str] = []
    roots: list[ET.Element] = []
    depth = 0
    try:
        parser.feed(body)
        for event, elem in parser.read_events():  # type: ignore[misc]
            if event == "start":
                depth += 1
                if depth == 2 and isinstance(elem, ET.Element):
                    roots.append(elem)
                if depth > MAX_DEPTH:
                    raise ParseError(source, "1:1", f"XML nested at most {MAX_DEPTH} deep", f"more than {MAX_DEPTH}")
            else:
                depth -= 1
        cut = depth > 1
    except ET.ParseError as exc:
        line, col = exc.position
        if line == 1:
            col -= len(_WRAPPER)  # the wrapper fed before the text shares its first line
        raise ParseError(source, f"{line}:{col + 1}", "well-formed XML", _reason(exc)) from None
    if cut:
        problems.append(f"{source}:{line_col(text, len(text))}: XML cut short; read as far as it goes")
    domains = []
    for root in roots:
        if root.tag != "domain":
            raise ParseError(source, "1:1", "a <domain> element", f"<{root.tag}>")
        domains.append(domain_from_element(root, _raw(root, text, len(roots)), source, state))
    if not domains:
        raise ParseError(source, "1:1", "a <domain> element", "none")
    return ParseResult(tuple(domains), tuple(problems))


def _reason(exc: ET.ParseError) -> str:
    msg = str(exc)
    return msg.split(":")[0] if ":" in msg else msg


def _raw(root: ET.Element, text: str, count: int) -> str:
    return text.strip() if count == 1 else ET.tostring(root, encoding="unicode")


def _memory_kib(elem: ET.Element | None) -> int:
    if elem is None or not (elem.text or "").strip():
        return 0
    factor = _UNITS.get((elem.get("unit") or "KiB").lower(), 1)
    return int(to_int(elem.text.strip() if elem.text else None) * factor)


def _to_node(elem: ET.Element) -> ConfigNode:
    attrs = tuple(ConfigNode(f"@{k}", v) for k, v in elem.attrib.items())
    kids = tuple(_to_node(c) for c in elem)
    text = (elem.text or "").strip() or None
    return ConfigNode(elem.tag, text, attrs + kids)


def _graphics(devices: ET.Element | None) -> tuple[Endpoint, ...]:
    found: list[Endpoint] = []
    if devices is None:
        return ()
    for g in devices.findall("graphics"):
        kind = g.get("type", "")
        if kind not in ("vnc", "spice"):
            continue
        listen_el = g.find("listen")
        if listen_el is not None and listen_el.get("type") in ("socket", "none"):
            continue
        host = g.get("listen") or (listen_el.get("address") if listen_el is not None else None) or "127.0.0.1"
        port = to_int(g.get("port"), -1)
        found.append(Endpoint(kind, host, port if port > 0 else None))
    return tuple(found)


def domain_from_element(root: ET.Element, raw: str, source: str, state: State = State.UNKNOWN) -> Domain:
    name = (root.findtext("name") or "").strip()
    if not name:
        raise ParseError(source, "1:1", "a <name> in the domain XML", "none")
    verdict = xml_verdict(root)
    dom_type = root.get("type", "")
    devices = root.find("devices")
    id_attr = to_int(root.get("id"), -1)
    domid = id_attr if id_attr >= 0 else None
    memory = _memory_kib(root.find("currentMemory")) or _memory_kib(root.find("memory"))
    known = [m for m in (_memory_kib(root.find("maxMemory")), _memory_kib(root.find("memory")), memory) if m]
    vcpu = root.find("vcpu")
    max_vcpus = to_int(vcpu.text.strip() if vcpu is not None and vcpu.text else None, 0) or None
    vcpus = to_int(vcpu.get("current"), 0) or max_vcpus if vcpu is not None else max_vcpus
    has_console = devices is not None and (devices.find("console") is not None or devices.find("serial") is not None)
    if state is State.UNKNOWN and domid is None and root.get("id") == "-1":
        state = State.SHUTOFF
    decisive = {tuple(f.split("/")) for f in verdict.fields}
    return Domain(
        name=name,
        id=domid,
        uuid=(root.findtext("uuid") or "").strip() or None,
        state=state,
        memory_kib=memory or None,
        max_memory_kib=max(known) if known else None,
        vcpus=vcpus,
        max_vcpus=max_vcpus,
        mode=verdict.mode,
        pv_drivers=verdict.pv_drivers,
        source=source,
        hypervisor=dom_type,
        has_console=has_console and not (dom_type == "xen" and domid == 0),
        graphics=_graphics(devices),
        config=DomainConfig("libvirt-xml", mark_decisive(_to_node(root), decisive), raw, verdict),
    )
