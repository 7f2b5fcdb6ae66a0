"""xentui on a real Xen dom0 (lab/xen), used the way admins use it: over SSH, with xl and with libvirt.

Every test runs against each flavour of the lab: Debian 12 with Xen 4.17 and Debian 13 with Xen 4.20.
xentui is in dom0 only as the single file dist/xentui.pyz, run by Debian's python3 with Debian's
python3-libvirt: no pip, no compiler, no network. Each flavour boots once (about 3 minutes, plus a few
the first time on a machine, when its dom0 root is built) and is stopped before the next one starts.
"""

from __future__ import annotations

import asyncio
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
from lab.xen.xen_lab import BOOTED_MEMORY_MIB, GUEST_BY_NAME, MEMORY_MIB, MODES, XENTUI, XenLab

pytestmark = [pytest.mark.lab, pytest.mark.xen]
GUESTS = ("pvguest", "pvhguest", "hvmguest")  # the ones looked at closely
ALL_GUESTS = tuple(GUEST_BY_NAME)  # eight: these three, an HVM guest without PV drivers, small PV and PVH ones
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
    assert set(ours) == set(xl) == {"Domain-0", *ALL_GUESTS}
    for name, row in xl.items():
        assert {k: ours[name][k] for k in row} == row, name
    assert {n: ours[n]["mode"] for n in ALL_GUESTS} == MODES and ours["Domain-0"]["mode"] == "PV"
    assert {n: ours[n]["memory_mib"] for n in ALL_GUESTS} == BOOTED_MEMORY_MIB  # hvmguest: 248 of 256 MiB
    assert {n: ours[n]["max_memory_mib"] for n in ALL_GUESTS} == MEMORY_MIB
    assert ours["hvmguest"]["vnc"] == f"127.0.0.1:{_vnc_port(xen)}" and ours["hvmguest"]["pv_drivers"] is True


def _vnc_port(xen: XenLab) -> int:
    domid = _xl_list(xen)["hvmguest"]["id"]
    return int(xen.ssh(f"xenstore-read /local/domain/{domid}/console/vnc-port").strip())


def test_libvirt_xen_driver_in_dom0_sees_the_same_guests(xen: XenLab) -> None:
    ours = _by_name(xen.ssh(f"{XENTUI} -c xen:///system list --json"))
    xl = _xl_list(xen)
    assert set(ours) == set(xl)
    for name in ALL_GUESTS:
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
    assert hosts[tcp] == hosts[ssh] == {"Domain-0", *ALL_GUESTS}  # the same dom0 by both transports
    assert set(lab.names().values()) <= next(v for k, v in hosts.items() if k not in (tcp, ssh))
    modes = {d["name"]: d["mode"] for d in rows if d["host"] == tcp}
    assert {n: modes[n] for n in ALL_GUESTS} == MODES


def _row(screen: str, name: str) -> str:
    return next(line for line in screen.splitlines() if re.match(rf"\s*{name}\s", line))


def _filter(t: Tmux, name: str) -> None:
    """Esc, / NAME Enter: only that guest's row left, the table focused again."""
    t.keys("Escape")  # alone: Escape and / at once would read as Alt-/
    t.wait_until(lambda s: "Enter keeps, Esc clears" not in s and "▔▔▔" not in s, "no filter box", 30)
    t.keys("/")
    t.wait_for("filter: name", 30)
    t.keys(name)
    others = [g for g in (*ALL_GUESTS, "Domain-0") if g != name]
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
    """On the dom0 itself, libvirt's domains with the running figures of one xentop child (libvirt's xen driver
    has no bulk stats): the I/O columns have figures, which libvirt's per-domain GetInfo does not give; the HVM
    guests' mode from their PV frontends in xenstore, as with the xl source."""
    xentops = "pgrep -c -f '[x]entop -b -f' || true"  # /usr/sbin/xentop execs Xen's versioned one
    t = Tmux(shlex.join(xen.ssh_argv(*XENTUI.split(), "-c", "xen:///system", tty=True)) + "; sleep 600")
    try:
        screen = t.wait_until(lambda s: all(f" {g} " in s for g in GUESTS), "the table", 120)
        assert "xen:///system" in screen and f"{len(ALL_GUESTS) + 1} domains" in screen
        for name in GUESTS:
            assert f" {MODES[name]}" in _row(screen, name)
        assert xen.ssh(xentops).strip() == "1"
        t.wait_until(
            lambda s: _row(s, "hvmnopv").split()[3] == "HVM" and _row(s, "hvmguest").split()[3] == "HVM+pv",
            "the live PV triage from xenstore (hvmnopv: no PV disk or NIC connected)",
            60,
        )
        t.keys("i")
        screen = t.wait_until(
            lambda s: "NetRX/s" in s and "-" not in _row(s, "pvguest").split()[-4:], "pvguest's I/O figures", 60
        )
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit", 30)
        assert xen.ssh(xentops).strip() == "0"  # the child went with the app
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
            want = {"Domain-0", *ALL_GUESTS, *lab.names().values()}
            deadline = time.monotonic() + 60
            while not want <= set(rows()) and time.monotonic() < deadline:
                await pilot.pause(0.2)
            got = rows()
            assert want <= set(got), sorted(got)
            for name in ALL_GUESTS:
                assert got[name]["host"] == "xen-dom0" and got[name]["mode"].startswith(MODES[name]), got[name]
            assert got[lab.names()["run"]]["host"] == "qemu-lab"
            header = str(app.query_one("#summary").render())
            assert "2 hosts" in header and "2 connected" in header and f"Xen {xen.flavour.xen}" in header
    finally:
        app.fleet.stop()
        for s in sources:
            s.close()


