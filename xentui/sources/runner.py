"""Where a dom0's tools run: here, or on a remote dom0 over one multiplexed ssh connection.

Sources build argument lists for the dom0's tools (`xl`, `xentop`, `xenstore-ls`…) and hand them to a
runner, which turns them into what is executed on this machine. Over ssh the remote shell joins the words
again, so every word is quoted for it: a domain name never becomes shell syntax on either side.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from xentui.sources.base import SourceError
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
    keyfile: str = ""  # ssh -i (libvirt's keyfile=): only this key is offered
    known_hosts: str = ""  # ssh's UserKnownHostsFile, "" for ssh's own
    verify: bool = True  # False: the host key is neither checked nor recorded (libvirt's no_verify=1)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        where = f"{self.user}@{host}" if self.user else host
        return f"{where}:{self.port}" if self.port else where

    def options(self) -> list[str]:
        """How to log in to this host, for every ssh started to it (commands, tunnels)."""
        opts = ["-p", str(self.port)] if self.port else []
        if self.keyfile:
            opts += ["-i", os.path.expanduser(self.keyfile), "-o", "IdentitiesOnly=yes"]
        known = os.path.expanduser(self.known_hosts) if self.known_hosts else ("" if self.verify else os.devnull)
        if known:
            opts += ["-o", f"UserKnownHostsFile={known}"]
        if not self.verify:
            opts += ["-o", "StrictHostKeyChecking=no"]
        return opts


MARK = "XENTUI_RUNNER"  # environment variable on the dom0: which runner started a long-running command
RETRY_AFTER_S = 2.0  # a failed connect is not tried again sooner
# The master outlives its last command by this much: commands close together share it, and if xentui is
# killed before `close` (a terminal hung up), it does not stay behind for good.
PERSIST_S = 60


class SshRunner:
    """Every command over one ssh master connection (ControlMaster), opened once (`connect`, or the first
    command) and closed by `close`. BatchMode: ssh never prompts over the dashboard; a key or an agent must
    let it in, and a host key not yet known fails (with how to add it) rather than asking."""

    def __init__(self, target: SshTarget, connect_timeout: float = 10.0) -> None:
        self.target = target
        self.where = str(target)
        self.connect_timeout = connect_timeout
        self.persist_s = PERSIST_S
        # A private directory: the control socket grants the connection to whoever can open it.
        self._dir = tempfile.mkdtemp(prefix="xentui-ssh-")
        self.control_path = os.path.join(self._dir, "master")
        self._token = secrets.token_hex(8)  # marks the long-running commands started on the dom0
        self._lock = threading.Lock()  # one connect at a time
        self._procs_lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()  # ssh commands under way, ended by `close`
        self._closed = False
        self._failure: tuple[float, SourceError] | None = None  # the last failed connect: when, and why

    def options(self) -> list[str]:
        return [
            "-o", "BatchMode=yes",
            "-o", f"ConnectTimeout={max(1, int(self.connect_timeout))}",
            "-o", "ServerAliveInterval=10",
            "-o", "ServerAliveCountMax=3",
            "-o", "ControlMaster=auto",
            "-o", f"ControlPath={self.control_path}",
            "-o", f"ControlPersist={self.persist_s}",
            *self.target.options(),
        ]  # fmt: skip

    def argv(self, command: Sequence[str], tty: bool = False) -> list[str]:
        """SourceError when closed, or (not `tty`) when the dom0 cannot be reached: why, in one line."""
        if self._closed:
            raise SourceError(f"{self.where}: connection closed")
        if not tty:
            # Long-running children (a stream, watches) started together must share one master, not race to
            # open one each; a console (tty) may not wait here, and ssh opens the master itself if needed.
            self.connect()
            # In the C locale, as here; marked, so that `close` can end them on the dom0 (`_end_remote_children`).
            command = ["env", "LC_ALL=C", f"{MARK}={self._token}", *command]
        remote = " ".join(shlex.quote(word) for word in command)
        # A console's keys all go to the guest: no ssh escapes (`~.` at a line's start), the console's own
        # detach key ends it.
        mode = ["-t", "-e", "none"] if tty else ["-T"]
        return ["ssh", *self.options(), *mode, "--", self.target.destination, remote]

    def connect(self, timeout: float | None = None) -> None:
        """Open the master connection unless it is open; SourceError (kind "auth" when refused) if it cannot."""
        with self._lock:
            if self._closed:
                raise SourceError(f"{self.where}: connection closed")
            if os.path.exists(self.control_path):
                return
            failed = self._failure
            if failed is not None and time.monotonic() - failed[0] < RETRY_AFTER_S:
                raise failed[1]  # threads that waited for the same attempt do not each wait again
            limit = timeout if timeout is not None else self.connect_timeout + 5
            try:
                self._ssh(["true"], limit, "ssh")
            except SourceError as exc:
                self._failure = (time.monotonic(), exc)
                raise
            self._failure = None

    def run(self, command: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> str:
        self.connect(max(timeout, self.connect_timeout + 5))
        return self._ssh(command, timeout, " ".join(command))

    def _ssh(self, command: Sequence[str], timeout: float, shown: str) -> str:
        with self._procs_lock:
            if self._closed:
                raise SourceError(f"{self.where}: connection closed")
            try:
                proc = subprocess.Popen(
                    self.argv_raw(command),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env={**os.environ, "LC_ALL": "C"},
                )
            except FileNotFoundError:
                raise SourceError("ssh: command not found (install the OpenSSH client)") from None
            except OSError as exc:
                raise SourceError(f"{self.where}: ssh: {exc.strerror or exc}") from None
            self._procs.add(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise SourceError(f"{self.where}: {shown}: no answer within {timeout:g} s") from None
        finally:
            with self._procs_lock:
                self._procs.discard(proc)
        if self._closed:
            raise SourceError(f"{self.where}: connection closed")
        if proc.returncode != 0:
            raise ssh_error(self.target, command[0] if command else "", proc.returncode, err, shown)
        return out.decode("utf-8", "replace")

    def argv_raw(self, command: Sequence[str]) -> list[str]:
        """`argv` without opening the master first, for a command that ends by itself (C locale)."""
        remote = " ".join(shlex.quote(word) for word in ["env", "LC_ALL=C", *command])
        return ["ssh", *self.options(), "-T", "--", self.target.destination, remote]

    def close(self) -> None:
        with self._procs_lock:
            self._closed = True
            waiting = list(self._procs)
        for proc in waiting:  # a connect that hangs (a host that does not answer) does not hold up the exit
            proc.terminate()
        with self._lock:
            if os.path.exists(self.control_path):
                self._end_remote_children()
                subprocess.run(
                    ["ssh", "-o", f"ControlPath={self.control_path}", "-O", "exit", "--", self.target.destination],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=10,
                    check=False,
                )
            shutil.rmtree(self._dir, ignore_errors=True)

    def _end_remote_children(self) -> None:
        """End on the dom0 what `argv` started there. sshd signals nothing to a command without a terminal
        when its channel closes: a `xenstore-watch` would wait for its next event before finding its output
        gone. The mark in their environment tells ours from anyone else's (one grep over /proc, no loop)."""
        script = (
            f"grep -lzx {MARK}={self._token} /proc/[0-9]*/environ 2>/dev/null"
            ' | while IFS=/ read -r _ _ pid _; do kill "$pid" 2>/dev/null; done; true'
        )
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                self.argv_raw(["sh", "-c", script]),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=5,
                check=False,
            )


