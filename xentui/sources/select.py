"""Choosing a source the way virsh would: -c URI, LIBVIRT_DEFAULT_URI, --xl/--xm/--demo, else the best found."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from xentui.sources.base import Source

_LIBVIRT_SOCKETS = {
    "xen:///system": ("/run/libvirt/virtxend-sock",),
    "qemu:///system": ("/run/libvirt/virtqemud-sock",),
}
_LIBVIRTD_SOCKET = "/run/libvirt/libvirt-sock"


@dataclass(frozen=True)
class Choice:
    kind: str  # "libvirt", "xl", "xm", "demo", "files"
    target: str = ""  # URI, or "" for others
    why: str = ""  # said to the user when the choice was automatic
    files: tuple[str, ...] = ()


def _is_xen_dom0() -> bool:
    try:
        with open("/proc/xen/capabilities") as f:
            return "control_d" in f.read()
    except OSError:
        return False


def detect() -> Choice:
    """The best real source on this machine; the demo when there is none."""
    dom0 = _is_xen_dom0()
    if dom0:
        if os.path.exists(_LIBVIRT_SOCKETS["xen:///system"][0]) or os.path.exists(_LIBVIRTD_SOCKET):
            return Choice("libvirt", "xen:///system", "Xen dom0 with libvirt")
        for tool in ("xl", "xm"):
            if shutil.which(tool):
                return Choice(tool, why=f"Xen dom0, using {tool}")
    for uri, sockets in _LIBVIRT_SOCKETS.items():
        if uri.startswith("qemu") and any(os.path.exists(s) for s in (*sockets, _LIBVIRTD_SOCKET)):
            return Choice("libvirt", uri, "local libvirt daemon")
    return Choice("demo", why="no hypervisor found on this machine: showing the built-in demo host")


def choose(connect: str | None, xl: bool, xm: bool, demo: bool, files: tuple[str, ...] = ()) -> Choice:
    if files:
        return Choice("files", files=files)
    if demo:
        return Choice("demo")
    if connect:
        return Choice("libvirt", connect)
    if xl:
        return Choice("xl")
    if xm:
        return Choice("xm")
    env = os.environ.get("LIBVIRT_DEFAULT_URI")
    if env:
        return Choice("libvirt", env, "LIBVIRT_DEFAULT_URI")
    return detect()


def open_source(choice: Choice, read_only: bool = True, timeout: float = 10.0) -> Source:
    if choice.kind == "libvirt":
        from xentui.sources.libvirt_source import LibvirtSource

        return LibvirtSource(choice.target, read_only=read_only)
    if choice.kind in ("xl", "xm"):
        from xentui.sources.xl import ToolstackSource

        return ToolstackSource(choice.kind, read_only=read_only, timeout=timeout)
    if choice.kind == "files":
        from xentui.sources.files import FilesSource

        return FilesSource(choice.files)
    from xentui.sources.demo import DemoSource

    return DemoSource(read_only=read_only)