# -- the dom0 stream (issue 15): xentop's data, xenstore's events and frontends, remote xl, a dying child ----------


def _xl_ssh_source(xen: XenLab) -> Any:
    """xentui's xl source on the lab's dom0 from this machine: the same stream, over one ssh connection."""
    from ssh_dom0 import xl_ssh_uri

    from xentui.sources.factory import Kind, Options, Spec, open_sources

    uri = xl_ssh_uri("127.0.0.1", xen.ssh_port, xen.key, verify=False)
    return open_sources((Spec(Kind.XL, uri, name="xen-dom0"),), Options(batch=True))[0]


def _table_rows(app: Any) -> dict[str, dict[str, str]]:
    from xentui.ui.widgets.domain_table import DomainTable

    table = app.query_one(DomainTable)
    return {table.cell_text(k, "name"): table.row_texts(k) for k in table.keys_in_order()}


async def _until(pilot: Any, check: Any, what: str, timeout: float) -> float:
    """Poll `check()` every 50 ms; the seconds it took. Fails with `what` after `timeout`."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await pilot.pause(0.05)
    return time.monotonic() - t0


def _xentop_frames(xen: XenLab, delay: int, count: int) -> list[tuple[float, dict[str, float]]]:
    """`xentop -b -d DELAY -i COUNT` in dom0, each frame's CPU% by name with the moment it arrived here."""
    proc = subprocess.Popen(xen.ssh_argv(f"xentop -b -d {delay} -i {count}"), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    frames: list[tuple[float, dict[str, float]]] = []
    current: dict[str, float] = {}
    for line in proc.stdout:
        words = line.split()
        if words[:1] == ["NAME"]:
            if current:
                frames.append((time.monotonic(), current))
            current = {}
        elif len(words) > 4:
            current[words[0]] = float(words[3])
    frames.append((time.monotonic(), current))
    proc.wait(30)
    return frames[1:]  # the first frame has no window: xentop shows 0.0 everywhere


async def test_cpu_percent_agrees_with_xentops_per_domain(xen: XenLab) -> None:
    """xentui --xl's CPU% next to a separate `xentop -d 5` in dom0: within 1 point for every domain of the span of
    the separate xentop's frames whose windows overlap ours (the two xentops' windows are apart by up to one)."""
    import threading

    from xentui.ui.app import XenTUI

    # A guest with a steady share of a CPU, so that the comparison is not only of idle guests.
    xen.guest_run(
        "pvsmall2", "while :; do dd if=/dev/zero of=/dev/null bs=1k count=3000 2>/dev/null; usleep 300000; done &"
    )
    source = _xl_ssh_source(xen)
    app = XenTUI([source], interval=5.0)
    ours: list[tuple[float, dict[str, float]]] = []
    try:
        async with app.run_test(size=(200, 60)) as pilot:
            await _until(pilot, lambda: set(ALL_GUESTS) <= set(_table_rows(app)), "every guest's row", 90)
            frames: list[tuple[float, dict[str, float]]] = []
            reader = threading.Thread(target=lambda: frames.extend(_xentop_frames(xen, 5, 5)))
            reader.start()
            while reader.is_alive():
                rows = _table_rows(app)
                cpu = {n: float(r["cpu"]) for n, r in rows.items() if r.get("cpu", "-") not in ("-", "")}
                if not ours or ours[-1][1] != cpu:
                    ours.append((time.monotonic(), cpu))
                await pilot.pause(0.1)
    finally:
        app.fleet.stop()
        source.close()
        xen.guest_run("pvsmall2", "kill %1")
    assert len(frames) >= 3 and len(ours) >= 3, (frames, ours)
    # Our 5 s window straddles up to two of theirs (the two xentops start apart): its CPU% lies between those two
    # frames' figures. That matters for a domain whose load moves, such as Domain-0, which runs both xentops.
    worst: dict[str, float] = {}
    for name in ("Domain-0", *ALL_GUESTS):
        diffs = []
        for at, mine in ours:
            near = [theirs[name] for t, theirs in frames if abs(t - at) < 5 and name in theirs]
            if name in mine and near:
                diffs.append(max(min(near) - mine[name], mine[name] - max(near), 0.0))
        assert diffs, name
        worst[name] = min(diffs)
    assert all(d <= 1.0 for d in worst.values()), (worst, frames, ours)
    assert max(theirs["pvsmall2"] for _, theirs in frames) > 2, frames  # the busy guest was busy


async def test_io_columns_move_when_a_guest_does_io(xen: XenLab) -> None:
    from xentui.ui.app import XenTUI

    if xen.flavour.name == "trixie":
        # Open: libvirt 11 puts this lab's loop disks on QEMU's qdisk (xentop then shows no VBDs; forcing blkback
        # makes the block hotplug script time out in dom0), and the net counters did not move in one of two runs.
        pytest.skip("Xen 4.20 lab: disks on qdisk and net counters unverified (see the comment)")

    pv = GUEST_BY_NAME["pvguest"]
    source = _xl_ssh_source(xen)
    app = XenTUI([source], interval=1.0)
    try:
        async with app.run_test(size=(200, 60)) as pilot:
            await _until(pilot, lambda: "pvguest" in _table_rows(app), "pvguest's row", 90)
            await pilot.press("i")
            await _until(pilot, lambda: "netrx" in _table_rows(app)["pvguest"], "the I/O columns", 20)
            await pilot.pause(3)
            idle = _table_rows(app)["pvguest"]
            # In threads: the app's loop keeps running (and refreshing) while dom0 and the guest are busy.
            await asyncio.to_thread(xen.ssh, f"busybox ping -q -c 100 -i 0.1 -s 1000 {pv.ip} >/dev/null 2>&1 &")
            await asyncio.to_thread(
                xen.guest_run, "pvguest", "dd if=/dev/zero of=/dev/xvda bs=64k count=160 conv=fsync 2>/dev/null"
            )

            seen: set[str] = set()

            def moved() -> bool:  # each rate non-zero at some refresh: the ping and the dd need not overlap
                row = _table_rows(app)["pvguest"]
                seen.update(k for k in ("netrx", "nettx", "blkwr") if row[k] not in ("-", "0B"))
                return len(seen) == 3

            await _until(pilot, moved, f"pvguest's net and block rates to move (idle: {idle}; moved: {seen})", 30)
    finally:
        app.fleet.stop()
        source.close()


async def test_destroy_and_create_from_another_shell_show_within_a_second_at_interval_10(xen: XenLab) -> None:
    """xenstore's @releaseDomain / @introduceDomain wake the stream: no waiting for the next 10 s poll."""
    from xentui.ui.app import XenTUI

    cfg = GUEST_BY_NAME["pvsmall2"].config.replace('"pvsmall2"', '"pvextra"')
    xen.ssh(f"printf '%s' {shlex.quote(cfg)} > /tmp/pvextra.cfg")
    source = _xl_ssh_source(xen)
    app = XenTUI([source], interval=10.0)
    try:
        async with app.run_test(size=(200, 60)) as pilot:
            await _until(pilot, lambda: "pvsmall2" in _table_rows(app), "pvsmall2's row", 90)
            await pilot.pause(1)
            # In threads: the app's loop keeps running while the other shell works.
            await asyncio.to_thread(xen.ssh, "xl destroy pvsmall2")  # returns once the domain is gone
            gone = await _until(pilot, lambda: "pvsmall2" not in _table_rows(app), "pvsmall2 gone", 15)
            await asyncio.to_thread(xen.ssh, "xl create -q /tmp/pvextra.cfg", 120)  # returns once it runs
            came = await _until(pilot, lambda: "pvextra" in _table_rows(app), "pvextra's row", 15)
    finally:
        app.fleet.stop()
        source.close()
        xen.ssh(
            "xl destroy pvextra 2>/dev/null; virsh -q -c xen:///system start pvsmall2 >/dev/null; true", timeout=240
        )
    print(f"xl destroy: row gone {gone:.2f} s after it returned; xl create: row {came:.2f} s after it returned")
    assert gone <= 1.0 and came <= 1.0, (gone, came)


def test_xenstore_view_shows_the_selected_guests_keys(xen: XenLab) -> None:
    t = Tmux(shlex.join(xen.ssh_argv(*XENTUI.split(), "--xl", tty=True)) + "; sleep 600", width=160, height=50)
    try:
        t.wait_until(lambda s: all(f" {g} " in s for g in GUESTS), "the table", 120)
        _filter(t, "pvguest")
        domid = _xl_list(xen)["pvguest"]["id"]
        tty = xen.ssh(f"xenstore-read /local/domain/{domid}/console/tty").strip()
        # Its subtree from the top (keys in xenstore's order: attr, console, control...): its own console's pty.
        screen = _press_until(t, "X", f'tty = "{tty}"', timeout=60)
        assert f"/local/domain/{domid}" in screen and "ring-ref" in screen and "backend-id" in screen, screen
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit", 30)
    finally:
        t.kill()


def test_killed_xentop_child_is_restarted_and_reported(xen: XenLab) -> None:
    t = Tmux(shlex.join(xen.ssh_argv(*XENTUI.split(), "--xl", "--interval", "1", tty=True)) + "; sleep 600")
    try:
        t.wait_until(lambda s: all(f" {g} " in s for g in GUESTS), "the table", 120)
        # The stream's own xentop: a child of xentui's python.
        child = "pgrep -x xentop -P $(pgrep -f '^python3 /root/xentui.pyz' | head -n 1); true"
        before = xen.ssh(child).split()
        assert len(before) == 1, before
        xen.ssh(f"kill -9 {before[0]}")
        t.wait_until(lambda s: "xentop" in s and "restart" in s, "the header saying xentop is restarted", 30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not xen.ssh(child).split():
            time.sleep(0.5)
        after = xen.ssh(child).split()
        assert after and after != before, (before, after)
        t.wait_until(lambda s: "restart" not in s and all(f" {g} " in s for g in GUESTS), "the warning gone", 60)
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit", 30)
    finally:
        t.kill()


def test_fleet_with_the_dom0_as_xl_ssh_next_to_the_qemu_lab_and_its_console(xen: XenLab, lab: QemuLab) -> None:
    from ssh_dom0 import xl_ssh_uri

    uri = xl_ssh_uri("127.0.0.1", xen.ssh_port, xen.key, verify=False)
    t = Tmux(shlex.join([sys.executable, "-m", "xentui", "-c", uri, "-c", lab.uri]) + "; sleep 600", 180, 50)
    try:
        screen = t.wait_until(
            lambda s: all(f" {g} " in s for g in GUESTS) and lab.names()["run"] in s, "both hosts' rows", 120
        )
        assert str(xen.ssh_port) in screen  # the dom0 is named 127.0.0.1:PORT
        for name in GUESTS:  # a fleet's rows start with the host: find each guest's line by its name
            line = next(ln for ln in screen.splitlines() if f" {name} " in ln)
            assert f" {MODES[name]}" in line, line
        _filter(t, "pvguest")
        t.keys("C")  # ssh -t ... xl console, the whole terminal
        time.sleep(3)
        t.keys("Enter")
        t.wait_for("lab#", 60)
        t.keys("echo hel''lo", "Enter")
        t.wait_until(lambda s: "\nhello" in s, "the guest's answer 'hello'", 60)
        t.keys("C-]")
        t.wait_until(lambda s: "domains:" in s and "lab#" not in s, "the table again", 60)
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit", 30)
    finally:
        t.kill()


async def test_hvm_verdict_follows_its_pv_frontends(xen: XenLab) -> None:
    """HVM+pv only while PV frontends are connected: hvmguest with them, then with its drivers unbound in the
    guest, then its vif bound again; hvmnopv (platform device, no driver loaded) says it has none."""
    from xentui.ui.app import XenTUI

    source = _xl_ssh_source(xen)
    app = XenTUI([source], interval=1.0)

    def mode(name: str) -> str:
        return _table_rows(app).get(name, {}).get("mode", "")

    try:
        async with app.run_test(size=(200, 60)) as pilot:
            await _until(pilot, lambda: mode("hvmguest") == "HVM+pv", "hvmguest as HVM+pv", 90)
            assert mode("hvmnopv") == "HVM" and mode("pvguest") == "PV"
            xen.guest_run("hvmguest", "lab-pv off")
            xen.wait_for_frontends("hvmguest", connected=False)
            await _until(pilot, lambda: mode("hvmguest") == "HVM", "hvmguest as HVM once its frontends closed", 15)
            xen.guest_run("hvmguest", "lab-pv on vif")
            await _until(pilot, lambda: mode("hvmguest") == "HVM+pv", "hvmguest as HVM+pv with its vif back", 60)
            assert xen.frontend_states("hvmguest")["vif/0"] == 4
    finally:
        app.fleet.stop()
        source.close()
