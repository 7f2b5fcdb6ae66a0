"""The normalized model: immutable snapshots that every source produces and every view reads.

Sizes a source does not tell (a pasted output with `...` elisions, a table without a VCPUs column) are None,
never 0: `Domain.memory_kib`, `max_memory_kib`, `vcpus`, `max_vcpus` and the `*_mib` properties. A maximum
memory without a limit (xend's `maxmem 16777215` MiB for an uncapped Domain-0, xentop's `no limit`) is
`max_memory_unlimited=True` with `max_memory_kib=None`.

How a configuration decides the mode is a `Verdict` (one pure function per format in `parsers/verdict.py`):
the mode, one line saying why, the fields that decided it, and whether the guest has PV drivers and on
what evidence. `str(verdict)` is the one-line text shown everywhere ("HVM: image (hvm …) → PV drivers …").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TextEnum(str, enum.Enum):
    """A str-valued enum whose str() and f-string form is its value (enum.StrEnum needs Python 3.11)."""

    def __str__(self) -> str:
        return str(self.value)


class Mode(TextEnum):
    """Xen virtualization mode of a guest (HVM for every KVM/QEMU guest)."""

    PV = "PV"
    HVM = "HVM"
    PVH = "PVH"
    UNKNOWN = "unknown"


class State(TextEnum):
    RUNNING = "running"
    BLOCKED = "blocked"
    PAUSED = "paused"
    SHUTDOWN = "shutdown"
    SHUTOFF = "shutoff"
    CRASHED = "crashed"
    DYING = "dying"
    UNKNOWN = "unknown"

    @property
    def active(self) -> bool:
        return self not in (State.SHUTOFF, State.UNKNOWN)


# xl's six flag letters, in xl's order: running, blocked, paused, shutdown, crashed, dying.
FLAG_LETTERS = "rbpscd"
_FLAG_STATES = (State.RUNNING, State.BLOCKED, State.PAUSED, State.SHUTDOWN, State.CRASHED, State.DYING)


def flags_for(state: State) -> str:
    """The xl-style flag string (`r-----`) for a single state."""
    if state in _FLAG_STATES:
        i = _FLAG_STATES.index(state)
        return "-" * i + FLAG_LETTERS[i] + "-" * (5 - i)
    return "------"


def state_from_flags(flags: str) -> State:
    """Read xl/xm flags; the most telling letter wins (dying over crashed over ... over running).

    A domain with an ID but no letter set is runnable, i.e. running, as xentop shows it.
    """
    letters = set(flags)
    for letter, state in reversed(list(zip(FLAG_LETTERS, _FLAG_STATES))):
        if letter in letters:
            return state
    return State.RUNNING


@dataclass(frozen=True)
class Endpoint:
    """A graphical console endpoint (VNC or SPICE). `port` is None when not yet allocated."""

    kind: str
    host: str
    port: int | None

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port is not None else f"{host}:?"

    @property
    def exposed(self) -> bool:
        """True when the server listens on every interface, not just loopback or one address."""
        return self.host in ("0.0.0.0", "::", "[::]", "*", "")


@dataclass(frozen=True)
class ConfigNode:
    """One node of a parsed configuration tree. `decisive` marks the fields that decide the mode."""

    key: str
    value: str | None = None
    children: tuple[ConfigNode, ...] = ()
    decisive: bool = False

    def find(self, *path: str) -> ConfigNode | None:
        node: ConfigNode | None = self
        for part in path:
            if node is None:
                return None
            node = next((c for c in node.children if c.key == part), None)
        return node


@dataclass(frozen=True)
class Verdict:
    """How a configuration decides the mode and the PV drivers.

    `why` is one line naming the format's own fields; `fields` are the deciding fields as paths below the
    configuration's root ("image/hvm", "config/c_info/type", "os/type/@machine"); `evidence` says what
    decided `pv_drivers` ("netfront net", "xen disk", "xen_platform_pci 1", "xen_platform_pci default (on)",
    "virtio disk"), empty when nothing did.
    """

    mode: Mode
    why: str
    fields: tuple[str, ...] = ()
    pv_drivers: bool = False
    evidence: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.mode.value}: {self.why}"


@dataclass(frozen=True)
class DomainConfig:
    """The configuration as parsed (tree) and as read (raw), with the mode verdict."""

    format: str  # "xm-sxp", "xl-json", "xl-sxp", "libvirt-xml"
    tree: ConfigNode
    raw: str
    verdict: Verdict


@dataclass(frozen=True)
class IOCounters:
    """Cumulative I/O counters from libvirt's bulk stats or xentop (bytes)."""

    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0


