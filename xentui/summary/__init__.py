"""The facts an admin reads first about a domain, in plain words: boot, size, disks, NICs, consoles, graphics.

Pure: derived from a `Domain` and its parsed configuration tree (one reader per config format), no I/O.
A field is None when the source does not say (no configuration), and empty when the configuration has none.
"""

from __future__ import annotations

import re

from xentui.model import Domain
from xentui.summary.facts import Boot, Console, Devices, Disk, Nic, Summary
from xentui.summary.live_pv import LivePv, live_pv, live_pv_text
from xentui.summary.readers import READERS

__all__ = ["Boot", "Console", "Disk", "LivePv", "Nic", "Summary", "live_pv", "live_pv_text", "summarize"]

_ELIDED = re.compile(r"\.{3,}|…+")  # "......" where lines were left out of a pasted output


def summarize(domain: Domain) -> Summary:
    config = domain.config
    devices: Devices | None = None
    if config is not None:
        reader = READERS.get(config.format)
        devices = reader(config.tree, domain) if reader is not None else None
    if devices is not None and domain.id == 0 and devices.boot.kind == "unknown":
        devices = Devices(Boot(by_hypervisor=True), devices.disks, devices.nics, ())
    return Summary(
        name=domain.name,
        format=config.format if config is not None else None,
        mode=domain.mode,
        why=_why(domain),
        pv_drivers=domain.pv_drivers,
        vcpus=_count(domain.vcpus),
        max_vcpus=_count(domain.max_vcpus),
        memory_mib=_mib(domain.memory_kib),
        max_memory_mib=_mib(domain.max_memory_kib),
        # getattr: the model gains this flag together with `int | None` sizes.
        max_memory_unlimited=bool(getattr(domain, "max_memory_unlimited", False)),
        boot=devices.boot if devices is not None else None,
        disks=devices.disks if devices is not None else None,
        nics=devices.nics if devices is not None else None,
        consoles=devices.consoles if devices is not None else None,
        graphics=domain.graphics if config is not None or domain.graphics else None,
        cut_short=config is not None and _cut_short(config.format, config.raw),
        live_pv=live_pv(domain),
    )


def _why(domain: Domain) -> str:
    if domain.config is None:
        return ""
    verdict = domain.config.verdict
    why = getattr(verdict, "why", None)  # a Verdict; a plain string before the model had one
    if isinstance(why, str):
        return why
    text, prefix = str(verdict), f"{domain.mode.value}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _cut_short(fmt: str, raw: str) -> bool:
    """Whether the text the configuration was read from ends inside it, or had lines elided when pasted."""
    if fmt == "libvirt-xml":
        return not raw.rstrip().endswith("</domain>")
    if fmt not in ("xm-sxp", "xl-sxp"):
        return False  # xl's JSON reader skips a record cut short
    depth = 0
    quote = ""
    escaped = False
    for c in raw:
        if quote:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
    return depth > 0 or bool(quote) or any(_ELIDED.fullmatch(word) for word in raw.split())


def _count(value: int | None) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _mib(kib: int | None) -> int | None:
    # Sizes are being made `int | None` (unknown); 0 has always meant "not reported".
    return round(kib / 1024) if isinstance(kib, int) and kib > 0 else None