_UNREACHABLE = (
    "Could not resolve hostname",
    "Connection refused",
    "Connection timed out",
    "No route to host",
    "Network is unreachable",
    "Connection closed by",
    "Connection reset by",
)


def ssh_error(target: SshTarget, program: str, status: int, stderr: bytes, shown: str) -> SourceError:
    """One line for a failed ssh command: ssh's own failure (status 255) by its cause, else the remote
    command's. Only ssh's last words are kept; they are the remote's text, shown inert by the caller."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    said = [ln for ln in lines if not ln.startswith(("Warning: Permanently added", "@@@"))]
    last = said[-1] if said else f"exit status {status}"
    where = str(target)
    if status == 255:
        text = "\n".join(lines)
        if "Permission denied" in text or "Too many authentication failures" in text:
            reason = f"ssh login refused ({last}): check the key (keyfile=PATH in the URI, or the agent)"
            return SourceError(f"{where}: {reason}", kind="auth", reason=reason)
        if "Host key verification failed" in text or "HOST IDENTIFICATION HAS CHANGED" in text:
            port = f"-p {target.port} " if target.port else ""
            changed = "changed" if "HOST IDENTIFICATION HAS CHANGED" in text else "not known here"
            reason = (
                f"the host key of {target.host} is {changed}: check its fingerprint and add it to known_hosts "
                f"(ssh-keyscan {port}{target.host} >> ~/.ssh/known_hosts), then retry"
            )
            return SourceError(f"{where}: {reason}", kind="auth", reason=reason)
        if any(m in text for m in _UNREACHABLE) or not said:
            reason = f"unreachable over ssh: {last}"
            return SourceError(f"{where}: {reason}", reason=reason)
    if status == 127 and program:
        reason = f"{program}: command not found on the remote host (is it a Xen dom0? is {program} on root's PATH?)"
        return SourceError(f"{where}: {reason}", reason=reason)
    reason = f"{shown}: {last}"
    return SourceError(f"{where}: {reason}", reason=reason)
