"""The single file: its pins (scripts/dist-requirements.txt) against pyproject.toml's dependencies, and
where it writes when it starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "scripts" / "dist-requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def test_every_dependency_is_pinned_for_the_single_file_within_its_range() -> None:
    deps = [Requirement(d) for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]]
    pins = _pins()
    assert deps
    for dep in deps:
        assert _norm(dep.name) in pins, f"{dep.name} is a dependency but not in scripts/dist-requirements.txt"
        assert dep.specifier.contains(pins[_norm(dep.name)]), f"{dep.name}=={pins[_norm(dep.name)]} is not {dep}"


def test_libvirt_is_not_bundled() -> None:
    assert "libvirt-python" not in _pins()


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/xentui.pyz as `make dist` left it (make test builds it first), else one built here."""
    built = REPO / "dist" / "xentui.pyz"
    if built.exists():
        return built
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from build_dist import build
    finally:
        sys.path.remove(str(REPO / "scripts"))
    out: Path = build(tmp_path_factory.mktemp("dist") / "xentui.pyz")
    return out


def test_single_file_unpacks_into_the_cache_only_and_removes_stale_builds(pyz: Path, tmp_path: Path) -> None:
    beside = tmp_path / "copied-to-dom0"
    beside.mkdir()
    archive = beside / "xentui.pyz"
    shutil.copy(pyz, archive)
    cache = tmp_path / "cache"
    stale, recent = cache / "xentui" / "pyz-0000000000000000", cache / "xentui" / "pyz-1111111111111111"
    for d in (stale, recent):
        d.mkdir(parents=True)
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale, (two_days_ago, two_days_ago))
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONDONTWRITEBYTECODE": "1"}
    for _ in range(2):  # the first start unpacks, the second uses what it left
        done = subprocess.run([sys.executable, str(archive), "--version"], env=env, capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.startswith("xentui "), done.stderr
    assert sorted(p.name for p in beside.iterdir()) == ["xentui.pyz"]
    builds = sorted(p.name for p in (cache / "xentui").iterdir())
    assert stale.name not in builds and recent.name in builds and len(builds) == 2
    current = next(cache / "xentui" / b for b in builds if b != recent.name)
    assert (current / ".complete").exists() and (current / "textual" / "__init__.py").exists()
    assert any(current.glob("textual/__pycache__/*.pyc")), "bytecode is compiled at unpack"
    assert not (current / "libvirt.py").exists()
