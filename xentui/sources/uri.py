"""Source URIs read without libvirt: libvirt's (the config file and the CLI need them when the binding is
absent), and xentui's own for a dom0's `xl`: `xl://` here, `xl+ssh://[user@]host[:port][/?keyfile=PATH]` remote."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

XL_FORMS = "xl:// for this dom0, xl+ssh://[user@]host[:port][/?keyfile=PATH] for a remote one"
# libvirt's own ssh parameters, with the same meaning; no_tty is accepted and changes nothing (ssh never prompts).
XL_PARAMS = ("keyfile", "known_hosts", "no_verify", "no_tty")


class UriError(ValueError):
    """A source URI that cannot be used: the message names it and says what is wrong, on one line."""


def uri_host(uri: str) -> str:
    """The host part of a remote URI, with its port when one is given; "" for local URIs."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return ""
    if not parts.hostname:
        return ""
    return f"{parts.hostname}:{port}" if port else parts.hostname


def is_xl_uri(uri: str) -> bool:
    """A URI of the xl family (`xl://`, `xl+ssh://`, and misspelt transports such as `xl+tcp://`)."""
    scheme = uri.partition("://")[0].lower()
    return "://" in uri and (scheme == "xl" or scheme.startswith("xl+"))


@dataclass(frozen=True)
class XlUri:
    """A dom0 reached with its `xl`: here (`host` ""), or over ssh."""

    user: str = ""
    host: str = ""
    port: int | None = None
    keyfile: str = ""  # ssh -i
    known_hosts: str = ""  # ssh -o UserKnownHostsFile=
    verify: bool = True  # False (no_verify=1): the host key is not checked, as libvirt's no_verify

    @property
    def remote(self) -> bool:
        return bool(self.host)

    @property
    def host_port(self) -> str:
        """What the fleet calls the host by default, like libvirt's remote URIs: host[:port]."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host


def parse_xl_uri(uri: str) -> XlUri:
    """`xl://` / `xl:///` → this dom0; `xl+ssh://[user@]host[:port][/][?keyfile=PATH&…]` → a remote one.
    Raises UriError naming the URI and what is wrong."""
    scheme = uri.partition("://")[0].lower()
    if scheme not in ("xl", "xl+ssh"):
        raise UriError(f"{uri}: unknown scheme {scheme!r} (use {XL_FORMS})")
    try:
        parts = urlsplit(uri)
    except ValueError as exc:
        raise UriError(f"{uri}: not a URI ({exc})") from None
    try:
        port = parts.port
    except ValueError:
        given = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
        raise UriError(f"{uri}: bad port {given!r} (a number from 1 to 65535)") from None
    if parts.path not in ("", "/"):
        raise UriError(f"{uri}: no path is used after the host (use {XL_FORMS})")
    if parts.fragment:
        raise UriError(f"{uri}: unexpected #{parts.fragment}")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise UriError(f"{uri}: bad query (expected ?name=value&…)") from None
    unknown = sorted(set(query) - set(XL_PARAMS))
    if unknown:
        raise UriError(f"{uri}: unknown parameter {unknown[0]!r} (known: {', '.join(XL_PARAMS)})")
    repeated = sorted(k for k, v in query.items() if len(v) > 1)
    if repeated:
        raise UriError(f"{uri}: parameter {repeated[0]!r} given twice")
    values = {k: v[0] for k, v in query.items()}
    if scheme == "xl":
        if parts.netloc or values:
            raise UriError(f"{uri}: xl:// is this dom0 and takes no host or parameters (use {XL_FORMS})")
        return XlUri()
    if not parts.hostname:
        raise UriError(f"{uri}: no host (use {XL_FORMS})")
    if port == 0:
        raise UriError(f"{uri}: bad port '0' (a number from 1 to 65535)")
    if parts.password is not None:
        raise UriError(f"{uri}: no password in the URI: ssh logs in with a key (keyfile=PATH or an agent)")
    for key in ("keyfile", "known_hosts"):
        if key in values and not values[key]:
            raise UriError(f"{uri}: {key}= needs a path")
    no_verify = values.get("no_verify", "0")
    if no_verify not in ("0", "1"):
        raise UriError(f"{uri}: no_verify must be 0 or 1")
    user, host = unquote(parts.username or ""), unquote(parts.hostname)
    if user.startswith("-") or host.startswith("-") or any(c.isspace() or not c.isprintable() for c in user + host):
        raise UriError(f"{uri}: a user or host may not start with '-' or hold spaces or control characters")
    return XlUri(
        user=user,
        host=host,
        port=port,
        keyfile=values.get("keyfile", ""),
        known_hosts=values.get("known_hosts", ""),
        verify=no_verify == "0",
    )