class XenbusState(int, enum.Enum):
    """A split driver's state in xenstore (xen/include/public/io/xenbus.h)."""

    UNKNOWN = 0
    INITIALISING = 1
    INIT_WAIT = 2
    INITIALISED = 3
    CONNECTED = 4
    CLOSING = 5
    CLOSED = 6
    RECONFIGURING = 7
    RECONFIGURED = 8


@dataclass(frozen=True)
class Frontend:
    """One PV frontend of a guest as xenstore shows it live: `/local/domain/N/device/<kind>/<devid>/state`."""

    kind: str  # "vif", "vbd", "vkbd", "console", "9pfs"…
    devid: str
    state: int  # a XenbusState value; anything else is kept as read

    @property
    def connected(self) -> bool:
        return self.state == XenbusState.CONNECTED

    @property
    def io(self) -> bool:
        """A disk or network path (what "PV drivers" means in triage). Keyboard, framebuffer and console
        frontends are not: Linux connects its built-in vkbd even in a guest that runs on emulated disks and NICs."""
        return self.kind in IO_FRONTENDS


IO_FRONTENDS = frozenset({"vif", "vbd", "vscsi", "9pfs"})


@dataclass(frozen=True)
class XenstoreEntry:
    """One key of a xenstore subtree, as read: full path and value (both hostile text: shown inert)."""

    path: str
    value: str


@dataclass(frozen=True)
class Domain:
    name: str
    id: int | None
    uuid: str | None
    state: State
    memory_kib: int | None
    max_memory_kib: int | None
    vcpus: int | None
    max_vcpus: int | None
    mode: Mode
    flags: str = "------"
    pv_drivers: bool = False
    cpu_time_ns: int | None = None
    cpu_pct: float | None = None  # measured by the source over its own window (xentop's CPU(%)); else from cpu_time_ns
    host: str = ""
    source: str = ""
    hypervisor: str = ""  # libvirt domain type or "xen"
    has_console: bool = False
    graphics: tuple[Endpoint, ...] = ()
    config: DomainConfig | None = None
    io: IOCounters | None = None
    max_memory_unlimited: bool = False  # no maximum at all (then max_memory_kib is None)
    # The PV frontends xenstore shows for the running guest; None when the source cannot read xenstore.
    frontends: tuple[Frontend, ...] | None = None
    # Listed before its configuration was read (a first refresh of many domains): mode and devices not known yet.
    details_pending: bool = False

    @property
    def memory_mib(self) -> int | None:
        return None if self.memory_kib is None else self.memory_kib // 1024

    @property
    def max_memory_mib(self) -> int | None:
        return None if self.max_memory_kib is None else self.max_memory_kib // 1024

    @property
    def vnc(self) -> Endpoint | None:
        """The display to open: VNC where there is one, else the first other (SPICE). JSON's `vnc` is VNC only."""
        return next((g for g in self.graphics if g.kind == "vnc"), self.graphics[0] if self.graphics else None)

    @property
    def key(self) -> str:
        """Stable identity across refreshes: the UUID where known, else host and name."""
        return self.uuid or f"{self.host}/{self.name}"


@dataclass(frozen=True)
class HostInfo:
    hostname: str
    source: str  # URI or command, e.g. "xen:///system", "xl", "file:dump.sxp"
    hypervisor: str = ""  # e.g. "Xen 4.17.7", "QEMU 7.2.0"
    read_only: bool = True
    demo: bool = False
    cpus: int | None = None
    memory_kib: int | None = None
    free_memory_kib: int | None = None  # free to start guests with (Xen's free memory, libvirt's free memory)


@dataclass(frozen=True)
class Snapshot:
    host: HostInfo
    domains: tuple[Domain, ...]
    taken_at: float  # time.monotonic() of the refresh
    problems: tuple[str, ...] = field(default=())

    def by_key(self) -> dict[str, Domain]:
        return {d.key: d for d in self.domains}
