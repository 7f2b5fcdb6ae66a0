"""The Source protocol: what every source offers and says it can do, and what it hands to actions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from xentui.model import Domain, Snapshot, State, TextEnum, XenstoreEntry


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


class Lifecycle(TextEnum):
    """A lifecycle action: its value is the verb in messages ("shutdown"), `label` what the menu says."""

    START = "start"
    SHUTDOWN = "shutdown"
    REBOOT = "reboot"
    PAUSE = "pause"
    RESUME = "resume"
    DESTROY = "destroy"

    @property
    def verb(self) -> str:
        """For questions and notices: "Shut down web-01 on dom0-a?"."""
        return _VERBS[self]

    @property
    def label(self) -> str:
        """For the menu: what the action does to the guest."""
        return _LABELS[self]

    @property
    def destructive(self) -> bool:
        """The guest gets no say (pull the plug): confirmed by typing the domain's name back."""
        return self is Lifecycle.DESTROY


_VERBS = {
    Lifecycle.START: "Start", Lifecycle.SHUTDOWN: "Shut down", Lifecycle.REBOOT: "Reboot",
    Lifecycle.PAUSE: "Pause", Lifecycle.RESUME: "Resume", Lifecycle.DESTROY: "Destroy",
}  # fmt: skip
_LABELS = {
    **_VERBS,
    Lifecycle.SHUTDOWN: "Shut down (ask the guest)",
    Lifecycle.REBOOT: "Reboot (ask the guest)",
    Lifecycle.DESTROY: "Destroy (pull the plug)",
}
ALL_LIFECYCLE = frozenset(Lifecycle)
_BY_STATE = {
    State.SHUTOFF: (Lifecycle.START,),
    State.PAUSED: (Lifecycle.RESUME, Lifecycle.DESTROY),
}
_ACTIVE = (Lifecycle.SHUTDOWN, Lifecycle.REBOOT, Lifecycle.PAUSE, Lifecycle.DESTROY)


def lifecycle_choices(domain: Domain, offered: Iterable[Lifecycle]) -> tuple[Lifecycle, ...]:
    """The actions that make sense in the domain's state, among those its source offers; none for Domain-0."""
    if domain.id == 0 and domain.hypervisor == "xen":
        return ()
    fitting = _BY_STATE.get(domain.state, _ACTIVE if domain.state.active else ())
    have = frozenset(offered)
    return tuple(a for a in fitting if a in have)


class ConsoleRoute(TextEnum):
    """How `Source.console` reaches a guest's serial console."""

    STREAM = "stream"  # a byte stream (libvirt's console stream), bridged to the terminal by xentui
    COMMAND = "command"  # a program that owns the terminal (`xl console`)
    NONE = "none"  # no live consoles (saved outputs, the demo)


class DisplayRoute(TextEnum):
    """Where the guests' VNC/SPICE servers listen, seen from where xentui runs."""

    LOCAL = "local"  # on this machine: a viewer here, or a tunnel to this host from the admin's workstation
    TUNNEL = "tunnel"  # on the remote host of a libvirt URI: ssh to it, or virt-viewer over the URI
    NONE = "none"  # no live displays (saved outputs)


@dataclass(frozen=True)
class Display:
    """The display route, and the libvirt URI it goes through ("" when the source is not libvirt)."""

    route: DisplayRoute
    uri: str = ""


READ_ONLY = "read-only: start xentui with --rw to allow lifecycle actions (start, shut down, pause, destroy…)"


def check_lifecycle(source: Source, action: Lifecycle | None = None) -> None:
    """The one read-only rule: ActionError unless `source` may carry out `action` (any action, when None)."""
    if not source.actions:
        raise ActionError(f"{source.label}: no lifecycle actions here")
    if source.read_only:
        raise ActionError(READ_ONLY)
    if action is not None and action not in source.actions:
        raise ActionError(f"{source.label} cannot {action.value} a domain")


@runtime_checkable
class Source(Protocol):
    """One way of reaching one host. What it can do is stated, never probed for."""

    @property
    def label(self) -> str:
        """What the header shows: the URI, "xl", "file:…"."""
        ...

    @property
    def host_name(self) -> str:
        """The host's name in the table, known before connecting; unique within a fleet (the factory sees to it)."""
        ...

    @property
    def read_only(self) -> bool: ...

    @property
    def actions(self) -> frozenset[Lifecycle]:
        """The lifecycle actions this source can carry out when it is not read-only."""
        ...

    @property
    def console_route(self) -> ConsoleRoute: ...

    @property
    def display(self) -> Display: ...

    def snapshot(self) -> Snapshot:
        """A fresh snapshot. Blocking; call it off the UI thread. Raises SourceError."""
        ...

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        """Called (from any thread) when the source learns of a change before the next poll."""
        ...

    def set_interval(self, seconds: float) -> None:
        """The refresh interval, told before the first poll and on every change; a source that streams at its
        own pace (xentop) follows it at once, the others ignore it."""
        ...

    def console(self, domain: Domain) -> CommandConsole | ConsoleStream:
        """How to reach the domain's serial console, by `console_route`. Raises ActionError."""
        ...

    def lifecycle(self, domain: Domain, action: Lifecycle) -> None:
        """Carry out `action` (after `check_lifecycle`). Raises ActionError."""
        ...

    def read_xenstore(self, domain: Domain) -> tuple[XenstoreEntry, ...]:
        """The running domain's `/local/domain/N` subtree, read now. Blocking (off the UI thread).
        Raises ActionError saying why when this source cannot read xenstore or the domain is not running."""
        ...

    def close(self) -> None: ...
