"""Running the host's tools (`xl`, `xm`, `xenstore-read`): argument lists, timeouts, clear errors."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from xentui.sources.base import SourceError

DEFAULT_TIMEOUT = 10.0


def run(argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> str:
    """stdout of the command; SourceError naming the command when it is missing, hangs or fails."""
    shown = " ".join(argv)
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise SourceError(f"{argv[0]}: command not found (is this a Xen dom0?)") from None
    except PermissionError:
        raise SourceError(f"{argv[0]}: permission denied (run as root on dom0)") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"{shown}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise SourceError(f"{shown}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = err[-1] if err else f"exit status {done.returncode}"
        raise SourceError(f"{shown}: {reason}")
    return done.stdout.decode("utf-8", "replace")
