"""The mode verdict: one pure function per configuration format, one rule for PV drivers in all of them.

PV drivers (HVM guests only; PV and PVH guests are paravirtual throughout): the Xen platform PCI device
switched off (`xen_platform_pci 0`) means emulated devices only; else a Xen PV disk (xvd*, bus 'xen') or
a netfront NIC (xend `(type netfront)`, libvirt `<model type='netfront'/>`, libxl nictype "vif") means PV
drivers in use; else the platform device is on (explicitly, or by default: xend, qemu-dm and libxl all
enable it) and PV drivers are available. KVM/QEMU guests: virtio devices.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from xentui.model import ConfigNode, Mode, Verdict
from xentui.parsers.tree import json_get, json_str, truthy


def _pv_drivers(devices: list[str], platform: str | None) -> tuple[bool, tuple[str, ...], str]:
    """(pv_drivers, evidence, the verdict's tail) for an HVM Xen guest."""
    on = truthy(platform)
    if on is False:
        return False, (f"xen_platform_pci {platform}",), f", xen_platform_pci {platform} → emulated devices only"
    if devices:
        return True, tuple(devices), f" → PV drivers in use ({', '.join(devices)})"
    if on is True:
        return True, (f"xen_platform_pci {platform}",), f", xen_platform_pci {platform} → PV drivers available"
    return True, ("xen_platform_pci default (on)",), ", xen_platform_pci default (on) → PV drivers available"


# -- xend and xl S-expressions --------------------------------------------------------------------------------
def _value(node: ConfigNode | None, key: str) -> str | None:
    child = node.find(key) if node is not None else None
    return child.value if child is not None else None


def sxp_pv_devices(tree: ConfigNode) -> list[str]:
    """Xen PV disks and NICs among `(device ...)`: vbd/tap dev xvd*, vif type or model netfront."""
    disk = net = False
    for dev in (c for c in tree.children if c.key == "device"):
        for d in dev.children:
            if d.key in ("vbd", "tap", "tap2") and (_value(d, "dev") or "").startswith("xvd"):
                disk = True
            if d.key == "vif" and "netfront" in (_value(d, "type"), _value(d, "model")):
                net = True
    return ["xen disk"] * disk + ["netfront net"] * net


def sxp_verdict(tree: ConfigNode) -> Verdict:
    """A `(domain ...)` record of `xm list -l` or xl's `output_format="sxp"`."""
    image = tree.find("image")
    kind = image.children[0] if image is not None and image.children else None
    kind_key = kind.key if kind is not None else None
    if kind_key == "hvm" or (kind_key is None and truthy(_value(tree, "hvm"))):
        field = "image/hvm" if kind_key == "hvm" else "hvm"
        parts = ["image (hvm …)" if kind_key == "hvm" else "hvm 1"]
        loader = _value(kind, "loader")
        if loader:
            parts.append(f"loader {loader.rsplit('/', 1)[-1]}")
        platform = _value(kind, "xen_platform_pci") or _value(tree, "xen_platform_pci")
        pv, evidence, tail = _pv_drivers(sxp_pv_devices(tree), platform)
        fields = ("image", field, "image/hvm/loader", "image/hvm/xen_platform_pci") if kind_key == "hvm" else (field,)
        return Verdict(Mode.HVM, ", ".join(parts) + tail, fields, pv, evidence)
    if kind_key == "pvh" or truthy(_value(tree, "pvh")) or truthy(_value(kind, "pvh")):
        if kind_key == "pvh":
            return Verdict(Mode.PVH, "image (pvh …)", ("image", "image/pvh"))
        return Verdict(Mode.PVH, "pvh 1", ("pvh", "image/linux/pvh"))
    if kind_key == "linux":
        kernel = _value(kind, "kernel")
        return Verdict(Mode.PV, "image (linux …)" + (f", kernel {kernel}" if kernel else ""), ("image", "image/linux"))
    loader = _value(tree, "bootloader")
    why = "no image (hvm …) section" + (f", bootloader {loader}" if loader else "")
    return Verdict(Mode.PV, why, ("image", "bootloader"))


# -- xl's JSON (libxl_domain_config) ----------------------------------------------------------------------------
def xl_pv_devices(config: dict[str, Any]) -> list[str]:
    """Xen PV disks (vdev xvd*) and PV-only NICs (nictype "vif") of a libxl_domain_config."""
    disks = config.get("disks")
    nics = config.get("nics")
    disks = disks if isinstance(disks, list) else []
    nics = nics if isinstance(nics, list) else []
    disk = any((json_str(json_get(d, "vdev")) or "").startswith("xvd") for d in disks)
    net = any(json_str(json_get(n, "nictype")) == "vif" for n in nics)
    return ["xen disk"] * disk + ["netfront net"] * net


def xl_verdict(config: dict[str, Any]) -> Verdict:
    """A libxl_domain_config (`xl list -l`'s "config", or `xl create -n`); fields are paths below it."""
    c_info = json_get(config, "c_info") or {}
    b_info = json_get(config, "b_info") or {}
    ctype = (json_str(json_get(c_info, "type")) or "").lower()
    union = next((k for k in ("type.hvm", "type.pvh", "type.pv") if isinstance(b_info, dict) and k in b_info), None)
    fields = ["c_info/type"]
    if ctype == "pv" and truthy(json_str(json_get(c_info, "pvh"))):
        mode, why = Mode.PVH, 'c_info.type "pv" with c_info.pvh "True" (PVHv1, Xen 4.4–4.9)'
        fields.append("c_info/pvh")
    elif ctype in ("pv", "hvm", "pvh"):
        mode, why = Mode(ctype.upper()), f'c_info.type "{ctype}"'
    elif union is not None:
        mode, why = Mode(union.split(".")[1].upper()), f'b_info."{union}" present'
    else:
        mode, why = Mode.UNKNOWN, "no c_info.type and no b_info type union"
    if union is not None:
        fields.append(f"b_info/{union}")
        if not why.startswith("b_info"):
            why += f', b_info."{union}"'
    if mode is not Mode.HVM:
        return Verdict(mode, why, tuple(fields))
    fields.append("b_info/type.hvm/xen_platform_pci")
    platform = json_str(json_get(b_info, "type.hvm", "xen_platform_pci"))
    pv, evidence, tail = _pv_drivers(xl_pv_devices(config), platform)
    return Verdict(mode, why + tail, tuple(fields), pv, evidence)


# -- libvirt domain XML -----------------------------------------------------------------------------------------
def xml_pv_devices(devices: ET.Element | None, disk_bus: str, nic_model: str) -> list[str]:
    """Disks on the paravirtual bus (xen: also xvd* with no bus) and NICs of the paravirtual model."""
    if devices is None:
        return []
    targets = devices.findall("disk/target")
    disk = any(
        t.get("bus") == disk_bus or (disk_bus == "xen" and t.get("bus") is None and (t.get("dev") or "")[:3] == "xvd")
        for t in targets
    )
    net = any(m.get("type") == nic_model for m in devices.findall("interface/model"))
    return [f"{disk_bus} disk"] * disk + [f"{nic_model} net"] * net


def xml_verdict(root: ET.Element) -> Verdict:
    """A libvirt `<domain>`: for type 'xen' the os type (and machine) decide; KVM/QEMU guests are HVM."""
    dom_type = root.get("type", "")
    os_type = root.find("os/type")
    os_kind = (os_type.text or "").strip().lower() if os_type is not None else ""
    machine = (os_type.get("machine") or "").lower() if os_type is not None else ""
    fields = ("@type", "os", "os/type", "os/type/@machine")
    devices = root.find("devices")
    if dom_type == "xen":
        if os_kind == "xenpvh" or machine == "xenpvh":
            return Verdict(Mode.PVH, f"<os><type machine='{machine or '-'}'>{os_kind}</type>", fields)
        if os_kind in ("linux", "xen"):
            return Verdict(Mode.PV, f"<os><type>{os_kind}</type>" + (f" machine {machine}" if machine else ""), fields)
        if os_kind == "hvm":
            why = "<os><type>hvm</type>"
            loader = (root.findtext("os/loader") or "").strip()
            if loader:
                why += f", loader {loader.rsplit('/', 1)[-1]}"
            pv, evidence, tail = _pv_drivers(xml_pv_devices(devices, "xen", "netfront"), None)
            return Verdict(Mode.HVM, why + tail, (*fields, "os/loader"), pv, evidence)
        if not os_kind:
            # libvirt wrote pygrub/pypxeboot guests with <bootloader> and no <os>: like xend, no hvm is PV.
            loader = (root.findtext("bootloader") or "").strip()
            why = "no <os><type>: a xen domain without hvm is PV" + (f", bootloader {loader}" if loader else "")
            return Verdict(Mode.PV, why, (*fields, "bootloader"))
        return Verdict(Mode.UNKNOWN, f"<os><type>{os_kind}</type>", fields)
    if os_kind == "hvm":
        virtio = xml_pv_devices(devices, "virtio", "virtio")
        why = f"{dom_type or 'unknown'} domain, <os><type>hvm</type>"
        if virtio:
            why += f" → paravirtual devices: {', '.join(virtio)}"
        return Verdict(Mode.HVM, why, fields, bool(virtio), tuple(virtio))
    return Verdict(Mode.UNKNOWN, f"{dom_type or 'unknown'} domain, <os><type>{os_kind or 'missing'}</type>", fields)
