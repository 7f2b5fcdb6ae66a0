"""Real hypervisor labs for the test suite: QEMU guests under libvirt (qemu_lab)."""
