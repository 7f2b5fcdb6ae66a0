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
