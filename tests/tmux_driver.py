"""Driving a program in a real pseudo-terminal through tmux, as a person at a terminal would."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

XENTUI = Path(sys.executable).with_name("xentui")


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
