"""Finding how to view a guest's display: a local viewer to launch, or the SSH tunnel to set up.

Viewers are tried in order: $VNCVIEWER, the configured one, then the first found of
xtigervncviewer/vncviewer (`host::port`), remote-viewer (`vnc://host:port`), gvncviewer.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from xentui.model import Domain, Endpoint

VIEWERS = ("xtigervncviewer", "vncviewer", "remote-viewer", "gvncviewer")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class Launch:
    argv: tuple[str, ...]
    endpoint: Endpoint
    warning: str = ""


@dataclass(frozen=True, slots=True)
class Hint:
    """What to run on the admin's workstation, when there is no display here."""

    lines: tuple[str, ...]
    copy_text: str
    url: str
    warning: str = ""


@dataclass(frozen=True, slots=True)
class Unavailable:
    reason: str


def viewer_argv(viewer: str, host: str, port: int) -> tuple[str, ...]:
    """The argument list for a viewer, in the address form that viewer understands."""
    base = os.path.basename(viewer)
    hostpart = f"[{host}]" if ":" in host else host
    if base in ("remote-viewer", "virt-viewer"):
        return (viewer, f"vnc://{hostpart}:{port}")
    if base == "gvncviewer":
        return (viewer, f"{hostpart}:{port - 5900}" if 5900 <= port < 6000 else f"{hostpart}::{port}")
    return (viewer, f"{hostpart}::{port}")


def _remote_host(source_uri: str) -> str | None:
    """The host in a remote libvirt URI (qemu+ssh://root@host/system), or None for local ones."""
    try:
        parts = urlsplit(source_uri)
    except ValueError:
        return None
    return parts.hostname if "+" in parts.scheme or parts.hostname else None


def plan(
    domain: Domain,
    source_uri: str,
    env: Mapping[str, str] | None = None,
    configured: str | None = None,
    which: object = shutil.which,
) -> Launch | Hint | Unavailable:
    env = os.environ if env is None else env
    ep = domain.vnc
    if ep is None:
        return Unavailable(f"{domain.name} has no VNC or SPICE display")
    if not domain.state.active:
        return Unavailable(f"{domain.name} is {domain.state.value}: its display exists only while it runs")
    if ep.port is None:
        return Unavailable(f"{domain.name}: the {ep.kind.upper()} port is not allocated yet")
    warning = (
        f"{ep.kind.upper()} on {ep.host}:{ep.port} listens on every interface: exposed to the network"
        if ep.exposed
        else ""
    )
    remote = _remote_host(source_uri)
    connect_host = "127.0.0.1" if ep.exposed or ep.host in LOOPBACK else ep.host
    over_ssh = bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY"))
    has_display = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    if over_ssh and not has_display:
        return _hint(domain, ep, connect_host, remote, source_uri, env, warning)
    if remote and connect_host in LOOPBACK:
        return _hint(domain, ep, connect_host, remote, source_uri, env, warning)
    if not has_display:
        return Unavailable("no graphical display here (DISPLAY is not set): run xentui on a desktop or over ssh -X")
    candidates = [env.get("VNCVIEWER"), configured, *VIEWERS]
    for viewer in candidates:
        if not viewer:
            continue
        path = which(viewer)  # type: ignore[operator]
        if path:
            kind_ok = ep.kind == "vnc" or os.path.basename(viewer) in ("remote-viewer", "virt-viewer")
            if not kind_ok:
                continue
            if ep.kind == "spice":
                return Launch((str(path), f"spice://{connect_host}:{ep.port}"), ep, warning)
            return Launch(viewer_argv(str(path), connect_host, ep.port), ep, warning)
    return Unavailable("no VNC viewer found: install tigervnc-viewer or virt-viewer, or set $VNCVIEWER")


def _hint(
    domain: Domain, ep: Endpoint, target: str, remote: str | None, uri: str, env: Mapping[str, str], warning: str
) -> Hint:
    ssh_conn = env.get("SSH_CONNECTION", "").split()
    dom0 = remote or (ssh_conn[2] if len(ssh_conn) >= 3 else "DOM0")
    user = env.get("USER") or getpass.getuser()
    port = ep.port or 0
    tunnel = f"ssh -N -L {port}:{target}:{port} {user}@{dom0}"
    scheme = "spice" if ep.kind == "spice" else "vnc"
    viewer = f"remote-viewer {scheme}://localhost:{port}" if scheme == "spice" else f"vncviewer localhost::{port}"
    lines = [
        f"{ep.kind.upper()} of {domain.name}: {ep.address} on {dom0}",
        "On your workstation, open the tunnel:",
        f"  {tunnel}",
        "then, in another terminal:",
        f"  {viewer}",
    ]
    if uri and "://" in uri and not uri.startswith("test:") and _remote_host(uri) is None:
        remote_uri = uri.replace(":///", f"+ssh://{user}@{dom0}/", 1)
        lines += [
            "or, with virt-viewer (tunnels by itself):",
            f"  virt-viewer -c {remote_uri} {shlex.quote(domain.name)}",
        ]
    return Hint(tuple(lines), f"{tunnel} & sleep 2; {viewer}", f"{scheme}://localhost:{port}", warning)


def launch(action: Launch) -> None:
    """Start the viewer detached from the TUI: own session, no terminal, argument list only."""
    subprocess.Popen(
        list(action.argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
