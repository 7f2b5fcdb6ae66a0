"""The single file's pins (scripts/dist-requirements.txt) against pyproject.toml's dependencies."""

from __future__ import annotations

import sys
from pathlib import Path

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
