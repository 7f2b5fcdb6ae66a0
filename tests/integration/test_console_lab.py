"""The console pane against a real QEMU guest of the lab, in the real TUI (tmux), beside the table.

A guest of its own is defined for this module (started paused, so that the pane sees its whole boot) and
removed at the end, so the other lab tests see the lab as they expect it.
"""

from __future__ import annotations

import glob
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmux_driver import XENTUI, Tmux

from lab.artifacts import BANNER
from lab.qemu_lab import PREFIX, QemuLab, guest_xml

pytestmark = pytest.mark.lab
GUEST = PREFIX + "console"
MARK = "guest restarted, reconnected"


def virsh(lab: QemuLab, *args: str) -> None:
    """Another admin's shell on the host."""
    subprocess.run(["virsh", "-c", lab.uri, *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def guest(lab: QemuLab) -> Iterator[str]:
    xml = lab.workdir / f"{GUEST}.xml"
    xml.write_text(guest_xml(GUEST, lab.workdir / "boot"))
    virsh(lab, "define", str(xml))
    lab.started.append(GUEST)  # the lab's down() removes it even if this module fails half-way
    try:
        virsh(lab, "start", "--paused", GUEST)
        yield GUEST
    finally:
        subprocess.run(["virsh", "-c", lab.uri, "destroy", GUEST], capture_output=True, check=False)
        subprocess.run(["virsh", "-c", lab.uri, "undefine", GUEST], capture_output=True, check=False)
        lab.started.remove(GUEST)


def pane(screen: str) -> str:
    """The console pane's part of the screen (below the tab bar)."""
    return screen.split("keys →", 1)[-1]


def filter_to(t: Tmux, name: str) -> None:
    t.keys("/")
    t.keys(name)
    t.keys("Enter")
    time.sleep(0.5)


def test_console_pane_boot_typing_reboot_log_scrollback_and_tabs(lab: QemuLab, guest: str, tmp_path: Path) -> None:
    logs = tmp_path / "consoles"
    t = Tmux(f"env -u COLUMNS -u LINES {XENTUI} -c '{lab.uri}' --console-log {logs}", width=160, height=50)
    try:
        t.wait_for(guest)
        time.sleep(1)
        filter_to(t, guest)
        t.keys("c")
        t.wait_for(f":{guest} (Ctrl-] gives them back)")
        # The guest was started paused: resuming it from another shell shows its whole boot in the pane.
        virsh(lab, "resume", guest)
        t.wait_until(lambda s: BANNER in pane(s), "the guest's boot banner in the pane", 90)
        t.keys("Enter")
        t.wait_until(lambda s: "lab#" in pane(s), "the shell prompt")
        t.keys("echo hel''lo", "Enter")
        screen = t.wait_until(lambda s: "\nhello" in pane(s), "the guest's answer 'hello'")
        assert "CPU%" in screen and guest in screen.split("keys →")[0]  # the table, on the same screen
        t.keys("seq 1 3000", "Enter")  # the first boot goes far up into the scrollback
        t.wait_until(lambda s: "\n3000" in pane(s), "the end of seq")

        # Rebooted from another shell: destroyed and started again (a new QEMU, a new ID).
        virsh(lab, "destroy", guest)
        virsh(lab, "start", guest)
        t.wait_until(lambda s: MARK in pane(s), "the reconnect mark", 60)
        t.wait_until(lambda s: BANNER in pane(s).split(MARK, 1)[-1], "the second boot's banner", 90)
        t.keys("Enter")
        t.wait_until(lambda s: "lab#" in pane(s).split(MARK, 1)[-1], "the prompt after the reboot")

        # The scrollback reaches the first boot: page up to its very top.
        t.keys(*["PPage"] * 250)
        screen = t.wait_until(lambda s: BANNER in pane(s) and "\n2999" not in pane(s), "the first boot, paged up")
        view = pane(screen).split("\n", 1)[1]
        assert view.lstrip().startswith(BANNER) or view.index(BANNER) < view.index("lab#"), screen
        assert MARK not in view, screen

        # A second console, as a tab beside the first.
        t.keys("C-]")
        t.wait_for("keys → table")
        time.sleep(0.5)
        t.keys("Escape")  # alone: Escape and / at once would read as Alt-/
        time.sleep(0.5)
        filter_to(t, lab.names()["run"])
        t.keys("c")
        screen = t.wait_for(f":{lab.names()['run']} (Ctrl-] gives them back)")
        assert f":{guest}" in screen  # the first tab is still there
        t.keys("C-]")
        t.wait_for("keys → table")
        t.keys("q")
        t.wait_until(lambda s: "domains:" not in s, "xentui to quit")
    finally:
        t.kill()
    found = glob.glob(str(logs / "*" / f"{guest}.log"))
    assert len(found) == 1, list(logs.rglob("*"))
    log = Path(found[0]).read_bytes()
    assert log.count(BANNER.encode()) >= 2, log[-2000:]
    first, second = log.index(BANNER.encode()), log.rindex(BANNER.encode())
    assert first < log.index(b"\nhello") < log.index(MARK.encode()) < second
    assert b"closed" in log[-200:]


async def test_console_held_by_another_client_says_so_and_retries(lab: QemuLab) -> None:
    import libvirt

    from xentui.actions.console_session import State
    from xentui.sources.libvirt_source import LibvirtSource, ensure_event_loop
    from xentui.ui.app import XenTUI
    from xentui.ui.widgets.domain_table import DomainTable

    run = lab.names()["run"]
    ensure_event_loop()
    other = libvirt.open(lab.uri)  # another admin's `virsh console`
    stream = other.newStream(libvirt.VIR_STREAM_NONBLOCK)
    other.lookupByName(run).openConsole(None, stream, 0)
    app = XenTUI(LibvirtSource(lab.uri), interval=0.5)
    released = False
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            table = app.query_one(DomainTable)
            for _ in range(100):
                if table.select_name(run):
                    break
                await pilot.pause(0.1)
            await pilot.press("c")
            for _ in range(100):
                session = app.active_console()
                if session is not None and session.state is State.HELD:
                    break
                await pilot.pause(0.1)
            assert session is not None and session.state is State.HELD, session and session.status
            assert "in use by another client" in str(app.query_one("#console-status").render())
            stream.abort()  # the other client lets go
            other.close()
            released = True
            await pilot.press("enter")  # Enter in the pane retries
            for _ in range(100):
                if session.state is State.CONNECTED:
                    break
                await pilot.pause(0.1)
            assert session.state is State.CONNECTED, session.status
    finally:
        if not released:
            stream.abort()
            other.close()
