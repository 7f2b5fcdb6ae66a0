"""xentui end to end against a real libvirtd with real QEMU guests (tests/integration/conftest.py)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import libvirt
import pytest
from tmux_driver import XENTUI, Tmux

from integration.rfb import grab_frame
from lab.artifacts import BANNER
from lab.qemu_lab import QemuLab
from xentui.actions.vnc import Launch, plan
from xentui.sources.libvirt_source import LibvirtSource, ensure_event_loop
from xentui.ui.app import XenTUI
from xentui.ui.widgets.domain_table import DomainTable

pytestmark = pytest.mark.lab


def admin(lab: QemuLab) -> Any:
    """A separate read-write connection, as another admin or tool would have."""
    ensure_event_loop()
    return libvirt.open(lab.uri)


def vnc_port(lab: QemuLab, name: str) -> int:
    conn = admin(lab)
    try:
        port = ET.fromstring(conn.lookupByName(name).XMLDesc(0)).find("devices/graphics").get("port")  # type: ignore[union-attr]
    finally:
        conn.close()
    return int(port)  # type: ignore[arg-type]


def test_cli_list_json_shows_the_three_guests(lab: QemuLab) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "xentui", "list", "--json", "-c", lab.uri], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    by = {d["name"]: d for d in json.loads(out.stdout)}
    names = lab.names()
    assert {by[n]["state"] for n in names.values()} == {"running", "paused", "shutoff"}
    assert by[names["run"]]["state"] == "running" and by[names["paused"]]["state"] == "paused"
    for d in (by[n] for n in names.values()):
        assert (d["memory_mib"], d["vcpus"], d["mode"], d["console"]) == (96, 1, "HVM", True)
    run = by[names["run"]]
    assert run["vnc"] == f"127.0.0.1:{vnc_port(lab, names['run'])}" and run["id"] is not None
    assert by[names["off"]]["id"] is None and by[names["off"]]["cpu_time_s"] is None


async def _wait(pilot: Any, check: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


def _state(app: XenTUI, name: str) -> str | None:
    table = app.query_one(DomainTable)
    for key in table.keys_in_order():
        if table.cell_text(key, "name") == name:
            return table.cell_text(key, "state")
    return None


def _dimmed(app: XenTUI, name: str) -> bool:
    table = app.query_one(DomainTable)
    key = next(k for k in table.keys_in_order() if table.cell_text(k, "name") == name)
    return all("dim" in table.column_styles(key, col) for col, text in table.row_texts(key).items() if text)


def _cpu(app: XenTUI, name: str) -> float:
    table = app.query_one(DomainTable)
    for key in table.keys_in_order():
        if table.cell_text(key, "name") == name and table.cell_text(key, "cpu") not in ("-", ""):
            return float(table.cell_text(key, "cpu"))
    return 0.0


async def test_table_shows_states_and_cpu_rises(lab: QemuLab) -> None:
    names = lab.names()
    app = XenTUI(LibvirtSource(lab.uri), interval=0.5)
    async with app.run_test(size=(160, 45)) as pilot:
        await _wait(pilot, lambda: _state(app, names["off"]) is not None, 15)
        assert [_state(app, names[g]) for g in ("run", "paused", "off")] == ["running", "paused", "shutoff"]
        await _wait(pilot, lambda: _cpu(app, names["run"]) > 0, 15)
    app.sources[0].close()


async def test_lifecycle_events_reach_the_table_within_two_seconds(lab: QemuLab) -> None:
    names = lab.names()
    app = XenTUI(LibvirtSource(lab.uri), interval=60)  # no polling in the window: only events can do it
    conn = admin(lab)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await _wait(pilot, lambda: _state(app, names["run"]) == "running", 15)
            await pilot.pause(0.5)
            dom = conn.lookupByName(names["run"])
            dom.suspend()
            took = await _wait(pilot, lambda: _state(app, names["run"]) == "paused", 2.0)
            dom.resume()
            took = max(took, await _wait(pilot, lambda: _state(app, names["run"]) == "running", 2.0))
            off = conn.lookupByName(names["off"])
            off.create()
            await _wait(pilot, lambda: _state(app, names["off"]) == "running", 2.0)
            off.destroy()
            await _wait(pilot, lambda: _state(app, names["off"]) == "shutoff", 2.0)
            print(f"event to table: {took:.2f} s")
    finally:
        conn.close()
        app.sources[0].close()


def _raw(app: XenTUI, name: str) -> str:
    """The configuration the dashboard holds for a domain: what its detail pane shows."""
    frame = app.frame
    domain = next((d for d in frame.domains if d.name == name), None) if frame is not None else None
    return domain.config.raw if domain is not None and domain.config is not None else ""


async def test_hot_plugged_disk_and_new_description_reach_the_detail_within_two_seconds(lab: QemuLab) -> None:
    """libvirt's device-added/removed and metadata-change events (not only lifecycle): at a 60 s interval
    only they can bring the new configuration in time."""
    run = lab.names()["run"]
    image = lab.workdir / "hotplug.img"
    image.write_bytes(b"\0" * (1 << 20))
    # The lab's guests have no PCI hotplug (no ACPI): a USB disk, as an admin would plug a stick.
    disk = (
        f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{image}'/>"
        "<target dev='sdb' bus='usb'/></disk>"
    )
    conn = admin(lab)
    app = XenTUI(LibvirtSource(lab.uri), interval=60)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await _wait(pilot, lambda: _state(app, run) == "running", 15)
            await pilot.pause(0.5)
            assert str(image) not in _raw(app, run)
            dom = conn.lookupByName(run)
            dom.attachDeviceFlags(disk, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            added = await _wait(pilot, lambda: str(image) in _raw(app, run), 2.0)
            table = app.query_one(DomainTable)
            assert table.select_name(run) and table.selected is not None
            assert table.selected.config is not None and str(image) in table.selected.config.raw
            dom.detachDeviceFlags(disk, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            removed = await _wait(pilot, lambda: str(image) not in _raw(app, run), 2.0)
            note = "a description set while the dashboard watches"
            dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, note, None, None, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            described = await _wait(pilot, lambda: note in _raw(app, run), 2.0)
            print(f"event to config: added {added:.2f} s, removed {removed:.2f} s, description {described:.2f} s")
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.lookupByName(run).detachDeviceFlags(disk, libvirt.VIR_DOMAIN_AFFECT_LIVE)
        with contextlib.suppress(libvirt.libvirtError):
            conn.lookupByName(run).setMetadata(
                libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, None, None, libvirt.VIR_DOMAIN_AFFECT_LIVE
            )
        conn.close()


async def test_daemon_restart_shows_disconnected_then_reconnects(lab: QemuLab) -> None:
    names = lab.names()
    source = LibvirtSource(lab.uri)
    app = XenTUI(source, interval=0.5)
    async with app.run_test(size=(160, 45)) as pilot:
        await _wait(pilot, lambda: _state(app, names["run"]) == "running", 15)
        lab.stop_daemon()
        await _wait(pilot, lambda: app.frame is not None and not app.frame.connected, 15)
        header = str(app.query_one("#summary").render())
        assert "DISCONNECTED" in header and "retrying" in header
        assert _state(app, names["run"]) == "running"  # the last snapshot is kept, dimmed
        assert _dimmed(app, names["run"])
        lab.start_daemon()
        await _wait(pilot, lambda: app.frame is not None and app.frame.connected, 40)
        assert not _dimmed(app, names["run"]) and _state(app, names["run"]) == "running"
    source.close()


def test_vnc_endpoint_is_the_guests_and_serves_frames(lab: QemuLab) -> None:
    names = lab.names()
    source = LibvirtSource(lab.uri)
    snap = source.snapshot()
    source.close()
    dom = next(d for d in snap.domains if d.name == names["run"])
    assert dom.vnc is not None and (dom.vnc.host, dom.vnc.port) == ("127.0.0.1", vnc_port(lab, names["run"]))
    frame = grab_frame(dom.vnc.host, dom.vnc.port)  # type: ignore[arg-type]
    assert frame.width >= 640 and frame.height >= 400 and len(frame.pixels) == frame.width * frame.height * 4
    assert names["run"] in frame.name
    step = plan(dom, source.display, {"DISPLAY": ":0", "VNCVIEWER": "xtigervncviewer"}, which=lambda v: f"/usr/bin/{v}")
    assert isinstance(step, Launch) and step.argv == ("/usr/bin/xtigervncviewer", f"127.0.0.1::{dom.vnc.port}")


def test_console_round_trip_in_the_real_tui(lab: QemuLab) -> None:
    run = lab.names()["run"]
    t = Tmux(f"env -u COLUMNS -u LINES {XENTUI} -c '{lab.uri}'")
    try:
        t.wait_for(run)
        time.sleep(1)
        t.keys("/")
        t.keys(run)
        t.keys("Enter")
        t.wait_until(lambda s: "xentui-lab-paused" not in s.split("────")[0], "only the running guest")
        t.keys("C")  # the full-terminal hand-over (c opens the console pane: tests/integration/test_console_lab.py)
        t.wait_for(f"Connected to {run}. Escape character is Ctrl-].")
        t.keys("Enter")
        t.wait_for("lab#")  # the shell prompt (tmux trims the trailing space)
        t.keys("exit", "Enter")  # the guest's init prints its banner and starts a new shell
        t.wait_until(lambda s: BANNER in s.split("exit", 1)[-1], "the guest's banner")
        # Typed before the new shell reads its terminal, a line can be lost: wait for its prompt.
        t.wait_until(lambda s: "lab#" in s.split("exit", 1)[-1].split(BANNER, 1)[-1], "the new shell's prompt")
        t.keys("echo hel''lo", "Enter")
        t.wait_until(lambda s: "\nhello" in s, "the guest's answer 'hello'")
        t.keys("C-]")
        screen = t.wait_for("domains:")
        assert "CPU%" in screen and run in screen and "lab#" not in screen
        # The terminal is back in the TUI's hands: keys work again.
        t.keys("?")
        t.wait_for("xentui — keys")
        t.keys("Escape")  # alone: Escape then q at once would read as Alt-q
        t.wait_until(lambda s: "xentui — keys" not in s, "the help closed")
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit")
    finally:
        t.kill()


def test_console_of_a_shut_off_guest_is_refused_clearly(lab: QemuLab) -> None:
    from xentui.sources.base import ActionError

    source = LibvirtSource(lab.uri)
    off = next(d for d in source.snapshot().domains if d.name == lab.names()["off"])
    with pytest.raises(ActionError, match="shutoff: start it"):
        source.console(off)
    source.close()


def test_console_taken_by_another_client_is_refused(lab: QemuLab) -> None:
    from xentui.sources.base import ActionError

    source = LibvirtSource(lab.uri)
    run = next(d for d in source.snapshot().domains if d.name == lab.names()["run"])
    first = source.console(run)
    try:
        with pytest.raises(ActionError, match=r"in use by another client|already"):
            source.console(run)
    finally:
        first.close()  # type: ignore[union-attr]
    source.close()
    assert threading.active_count() < 50
