"""The one place sources are opened: from the command line, the hosts file, LIBVIRT_DEFAULT_URI or detection.

    request = Request(connect=("dom0-a",), config="")       # what the user asked for
    opened = open_request(request, Options(read_only=True, batch=True))

Every way a source is named gets the same `Options`: read-only or not, libvirt's `no_tty=1` for ssh
transports when the dashboard owns the terminal (`batch`), the xl/xm timeout; and hosts get names
that are distinct (here, and nowhere else).
"""

from __future__ import annotations

import enum
import importlib.util
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from xentui import config
from xentui.sources.base import Display, DisplayRoute, Source
from xentui.sources.uri import XlUri, is_xl_uri, parse_xl_uri, uri_host

_LIBVIRT_SOCKETS = {
    "xen:///system": ("/run/libvirt/virtxend-sock",),
    "qemu:///system": ("/run/libvirt/virtqemud-sock",),
}
_LIBVIRTD_SOCKET = "/run/libvirt/libvirt-sock"


class Kind(str, enum.Enum):
    LIBVIRT = "libvirt"
    XL = "xl"
    XM = "xm"
    DEMO = "demo"
    FILES = "files"


@dataclass(frozen=True)
class Spec:
    """One source to open."""

    kind: Kind
    target: str = ""  # LIBVIRT: the URI; XL: an xl:// or xl+ssh:// URI ("" for this dom0); DEMO: a node XML
    files: tuple[str, ...] = ()  # FILES: the saved outputs
    name: str = ""  # the host's name in the table; "" lets the source name itself
    why: str = ""  # why it was chosen, said to the user when the choice was automatic


@dataclass(frozen=True)
class Options:
    """The same for every source opened."""

    read_only: bool = True
    batch: bool = False  # the dashboard owns the terminal: ssh may not prompt (libvirt's no_tty=1)
    timeout: float = 10.0  # seconds per xl/xm call


@dataclass(frozen=True)
class Request:
    """The source options of the command line."""

    connect: tuple[str, ...] = ()  # -c: URIs or names of the hosts file
    xl: bool = False
    xm: bool = False
    demo: bool = False
    demo_host: str = ""  # --demo-host XML
    files: tuple[str, ...] = ()  # -f
    config: str = ""  # --config FILE; "" for the default place (not required to exist)


@dataclass(frozen=True)
class Plan:
    specs: tuple[Spec, ...]
    notice: str = ""  # said once when the source was chosen for the user
    interval: float | None = None  # the hosts file's, if it sets one


@dataclass(frozen=True)
class Opened:
    sources: tuple[Source, ...]
    notice: str = ""
    interval: float | None = None


def _is_xen_dom0() -> bool:
    try:
        with open("/proc/xen/capabilities") as f:
            return "control_d" in f.read()
    except OSError:
        return False


def detect() -> Spec:
    """The best real source on this machine; the demo when there is none."""
    # Without libvirt's binding (python3-libvirt) a libvirt daemon is of no use: xl/xm instead.
    binding = importlib.util.find_spec("libvirt") is not None
    if _is_xen_dom0():
        if binding and (os.path.exists(_LIBVIRT_SOCKETS["xen:///system"][0]) or os.path.exists(_LIBVIRTD_SOCKET)):
            return Spec(Kind.LIBVIRT, "xen:///system", why="Xen dom0 with libvirt")
        for tool in (Kind.XL, Kind.XM):
            if shutil.which(tool.value):
                return Spec(tool, why=f"Xen dom0, using {tool.value}")
    for uri, sockets in _LIBVIRT_SOCKETS.items():
        if binding and uri.startswith("qemu") and any(os.path.exists(s) for s in (*sockets, _LIBVIRTD_SOCKET)):
            return Spec(Kind.LIBVIRT, uri, why="local libvirt daemon")
    return Spec(Kind.DEMO, why="no hypervisor found on this machine: showing the built-in demo host")


