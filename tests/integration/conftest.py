"""The real libvirt lab (lab/qemu_lab.py) for the integration tests: started once, always stopped."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from lab.artifacts import LabUnavailable
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
