"""Regenerate screenshots/ from the real app on the built-in demo host (SVG; PNG too when rsvg-convert exists)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from console_screenshots import console_shots  # scripts/ is on the path: this script runs from it

from bench.hosts import host_xml
from xentui.sources.base import Source
from xentui.sources.demo import DemoSource
from xentui.sources.libvirt_source import LibvirtSource
from xentui.ui.app import XenTUI
from xentui.ui.widgets.domain_table import DomainTable

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (160, 45)


async def select(app: XenTUI, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    if not app.query_one(DomainTable).select_name(name):
        raise SystemExit(f"screenshots: no domain {name}")
    await pilot.pause(0.1)


def fleet_sources(tmp: Path) -> list[Source]:
    """Three demo hosts and one that cannot be reached: the fleet view as an admin with four dom0s sees it."""
    second, third = tmp / "dom0-b.xml", tmp / "dom0-c.xml"
    second.write_text(host_xml(7))
    third.write_text(host_xml(4))
    return [
        DemoSource(name="dom0-a"),
        DemoSource(host_xml=str(second), name="dom0-b"),
        DemoSource(host_xml=str(third), name="dom0-c"),
        LibvirtSource("xen+tcp://127.0.0.1:1/system", name="dom0-d"),
    ]


async def shoot(
    name: str, steps, sources: list[Source] | None = None, rows: int = 13, size: tuple[int, int] = SIZE
) -> None:  # type: ignore[no-untyped-def]
    app = XenTUI(sources or DemoSource(), interval=0.5)
    async with app.run_test(size=size, notifications=True) as pilot:
        for _ in range(200):
            if app.query_one(DomainTable).row_count >= rows:
                break
            await pilot.pause(0.05)
        await pilot.pause(1.2)  # two frames: CPU% filled in
        await steps(app, pilot)
        await pilot.pause(0.3)
        app.save_screenshot(str(OUT / f"{name}.svg"))


async def main() -> None:
    OUT.mkdir(exist_ok=True)

    async def table(app, pilot):  # type: ignore[no-untyped-def]
        pass

    async def pv(app, pilot):  # type: ignore[no-untyped-def]
        await select(app, pilot, "web-01")

    async def hvm(app, pilot):  # type: ignore[no-untyped-def]
        await select(app, pilot, "db-01")

    async def raw(app, pilot):  # type: ignore[no-untyped-def]
        await select(app, pilot, "win2019")
        await pilot.press("r")

    async def console(app, pilot):  # type: ignore[no-untyped-def]
        await select(app, pilot, "web-02")
        await pilot.press("c")
        for _ in range(50):  # the console is looked up in a worker; its answer arrives as a notification
            if app._notifications:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.5)

    async def vnc(app, pilot):  # type: ignore[no-untyped-def]
        os.environ.update(SSH_CONNECTION="198.51.100.7 51234 192.0.2.10 22", USER="admin")
        os.environ.pop("DISPLAY", None)
        await select(app, pilot, "web-01")
        await pilot.press("v")

    async def filtered(app, pilot):  # type: ignore[no-untyped-def]
        await pilot.press("slash", *"pvh", "enter")

    async def help_(app, pilot):  # type: ignore[no-untyped-def]
        await pilot.press("question_mark")

    async def xenstore(app, pilot):  # type: ignore[no-untyped-def]
        await select(app, pilot, "win2019")  # HVM, platform device on, no PV frontend connected
        await pilot.press("X")
        await pilot.pause(0.5)  # read in a worker

    shots = [("main-table", table), ("pv-detail", pv), ("hvm-detail", hvm), ("raw-config", raw),
             ("console-hint", console), ("vnc-hint", vnc), ("filter-pvh", filtered), ("help", help_),
             ("xenstore-view", xenstore)]  # fmt: skip
    for name, steps in shots:
        await shoot(name, steps)
        print(f"screenshots/{name}.svg")
    # The classic SSH window: the key columns stay, the detail pane opens on Enter.
    await shoot("ssh-80x24", table, size=(80, 24))
    print("screenshots/ssh-80x24.svg")

    async def hvm_small(app, pilot):  # type: ignore[no-untyped-def]
        await select(app, pilot, "db-01")
        await pilot.press("enter")

    await shoot("ssh-80x24-detail", hvm_small, size=(80, 24))
    print("screenshots/ssh-80x24-detail.svg")
    with tempfile.TemporaryDirectory() as tmp:
        await shoot("fleet", table, fleet_sources(Path(tmp)), rows=24)
        print("screenshots/fleet.svg")
    await console_shots(OUT)  # against the real QEMU lab: scripts/console_screenshots.py
    if shutil.which("rsvg-convert"):
        for svg in OUT.glob("*.svg"):
            subprocess.run(["rsvg-convert", "-o", str(svg.with_suffix(".png")), str(svg)], check=False)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