def plan(request: Request, env: Mapping[str, str] | None = None) -> Plan:
    """Which sources, in this order: --demo-host; -f; --demo; -c (URIs or configured names) before --xl/--xm;
    the hosts file's hosts; LIBVIRT_DEFAULT_URI; else what this machine has. Raises config.ConfigError, or
    UriError for an xl URI that cannot be used."""
    env = os.environ if env is None else env
    if request.demo_host:
        return Plan((Spec(Kind.DEMO, os.path.abspath(request.demo_host)),))
    if request.files:
        return Plan((Spec(Kind.FILES, files=request.files),))
    if request.demo:
        return Plan((Spec(Kind.DEMO),))
    if (request.xl or request.xm) and not request.connect:
        return Plan((Spec(Kind.XL if request.xl else Kind.XM),))
    path = Path(request.config) if request.config else config.default_path()
    cfg = config.load(path, required=bool(request.config))
    hosts = config.resolve(list(request.connect), cfg)
    if hosts:
        return Plan(tuple(_host_spec(h.uri, h.name) for h in hosts), interval=cfg.interval)
    uri = env.get("LIBVIRT_DEFAULT_URI")
    spec = Spec(Kind.LIBVIRT, uri, why="LIBVIRT_DEFAULT_URI") if uri else detect()
    return Plan((spec,), spec.why, cfg.interval)


def _host_spec(uri: str, name: str) -> Spec:
    """A URI of the command line or the hosts file: xl's own (checked now), else libvirt's."""
    if is_xl_uri(uri):
        parse_xl_uri(uri)
        return Spec(Kind.XL, uri, name=name)
    return Spec(Kind.LIBVIRT, uri, name=name)


def unique_names(specs: Sequence[Spec]) -> tuple[Spec, ...]:
    """Several hosts get distinct names: the configured one, else the URI's host[:port] or a short form of a
    local URI, made unique with #2, #3…. One host keeps its own (libvirt's hostname stands)."""
    if len(specs) < 2:
        return tuple(specs)
    taken: list[str] = []
    out = []
    for spec in specs:
        base = spec.name or _default_name(spec)
        name, n = base, 2
        while name in taken:
            name, n = f"{base}#{n}", n + 1
        taken.append(name)
        out.append(replace(spec, name=name))
    return tuple(out)


def _default_name(spec: Spec) -> str:
    from xentui.sources.libvirt_source import short_uri

    if spec.kind is Kind.LIBVIRT:
        return str(uri_host(spec.target) or short_uri(spec.target))
    if spec.kind is Kind.XL and spec.target:
        return parse_xl_uri(spec.target).host_port or Kind.XL.value
    return str(spec.kind.value)


def open_source(spec: Spec, options: Options) -> Source:
    """Build the source (no I/O yet: connecting happens on its first snapshot)."""
    if spec.kind is Kind.LIBVIRT:
        from xentui.sources.libvirt_source import LibvirtSource

        return LibvirtSource(spec.target, read_only=options.read_only, name=spec.name or None, batch=options.batch)
    if spec.kind in (Kind.XL, Kind.XM):
        return _open_toolstack(spec, options)
    if spec.kind is Kind.FILES:
        from xentui.sources.files import FilesSource

        return FilesSource(spec.files)
    from xentui.sources.demo import DEMO_HOSTNAME, DemoSource

    return DemoSource(read_only=options.read_only, host_xml=spec.target or None, name=spec.name or DEMO_HOSTNAME)


def _open_toolstack(spec: Spec, options: Options) -> Source:
    """xl/xm here, or xl on a remote dom0 through one ssh connection (named host[:port] unless configured)."""
    from xentui.sources.runner import LocalRunner, Runner, SshRunner, SshTarget
    from xentui.sources.xl import ToolstackSource

    where = parse_xl_uri(spec.target) if spec.target else XlUri()
    runner: Runner = LocalRunner()
    if where.remote:
        target = SshTarget(where.user, where.host, where.port, where.keyfile, where.known_hosts, where.verify)
        runner = SshRunner(target, connect_timeout=options.timeout)
    source = ToolstackSource(
        spec.kind.value,
        runner=runner,
        read_only=options.read_only,
        timeout=options.timeout,
        name=spec.name or where.host_port,
    )
    if where.remote:
        # Its guests' displays listen on the remote dom0: a tunnel away, through the same ssh target.
        source.display = Display(DisplayRoute.TUNNEL, spec.target)
        source.label = spec.target
    return source


def open_sources(specs: Sequence[Spec], options: Options) -> tuple[Source, ...]:
    return tuple(open_source(s, options) for s in unique_names(specs))


def open_request(request: Request, options: Options, env: Mapping[str, str] | None = None) -> Opened:
    """`plan` then `open_sources`: what the command line does. Raises config.ConfigError."""
    chosen = plan(request, env)
    return Opened(open_sources(chosen.specs, options), chosen.notice, chosen.interval)
