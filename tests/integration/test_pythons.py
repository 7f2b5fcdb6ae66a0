"""xentui under the Pythons of the dom0s people have: Debian 11's 3.9 and Debian 13's 3.13 (3.11, this
machine's, is the rest of the suite).

Each runs in a Debian root made with debootstrap (lab/pyroot.py, cached): the distro's python3 and
python3-libvirt, the test tools in a venv that sees them. There the unit tests run (the Pilot tests of the
app among them), and the single file dist/xentui.pyz runs with the bare system python3: with
python3-libvirt, and with the distro's dist-packages hidden, as on a dom0 without it. The checkout is
mounted read-only, so the single file cannot write beside itself.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.artifacts import LabUnavailable
from lab.pyroot import REPO, SUITES, root, run

pytestmark = pytest.mark.pythons

PYZ = "/src/dist/xentui.pyz"
FIXTURES = "/src/tests/fixtures"
# The tests write (.hypothesis, snapshot reports): they run from a copy in the root's tmpfs /tmp.
UNIT = (
    "mkdir /tmp/w && cp -r /src/xentui /src/tests /src/lab /src/bench /src/scripts /src/dist /src/pyproject.toml "
    "/tmp/w/ && "
    "cd /tmp/w && PYTHONPATH=/tmp/w exec /opt/venv/bin/python -m pytest -q -p no:cacheprovider -p randomly "
    "tests --ignore=tests/integration --deselect tests/test_bench_smoke.py"  # the benchmark's fleet wants libvirtd
)
# Debian 11's libvirt 7.0: its test driver has no virConnectGetAllDomainStats, so xentui reads it per domain
# (as it reads Xen's driver); these tests count or intercept the bulk call, or need figures that stand still.
BULK_ONLY = (
    "tests/test_sources.py::test_libvirt_test_driver_bulk_calls_constant",
    "tests/test_sources.py::test_metadata_change_event_rereads_the_xml_and_wakes_the_poller",
    "tests/test_faults.py::test_domain_vanishing_between_listing_and_reading_is_left_out",
    # Per domain, that driver's virDomainGetInfo reports the time of day as a running domain's CPU time: it moves
    # on every call, so nothing stands still for these tests of objects kept while nothing moves.
    "tests/test_refresh_economy.py::test_a_large_first_refresh_lists_rows_before_their_xml_then_fills_them_in",
    "tests/test_xenstore_view.py::test_demo_domains_stay_the_same_objects_between_refreshes",
)
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module", params=sorted(SUITES))
def pyroot(request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    if os.environ.get("XENTUI_PYTHONS") == "0":
        pytest.skip("XENTUI_PYTHONS=0: the Python 3.9 and 3.13 roots are switched off")
    if not (REPO / "dist" / "xentui.pyz").exists():
        pytest.fail("dist/xentui.pyz is missing: make dist (make test builds it first)")
    start = time.monotonic()
    try:
        path = root(request.param)
    except LabUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the {request.param} root: {exc}")
        pytest.skip(f"the {request.param} root: {exc}")
    TIMES[f"{request.param} root"] = time.monotonic() - start
    yield request.param, path
    print(f"python {SUITES[request.param]}: " + ", ".join(f"{k} {v:.0f} s" for k, v in TIMES.items()))
    TIMES.clear()


def _ok(pyroot: tuple[str, Path], argv: list[str], what: str, timeout: float = 600) -> str:
    suite, path = pyroot
    start = time.monotonic()
    done = run(path, argv, timeout=timeout)
    TIMES[what] = time.monotonic() - start
    assert done.returncode == 0, f"{suite}: {' '.join(argv)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_python_version(pyroot: tuple[str, Path]) -> None:
    out = _ok(pyroot, ["python3", "-c", "import sys, libvirt; print('%d.%d' % sys.version_info[:2])"], "version")
    assert out.strip() == SUITES[pyroot[0]]


def test_unit_tests(pyroot: tuple[str, Path]) -> None:
    unit = UNIT + "".join(f" --deselect {t}" for t in BULK_ONLY) if pyroot[0] == "bullseye" else UNIT
    out = _ok(pyroot, ["sh", "-c", unit], "unit tests", timeout=1200)
    assert " passed" in out and " failed" not in out


def test_single_file(pyroot: tuple[str, Path]) -> None:
    assert _ok(pyroot, ["python3", PYZ, "--version"], "pyz --version").startswith("xentui ")
    table = _ok(
        pyroot,
        ["python3", PYZ, "-f", f"{FIXTURES}/xl-list.txt", "-f", f"{FIXTURES}/xl-list-long.json", "list"],
        "pyz -f list",
    )
    assert "pvhguest" in table and "PVH" in table
    demo = _ok(pyroot, ["python3", PYZ, "--demo", "list"], "pyz --demo list")
    assert "PVH" in demo and "HVM" in demo


def test_single_file_without_python3_libvirt(pyroot: tuple[str, Path]) -> None:
    _suite, path = pyroot
    hidden = ("/usr/lib/python3/dist-packages",)
    done = run(path, ["python3", PYZ, "--demo", "list"], hide=hidden)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "apt install python3-libvirt" in lines[0]
    files = run(path, ["python3", PYZ, "-f", f"{FIXTURES}/xl-list.txt", "list"], hide=hidden)
    assert files.returncode == 0 and "pvguest" in files.stdout, files.stderr


def test_single_file_with_this_machines_python3(tmp_path: Path) -> None:
    """The 3.11 of the three: Debian 12's own python3 (not the venv's) with its python3-libvirt."""
    system = Path("/usr/bin/python3")
    if not system.exists():
        pytest.skip("no /usr/bin/python3 here")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    pyz = str(REPO / "dist" / "xentui.pyz")
    fixtures = REPO / "tests" / "fixtures"
    for argv, want in (
        (["--version"], "xentui "),
        (["-f", str(fixtures / "xl-list.txt"), "-f", str(fixtures / "xl-list-long.json"), "list"], "PVH"),
        (["--demo", "list"], "HVM"),
    ):
        done = subprocess.run([str(system), pyz, *argv], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and want in done.stdout, done.stderr
    assert (tmp_path / ".cache" / "xentui").is_dir()
