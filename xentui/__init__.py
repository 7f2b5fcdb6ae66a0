"""xentui: a terminal dashboard for Xen and libvirt hosts."""

__version__ = "0.1.0"
