"""libvirt's Python binding, which xentui does not bundle: it is a C extension tied to the host's libvirt.

On a dom0 it is the distro's package (python3-libvirt); the single file dist/xentui.pyz finds it in the
system's dist-packages. Without it, xl, xm and saved files still work, and a libvirt source (a URI, the
demo host) stops with this one line.
"""

from __future__ import annotations

import importlib.util

from xentui.sources.base import SourceError

MISSING = (
    "libvirt's Python binding is not installed: apt install python3-libvirt "
    "(or pip install libvirt-python); xl, xm and saved files (-f) work without it"
)


def available() -> bool:
    return importlib.util.find_spec("libvirt") is not None


try:
    import libvirt
except ImportError:
    raise SourceError(MISSING) from None

__all__ = ["MISSING", "available", "libvirt"]
