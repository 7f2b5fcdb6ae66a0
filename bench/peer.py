"""virtui-manager, the Textual peer, as an optional baseline on the benchmark's own test-driver hosts.

It is installed into a venv of its own under the benchmark's cache (never into the project's), pinned to the
version measured: PyGObject, which it needs, builds from source and needs Debian's libcairo2-dev and
libgirepository1.0-dev (PyGObject 3.51 and later need girepository-2.0, which Debian 12 lacks). Where it
cannot be installed, `PeerUnavailable` says why and the benchmark goes on without it.

It reads its servers from ~/.config/virtui-manager/config.yaml: it runs with HOME set to a directory of
the benchmark's holding one server, the host under test, connected at start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.pty_run import PtyProcess

NAME = "virtui-manager"
VERSION = "3.3.3"
REQUIREMENTS = (f"{NAME}=={VERSION}", "PyGObject<3.51")
DEBIAN_PACKAGES = ("libcairo2-dev", "libgirepository1.0-dev")


class PeerUnavailable(RuntimeError):
    """The peer cannot run here; the message says why, in one line."""


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xentui-bench"


def installed(venv: Path | None = None) -> Path | None:
    exe = (venv or cache_dir() / "virtui-venv") / "bin" / NAME
    return exe if exe.exists() else None


def install(venv: Path | None = None) -> Path:
    """The peer's executable, installing it into its venv first if needed. Raises PeerUnavailable."""
    venv = venv or cache_dir() / "virtui-venv"
    exe = installed(venv)
    if exe is not None:
        return exe
    python = shutil.which("python3") or sys.executable
    try:
        subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True, timeout=120)
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", *REQUIREMENTS], capture_output=True, text=True, timeout=900
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise PeerUnavailable(f"cannot make a venv for {NAME}: {exc}") from None
    if done.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        why = lines[-1] if lines else f"pip exited with {done.returncode}"
        raise PeerUnavailable(
            f"pip install {' '.join(REQUIREMENTS)} failed ({why}); it needs Debian's {' and '.join(DEBIAN_PACKAGES)}"
        )
    exe = installed(venv)
    if exe is None:
        raise PeerUnavailable(f"{NAME} installed no {NAME} command")
    return exe


def peer_home(host_xml: Path) -> Path:
    """A HOME whose virtui-manager config has one server, the test-driver host, connected at start."""
    home = Path(tempfile.mkdtemp(prefix="xentui-bench-peer-"))
    conf = home / ".config" / NAME
    conf.mkdir(parents=True)
    # JSON is YAML: the path is quoted whatever it holds.
    uri = f"test://{host_xml}"
    (conf / "config.yaml").write_text(f'servers:\n  - name: bench\n    uri: "{uri}"\n    autoconnect: true\n')
    return home


def peer_pty(exe: Path, home: Path) -> PtyProcess:
    """The peer in the benchmark's terminal; its first frame is when a guest's card shows."""
    return PtyProcess([str(exe)], env={"HOME": str(home)}, marker=b"guest-0")
