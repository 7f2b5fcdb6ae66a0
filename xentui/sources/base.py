"""The Source protocol and what sources hand to actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from xentui.model import Domain, Snapshot


class SourceError(Exception):
    """A source could not be reached or did not answer; the message says which and why.

    `kind` is "auth" when the host answered but refused our credentials, else "unreachable"; `reason` is
    the message without the source's name, for places that name the source already.
    """

    def __init__(self, message: str, kind: str = "unreachable", reason: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.reason = reason or message


class ActionError(Exception):
    """An action cannot be carried out (domain off, no console, read-only...)."""


@dataclass(frozen=True)
class CommandConsole:
    """A console reached by running a program that owns the terminal (`xl console NAME`)."""

    argv: tuple[str, ...]


class ConsoleStream(Protocol):
    """A byte stream to a guest's console (libvirt's virStream behind a small adapter)."""

    def recv(self, size: int) -> bytes | None:
        """Bytes, b"" at end of stream, or None when nothing is ready (non-blocking)."""
        ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


LIFECYCLE_ACTIONS = ("start", "shutdown", "reboot", "pause", "resume", "destroy")


@runtime_checkable
class Source(Protocol):
    label: str  # what the header shows: URI, "xl", "file:…"
    read_only: bool

    def snapshot(self) -> Snapshot:
        """A fresh snapshot. Blocking; call it off the UI thread. Raises SourceError."""
        ...

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        """Called (from any thread) when the source learns of a change before the next poll."""
        ...

    def console(self, domain: Domain) -> CommandConsole | ConsoleStream:
        """How to reach the domain's serial console. Raises ActionError."""
        ...

    def lifecycle(self, domain: Domain, action: str) -> None:
        """start/shutdown/reboot/pause/resume/destroy. Raises ActionError."""
        ...

    def close(self) -> None: ...
