"""The installed `xentui` in a real pseudo-terminal (tmux), driven by keys as a person would."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from tmux_driver import XENTUI, Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_installed_xentui_filter_sort_detail_quit(tmp_path: Path) -> None:
    marker = tmp_path / "exit-status"
    # Textual trusts COLUMNS/LINES over the terminal: drop any inherited from the test runner.
    t = Tmux(f"env -u COLUMNS -u LINES {XENTUI} --demo; echo $? > {marker}; sleep 30")
    try:
        screen = t.wait_for("13 domains")
        assert "DEMO DATA" in screen and "Domain-0" in screen and "build-pvh" in screen
        time.sleep(1)  # keys typed before the first paint can reach the terminal before the app reads it
        t.keys("/")
        t.wait_for("filter: name")  # the filter box has the focus: typing goes there, not to the table
        t.keys("hvm")

        def table(screen: str) -> list[str]:
            return [
                ln.split()[0] for ln in screen.split(" Name ", 1)[1].split("────")[0].splitlines()[1:] if ln.strip()
            ]

        t.wait_until(lambda s: sorted(table(s)) == ["db-01", "legacy-nt", "monitor", "win2019"], "only HVM guests")
        t.keys("Enter")
        time.sleep(0.3)
        t.keys("s", "s", "s", "s")  # sort by Mem (largest first)
        t.wait_until(lambda s: table(s) == ["db-01", "win2019", "monitor", "legacy-nt"], "HVM guests by memory")
        t.keys("Enter")  # open the detail of the selected row
        t.wait_until(lambda s: "db-01  [libvirt-xml]" in s and "◀ mode" in s, "the detail of db-01")
        time.sleep(0.3)  # a person does not type in the same millisecond either
        t.keys("q")
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), t.screen()[-1500:]
        assert marker.read_text().strip() == "0"
        screen = t.screen()
        assert "Traceback" not in screen
    finally:
        t.kill()
