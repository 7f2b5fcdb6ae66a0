"""Where a dom0's tools run: here, or on a remote dom0 over one multiplexed ssh connection.

Sources build argument lists for the dom0's tools (`xl`, `xentop`, `xenstore-ls`…) and hand them to a
runner, which turns them into what is executed on this machine. Over ssh the remote shell joins the words
again, so every word is quoted for it: a domain name never becomes shell syntax on either side.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from xentui.sources.commands import DEFAULT_TIMEOUT, run


class Runner(Protocol):
    @property
    def where(self) -> str:
        """ "" here; `user@host[:port]` for a remote dom0 (messages name it)."""
        ...

    def argv(self, command: Sequence[str], tty: bool = False) -> list[str]:
        """What to execute on this machine to run `command` on the dom0 (`tty`: it owns a terminal)."""
        ...

    def run(self, command: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> str:
        """stdout of `command` on the dom0; SourceError naming it when it is missing, hangs or fails."""
        ...

    def close(self) -> None: ...


class LocalRunner:
    where = ""

    def argv(self, command: Sequence[str], tty: bool = False) -> list[str]:
        return list(command)

    def run(self, command: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> str:
        return run(command, timeout)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class SshTarget:
    user: str  # "" for ssh's default (~/.ssh/config, the local user)
    host: str
    port: int | None = None

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        where = f"{self.user}@{host}" if self.user else host
        return f"{where}:{self.port}" if self.port else where


class SshRunner:
    """Every command over one ssh master connection (ControlMaster), opened by the first command and closed
    by `close`. BatchMode: ssh never prompts over the dashboard; a key or an agent must let it in."""

    def __init__(self, target: SshTarget, connect_timeout: float = 10.0) -> None:
        self.target = target
        self.where = str(target)
        self.connect_timeout = connect_timeout
        # A private directory: the control socket grants the connection to whoever can open it.
        self._dir = tempfile.mkdtemp(prefix="xentui-ssh-")
        self._control = os.path.join(self._dir, "master")

    def options(self) -> list[str]:
        opts = [
            "-o", "BatchMode=yes",
            "-o", f"ConnectTimeout={max(1, int(self.connect_timeout))}",
            "-o", "ServerAliveInterval=10",
            "-o", "ServerAliveCountMax=3",
            "-o", "ControlMaster=auto",
            "-o", f"ControlPath={self._control}",
            "-o", "ControlPersist=yes",
        ]  # fmt: skip
        if self.target.port:
            opts += ["-p", str(self.target.port)]
        return opts

    def argv(self, command: Sequence[str], tty: bool = False) -> list[str]:
        remote = " ".join(shlex.quote(word) for word in command)
        return ["ssh", *self.options(), "-t" if tty else "-T", "--", self.target.destination, remote]

    def run(self, command: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> str:
        return run(self.argv(command), timeout)

    def close(self) -> None:
        if os.path.exists(self._control):
            subprocess.run(
                ["ssh", "-o", f"ControlPath={self._control}", "-O", "exit", self.target.destination],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )
        shutil.rmtree(self._dir, ignore_errors=True)
