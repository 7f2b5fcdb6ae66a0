"""Several hosts at once: one poller thread per source, their latest frames combined for the widgets.

Each host polls on its own, so a slow or dead one never holds up the others or the UI; what the
widgets get is a `FleetFrame`: every host's condition and the domains and rates of all of them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from xentui.model import Domain
from xentui.poller import Frame, Poller, Rates
from xentui.sources.base import Source


@dataclass(frozen=True)
class HostStatus:
    """One host of the fleet: its name in the table, its source label and its latest frame."""

    name: str
    label: str
    read_only: bool = True
    frame: Frame | None = None

    @property
    def condition(self) -> str:
        """connecting, connected, auth failed, unreachable or disconnected (after having been connected)."""
        f = self.frame
        if f is None:
            return "connecting"
        if f.connected:
            return "connected"
        if f.error_kind == "auth":
            return "auth failed"
        return "disconnected" if f.snapshot is not None else "unreachable"


class RowKey(NamedTuple):
    """A row's identity in the fleet: the host (its unique name in the fleet) and the domain's key on that host.

    A domain's UUID alone is not enough: every Xen dom0's Domain-0 has the all-zero UUID, and an HA or
    migrating guest is defined on two hosts at once.
    """

    host: str
    domain: str


class UnknownRow(LookupError):
    """A row key that no host of the frame has: never silently another host's row."""


@dataclass(frozen=True)
class FleetFrame:
    """What the widgets render: every host's status, and all rows (domains) and their rates, host by host."""

    hosts: tuple[HostStatus, ...]
    rows: dict[RowKey, Domain] = field(default_factory=dict)  # host by host, in the fleet's order
    rates: dict[RowKey, Rates] = field(default_factory=dict)

    @property
    def domains(self) -> tuple[Domain, ...]:
        return tuple(self.rows.values())

    @property
    def connected(self) -> bool:
        return all(h.frame is not None and h.frame.connected for h in self.hosts)

    @property
    def single(self) -> HostStatus | None:
        return self.hosts[0] if len(self.hosts) == 1 else None

    @classmethod
    def combine(cls, hosts: tuple[HostStatus, ...], parts: Sequence[HostRows] | None = None) -> FleetFrame:
        """`parts`: each host's rows as `host_rows` made them, where the caller keeps them between frames."""
        if parts is None:
            parts = [host_rows(h) for h in hosts]
        if len(parts) == 1:  # one host: its rows are the frame's (never changed once made)
            return cls(hosts, parts[0][0], parts[0][1])
        rows: dict[RowKey, Domain] = {}
        rates: dict[RowKey, Rates] = {}
        for host_rows_, host_rates in parts:
            rows.update(host_rows_)
            rates.update(host_rates)
        return cls(hosts, rows, rates)

    @classmethod
    def one(cls, frame: Frame, label: str = "") -> FleetFrame:
        """A fleet of one host with this frame."""
        name = frame.snapshot.host.hostname if frame.snapshot is not None else label
        return cls.combine((HostStatus(name, label, frame=frame),))

    def host_index(self, key: RowKey) -> int:
        """The place in the fleet of the row's host. Raises UnknownRow for a host the fleet does not have."""
        for i, h in enumerate(self.hosts):
            if h.name == key.host:
                return i
        raise UnknownRow(f"no host {key.host!r} in this fleet")

    def domain(self, key: RowKey) -> Domain:
        """The row's domain. Raises UnknownRow when the frame has no such row."""
        try:
            return self.rows[key]
        except KeyError:
            raise UnknownRow(f"no domain {key.domain!r} on host {key.host!r}") from None


HostRows = tuple[dict[RowKey, Domain], dict[RowKey, Rates]]


def host_rows(h: HostStatus) -> HostRows:
    """One host's rows and rates, keyed for the fleet."""
    rows: dict[RowKey, Domain] = {}
    rates: dict[RowKey, Rates] = {}
    if h.frame is not None and h.frame.snapshot is not None:
        host_rates = h.frame.rates
        for d in h.frame.snapshot.domains:
            key = RowKey(h.name, d.key)
            rows[key] = d
            rate = host_rates.get(d.key)
            if rate is not None:
                rates[key] = rate
    return rows, rates


class Fleet:
    """Owns the sources and one `Poller` thread per source; `on_frame` gets a `FleetFrame` on every host frame.

        with Fleet(sources, interval=2) as fleet:   # on exit: pollers stopped and joined, sources closed
            fleet.on_frame = show
            fleet.start()

    `on_frame` is called from the poller threads: it must not block (the app posts a message). Hosts are
    known by `Source.host_name`, which must be distinct (the source factory makes them so).
    """

    def __init__(
        self,
        sources: Sequence[Source],
        on_frame: Callable[[FleetFrame], None] | None = None,
        interval: float = 1.0,
    ) -> None:
        self.sources = tuple(sources)
        names = [s.host_name for s in self.sources]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two hosts named {twice[0]!r}: give each host of a fleet its own name")
        self.on_frame = on_frame
        self.interval = interval
        self._lock = threading.Lock()
        self._hosts = [HostStatus(n, s.label, s.read_only) for n, s in zip(names, self.sources)]
        # Each host's rows, made again only when that host has a new frame (not when another host has one).
        self._parts: list[HostRows] = [({}, {}) for _ in self.sources]
        self.pollers = [Poller(s, self._receiver(i), interval) for i, s in enumerate(self.sources)]
        for source in self.sources:  # sources that can connect while the dashboard starts do
            connect_soon = getattr(source, "connect_soon", None)
            if connect_soon is not None:
                connect_soon()
        self._threads: list[threading.Thread] = []
        self._stopped = False
        self._closed = False

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def frame(self) -> FleetFrame:
        with self._lock:
            return FleetFrame.combine(tuple(self._hosts), list(self._parts))

    def _receiver(self, index: int) -> Callable[[Frame], None]:
        def receive(frame: Frame) -> None:
            with self._lock:
                if self._stopped:
                    return
                self._hosts[index] = replace(self._hosts[index], frame=frame)
                self._parts[index] = host_rows(self._hosts[index])
                combined = FleetFrame.combine(tuple(self._hosts), list(self._parts))
                on_frame = self.on_frame
            if on_frame is not None:
                on_frame(combined)

        return receive

    def start(self) -> None:
        for i, p in enumerate(self.pollers):
            t = threading.Thread(target=p.run, name=f"poller-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        for p in self.pollers:
            p.stop()

    def join(self, timeout: float = 2.0) -> None:
        """Wait for the poller threads, `timeout` seconds in all: one stuck in a hung host's call is left
        behind (a daemon thread), never waited for."""
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float = 1.0) -> None:
        """Stop and join the pollers, then close every source. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        self.join(timeout)
        for source in self.sources:
            source.close()

    def set_interval(self, interval: float) -> None:
        """The new interval counts at once: a poller waiting out a long interval is woken to wait anew."""
        self.interval = interval
        for p in self.pollers:
            p.set_interval(interval)

    def wake(self) -> None:
        for p in self.pollers:
            p.wake()

    def source_for(self, key: RowKey) -> Source:
        """The source of a row's host: actions (console, VNC, lifecycle) go back through it.

        Raises UnknownRow when no host of this fleet has that name."""
        for status, source in zip(self._hosts, self.sources):
            if status.name == key.host:
                return source
        raise UnknownRow(f"no host {key.host!r} in this fleet")
