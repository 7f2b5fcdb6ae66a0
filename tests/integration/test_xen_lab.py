"""xentui on a real Xen dom0 (lab/xen), used the way admins use it: over SSH, with xl and with libvirt.

Every test runs against each flavour of the lab: Debian 12 with Xen 4.17 and Debian 13 with Xen 4.20.
xentui is in dom0 only as the single file dist/xentui.pyz, run by Debian's python3 with Debian's
python3-libvirt: no pip, no compiler, no network. Each flavour boots once (about 3 minutes, plus a few
the first time on a machine, when its dom0 root is built) and is stopped before the next one starts.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from typing import Any

import pytest
from tmux_driver import Tmux

from lab.qemu_lab import QemuLab
from lab.xen.xen_lab import BOOTED_MEMORY_MIB, MEMORY_MIB, MODES, XENTUI, XenLab

pytestmark = [pytest.mark.lab, pytest.mark.xen]
GUESTS = ("pvguest", "pvhguest", "hvmguest")
DEBIAN_PYTHON = {"bookworm": "3.11", "trixie": "3.13"}


def _xl_list(xen: XenLab) -> dict[str, dict[str, Any]]:
    """`xl list`, read plainly (name, ID, Mem, VCPUs): what xentui must agree with."""
    rows = {}
    for line in xen.ssh("xl list").splitlines()[1:]:
        name, domid, mem, vcpus, *_ = line.split()
        rows[name] = {"id": int(domid), "memory_mib": int(mem), "vcpus": int(vcpus)}
    return rows


def _by_name(out: str) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in json.loads(out)}


def test_dom0_runs_the_single_file_with_debians_python_and_libvirt(xen: XenLab) -> None:
    out = xen.ssh(
        "python3 -c 'import sys, libvirt; print(\"%d.%d\" % sys.version_info[:2], libvirt.__file__)'; "
        f"{XENTUI} --version; python3 -m pip --version 2>&1; xl info | grep ^xen_version"
    ).splitlines()
    python, binding = out[0].split()
    assert python == DEBIAN_PYTHON[xen.flavour.name] and binding.startswith("/usr/lib/python3/dist-packages/")
    assert out[1].startswith("xentui ")
    assert "No module named pip" in out[2]  # the air-gapped path: nothing was installed with pip
    assert out[3].split(":")[1].strip().startswith(f"{xen.flavour.xen}."), out[3]


def test_xl_list_json_in_dom0_agrees_with_xl_list(xen: XenLab) -> None:
    ours = _by_name(xen.ssh(f"{XENTUI} --xl list --json"))
    xl = _xl_list(xen)
    assert set(ours) == set(xl) == {"Domain-0", *GUESTS}
    for name, row in xl.items():
        assert {k: ours[name][k] for k in row} == row, name
    assert {n: ours[n]["mode"] for n in GUESTS} == MODES and ours["Domain-0"]["mode"] == "PV"
    assert {n: ours[n]["memory_mib"] for n in GUESTS} == BOOTED_MEMORY_MIB  # hvmguest: 248 of 256 MiB
    assert {n: ours[n]["max_memory_mib"] for n in GUESTS} == MEMORY_MIB
    assert ours["hvmguest"]["vnc"] == f"127.0.0.1:{_vnc_port(xen)}" and ours["hvmguest"]["pv_drivers"] is True


def _vnc_port(xen: XenLab) -> int:
    domid = _xl_list(xen)["hvmguest"]["id"]
    return int(xen.ssh(f"xenstore-read /local/domain/{domid}/console/vnc-port").strip())


def test_libvirt_xen_driver_in_dom0_sees_the_same_guests(xen: XenLab) -> None:
    ours = _by_name(xen.ssh(f"{XENTUI} -c xen:///system list --json"))
    xl = _xl_list(xen)
    assert set(ours) == set(xl)
    for name in GUESTS:
        d = ours[name]
        assert (d["id"], d["mode"], d["memory_mib"], d["vcpus"], d["hypervisor"]) == (
            xl[name]["id"], MODES[name], BOOTED_MEMORY_MIB[name], 1, "xen"
        )  # fmt: skip
    # With no option, a dom0 with libvirtd is watched through libvirt's xen driver.
    auto = _by_name(xen.ssh(f"{XENTUI} list --json"))
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


def _filter(t: Tmux, name: str) -> None:
    """Esc, / NAME Enter: only that guest's row left, the table focused again."""
    t.keys("Escape")  # alone: Escape and / at once would read as Alt-/
    t.wait_until(lambda s: "Enter keeps, Esc clears" not in s and "▔▔▔" not in s, "no filter box", 30)
    t.keys("/")
    t.wait_for("filter: name", 30)
    t.keys(name)
    others = [g for g in (*GUESTS, "Domain-0") if g != name]
    t.wait_until(lambda s: not any(f" {g} " in s.split("────")[0] for g in others), f"only {name}", 30)
    t.keys("Enter")
    time.sleep(3)  # the app runs under emulation: let it move the focus back to the table


