"""The plain facts of a domain's summary: frozen dataclasses, no logic."""

from __future__ import annotations

from dataclasses import dataclass

from xentui.model import Endpoint, Mode
from xentui.summary.live_pv import LivePv


@dataclass(frozen=True)
class Boot:
    """How the guest starts. `firmware` is a plain name (hvmloader, OVMF, SeaBIOS…), `order` boot devices."""

    kernel: str | None = None
    ramdisk: str | None = None
    cmdline: str | None = None
    bootloader: str | None = None
    bootloader_args: str | None = None
    firmware: str | None = None
    order: tuple[str, ...] = ()
    by_hypervisor: bool = False  # Domain-0: Xen starts it, no configuration boots it

    @property
    def kind(self) -> str:
        if self.by_hypervisor:
            return "hypervisor"
        if self.bootloader:
            return "bootloader"
        if self.kernel:
            return "kernel"
        return "firmware" if self.firmware else "unknown"


@dataclass(frozen=True)
class Disk:
    target: str | None  # the guest's device name: xvda, hda, vda
    source: str | None  # None: an empty drive (a CD-ROM without media)
    device: str = "disk"  # disk, cdrom, floppy, lun
    readonly: bool = False


@dataclass(frozen=True)
class Nic:
    link: str | None  # the bridge, or "network default", "direct eth0"
    mac: str | None
    model: str | None  # netfront, e1000, virtio, rtl8139…


@dataclass(frozen=True)
class Console:
    kind: str  # "PV console", "serial 0", "virtio console"
    type: str | None = None  # pty, file, tcp…
    path: str | None = None  # /dev/pts/3


@dataclass(frozen=True)
class Summary:
    name: str
    format: str | None  # the configuration's format, None without one
    mode: Mode
    why: str
    pv_drivers: bool
    vcpus: int | None
    max_vcpus: int | None
    memory_mib: int | None  # rounded to whole MiB
    max_memory_mib: int | None
    max_memory_unlimited: bool  # no maximum at all (xend's uncapped Domain-0, xentop's "no limit")
    boot: Boot | None
    disks: tuple[Disk, ...] | None
    nics: tuple[Nic, ...] | None
    consoles: tuple[Console, ...] | None
    graphics: tuple[Endpoint, ...] | None
    cut_short: bool = False  # the configuration text ends early or has lines elided: absent may be unseen
    live_pv: LivePv | None = None  # the PV frontends xenstore shows, where the source read it


@dataclass(frozen=True)
class Devices:
    """What a configuration reader finds."""

    boot: Boot
    disks: tuple[Disk, ...]
    nics: tuple[Nic, ...]
    consoles: tuple[Console, ...]
