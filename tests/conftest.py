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

    def count(marker: str) -> dict[str, int]:
        return {
            outcome: sum(
                1
                for r in terminalreporter.stats.get(outcome, [])
                if getattr(r, "when", "call") == "call" or outcome == "skipped"
                if marker in getattr(r, "keywords", {})
            )
            for outcome in ("passed", "failed", "skipped", "error")
        }

    for marker, what in (
        ("lab", "real hypervisor labs (QEMU guests under private libvirtds, the fleet's daemons, Xen)"),
        ("xen", "of which the real Xen labs, 4.17 and 4.20 (dom0 over SSH, xl and libvirt's xen driver)"),
    ):
        c = count(marker)
        if any(c.values()):
            terminalreporter.write_line(
                f"{what}: {c['passed']} tests passed, {c['failed'] + c['error']} failing, {c['skipped']} skipped"
            )
