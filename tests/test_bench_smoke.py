"""A short run of every benchmark measurement, so the benchmark cannot rot. Budgets are not judged here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_run_measures_everything() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for figure in (
        "steady CPU",
        "time to first complete frame",
        "terminal output",
        "libvirt calls per refresh",
        "refresh over a slow link",
        "resident memory",
        "idle Textual app",
        "fleet: steady CPU",
        "fleet: libvirt calls per refresh",
    ):
        assert figure in out
    assert "Traceback" not in done.stderr


def test_each_benchmark_replaces_only_its_own_section(tmp_path: Path) -> None:
    from bench.report import replace_section

    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## Hand-written A/B\n\nkept\n")
    replace_section(out, "main", "Measured first.", at_top=True)
    replace_section(out, "fleet", "## Several hosts\n\nold")
    replace_section(out, "dom0", "## On a Xen dom0\n\nfigures")
    replace_section(out, "fleet", "## Several hosts\n\nnew")
    replace_section(out, "main", "Measured again.", at_top=True)
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\n<!-- main:begin -->\nMeasured again.\n<!-- main:end -->\n")
    assert "kept" in text and "figures" in text and "new" in text and "old" not in text
    assert text.index("Hand-written") < text.index("Several hosts") < text.index("On a Xen dom0")
