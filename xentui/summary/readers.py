"""One reader per configuration format: boot, disks, NICs and consoles from a parsed `ConfigNode` tree.

xl prints libxl's structures (libxl_types.idl names) as JSON or, for `output_format="sxp"`, as
S-expressions in the layout of `printf_info_sexp()`; xend prints its own S-expressions; libvirt its domain XML.
"""

from __future__ import annotations

from typing import Callable, Optional

from xentui.model import ConfigNode, Domain, Mode
from xentui.summary.facts import Boot, Console, Devices, Disk, Nic

# Values that xl and xend print for "not set".
_UNSET = ("", "(null)", "null", "None", "<default>")
# Letters of xl/xend's HVM `boot` option.
_BOOT_LETTERS = {"a": "floppy", "c": "hd", "d": "cdrom", "n": "network"}
# libxl_disk_backend, as xl's S-expression output prints it (a number).
_XL_BACKENDS = {"1": "phy", "2": "tap", "3": "qdisk", "4": "standalone"}
_BIOS_NAMES = {"seabios": "SeaBIOS", "rombios": "ROMBIOS", "ovmf": "OVMF"}


# -- tree helpers -----------------------------------------------------------------------------------------------
def _text(node: ConfigNode | None, *path: str) -> str | None:
    found = node.find(*path) if node is not None else None
    if found is None or found.value is None:
        return None
    value = found.value.strip()
    return None if value in _UNSET else value


