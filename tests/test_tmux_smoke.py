"""The installed `xentui` in a real pseudo-terminal (tmux), driven by keys as a person would."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

XENTUI = Path(sys.executable).with_name("xentui")
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, command: str, width: int = 160, height: int = 45) -> None:
        self.name = f"xentui-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), command], check=True
        )

    def screen(self) -> str:
        done = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True, check=False
        )
        return done.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, text: str, timeout: float = 20) -> str:
        return self.wait_until(lambda screen: text in screen, f"{text!r} on screen", timeout)

    def wait_until(self, check, what: str, timeout: float = 20) -> str:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"never saw {what}; screen was:\n{self.screen()}")

    def alive(self) -> bool:
        return (
            subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True, check=False).returncode == 0
        )

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True, check=False)


def test_installed_xentui_filter_sort_detail_quit(tmp_path: Path) -> None:
    marker = tmp_path / "exit-status"
    # Textual trusts COLUMNS/LINES over the terminal: drop any inherited from the test runner.
    t = Tmux(f"env -u COLUMNS -u LINES {XENTUI} --demo; echo $? > {marker}; sleep 30")
    try:
        screen = t.wait_for("13 domains")
        assert "DEMO DATA" in screen and "Domain-0" in screen and "build-pvh" in screen
        time.sleep(1)  # keys typed before the first paint can reach the terminal before the app reads it
        t.keys("/")
        t.keys("hvm")

        def table(screen: str) -> list[str]:
            return [
                ln.split()[0] for ln in screen.split(" Name ", 1)[1].split("────")[0].splitlines()[1:] if ln.strip()
            ]

        t.wait_until(lambda s: sorted(table(s)) == ["db-01", "legacy-nt", "monitor", "win2019"], "only HVM guests")
        t.keys("Enter", "s", "s", "s", "s")  # sort by Mem (largest first)
        t.wait_until(lambda s: table(s) == ["db-01", "win2019", "monitor", "legacy-nt"], "HVM guests by memory")
        t.keys("Enter")  # open the detail of the selected row
        t.wait_for("◀ mode")
        t.keys("q")
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.read_text().strip() == "0"
        screen = t.screen()
        assert "Traceback" not in screen
    finally:
        t.kill()
