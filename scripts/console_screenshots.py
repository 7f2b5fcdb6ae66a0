"""Screenshots of the console pane, taken against the real QEMU lab (lab/qemu_lab.py): a guest's console
beside the table after the guest was destroyed and started again, and two consoles as tabs.

Needs what the lab needs (root, QEMU, libvirtd); without it the shots are skipped with one line.
"""

from __future__ import annotations

import asyncio
import fcntl
import subprocess
from pathlib import Path

from lab.artifacts import BANNER, LabUnavailable
from lab.qemu_lab import QemuLab
from xentui.sources.libvirt_source import LibvirtSource
from xentui.ui.app import XenTUI
from xentui.ui.widgets.console_pane import ConsoleView
from xentui.ui.widgets.domain_table import DomainTable

SIZE = (160, 45)


async def _until(pilot, check, seconds: float = 90) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await pilot.pause(0.1)
    raise SystemExit("console screenshots: the lab guest did not answer in time")


def _pane_text(app: XenTUI) -> str:
    view = app.query_one(ConsoleView)
    return "\n".join(view.terminal.text()) if view.terminal is not None else ""


async def _type(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*text, "enter")


async def _shoot(lab: QemuLab, out: Path) -> None:
    names = lab.names()
    app = XenTUI(LibvirtSource(lab.uri), interval=1.0)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DomainTable)
        await _until(pilot, lambda: table.row_count >= 3)
        await pilot.pause(2.2)  # CPU% filled in
        await pilot.press("d")  # the detail pane closed: the table and the console share the screen
        table.select_name(names["run"])
        await pilot.press("c")
        await pilot.press("enter")
        await _until(pilot, lambda: "lab#" in _pane_text(app))
        await _type(pilot, "uname -sr")
        await _type(pilot, "echo hel''lo")
        await pilot.pause(0.5)
        # Rebooted by another admin: destroyed and started again; the pane reattaches and marks the break.
        for step in ("destroy", "start"):
            subprocess.run(["virsh", "-c", lab.uri, step, names["run"]], check=True, capture_output=True)
        await _until(pilot, lambda: "reconnected" in _pane_text(app))
        await _until(pilot, lambda: BANNER in _pane_text(app).split("reconnected", 1)[-1])
        await pilot.press("enter")
        await _until(pilot, lambda: "lab#" in _pane_text(app).split("reconnected", 1)[-1])
        await pilot.pause(1.5)
        app.save_screenshot(str(out / "console-pane.svg"))
        print("screenshots/console-pane.svg")
        await pilot.press("ctrl+right_square_bracket")
        table.select_name(names["paused"])
        await pilot.press("c")
        await pilot.pause(1.0)
        await pilot.press("ctrl+right_square_bracket", "left_square_bracket")  # back to the first tab
        await pilot.pause(1.0)
        app.save_screenshot(str(out / "console-tabs.svg"))
        print("screenshots/console-tabs.svg")


async def console_shots(out: Path) -> None:
    with open("/tmp/xentui-qemu-lab.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one lab at a time on this machine
        lab = QemuLab()
        try:
            lab.up()
        except (LabUnavailable, OSError, subprocess.SubprocessError) as exc:
            lab.down()
            print(f"console screenshots skipped: the QEMU lab cannot start here ({exc})")
            return
        try:
            await _shoot(lab, out)
        finally:
            lab.down()


if __name__ == "__main__":
    asyncio.run(console_shots(Path(__file__).resolve().parent.parent / "screenshots"))
