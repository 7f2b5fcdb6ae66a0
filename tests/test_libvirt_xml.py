from __future__ import annotations

import pytest
from conftest import read_fixture

from xentui.model import Mode, State
from xentui.parsers import ParseError
from xentui.parsers.libvirt_xml import parse_domain_xml


def _xen(os_type: str, machine: str = "") -> str:
    m = f" machine='{machine}'" if machine else ""
    head = "<domain type='xen'><name>g</name><memory>1024</memory><vcpu>1</vcpu>"
    return f"{head}<os><type{m}>{os_type}</type></os></domain>"


@pytest.mark.parametrize(
    ("os_type", "machine", "mode"),
    [("linux", "", Mode.PV), ("xen", "xenpv", Mode.PV), ("hvm", "xenfv", Mode.HVM),
     ("xenpvh", "", Mode.PVH), ("linux", "xenpvh", Mode.PVH), ("exe", "", Mode.UNKNOWN)],
)  # fmt: skip
def test_xen_modes(os_type: str, machine: str, mode: Mode) -> None:
    assert parse_domain_xml(_xen(os_type, machine)).domains[0].mode is mode


def test_seed_dumpxml_cut_after_os() -> None:
    r = parse_domain_xml(read_fixture("seed-virsh-dumpxml-hvm.xml"), "seed.xml")
    (d,) = r.domains
    assert (d.name, d.id, d.mode, d.memory_mib, d.vcpus) == ("My-HVM-VM", 26, Mode.HVM, 16384, 4)
    assert "loader hvmloader" in str(d.config.verdict)  # type: ignore[union-attr]
    assert "cut short" in r.problems[0]


def test_kvm_guest_units_vcpus_graphics() -> None:
    (d,) = parse_domain_xml(read_fixture("virsh-dumpxml-kvm.xml"), state=State.RUNNING).domains
    assert (d.mode, d.hypervisor, d.id) == (Mode.HVM, "kvm", 12)
    assert (d.memory_mib, d.max_memory_mib, d.vcpus, d.max_vcpus) == (2048, 4096, 2, 4)
    assert [(g.kind, g.address) for g in d.graphics] == [("vnc", "127.0.0.1:5900"), ("spice", "127.0.0.1:?")]
    assert d.has_console and d.pv_drivers and "virtio disk" in str(d.config.verdict)  # type: ignore[union-attr]
    os_node = d.config.tree.find("os")  # type: ignore[union-attr]
    assert os_node is not None and os_node.decisive and os_node.find("type", "@machine").value == "pc-q35-7.2"  # type: ignore[union-attr]


def test_several_documents_in_one_file() -> None:
    text = "<?xml version='1.0'?>\n" + _xen("linux") + "\n" + _xen("hvm").replace(">g<", ">h<")
    assert [(d.name, d.mode) for d in parse_domain_xml(text).domains] == [("g", Mode.PV), ("h", Mode.HVM)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<domain><name>a</name>", None),  # cut short: read as far as it goes
        ("<!DOCTYPE d [<!ENTITY x 'y'>]><domain><name>&x;</name></domain>", "DOCTYPE"),
        ("<domain><name>a</name></domian>", "well-formed XML"),
        ("<network><name>n</name></network>", "<domain> element"),
        ("<domain><uuid>x</uuid></domain>", "<name>"),
        ("<a>" * 300, "nested at most"),
    ],
)
def test_errors_and_hostile_xml(text: str, expected: str | None) -> None:
    if expected is None:
        assert parse_domain_xml(text).domains[0].name == "a"
        return
    with pytest.raises(ParseError) as err:
        parse_domain_xml(text, "d.xml")
    assert expected in err.value.expected


@pytest.mark.parametrize(
    ("guest", "name", "domid", "mode", "mib", "console", "vnc"),
    [("pv", "pvguest", 1, Mode.PV, 128, True, None), ("pvh", "pvhguest", 2, Mode.PVH, 128, True, None),
     ("hvm", "hvmguest", 3, Mode.HVM, 256, True, ("127.0.0.1", 5900)),
     ("dom0", "Domain-0", 0, Mode.PV, 2048, False, None)],
)  # fmt: skip
def test_real_xen_417_dumpxml(
    guest: str, name: str, domid: int, mode: Mode, mib: int, console: bool, vnc: tuple[str, int] | None
) -> None:
    """`virsh -c xen:///system dumpxml` of the real Xen lab's guests (libvirt 9.0's xen driver)."""
    (d,) = parse_domain_xml(read_fixture(f"xen-4.17-virsh-dumpxml-{guest}.xml"), f"{guest}.xml").domains
    assert (d.name, d.id, d.mode, d.memory_mib, d.vcpus, d.hypervisor) == (
        name,
        domid,
        mode,
        mib,
        1 if domid else 2,
        "xen",
    )
    assert d.has_console is console
    assert (d.vnc.host, d.vnc.port) == vnc if vnc else d.vnc is None  # type: ignore[union-attr]
    decisive = [n for n in _walk(d.config.tree) if n.decisive]  # type: ignore[union-attr]
    assert decisive, "the fields that decide the mode are marked"


def _walk(node):  # type: ignore[no-untyped-def]
    yield node
    for child in node.children:
        yield from _walk(child)
