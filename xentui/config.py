"""The hosts file: named libvirt URIs (or xl ones, for a dom0 without libvirtd) for the fleet view, in TOML.

    # ~/.config/xentui/config.toml
    interval = 2                       # optional: refresh every 2 s

    [hosts.dom0-a]
    uri = "xen+ssh://root@dom0-a.example.net/system"

    [hosts.kvm7]
    uri = "qemu+ssh://root@kvm7/system"

    [hosts.dom0-b]                     # xl over one ssh connection: no libvirtd needed there
    uri = "xl+ssh://root@dom0-b.example.net:2222/?keyfile=~/.ssh/dom0_ed25519"

`xentui` with no source option watches every host listed; `-c dom0-a` picks one by name.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from xentui.sources.uri import UriError, is_xl_uri, parse_xl_uri

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, from PyPI
    import tomli as tomllib

MAX_BYTES = 1 << 20


class ConfigError(Exception):
    """A config file that cannot be used: the message is `PATH[:LINE:COL]: what is wrong`."""


@dataclass(frozen=True)
class HostSpec:
    uri: str
    name: str = ""  # what the table calls the host; "" lets libvirt's hostname stand


@dataclass(frozen=True)
class Config:
    hosts: tuple[HostSpec, ...] = ()
    interval: float | None = None
    path: str = ""
    console_log: str | None = None  # console_log = "DIR": what every console printed, in DIR/<host>/<domain>.log


def default_path() -> Path:
    explicit = os.environ.get("XENTUI_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "xentui" / "config.toml"


_POSITION = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")


def load(path: Path, required: bool = False) -> Config:
    """The config at `path`; an empty one when it does not exist and was not asked for by name."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file") from None
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES // 1024} KiB: not a config file")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        m = _POSITION.match(str(exc))
        where, what = (f"{path}:{m.group(2)}:{m.group(3)}", m.group(1)) if m else (str(path), str(exc))
        raise ConfigError(f"{where}: {what}") from None
    return _read(doc, str(path))


def _read(doc: dict[str, object], path: str) -> Config:
    unknown = sorted(set(doc) - {"hosts", "interval", "console_log"})
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r} (known: hosts, interval, console_log)")
    console_log = doc.get("console_log")
    if console_log is not None and (not isinstance(console_log, str) or not console_log):
        raise ConfigError(f'{path}: console_log must be a directory such as "/var/log/xentui"')
    interval = doc.get("interval")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0):
        raise ConfigError(f"{path}: interval must be a positive number of seconds")
    hosts = doc.get("hosts", {})
    if not isinstance(hosts, dict):
        raise ConfigError(f'{path}: hosts must be tables: [hosts.NAME] with uri = "…"')
    specs = []
    for name, table in hosts.items():
        if not isinstance(table, dict):
            raise ConfigError(f'{path}: hosts.{name} must be a table with uri = "…"')
        extra = sorted(set(table) - {"uri"})
        if extra:
            raise ConfigError(f"{path}: hosts.{name}: unknown setting {extra[0]!r} (known: uri)")
        uri = table.get("uri")
        if not isinstance(uri, str) or "://" not in uri:
            raise ConfigError(
                f"{path}: hosts.{name}: uri must be a libvirt URI such as "
                '"xen+ssh://root@dom0/system", or "xl+ssh://root@dom0" for xl over ssh'
            )
        if is_xl_uri(uri):
            try:
                parse_xl_uri(uri)
            except UriError as exc:
                raise ConfigError(f"{path}: hosts.{name}: {exc}") from None
        specs.append(HostSpec(uri, name))
    log_dir = os.path.expanduser(console_log) if console_log is not None else None
    return Config(tuple(specs), float(interval) if interval is not None else None, path, log_dir)


def resolve(connect: list[str], config: Config) -> list[HostSpec]:
    """The hosts to watch: each -c (a URI or a configured name), else every configured host; each URI once.

    Names are the configured ones ("" for a bare URI); the source factory makes them distinct.
    """
    by_name = {h.name: h for h in config.hosts}
    # A -c that is no configured name goes to libvirt as it is: a URI, or one of libvirt's own uri_aliases.
    specs = [by_name.get(item, HostSpec(item)) for item in connect] if connect else list(config.hosts)
    unique: list[HostSpec] = []
    for spec in specs:
        if all(spec.uri != u.uri for u in unique):
            unique.append(spec)
    return unique
