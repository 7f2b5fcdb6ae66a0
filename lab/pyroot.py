"""Debian roots with the distro's python3 (3.9 in Debian 11, 3.13 in Debian 13) for running xentui there.

Each root is made once by scripts/python-root.sh (debootstrap, python3, python3-libvirt, a venv with the
test tools) and cached in ~/.cache/xentui-lab/pyroot/, keyed by the script and the requirement files;
older roots of the same suite are removed. Commands run in the root through `unshare`: a private mount
and PID namespace, so its mounts (proc, dev, the checkout on /src, a tmpfs /tmp) go away with it.

    python -m lab.pyroot bullseye -- python3 --version
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from lab.artifacts import CACHE, LabUnavailable

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "python-root.sh"
REQUIREMENTS = [REPO / "scripts" / "dist-requirements.txt", REPO / "scripts" / "test-requirements.txt"]
SUITES = {"bullseye": "3.9", "trixie": "3.13"}


def _key(suite: str) -> str:
    digest = hashlib.sha256(suite.encode())
    for path in [SCRIPT, *REQUIREMENTS]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _download(python: str, into: Path) -> None:
    """Wheels of the requirements (and pip) for CPython `python` on x86-64, by this machine's pip."""
    tag = "cp" + python.replace(".", "")
    argv = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "-d", str(into)]
    argv += ["--only-binary=:all:", "--python-version", python, "--implementation", "cp", "--abi", tag]
    argv += ["--abi", "abi3", "--abi", "none", "--platform", "manylinux2014_x86_64", "--platform", "any"]
    argv += ["--platform", "manylinux_2_17_x86_64", "pip"]
    if python != "3.13":
        # pip evaluates markers for the Python it runs on, not the target: what 3.9 needs besides.
        argv += ["exceptiongroup", "tomli", "backports.asyncio.runner", "importlib-metadata", "zipp"]
    for req in REQUIREMENTS:
        argv += ["-r", str(req)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabUnavailable(f"pip download for Python {python}: {done.stderr.strip()[-500:]}")


def root(suite: str) -> Path:
    """The root directory for `suite`, built first when it is missing or its inputs changed."""
    for tool in ("debootstrap", "unshare", "chroot"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            raise LabUnavailable(f"{tool} is not installed (scripts/setup.sh installs it)")
    base = CACHE / "pyroot"
    out = base / f"{suite}-{_key(suite)}"
    if (out / "ready").exists():
        return out / "root"
    base.mkdir(parents=True, exist_ok=True)
    for old in base.glob(f"{suite}-*"):
        shutil.rmtree(old, ignore_errors=True)
    out.mkdir()
    wheels = out / "wheels"
    _download(SUITES[suite], wheels)
    done = subprocess.run(["bash", str(SCRIPT), suite, str(out), str(wheels), *map(str, REQUIREMENTS)], check=False)
    shutil.rmtree(wheels, ignore_errors=True)
    if done.returncode != 0:
        shutil.rmtree(out, ignore_errors=True)
        raise LabUnavailable(f"building the {suite} root failed (exit status {done.returncode})")
    return out / "root"


def run(
    rootdir: Path, argv: list[str], *, timeout: float = 600, hide: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run `argv` chrooted in `rootdir`, the checkout mounted read-only on /src and the cwd there.

    `hide` names directories inside the root to cover with an empty tmpfs (e.g. the distro's
    dist-packages, to run Python as it is without python3-libvirt).
    """
    mounts = [
        "set -e",
        "mount --make-rprivate /",
        f"mount -t proc proc {shlex.quote(str(rootdir / 'proc'))}",
        f"mount --rbind /dev {shlex.quote(str(rootdir / 'dev'))}",
        f"mount -t tmpfs tmpfs {shlex.quote(str(rootdir / 'tmp'))}",
        f"mount --bind {shlex.quote(str(REPO))} {shlex.quote(str(rootdir / 'src'))}",
        f"mount -o remount,bind,ro {shlex.quote(str(rootdir / 'src'))}",
        # This machine's name resolves there too (libvirt warns on stderr when it does not).
        f"touch {shlex.quote(str(rootdir / 'etc/hosts'))}",
        f"mount --bind /etc/hosts {shlex.quote(str(rootdir / 'etc/hosts'))}",
        *(f"mount -t tmpfs tmpfs {shlex.quote(str(rootdir / d.lstrip('/')))}" for d in hide),
        f"exec chroot {shlex.quote(str(rootdir))} /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp TERM=xterm-256color"
        " LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 sh -c 'cd /src && exec \"$@\"' sh " + shlex.join(argv),
    ]
    return subprocess.run(
        # --kill-child: on a timeout, killing unshare ends the namespace and everything in it.
        ["unshare", "--mount", "--pid", "--fork", "--kill-child", "sh", "-c", "\n".join(mounts)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def main() -> int:
    suite, argv = sys.argv[1], sys.argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    done = run(root(suite), argv or ["python3", "--version"])
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
