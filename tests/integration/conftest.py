"""The real labs for the integration tests: each started once, always stopped, skipped only off CI."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

from lab.artifacts import LabUnavailable
from lab.fleet_lab import FleetLab
from lab.qemu_lab import QemuLab
from lab.xen.image import FLAVOURS
from lab.xen.xen_lab import XenLab


@contextlib.contextmanager
def running(what: str, up: Callable[[], object], down: Callable[[], None]) -> Iterator[None]:
    """`up()`, then the tests, then `down()` whatever happened. A lab that cannot start skips its tests
    on a developer's machine and fails them on CI, where everything it needs is installed."""
    try:
        up()
    except (LabUnavailable, OSError, subprocess.SubprocessError) as exc:
        down()
        if os.environ.get("CI"):
            pytest.fail(f"{what} could not start: {exc}")
        pytest.skip(f"{what} could not start: {exc}")
    try:
        yield
    finally:
        down()


@pytest.fixture(scope="session")
def lab() -> Iterator[QemuLab]:
    if shutil.which("qemu-system-x86_64") is None and not os.environ.get("CI"):
        pytest.skip("QEMU is not installed here: the real libvirt lab cannot run (scripts/setup.sh installs it)")
    qemu_lab = QemuLab()
    with running("the real libvirt lab", qemu_lab.up, qemu_lab.down):
        yield qemu_lab


@pytest.fixture(scope="session")
def fleet() -> Iterator[FleetLab]:
    """Two more real libvirtds (test driver, TCP on 127.0.0.1) and an sshd in front of them."""
    fleet_lab = FleetLab()

    def up() -> None:
        fleet_lab.add_daemon("alpha", guests=3)
        fleet_lab.add_daemon("beta", guests=4)
        fleet_lab.start_sshd()

    with running("the fleet lab", up, fleet_lab.down):
        yield fleet_lab


@pytest.fixture(scope="module", params=sorted(FLAVOURS))
def xen(request: pytest.FixtureRequest) -> Iterator[XenLab]:
    """The real Xen lab in each flavour (Debian 12/Xen 4.17, Debian 13/Xen 4.20), for one test module:
    one flavour at a time (pytest stops one before it starts the next), stopped after the module."""
    if os.environ.get("XENTUI_XEN_LAB") == "0":
        pytest.skip("XENTUI_XEN_LAB=0: the Xen lab is switched off")
    xen_lab = XenLab(FLAVOURS[request.param])
    with running(f"the Xen lab ({xen_lab.flavour})", xen_lab.up, xen_lab.down):
        print(f"xen lab {request.param}: {', '.join(f'{k} {v:.0f} s' for k, v in xen_lab.timings.items())}")
        yield xen_lab
