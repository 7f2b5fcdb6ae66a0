"""The single file against the installed package: size and start-up (`--demo list`, the dashboard's first frame).

    python -m bench.single_file [--write]     (after `make dist`; --write: the section of docs/benchmarks.md)

Each figure is the median of 5 runs. "cold" is the first start of a build (it unpacks into an empty cache
directory); "warm" every start after that. "from the zip" imports straight from the archive, without
unpacking, for comparison only: that is what scripts/build_dist.py chose not to do.
"""

from __future__ import annotations

import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.pty_run import PtyProcess
from bench.report import replace_section
from bench.run import machine

REPO = Path(__file__).resolve().parent.parent
PYZ = REPO / "dist" / "xentui.pyz"
INSTALLED = str(Path(sys.executable).with_name("xentui"))
SYSTEM_PY = "/usr/bin/python3"
HEADING = "## The single file"
RUNS = 5


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _installed() -> int:
    """The installed package and the dependencies the single file bundles, in the venv."""
    import importlib.util

    total = 0
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            origin = Path(spec.origin)
            total += _du(origin.parent) if origin.name == "__init__.py" else origin.stat().st_size
    return total


PACKAGES = ("xentui", "textual", "rich", "pygments", "markdown_it", "mdit_py_plugins", "linkify_it", "uc_micro")
PACKAGES += ("mdurl", "platformdirs", "typing_extensions", "sexpdata", "pyte", "wcwidth")


def _median(measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(RUNS))


def _list(argv: list[str], env: dict[str, str], fresh_cache: bool = False) -> float:
    def once() -> float:
        if fresh_cache:
            shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
        start = time.monotonic()
        subprocess.run([*argv, "--demo", "list"], env=env, capture_output=True, check=True)
        return time.monotonic() - start

    return _median(once)


def _first_frame(argv: list[str], env: dict[str, str]) -> float:
    def once() -> float:
        proc = PtyProcess([*argv, "--demo"], env=env, marker=b"domains: ")
        proc.start()
        try:
            return proc.wait_first_frame()
        finally:
            proc.stop()

    return _median(once)


def main(argv: list[str]) -> int:
    if not PYZ.exists():
        print("dist/xentui.pyz is missing: make dist", file=sys.stderr)
        return 1
    cache = tempfile.mkdtemp(prefix="xentui-bench-cache-")
    env = {**os.environ, "XDG_CACHE_HOME": cache}
    pyz = [SYSTEM_PY, str(PYZ)]
    unpacked = subprocess.run([*pyz, "--version"], env=env, capture_output=True, text=True, check=True)
    assert unpacked.stdout.startswith("xentui")
    zip_env = {**env, "PYTHONPATH": f"{PYZ}/lib"}
    rows = [
        ("size", f"{PYZ.stat().st_size / 1e6:.2f} MB", "—"),
        (
            "`--demo list`, cold (first start: unpacks)",
            f"{_list(pyz, env, fresh_cache=True):.2f} s",
            "—",
        ),
        ("`--demo list`, warm", f"{_list(pyz, env):.2f} s", f"{_list([INSTALLED], env):.2f} s"),
        ("`--demo list`, from the zip without unpacking", f"{_list([SYSTEM_PY, '-m', 'xentui'], zip_env):.2f} s", "—"),
        ("dashboard's first frame, warm", f"{_first_frame(pyz, env):.2f} s", f"{_first_frame([INSTALLED], env):.2f} s"),
    ]
    rows.append(
        ("on disk once started (with bytecode)", f"{_du(Path(cache)) / 1e6:.1f} MB", f"{_installed() / 1e6:.1f} MB")
    )
    shutil.rmtree(cache, ignore_errors=True)
    lines = ["| figure | dist/xentui.pyz | installed package (.venv) |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    table = "\n".join(lines)
    print(table)
    if "--write" in argv:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        version = subprocess.run([SYSTEM_PY, "--version"], capture_output=True, text=True, check=True).stdout.strip()
        section = (
            f"{HEADING}\n\nMeasured {stamp} on {machine()} with `python -m bench.single_file` (median of {RUNS}). "
            f"The single file runs with the system's {version} (Debian's, with python3-libvirt); the installed "
            f"package is the project venv's `xentui` ({sys.version.split()[0]}, libvirt-python from PyPI). "
            "Cold is the first start of a build, which unpacks the archive into the user's cache directory "
            "and compiles all of it to bytecode there; warm is every start after. From the zip without "
            "unpacking is shown only to say why the single file unpacks: Python cannot keep bytecode in a zip, "
            "so every start compiles what it imports again (`list` imports little of Textual; the dashboard "
            "cannot start that way at all, Textual reads .tcss files from disk). On disk: the unpacked "
            "directory with its bytecode, and the same packages installed in the venv.\n\n" + table + "\n"
        )
        out = REPO / "docs" / "benchmarks.md"
        replace_section(out, "single-file", section)
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
