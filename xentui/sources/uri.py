"""libvirt URIs read without libvirt (the config file and the CLI need them when the binding is absent)."""

from __future__ import annotations

from urllib.parse import urlsplit


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
