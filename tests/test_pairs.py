"""Ground truth from libvirt's own test data: the same domain as xend S-expression or libxl JSON, and the
domain XML libvirt derived from it (tests/fixtures/pairs, provenance in tests/fixtures/README.md).

Mode, memory, maximum memory, VCPUs (online and configured), PV drivers and VNC read from the
S-expression or JSON must equal what we read from libvirt's XML of the same domain. Where they
legitimately differ the difference is spelled out below, exactly, with libvirt's reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

from xentui.model import Domain
from xentui.parsers.sniff import parse_text

PAIRS = FIXTURES / "pairs"
NATIVE = sorted(p for p in PAIRS.iterdir() if p.suffix in (".sexpr", ".json"))

# libvirt's sexpr2xmltest runs these with xend config version 1 (Xen 3.0.2 and older). For an HVM guest with
# `(vnc 1)` and no vncdisplay, xen_sxpr.c then invents port 5900 + domain ID ("For Xen >= 3.0.3, don't
# generate a fixed port mapping because it will almost certainly be wrong"); the S-expression itself does
# not say which xend wrote it, nor the port, so we leave the port unknown.
XEND_V1_VNC_PORT_FROM_DOMID = {"sexpr2xml-fv", "sexpr2xml-fv-net-netfront"}


def _one(path: Path) -> Domain:
    result = parse_text(path.read_text(), path.name)
    assert len(result.domains) == 1, path.name
    return result.domains[0]


def _facts(d: Domain) -> tuple[object, ...]:
    return (d.mode, d.memory_kib, d.max_memory_kib, d.vcpus, d.max_vcpus, d.pv_drivers, d.uuid, d.name)


def test_the_pairs_cover_what_the_issue_lists() -> None:
    """PV, HVM, PVH, pygrub without <os>, netfront on HVM, vcpu_avail: each is among the pairs."""
    names = {p.stem for p in NATIVE}
    assert len(names) >= 15
    assert {"libxl-basic-pvh", "sexpr2xml-pv-bootloader", "sexpr2xml-fv-net-netfront", "sexpr2xml-pv-vcpus"} <= names
    assert "<os>" not in (PAIRS / "sexpr2xml-pv-bootloader.xml").read_text()


@pytest.mark.parametrize("native", NATIVE, ids=lambda p: p.stem)
def test_native_equals_libvirts_xml(native: Path) -> None:
    ours = _one(native)
    theirs = _one(native.with_suffix(".xml"))
    assert _facts(ours) == _facts(theirs)
    # What decided: the verdicts agree on the mode and the PV drivers, each naming its own fields.
    assert ours.config is not None and theirs.config is not None
    assert (ours.config.verdict.mode, ours.config.verdict.pv_drivers) == (
        theirs.config.verdict.mode,
        theirs.config.verdict.pv_drivers,
    )
    our_vnc = [g for g in ours.graphics if g.kind == "vnc"][:1]
    their_vnc = [g for g in theirs.graphics if g.kind == "vnc"][:1]
    assert len(our_vnc) == len(their_vnc)
    if not our_vnc:
        return
    (o,), (t,) = our_vnc, their_vnc
    if native.stem in XEND_V1_VNC_PORT_FROM_DOMID:
        assert o.port is None and theirs.id is not None and t.port == 5900 + theirs.id
    else:
        assert o.port == t.port
    # libvirt writes a listen address only where the configuration names one; where it names none we
    # default to loopback and xend's `location` may say `localhost`: only a stated address is compared.
    xml = native.with_suffix(".xml").read_text()
    if "listen=" in xml:
        assert o.host == t.host


def test_vcpu_avail_bitmap_is_the_online_count() -> None:
    """xend `(vcpus 4)(vcpu_avail 3)`: VCPUs 0 and 1 online of 4, as libvirt's `<vcpu current='2'>4`."""
    d = _one(PAIRS / "sexpr2xml-pv-vcpus.sexpr")
    assert (d.vcpus, d.max_vcpus) == (2, 4)


def test_bare_libxl_domain_config_is_one_domain_without_id() -> None:
    d = _one(PAIRS / "libxl-basic-hvm.json")
    assert (d.name, d.id, d.uuid) == ("test-hvm", None, "2147d599-9cc6-c0dc-92ab-4064b5446e9b")
    assert d.config is not None and d.config.tree.key == "config"
    assert d.config.tree.find("c_info", "type").decisive  # type: ignore[union-attr]
