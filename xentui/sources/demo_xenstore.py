"""The demo host's xenstore: each running demo guest's `/local/domain/N` subtree and its PV frontends, made from
the guest's own Domain (name, domid, UUID, memory, VCPUs, disks and NICs of its configuration).

What a real dom0 would show: PV and PVH guests and HVM guests with PV drivers have their vbd/vif frontends
Connected (4); an HVM guest without PV drivers (the Windows guests here) leaves them Initialising (1), as
libxl created them; `monitor` got its disk driver up but not its network one.
"""

from __future__ import annotations

from xentui.model import ConfigNode, Domain, Frontend, Mode, XenbusState, XenstoreEntry
from xentui.sources.base import ActionError
from xentui.summary import summarize

# Guests whose kernels take up none, or only some kinds, of their PV frontends (all others: every kind).
_DRIVERS: dict[str, frozenset[str]] = {
    "win2019": frozenset(),
    "legacy-nt": frozenset(),
    "monitor": frozenset({"vbd"}),
}
# Linux's major numbers for the disk names a Xen configuration gives (xen-vbd's virtual-device encoding).
_MAJORS = {"xvd": 202, "hd": 3, "sd": 8}
_HD_MAJORS = (3, 3, 22, 22)  # hda/hdb on the first IDE controller, hdc/hdd on the second


def vbd_devid(target: str | None, index: int) -> int:
    """The vbd device id Xen gives a disk named `target` (xvda → 51712, hda → 768, hdc → 5632)."""
    name = target or ""
    for prefix, major in _MAJORS.items():
        letter = name[len(prefix) : len(prefix) + 1]
        if name.startswith(prefix) and letter.isalpha() and letter.islower():
            n = ord(letter) - ord("a")
            if prefix == "hd" and n < 4:
                return (_HD_MAJORS[n] << 8) | ((n % 2) << 6)
            return (major << 8) | (n << 4)
    return (202 << 8) | (index << 4)


def _devices(domain: Domain) -> list[tuple[str, str, str]]:
    """(kind, devid, MAC or "") of the guest's disks and NICs, in its configuration's order."""
    config = domain.config
    if config is not None and config.format == "libvirt-xml":  # the demo's own: read directly, it is done often
        devices = config.tree.find("devices")
        kids = devices.children if devices is not None else ()
        disks = [_attr(d, "target", "@dev") for d in kids if d.key == "disk"]
        macs = [_attr(i, "mac", "@address") for i in kids if i.key == "interface"]
    else:
        summary = summarize(domain)
        disks = [d.target for d in summary.disks or ()]
        macs = [n.mac for n in summary.nics or ()]
    found = [("vbd", str(vbd_devid(t, i)), "") for i, t in enumerate(disks)]
    return found + [("vif", str(i), mac or "") for i, mac in enumerate(macs)]


def _attr(node: ConfigNode, *path: str) -> str | None:
    found = node.find(*path)
    return found.value if found is not None else None


def demo_frontends(domain: Domain) -> tuple[Frontend, ...] | None:
    """The guest's frontends as xenstore shows them; None for a guest not running (no subtree to read)."""
    if domain.id is None or not domain.state.active:
        return None
    if domain.id == 0:
        return ()  # Domain-0 holds the backends
    up = _DRIVERS.get(domain.name, frozenset({"vbd", "vif"}))
    return tuple(
        Frontend(kind, devid, XenbusState.CONNECTED if kind in up else XenbusState.INITIALISING)
        for kind, devid, _mac in _devices(domain)
    )


def demo_xenstore(domain: Domain) -> tuple[XenstoreEntry, ...]:
    """The guest's `/local/domain/N` subtree, as `xenstore-ls -f` would list it."""
    if domain.id is None or not domain.state.active:
        raise ActionError(f"{domain.name} is not running: it has no xenstore subtree")
    domid = domain.id
    root = f"/local/domain/{domid}"
    keys: list[tuple[str, str]] = [("", "")]
    if domid != 0 and domain.uuid:
        keys.append(("vm", f"/vm/{domain.uuid}"))
    keys += [("name", domain.name), ("domid", str(domid)), ("cpu", "")]
    keys += [(f"cpu/{i}/availability", "online") for i in range(domain.vcpus or 0)]
    keys.append(("memory", ""))
    if domain.max_memory_kib is not None:
        keys.append(("memory/static-max", str(domain.max_memory_kib)))
    if domain.memory_kib is not None:
        keys.append(("memory/target", str(domain.memory_kib)))
    if domain.mode is Mode.HVM:
        keys.append(("memory/videoram", "8192"))
    if domid == 0:
        return tuple(XenstoreEntry(root + ("/" + k if k else ""), v) for k, v in keys)
    frontends = demo_frontends(domain) or ()
    drivers = any(f.connected for f in frontends) or domain.mode is not Mode.HVM
    keys += [("control", ""), ("control/shutdown", "")]
    if drivers:  # the guest's own xenbus driver announces what it can do
        keys += [(f"control/feature-{f}", "1") for f in ("poweroff", "reboot", "suspend", "s3", "s4")]
    keys += [("data", ""), ("device", "")]
    macs = {(kind, devid): mac for kind, devid, mac in _devices(domain)}
    for n, f in enumerate(frontends):
        dev = f"device/{f.kind}/{f.devid}"
        keys += [
            (dev, ""),
            (f"{dev}/backend", f"/local/domain/0/backend/{f.kind}/{domid}/{f.devid}"),
            (f"{dev}/backend-id", "0"),
            (f"{dev}/state", str(int(f.state))),
        ]
        if f.kind == "vbd":
            keys += [(f"{dev}/virtual-device", f.devid), (f"{dev}/device-type", "disk")]
        else:
            keys += [(f"{dev}/handle", f.devid), (f"{dev}/mac", macs.get((f.kind, f.devid), ""))]
        if f.connected:
            keys += [(f"{dev}/ring-ref", str(8 + 2 * n)), (f"{dev}/event-channel", str(20 + n))]
            if f.kind == "vbd":
                keys.append((f"{dev}/protocol", "x86_64-abi"))
            else:
                keys += [(f"{dev}/request-rx-copy", "1"), (f"{dev}/feature-rx-notify", "1")]
    hvm = domain.mode is Mode.HVM
    keys += [
        ("console", ""),
        ("console/ring-ref", str(1044476 + domid)),
        ("console/port", "2"),
        ("console/limit", "1048576"),
        ("console/type", "ioemu" if hvm else "xenconsoled"),
        ("console/tty", f"/dev/pts/{domid + 1}"),
        ("store", ""),
        ("store/port", "1"),
        ("store/ring-ref", str(1044477 + domid)),
    ]
    if hvm:
        keys += [
            ("hvmloader", ""),
            ("hvmloader/allow-memory-relocate", "1"),
            ("platform", ""),
            ("platform/acpi", "1"),
            ("platform/acpi_s3", "1"),
            ("platform/acpi_s4", "1"),
            ("serial", ""),
            ("serial/0", ""),
            ("serial/0/tty", f"/dev/pts/{domid + 20}"),
        ]
    return tuple(XenstoreEntry(root + ("/" + k if k else ""), v) for k, v in keys)
