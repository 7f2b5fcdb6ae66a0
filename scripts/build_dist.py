"""Build dist/xentui.pyz: one file that runs with a distro's python3 (3.9 to 3.13), no pip, no network.

    python scripts/build_dist.py [OUT]          (make dist)

Layout of the archive (a standard-library zipapp, `python3 -m zipapp` format):
    __main__.py   scripts/pyz_main.py: unpacks lib/ into the user's cache directory once per build
    BUILD         the build's id: a hash of everything in lib/
    lib/          xentui from this checkout and the wheels pinned in scripts/dist-requirements.txt

Why the standard library's zipapp with our own start-up (scripts/pyz_main.py) rather than shiv or pex,
measured on this machine with the same pinned wheels (shiv 1.0.8, pex 2.105.2, Debian's python3 3.11):
- shiv (3.07 MB; first start 1.3 s, then 0.3-0.7 s for `--demo list`) unpacks to a cache the same way,
  but into ~/.shiv: its root is fixed at build time, or names one environment variable with no default
  (so not "$XDG_CACHE_HOME, else ~/.cache"), and it never removes older builds' directories.
- pex (4.27 MB; first start 3.3 s, then 1.0-1.6 s) hides the system's site-packages unless built with
  --inherit-path, i.e. it did not see python3-libvirt, and it carries its own runtime.
- ours (2.97 MB; see docs/benchmarks.md) is the standard library only, unpacks into the user's cache
  directory, compiles there once (so starts stay fast under PYTHONDONTWRITEBYTECODE) and cleans old builds.
Running straight from the zip, without unpacking, does not work for the dashboard: Textual reads its and
our .tcss files from disk, and Python cannot cache bytecode in a zip.
libvirt-python is not bundled: it is a C extension built against the host's libvirt.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PINS = REPO / "scripts" / "dist-requirements.txt"
FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entries get one timestamp: the same inputs give the same file


def _requirements() -> list[str]:
    """The pinned requirements without their markers: the one archive serves 3.9 (tomli) to 3.13."""
    reqs = []
    for line in PINS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            reqs.append(line.split(";", 1)[0].strip())
    return reqs


def _install(target: Path) -> None:
    argv = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    argv += ["--target", str(target), "--only-binary=:all:", "--python-version", "3.9", "--implementation", "py"]
    argv += ["--abi", "none", "--platform", "any", "--no-compile", *_requirements()]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"make dist: pip could not fetch the pinned wheels:\n{done.stderr.strip()}")
    for junk in [*target.glob("*.dist-info/RECORD"), *target.glob("bin")]:
        shutil.rmtree(junk) if junk.is_dir() else junk.unlink()


def _files(lib: Path) -> list[tuple[str, Path]]:
    out = []
    for path in sorted(lib.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            out.append(("lib/" + path.relative_to(lib).as_posix(), path))
    return out


def build(out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="xentui-dist-") as tmp:
        lib = Path(tmp) / "lib"
        _install(lib)
        shutil.copytree(
            REPO / "xentui",
            lib / "xentui",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        files = _files(lib)
        digest = hashlib.sha256()
        for name, path in files:
            digest.update(name.encode() + b"\0" + path.read_bytes())
        build_id = digest.hexdigest()[:16]
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".tmp")
        with partial.open("wb") as raw:
            raw.write(b"#!/usr/bin/env python3\n")
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
                for name, data in [
                    ("__main__.py", (REPO / "scripts" / "pyz_main.py").read_bytes()),
                    ("BUILD", build_id.encode() + b"\n"),
                ]:
                    zf.writestr(zipfile.ZipInfo(name, FIXED_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
                for name, path in files:
                    info = zipfile.ZipInfo(name, FIXED_TIME)
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)
        os.chmod(partial, 0o755)
        partial.replace(out)
    return out


if __name__ == "__main__":
    target = build(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "dist" / "xentui.pyz")
    print(f"{target.relative_to(REPO) if target.is_relative_to(REPO) else target}: {target.stat().st_size:,} bytes")
