"""Finding how to view a guest's display: a local viewer to launch, or the SSH tunnel to set up.

Viewers are tried in order: $VNCVIEWER, the configured one, then the first found of
xtigervncviewer/vncviewer (`host::port`), remote-viewer (`vnc://host:port`), gvncviewer.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shlex
import shutil
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from xentui.model import Domain, Endpoint
from xentui.sources.base import Display, DisplayRoute
from xentui.sources.runner import SshTarget
from xentui.sources.uri import UriError, is_xl_uri, parse_xl_uri

VIEWERS = ("xtigervncviewer", "vncviewer", "remote-viewer", "gvncviewer")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Launch:
    argv: tuple[str, ...]
    endpoint: Endpoint
    warning: str = ""


@dataclass(frozen=True)
class Hint:
    """What to run on the admin's workstation, when there is no display here."""

    lines: tuple[str, ...]
    copy_text: str
    url: str
    warning: str = ""


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class SshRoute:
    """How to reach a libvirt host with ssh: from its URI (user, and for +ssh the port and keyfile)."""

    host: str
    user: str | None = None
    port: int | None = None
    keyfile: str | None = None
    checks: tuple[str, ...] = ()  # how the host key is checked, when the URI says (xl+ssh's known_hosts/no_verify)

    def options(self) -> list[str]:
        return [
            *(["-p", str(self.port)] if self.port else []),
            *(["-i", self.keyfile] if self.keyfile else []),
            *self.checks,
        ]

    @property
    def target(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host


def ssh_route(source_uri: str) -> SshRoute | None:
    """How to reach the host of a remote libvirt URI (qemu+ssh://root@host:22/system); None for local ones."""
    try:
        parts = urlsplit(source_uri)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    if is_xl_uri(source_uri):
        with contextlib.suppress(UriError):
            xl = parse_xl_uri(source_uri)
            checks = SshTarget(xl.user, xl.host, known_hosts=xl.known_hosts, verify=xl.verify).options()
            return SshRoute(xl.host, xl.user or None, xl.port, xl.keyfile or None, tuple(checks))
        return None
    over_ssh = parts.scheme.endswith("+ssh")  # +tcp/+tls ports are libvirt's, not ssh's
    keyfile = parse_qs(parts.query).get("keyfile", [None])[0] if over_ssh else None
    return SshRoute(parts.hostname, parts.username, port if over_ssh else None, keyfile)


def free_local_port(preferred: int) -> int:
    """`preferred` when nothing here listens on it (the usual case on a workstation), else a free one."""
    with contextlib.closing(socket.socket()) as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plan(
    domain: Domain,
    display: Display,
    env: Mapping[str, str] | None = None,
    configured: str | None = None,
    which: object = shutil.which,
) -> Launch | Hint | Unavailable:
    """What to do for the domain's display, by the source's display route (`Source.display`)."""
    env = os.environ if env is None else env
    if display.route is DisplayRoute.NONE:
        return Unavailable(f"{domain.name}: saved outputs have no live display")
    source_uri = display.uri
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
    route = ssh_route(source_uri) if display.route is DisplayRoute.TUNNEL else None
    remote = route.host if route else None
    loopback = ep.host in LOOPBACK
    # Where a viewer here would connect: the remote host itself when its server listens on every interface.
    connect_host = (remote or "127.0.0.1") if ep.exposed else ("127.0.0.1" if loopback else ep.host)
    over_ssh = bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY"))
    has_display = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    tunnel_target = "127.0.0.1" if ep.exposed or loopback else ep.host
    if over_ssh and not has_display:
        return _hint(domain, ep, tunnel_target, route, source_uri, env, warning)
    if remote and loopback:
        # Only the remote host can reach it. virt-viewer tunnels over a libvirt URI by itself (not over xl's).
        found = None if is_xl_uri(source_uri) else which("virt-viewer")  # type: ignore[operator]
        if has_display and found:
            return Launch((str(found), "--connect", source_uri, "--", domain.name), ep, warning)
        return _hint(domain, ep, tunnel_target, route, source_uri, env, warning, workstation=True)
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
    domain: Domain,
    ep: Endpoint,
    target: str,
    route: SshRoute | None,
    uri: str,
    env: Mapping[str, str],
    warning: str,
    workstation: bool = False,
) -> Hint:
    """The tunnel to run: to the remote URI's host (`route`), else to this dom0 as the SSH session names it.

    `workstation`: xentui itself runs where the viewer will (a remote libvirt URI), so the local port is one
    that is free here; else it is the guest's port, on the admin's machine."""
    remote = route is not None
    if route is None:
        ssh_conn = env.get("SSH_CONNECTION", "").split()
        route = SshRoute(ssh_conn[2] if len(ssh_conn) >= 3 else "DOM0", env.get("USER") or getpass.getuser())
    port = ep.port or 0
    local = free_local_port(port) if workstation else port
    tunnel = shlex.join(["ssh", "-N", *route.options(), "-L", f"{local}:{target}:{port}", route.target])
    scheme = "spice" if ep.kind == "spice" else "vnc"
    viewer = f"remote-viewer {scheme}://localhost:{local}" if scheme == "spice" else f"vncviewer localhost::{local}"
    where = "Here" if workstation else "On your workstation"
    lines = [
        f"{ep.kind.upper()} of {domain.name}: {ep.address} on {route.host}",
        f"{where}, open the tunnel:",
        f"  {tunnel}",
        "then, in another terminal:",
        f"  {viewer}",
    ]
    remote_uri = ""
    if is_xl_uri(uri):
        remote_uri = ""  # no libvirt there for virt-viewer
    elif remote:
        remote_uri = uri
    elif uri and "://" in uri and not uri.startswith("test:"):
        remote_uri = uri.replace(":///", f"+ssh://{route.target}/", 1)
    if remote_uri:
        lines += [
            "or, with virt-viewer (tunnels by itself):",
            f"  virt-viewer -c {shlex.quote(remote_uri)} {shlex.quote(domain.name)}",
        ]
    return Hint(tuple(lines), f"{tunnel} & sleep 2; {viewer}", f"{scheme}://localhost:{local}", warning)


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