def _press_until(t: Tmux, key: str, text: str, tries: int = 3, timeout: float = 20) -> str:
    """Press `key` until `text` shows: a key that reaches a slow app mid-redraw is sometimes lost."""
    for attempt in range(tries):
        t.keys(key)
        try:
            return t.wait_for(text, timeout)
        except AssertionError:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def test_tui_over_ssh_table_detail_console_and_vnc(xen: XenLab) -> None:
    """tmux → ssh → dom0 → python3 xentui.pyz --xl, as an admin would."""
    t = Tmux(shlex.join(xen.ssh_argv(*XENTUI.split(), "--xl", tty=True)) + "; sleep 600", width=160, height=50)
    version = f"Xen {xen.flavour.xen}"
    try:
        screen = t.wait_until(lambda s: all(f" {g} " in s for g in GUESTS) and version in s, "the table", 120)
        for name in GUESTS:
            row = _row(screen, name)
            assert f" {MODES[name]}" in row and f"{BOOTED_MEMORY_MIB[name]}M" in row, row
        assert " PV " in _row(screen, "Domain-0") and "2048M" in _row(screen, "Domain-0")
        # Current and maximum memory: the HVM guest's balloon driver gave back its 8 MiB of video RAM.
        assert re.search(r"hvmguest\s+\d+\s+\w+\s+HVM\+pv\s+248M\s+256M\s+1\s", screen), _row(screen, "hvmguest")

        # dom0 runs under software emulation: each key waits for what it should show.
        _filter(t, "pvguest")
        screen = _press_until(t, "Enter", "c_info")  # the detail pane: the real c_info / b_info
        assert "type pv  ◀ mode" in screen and "b_info" in screen and "[xl-json]" in screen

        t.keys("C")  # xl console with the whole terminal: the guest's shell, then Ctrl-] back to the table
        time.sleep(3)
        t.keys("Enter")
        t.wait_for("lab#", 60)
        t.keys("echo hel''lo", "Enter")
        t.wait_until(lambda s: "\nhello" in s, "the guest's answer 'hello'", 60)
        t.keys("C-]")
        t.wait_until(lambda s: "domains:" in s and "lab#" not in s, "the table again", 60)

        # The same console in the pane beside the table: `xl console` in a pty of xentui's own.
        _press_until(t, "c", "(Ctrl-] gives them back)", timeout=60)
        t.keys("Enter")
        t.wait_until(lambda s: "lab#" in s.split("keys →", 1)[-1], "the prompt in the pane", 60)
        t.keys("echo hel''lo", "Enter")
        screen = t.wait_until(lambda s: "\nhello" in s.split("keys →", 1)[-1], "'hello' in the pane", 60)
        assert "pvguest" in screen.split("keys →", 1)[0] and "domains:" in screen  # the table, on the same screen
        t.keys("C-]")
        t.wait_for("keys → table", 60)
        t.keys("x")  # close the console tab
        t.wait_until(lambda s: "keys →" not in s, "the pane closed", 60)

        _filter(t, "hvmguest")
        port = _vnc_port(xen)
        screen = _press_until(t, "v", f"VNC of hvmguest: 127.0.0.1:{port}")
        assert f"ssh -N -L {port}:127.0.0.1:{port} root@" in screen and f"vncviewer localhost::{port}" in screen
        t.keys("Escape")
        t.wait_until(lambda s: "VNC of hvmguest" not in s, "the hint closed", 20)
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit", 30)
    finally:
        t.kill()


def test_tui_over_ssh_on_libvirts_xen_driver(xen: XenLab) -> None:
    t = Tmux(shlex.join(xen.ssh_argv(*XENTUI.split(), "-c", "xen:///system", tty=True)) + "; sleep 600")
    try:
        screen = t.wait_until(lambda s: all(f" {g} " in s for g in GUESTS), "the table", 120)
        assert "xen:///system" in screen and "4 domains" in screen
        for name in GUESTS:
            assert f" {MODES[name]}" in _row(screen, name)
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit", 30)
    finally:
        t.kill()


async def test_dashboard_fleet_with_the_real_xen_host_and_the_qemu_lab(xen: XenLab, lab: QemuLab) -> None:
    from xentui.sources.libvirt_source import LibvirtSource
    from xentui.ui.app import XenTUI
    from xentui.ui.widgets.domain_table import DomainTable

    sources = [LibvirtSource(xen.libvirt_uri, name="xen-dom0"), LibvirtSource(lab.uri, name="qemu-lab")]
    app = XenTUI(sources, interval=1.0)

    def rows() -> dict[str, dict[str, str]]:
        table = app.query_one(DomainTable)
        return {table.cell_text(k, "name"): table.row_texts(k) for k in table.keys_in_order()}

    try:
        async with app.run_test(size=(180, 50)) as pilot:
            want = {"Domain-0", *GUESTS, *lab.names().values()}
            deadline = time.monotonic() + 60
            while not want <= set(rows()) and time.monotonic() < deadline:
                await pilot.pause(0.2)
            got = rows()
            assert want <= set(got), sorted(got)
            for name in GUESTS:
                assert got[name]["host"] == "xen-dom0" and got[name]["mode"].startswith(MODES[name]), got[name]
            assert got[lab.names()["run"]]["host"] == "qemu-lab"
            header = str(app.query_one("#summary").render())
            assert "2 hosts" in header and "2 connected" in header and f"Xen {xen.flavour.xen}" in header
    finally:
        app.fleet.stop()
        for s in sources:
            s.close()
