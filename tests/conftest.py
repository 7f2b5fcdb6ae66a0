from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def read_fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say plainly whether the real-hypervisor tests ran, so a CI log shows it."""
    counts = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        counts[outcome] = sum(
            1
            for r in terminalreporter.stats.get(outcome, [])
            if getattr(r, "when", "call") == "call" or outcome == "skipped"
            if "lab" in getattr(r, "keywords", {})
        )
    if any(counts.values()):
        terminalreporter.write_line(
            f"real libvirt lab (QEMU guests under a private libvirtd): {counts['passed']} tests passed, "
            f"{counts['failed']} failing, {counts['skipped']} skipped"
        )
