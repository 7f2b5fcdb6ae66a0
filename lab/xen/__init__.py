"""The real Xen lab: Xen 4.17 with a Debian dom0 under QEMU, reached over SSH (xen_lab)."""
