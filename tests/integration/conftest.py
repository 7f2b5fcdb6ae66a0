"""The real libvirt lab (lab/qemu_lab.py) for the integration tests: started once, always stopped."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from lab.artifacts import LabUnavailable
from lab.fleet_lab import FleetLab
from lab.qemu_lab import QemuLab


@pytest.fixture(scope="session")
def lab() -> Iterator[QemuLab]:
    if shutil.which("qemu-system-x86_64") is None and not os.environ.get("CI"):
        pytest.skip("QEMU is not installed here: the real libvirt lab cannot run (scripts/setup.sh installs it)")
    qemu_lab = QemuLab()
    try:
        qemu_lab.up()
    except LabUnavailable as exc:
        qemu_lab.down()
        if os.environ.get("CI"):
            pytest.fail(f"the real libvirt lab could not start: {exc}")
        pytest.skip(f"the real libvirt lab could not start: {exc}")
    try:
        yield qemu_lab
    finally:
        qemu_lab.down()


@pytest.fixture(scope="session")
def fleet() -> Iterator[FleetLab]:
    """Two more real libvirtds (test driver, TCP on 127.0.0.1) and an sshd in front of them."""
    lab = FleetLab()
    try:
        lab.add_daemon("alpha", guests=3)
        lab.add_daemon("beta", guests=4)
        lab.start_sshd()
    except (LabUnavailable, OSError) as exc:
        lab.down()
        if os.environ.get("CI"):
            pytest.fail(f"the fleet lab could not start: {exc}")
        pytest.skip(f"the fleet lab could not start: {exc}")
    try:
        yield lab
    finally:
        lab.down()
