"""xentui on a real Xen 4.17 dom0 (lab/xen), used the way admins use it: over SSH, with xl and with libvirt.

The lab boots once for this module (about 2.5 minutes, plus about 4 the first time on a machine, when
dom0's root and the wheels are built) and is stopped after its last test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tmux_driver import Tmux

from lab.artifacts import LabUnavailable
from lab.qemu_lab import QemuLab
from lab.xen.xen_lab import MEMORY_MIB, MODES, XenLab

pytestmark = [pytest.mark.lab, pytest.mark.xen]
GUESTS = ("pvguest", "pvhguest", "hvmguest")


@pytest.fixture(scope="module")
def xen() -> Iterator[XenLab]:
    if os.environ.get("XENTUI_XEN_LAB") == "0":
        pytest.skip("XENTUI_XEN_LAB=0: the Xen lab is switched off")
    lab = XenLab()
    try:
        lab.up()
    except (LabUnavailable, subprocess.TimeoutExpired) as exc:
        lab.down()
        if os.environ.get("CI"):
            pytest.fail(f"the Xen lab could not start: {exc}")
        pytest.skip(f"the Xen lab could not start: {exc}")
    print(f"xen lab: {', '.join(f'{k} {v:.0f}' for k, v in lab.timings.items())}")
    try:
        yield lab
    finally:
        lab.down()


def _xl_list(xen: XenLab) -> dict[str, dict[str, Any]]:
    """`xl list`, read plainly (name, ID, Mem, VCPUs): what xentui must agree with."""
    rows = {}
    for line in xen.ssh("xl list").splitlines()[1:]:
        name, domid, mem, vcpus, *_ = line.split()
        rows[name] = {"id": int(domid), "memory_mib": int(mem), "vcpus": int(vcpus)}
    return rows


def _by_name(out: str) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in json.loads(out)}


def test_xl_list_json_in_dom0_agrees_with_xl_list(xen: XenLab) -> None:
    ours = _by_name(xen.ssh("xentui --xl list --json"))
    xl = _xl_list(xen)
    assert set(ours) == set(xl) == {"Domain-0", *GUESTS}
    for name, row in xl.items():
        assert {k: ours[name][k] for k in row} == row, name
    assert {n: ours[n]["mode"] for n in GUESTS} == MODES and ours["Domain-0"]["mode"] == "PV"
    assert {n: ours[n]["memory_mib"] for n in GUESTS} == MEMORY_MIB
    assert ours["hvmguest"]["vnc"] == f"127.0.0.1:{_vnc_port(xen)}" and ours["hvmguest"]["pv_drivers"] is True


def _vnc_port(xen: XenLab) -> int:
    domid = _xl_list(xen)["hvmguest"]["id"]
    return int(xen.ssh(f"xenstore-read /local/domain/{domid}/console/vnc-port").strip())


def test_libvirt_xen_driver_in_dom0_sees_the_same_guests(xen: XenLab) -> None:
    ours = _by_name(xen.ssh("xentui -c xen:///system list --json"))
    xl = _xl_list(xen)
    assert set(ours) == set(xl)
    for name in GUESTS:
        d = ours[name]
        assert (d["id"], d["mode"], d["memory_mib"], d["vcpus"], d["hypervisor"]) == (
            xl[name]["id"], MODES[name], MEMORY_MIB[name], 1, "xen"
        )  # fmt: skip
    # With no option, a dom0 with libvirtd is watched through libvirt's xen driver.
    auto = _by_name(xen.ssh("xentui list --json"))
    assert {d["source"] for d in auto.values()} == {"xen:///system"} and set(auto) == set(xl)


def test_fleet_from_this_machine_real_xen_next_to_the_qemu_lab(xen: XenLab, lab: QemuLab) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "xentui", "list", "--json", "-c", xen.libvirt_uri, "-c", xen.ssh_uri, "-c", lab.uri],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    hosts: dict[str, set[str]] = {}
    for d in rows:
        hosts.setdefault(d["host"], set()).add(d["name"])
    tcp, ssh = f"127.0.0.1:{xen.libvirt_port}", f"127.0.0.1:{xen.ssh_port}"
    assert hosts[tcp] == hosts[ssh] == {"Domain-0", *GUESTS}  # the same dom0 by both transports
    assert set(lab.names().values()) <= next(v for k, v in hosts.items() if k not in (tcp, ssh))
    modes = {d["name"]: d["mode"] for d in rows if d["host"] == tcp}
    assert {n: modes[n] for n in GUESTS} == MODES


def _row(screen: str, name: str) -> str:
    return next(line for line in screen.splitlines() if re.match(rf"\s*{name}\s", line))


def test_tui_over_ssh_table_detail_console_and_vnc(xen: XenLab) -> None:
    """tmux → ssh → dom0 → xentui --xl, as an admin would."""
    t = Tmux(shlex.join(xen.ssh_argv("xentui", "--xl", tty=True)) + "; sleep 600", width=160, height=50)
    try:
        screen = t.wait_until(lambda s: all(f" {g} " in s for g in GUESTS) and "Xen 4.17" in s, "the table", 120)
        for name in GUESTS:
            row = _row(screen, name)
            assert f" {MODES[name]}" in row and f"{MEMORY_MIB[name]}M" in row, row
        assert " PV " in _row(screen, "Domain-0") and "2048M" in _row(screen, "Domain-0")
        assert re.search(r"hvmguest\s+\d+\s+\w+\s+HVM\+pv\s+256M\s+256M\s+1\s", screen), _row(screen, "hvmguest")

        time.sleep(1)
        t.keys("/")
        t.keys("pvguest", "Enter")
        t.wait_until(lambda s: " hvmguest " not in s.split("────")[0], "only pvguest", 30)
        t.keys("Enter")  # the detail pane: the real c_info / b_info
        screen = t.wait_for("c_info", 30)
        assert "type pv  ◀ mode" in screen and "b_info" in screen and "[xl-json]" in screen

        t.keys("c")  # xl console: the guest's shell, then Ctrl-] back to the table
        time.sleep(3)
        t.keys("Enter")
        t.wait_for("lab#", 60)
        t.keys("echo hel''lo", "Enter")
        t.wait_until(lambda s: "\nhello" in s, "the guest's answer 'hello'", 60)
        t.keys("C-]")
        t.wait_until(lambda s: "domains:" in s and "lab#" not in s, "the table again", 60)

        t.keys("/")
        t.keys("C-u", "hvmguest", "Enter")
        t.wait_until(lambda s: " pvguest " not in s.split("────")[0], "only hvmguest", 30)
        t.keys("v")
        port = _vnc_port(xen)
        screen = t.wait_for(f"VNC of hvmguest: 127.0.0.1:{port}", 30)
        assert f"ssh -N -L {port}:127.0.0.1:{port} root@" in screen and f"vncviewer localhost::{port}" in screen
        t.keys("Escape")
        t.wait_until(lambda s: "VNC of hvmguest" not in s, "the hint closed", 20)
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit", 30)
    finally:
        t.kill()


def test_tui_over_ssh_on_libvirts_xen_driver(xen: XenLab) -> None:
    t = Tmux(shlex.join(xen.ssh_argv("xentui", "-c", "xen:///system", tty=True)) + "; sleep 600")
    try:
        screen = t.wait_until(lambda s: all(f" {g} " in s for g in GUESTS), "the table", 120)
        assert "xen:///system" in screen and "4 domains" in screen
        for name in GUESTS:
            assert f" {MODES[name]}" in _row(screen, name)
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit", 30)
    finally:
        t.kill()