def _kids(node: ConfigNode | None, key: str) -> list[ConfigNode]:
    return [c for c in node.children if c.key == key] if node is not None else []


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _base(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _firmware_name(path: str) -> str:
    low = path.lower()
    for needle, name in (("hvmloader", "hvmloader"), ("ovmf", "OVMF"), ("edk2", "OVMF"), ("aavmf", "AAVMF")):
        if needle in low:
            return name
    if "seabios" in low or _base(low) == "bios.bin":
        return "SeaBIOS"
    return path


def _boot_letters(text: str | None) -> tuple[str, ...]:
    return tuple(_BOOT_LETTERS.get(c, c) for c in (text or "") if not c.isspace())


def _mac(text: str | None) -> str | None:
    if text and len(text) == 12 and all(c in "0123456789abcdefABCDEF" for c in text):
        return ":".join(text[i : i + 2] for i in range(0, 12, 2))  # xl's S-expressions print it without colons
    return text


def _pv_console(domain: Domain) -> tuple[Console, ...]:
    # libxl and xend give every PV and PVH guest console 0 (hvc0 in Linux); their listings do not show it.
    return (Console("PV console"),) if domain.mode in (Mode.PV, Mode.PVH) and domain.id != 0 else ()


def _nic_model(model: str | None, nictype: str | None, domain: Domain) -> str | None:
    if model:
        return model
    if nictype in ("vif", "netfront") or domain.mode in (Mode.PV, Mode.PVH):
        return "netfront"
    return nictype


# -- xl list -l (JSON) ------------------------------------------------------------------------------------------
def _xl_json(tree: ConfigNode, domain: Domain) -> Devices:
    config = tree.find("config") or tree
    b_info = config.find("b_info")
    pv = b_info.find("type.pv") if b_info is not None else None
    hvm = b_info.find("type.hvm") if b_info is not None else None
    firmware = None
    if hvm is not None:
        custom = _text(hvm, "firmware")
        bios = _text(hvm, "bios")
        firmware = _firmware_name(custom) if custom else "hvmloader"
        if bios:
            firmware += " + " + _BIOS_NAMES.get(bios.lower(), bios)
    boot = Boot(
        kernel=_first(_text(b_info, "kernel"), _text(pv, "kernel")),
        ramdisk=_first(_text(b_info, "ramdisk"), _text(pv, "ramdisk")),
        cmdline=_first(_text(b_info, "cmdline"), _text(pv, "cmdline")),
        bootloader=_first(_text(b_info, "bootloader"), _text(pv, "bootloader")),
        bootloader_args=_json_list(_first(_text(b_info, "bootloader_args"), _text(pv, "bootloader_args"))),
        firmware=firmware,
        order=_boot_letters(_text(hvm, "boot")),
    )
    disks = tuple(
        Disk(
            target=_text(d, "vdev"),
            source=_text(d, "pdev_path"),
            device="cdrom" if _text(d, "is_cdrom") in ("1", "True") else "disk",
            readonly=_text(d, "readwrite") == "0",
        )
        for d in _items(config.find("disks"))
    )
    nics = tuple(
        Nic(_text(n, "bridge"), _text(n, "mac"), _nic_model(_text(n, "model"), _text(n, "nictype"), domain))
        for n in _items(config.find("nics"))
    )
    serials = [s for s in _json_list_items(_text(hvm, "serial_list")) if s != "none"]
    serial = _text(hvm, "serial")
    if serial and serial != "none" and not serials:
        serials = [serial]
    consoles = tuple(Console(f"serial {i}", s) for i, s in enumerate(serials)) if hvm is not None else ()
    return Devices(boot, disks, nics, consoles or _pv_console(domain))


def _items(node: ConfigNode | None) -> list[ConfigNode]:
    return [c for c in node.children if c.key.startswith("[")] if node is not None else []


def _json_list_items(text: str | None) -> list[str]:
    # from_json shows a list of scalars as "[a, b]".
    if not text:
        return []
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    return [part.strip() for part in inner.split(", ") if part.strip()]


def _json_list(text: str | None) -> str | None:
    return " ".join(_json_list_items(text)) or None


# -- xm list -l (xend) and xl's S-expressions -------------------------------------------------------------------
def _sxp(tree: ConfigNode, domain: Domain) -> Devices:
    image = tree.find("image")
    kind = image.children[0] if image is not None and image.children else None
    hvm = kind if kind is not None and kind.key == "hvm" else None
    firmware = None
    if hvm is not None or domain.mode is Mode.HVM:
        loader = _first(_text(hvm, "loader"), _text(hvm, "firmware"))
        firmware = _firmware_name(loader) if loader else "hvmloader"
    boot = Boot(
        # xend nests kernel/ramdisk/args in (image (linux …)); xl prints them beside (linux 0) in (image …).
        kernel=_first(_text(kind, "kernel"), _text(image, "kernel")),
        ramdisk=_first(_text(kind, "ramdisk"), _text(image, "ramdisk")),
        cmdline=_first(_text(kind, "args"), _text(kind, "cmdline"), _text(image, "cmdline")),
        bootloader=_text(tree, "bootloader"),
        bootloader_args=_text(tree, "bootloader_args"),
        firmware=firmware,
        order=_boot_letters(_text(hvm, "boot")),
    )
    disks: list[Disk] = []
    nics: list[Nic] = []
    consoles: list[Console] = []
    for device in _kids(tree, "device"):
        for dev in device.children:
            if dev.key in ("vbd", "tap", "tap2"):
                disks.append(_sxp_disk(dev))
            elif dev.key == "vif":
                mac = _mac(_text(dev, "mac"))
                model = _nic_model(_text(dev, "model"), _sxp_nictype(_text(dev, "type")), domain)
                nics.append(Nic(_text(dev, "bridge"), mac, model))
            elif dev.key == "console":
                consoles.append(Console("PV console", _text(dev, "protocol")))
    serial = _text(hvm, "serial")
    if serial and serial != "none":
        consoles.append(Console("serial 0", serial))
    return Devices(boot, tuple(disks), tuple(nics), tuple(consoles) or _pv_console(domain))


def _sxp_nictype(text: str | None) -> str | None:
    return "netfront" if text in ("netfront", "vif") else text


def _sxp_disk(dev: ConfigNode) -> Disk:
    uname = _text(dev, "uname")  # xend: phy:/dev/vg0/guest, file:/srv/x.img, tap:aio:/srv/x.img
    path = _first(_text(dev, "pdev_path"), _text(dev, "physpath"))
    backend = _first(_text(dev, "backend"), _XL_BACKENDS.get(_text(dev, "phystype") or ""))
    source = uname or (f"{backend}:{path}" if backend and path else path)
    target = _first(_text(dev, "dev"), _text(dev, "vdev"), _text(dev, "virtpath"))
    device = "disk"
    if target and ":" in target:  # xend: "hdc:cdrom", "xvda:disk"
        target, _, device = target.partition(":")
    if _text(dev, "is_cdrom") in ("1", "True"):
        device = "cdrom"
    readonly = _text(dev, "mode") == "r" or _text(dev, "readwrite") == "0"
    return Disk(target or None, source, device or "disk", readonly)


# -- libvirt domain XML -----------------------------------------------------------------------------------------
def _attr(node: ConfigNode | None, name: str) -> str | None:
    return _text(node, "@" + name)


def _libvirt(tree: ConfigNode, domain: Domain) -> Devices:
    os = tree.find("os")
    xen = _attr(tree, "type") == "xen"
    loader = _text(os, "loader")
    firmware = None
    if loader:
        firmware = _firmware_name(loader)
    elif _attr(os, "firmware") == "efi":
        firmware = "OVMF" if xen else "UEFI"
    elif domain.mode is Mode.HVM:
        firmware = "hvmloader" if xen else "default BIOS"
    boot = Boot(
        kernel=_text(os, "kernel"),
        ramdisk=_text(os, "initrd"),
        cmdline=_text(os, "cmdline"),
        bootloader=_text(tree, "bootloader"),
        bootloader_args=_text(tree, "bootloader_args"),
        firmware=firmware,
        order=tuple(dev for b in _kids(os, "boot") for dev in [_attr(b, "dev")] if dev),
    )
    devices = tree.find("devices")
    disks = tuple(_libvirt_disk(d) for d in _kids(devices, "disk"))
    nics = tuple(
        Nic(_libvirt_link(i), _attr(i.find("mac"), "address"), _libvirt_model(i, xen, domain))
        for i in _kids(devices, "interface")
    )
    return Devices(boot, disks, nics, _libvirt_consoles(devices))


def _libvirt_disk(disk: ConfigNode) -> Disk:
    src = disk.find("source")
    source = _first(*(_attr(src, a) for a in ("file", "dev", "dir", "volume")))
    if source is None and _attr(src, "name"):
        protocol = _attr(src, "protocol")
        source = f"{protocol}:{_attr(src, 'name')}" if protocol else _attr(src, "name")
    if source and _attr(src, "pool") and _attr(src, "volume"):
        source = f"{_attr(src, 'pool')}/{source}"
    target = _attr(disk.find("target"), "dev")
    return Disk(target, source, _attr(disk, "device") or "disk", disk.find("readonly") is not None)


def _libvirt_link(iface: ConfigNode) -> str | None:
    src = iface.find("source")
    if _attr(src, "bridge"):
        return _attr(src, "bridge")
    kind = _attr(iface, "type")
    for attr in ("network", "dev", "path"):
        value = _attr(src, attr)
        if value:
            return f"{kind or attr} {value}"
    return kind


def _libvirt_model(iface: ConfigNode, xen: bool, domain: Domain) -> str | None:
    model = _attr(iface.find("model"), "type")
    return model or ("netfront" if xen and domain.mode in (Mode.PV, Mode.PVH) else None)


def _libvirt_consoles(devices: ConfigNode | None) -> tuple[Console, ...]:
    found: list[Console] = []
    serial_ports: set[str] = set()
    for serial in _kids(devices, "serial"):
        port = _attr(serial.find("target"), "port") or str(len(serial_ports))
        serial_ports.add(port)
        path = _first(_attr(serial.find("source"), "path"), _attr(serial, "tty"))
        found.append(Console(f"serial {port}", _attr(serial, "type"), path))
    for console in _kids(devices, "console"):
        target = console.find("target")
        kind = _attr(target, "type") or "serial"
        path = _first(_attr(console.find("source"), "path"), _attr(console, "tty"))
        port = _attr(target, "port") or "0"
        if kind == "serial" and port in serial_ports:
            # libvirt repeats serial N as the first <console>; keep one entry, with the tty if only this one has it.
            at = next(i for i, c in enumerate(found) if c.kind == f"serial {port}")
            if found[at].path is None and path:
                found[at] = Console(found[at].kind, found[at].type, path)
            continue
        name = "PV console" if kind == "xen" else f"{kind} console" if kind != "serial" else f"serial {port}"
        found.append(Console(name, _attr(console, "type"), path))
    return tuple(found)


Reader = Callable[[ConfigNode, Domain], Optional[Devices]]
READERS: dict[str, Reader] = {"xl-json": _xl_json, "xm-sxp": _sxp, "xl-sxp": _sxp, "libvirt-xml": _libvirt}
