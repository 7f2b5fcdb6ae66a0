"""One table of guests, each written as xend S-expression, xl JSON (a libxl_domain_config) and libvirt XML:
every format must give the same verdict (mode, PV drivers and the evidence for them); `why` names each
format's own fields. None where a format cannot say it (libvirt XML has no xen_platform_pci)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from xentui.model import Mode, Verdict
from xentui.parsers.sniff import parse_text


def _xl(ctype: str, union: dict[str, Any], **devices: Any) -> str:
    return json.dumps({"c_info": {"type": ctype, "name": "g"}, "b_info": {f"type.{ctype}": union}, **devices})


def _xml(body: str) -> str:
    return f"<domain type='xen'><name>g</name>{body}</domain>"


HVM_IMAGE = "(image (hvm (loader /usr/lib/xen/boot/hvmloader){}))"
HVM_OS = "<os><type>hvm</type><loader>/usr/lib/xen/boot/hvmloader</loader></os>"

# (case, S-expression, xl JSON, libvirt XML, mode, pv_drivers, evidence)
CASES: list[tuple[str, str | None, str | None, str | None, Mode, bool, tuple[str, ...]]] = [
    (
        "pv kernel",
        "(domain (name g) (image (linux (kernel /boot/vmlinuz))))",
        _xl("pv", {"kernel": "/boot/vmlinuz"}),
        _xml("<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>"),
        Mode.PV,
        False,
        (),
    ),
    (
        "pv pygrub, no image / no <os>",
        "(domain (name g) (bootloader /usr/bin/pygrub))",
        _xl("pv", {"bootloader": "pygrub"}),
        _xml("<bootloader>/usr/bin/pygrub</bootloader>"),
        Mode.PV,
        False,
        (),
    ),
    (
        "pvh",
        "(domain (name g) (image (pvh (kernel /boot/vmlinuz))))",
        _xl("pvh", {}, disks=[{"vdev": "xvda"}]),
        _xml("<os><type machine='xenpvh'>xenpvh</type></os><devices><disk><target dev='xvda'/></disk></devices>"),
        Mode.PVH,
        False,
        (),
    ),
    (
        "hvm, emulated devices, platform device by default",
        "(domain (name g) " + HVM_IMAGE.format("") + " (device (vbd (dev ioemu:hda))) (device (vif (type ioemu))))",
        _xl("hvm", {}, disks=[{"vdev": "hda"}], nics=[{"nictype": "vif_ioemu"}]),
        _xml(HVM_OS + "<devices><disk><target dev='hda' bus='ide'/></disk><interface type='bridge'/></devices>"),
        Mode.HVM,
        True,
        ("xen_platform_pci default (on)",),
    ),
    (
        "hvm with a netfront nic",
        "(domain (name g) " + HVM_IMAGE.format("") + " (device (vif (bridge xenbr0) (type netfront))))",
        _xl("hvm", {}, nics=[{"nictype": "vif"}]),
        _xml(HVM_OS + "<devices><interface type='bridge'><model type='netfront'/></interface></devices>"),
        Mode.HVM,
        True,
        ("netfront net",),
    ),
    (
        "hvm with a xen disk",
        "(domain (name g) " + HVM_IMAGE.format("") + " (device (vbd (dev xvda) (uname phy:/dev/vg/g))))",
        _xl("hvm", {}, disks=[{"vdev": "xvda"}]),
        _xml(HVM_OS + "<devices><disk><target dev='xvda' bus='xen'/></disk></devices>"),
        Mode.HVM,
        True,
        ("xen disk",),
    ),
    (
        "hvm, platform device off",
        "(domain (name g) " + HVM_IMAGE.format(" (xen_platform_pci 0)") + ")",
        _xl("hvm", {"xen_platform_pci": "False"}),
        None,
        Mode.HVM,
        False,
        (),  # the value as each format writes it: "0" / "False"
    ),
    (
        "hvm, platform device off wins over a netfront nic",
        "(domain (name g) " + HVM_IMAGE.format(" (xen_platform_pci 0)") + " (device (vif (type netfront))))",
        _xl("hvm", {"xen_platform_pci": "False"}, nics=[{"nictype": "vif"}]),
        None,
        Mode.HVM,
        False,
        (),
    ),
]


def _verdict(text: str) -> Verdict:
    (d,) = parse_text(text, "case").domains
    assert d.config is not None
    assert (d.mode, d.pv_drivers) == (d.config.verdict.mode, d.config.verdict.pv_drivers)
    return d.config.verdict


@pytest.mark.parametrize(("case", "sxp", "xl", "xml", "mode", "pv", "evidence"), CASES, ids=[c[0] for c in CASES])
def test_every_format_gives_the_same_verdict(
    case: str,
    sxp: str | None,
    xl: str | None,
    xml: str | None,
    mode: Mode,
    pv: bool,
    evidence: tuple[str, ...],
) -> None:
    verdicts = {fmt: _verdict(text) for fmt, text in (("sxp", sxp), ("xl", xl), ("xml", xml)) if text is not None}
    assert len(verdicts) >= 2
    for fmt, v in verdicts.items():
        assert (v.mode, v.pv_drivers) == (mode, pv), fmt
        if evidence:
            assert v.evidence == evidence, fmt
        elif not pv and mode is Mode.HVM:
            assert v.evidence and v.evidence[0].startswith("xen_platform_pci "), fmt
        assert str(v).startswith(f"{mode.value}: ") and v.why and v.fields, fmt


def test_why_names_each_formats_own_field() -> None:
    _, sxp, xl, xml, *_ = CASES[4]
    assert sxp and xl and xml
    assert "image (hvm …)" in _verdict(sxp).why and "c_info.type" in _verdict(xl).why
    assert "<os><type>hvm</type>" in _verdict(xml).why
    assert all("PV drivers in use (netfront net)" in _verdict(t).why for t in (sxp, xl, xml))


def test_kvm_guest_pv_drivers_are_virtio() -> None:
    text = "<domain type='kvm'><name>k</name><os><type>hvm</type></os><devices><disk><target bus='virtio'/></disk>"
    v = _verdict(text + "</devices></domain>")
    assert (v.mode, v.pv_drivers, v.evidence) == (Mode.HVM, True, ("virtio disk",))
