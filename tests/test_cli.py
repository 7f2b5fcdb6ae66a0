"""The command line as users run it: real processes, exit codes, one-line errors, JSON shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES


def xentui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xentui", *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def test_demo_list_json() -> None:
    p = xentui("--demo", "list", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert len(data) >= 11
    keys = {"name", "id", "state", "memory_mib", "max_memory_mib", "vcpus", "mode", "vnc", "source"}
    assert all(keys <= set(d) for d in data)
    by = {d["name"]: d for d in data}
    assert by["Domain-0"]["id"] == 0 and by["Domain-0"]["mode"] == "PV"
    assert {d["mode"] for d in data} == {"PV", "HVM", "PVH"}
    assert {d["state"] for d in data} >= {"running", "paused", "shutoff"}
    assert by["win2019"]["vnc"] == "0.0.0.0:5902" and by["backup-01"]["id"] is None
    assert all(isinstance(d["memory_mib"], int) and isinstance(d["vcpus"], int) for d in data)


def test_list_json_after_subcommand_and_table() -> None:
    p = xentui("list", "--demo")
    # The dashboard's columns (xentui/columns.py), in the same order.
    head = p.stdout.splitlines()[0].split()
    assert p.returncode == 0
    assert head == "Name ID State Mode Mem MaxMem VCPUs CPU time Con Gfx".split()
    db = next(line.split() for line in p.stdout.splitlines() if line.startswith("db-01"))
    assert db[:7] == ["db-01", "3", "running", "HVM+pv", "8192M", "8192M", "4"] and db[-2:] == ["con", "vnc"]


def test_mode_command() -> None:
    assert xentui("--demo", "mode", "build-pvh").stdout.strip() == "PVH"
    assert xentui("mode", "win2019", "--demo").stdout.strip() == "HVM"
    missing = xentui("--demo", "mode", "nope")
    assert missing.returncode == 1 and missing.stderr.startswith("xentui: error: no domain named")


def test_inspect_merges_table_and_json() -> None:
    p = xentui("inspect", "--json", str(FIXTURES / "xl-list.txt"), str(FIXTURES / "xl-list-long.json"))
    assert p.returncode == 0, p.stderr
    got = {d["name"]: (d["id"], d["state"], d["mode"], d["memory_mib"], d["vcpus"]) for d in json.loads(p.stdout)}
    assert got == {
        "Domain-0": (0, "running", "PV", 2048, 2),
        "pvguest": (1, "blocked", "PV", 128, 1),
        "pvhguest": (2, "blocked", "PVH", 128, 1),
        "hvmguest": (3, "running", "HVM", 256, 1),
    }


def test_inspect_seed_samples_text() -> None:
    seeds = sorted(str(p) for p in FIXTURES.glob("seed-*"))
    p = xentui("inspect", *seeds)
    assert p.returncode == 0
    assert "My-PV-VM: PV: image (linux" in p.stdout and "My-HVM-VM: HVM: image (hvm" in p.stdout
    assert "xentui: warning:" in p.stderr and "cut short" in p.stderr


def test_bad_file_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"domid": 1, "config": {}} oops]')
    p = xentui("inspect", str(bad))
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.startswith(f"xentui: error: {bad}:1:")
    binary = tmp_path / "bin.dat"
    binary.write_bytes(b"\x7fELF\x00\x01")
    p = xentui("inspect", str(binary))
    assert p.returncode == 2 and "binary" in p.stderr and "Traceback" not in p.stderr
    p = xentui("inspect", str(tmp_path / "missing"))
    assert p.returncode == 1 and "No such file" in p.stderr


def test_unreachable_uri_exit_1() -> None:
    p = xentui("list", "-c", "qemu+unix:///system?socket=/nonexistent/sock")
    assert p.returncode == 1 and p.stderr.startswith("xentui: error: cannot connect to qemu+unix")
    assert "Traceback" not in p.stderr and p.stderr.count("\n") == 1


def test_missing_xl(tmp_path: Path) -> None:
    p = xentui("--xl", "list", env={"PATH": str(tmp_path)})
    assert p.returncode == 1 and "xl: command not found" in p.stderr


def test_bad_interval_is_usage_error() -> None:
    p = xentui("--demo", "--interval", "0")
    assert p.returncode == 2 and "--interval" in p.stderr


def test_list_from_saved_files_and_bad_detach_key() -> None:
    p = xentui("-f", str(FIXTURES / "xl-list.txt"), "-f", str(FIXTURES / "xl-list-long.json"), "list", "--json")
    assert p.returncode == 0 and {d["mode"] for d in json.loads(p.stdout)} == {"PV", "PVH", "HVM"}
    p = xentui("--demo", "--detach-key", "alt-x")
    assert p.returncode == 2 and "detach key" in p.stderr
