"""Several hosts at once: one poller thread per source, their latest frames combined for the widgets.

Each host polls on its own, so a slow or dead one never holds up the others or the UI; what the
widgets get is a `FleetFrame`: every host's condition and the domains and rates of all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

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


@dataclass(frozen=True)
class FleetFrame:
    """What the widgets render: every host's status, and all domains and rates, host by host."""

    hosts: tuple[HostStatus, ...]
    domains: tuple[Domain, ...] = ()
    rates: dict[str, Rates] = field(default_factory=dict)
    owners: dict[str, int] = field(default_factory=dict)  # domain key → index of its host

    @property
    def connected(self) -> bool:
        return all(h.frame is not None and h.frame.connected for h in self.hosts)

    @property
    def single(self) -> HostStatus | None:
        return self.hosts[0] if len(self.hosts) == 1 else None

    @classmethod
    def combine(cls, hosts: tuple[HostStatus, ...]) -> FleetFrame:
        domains: list[Domain] = []
        rates: dict[str, Rates] = {}
        owners: dict[str, int] = {}
        for i, h in enumerate(hosts):
            if h.frame is not None and h.frame.snapshot is not None:
                domains.extend(h.frame.snapshot.domains)
                rates.update(h.frame.rates)
                owners.update(dict.fromkeys((d.key for d in h.frame.snapshot.domains), i))
        return cls(hosts, tuple(domains), rates, owners)

    @classmethod
    def one(cls, frame: Frame, label: str = "") -> FleetFrame:
        """A fleet of one host with this frame."""
        name = frame.snapshot.host.hostname if frame.snapshot is not None else label
        return cls.combine((HostStatus(name, label, frame=frame),))

    def host_index(self, domain: Domain) -> int:
        return self.owners.get(domain.key, 0)


def host_names(sources: Sequence[Source]) -> list[str]:
    """A distinct name for each host: the source's own (a configured name, the URI's host), else its label."""
    out: list[str] = []
    for src in sources:
        base = getattr(src, "host_name", "") or src.label
        candidate, n = base, 2
        while candidate in out:
            candidate, n = f"{base}#{n}", n + 1
        out.append(candidate)
    return out


class Fleet:
    """Owns the sources and one `Poller` thread per source; `on_frame` gets a `FleetFrame` on every host frame.

    `on_frame` is called from the poller threads: it must not block (the app posts a message).
    """

    def __init__(
        self,
        sources: Sequence[Source],
        on_frame: Callable[[FleetFrame], None],
        interval: float = 1.0,
    ) -> None:
        self.sources = tuple(sources)
        self.on_frame = on_frame
        self._lock = threading.Lock()
        names = host_names(self.sources)
        self._hosts = [HostStatus(n, s.label, s.read_only) for n, s in zip(names, self.sources)]
        self.pollers = [Poller(s, self._receiver(i), interval) for i, s in enumerate(self.sources)]
        self._threads: list[threading.Thread] = []
        self._stopped = False

    @property
    def frame(self) -> FleetFrame:
        with self._lock:
            return FleetFrame.combine(tuple(self._hosts))

    def _receiver(self, index: int) -> Callable[[Frame], None]:
        def receive(frame: Frame) -> None:
            with self._lock:
                if self._stopped:
                    return
                self._hosts[index] = replace(self._hosts[index], frame=frame)
                combined = FleetFrame.combine(tuple(self._hosts))
            self.on_frame(combined)

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
        for t in self._threads:
            t.join(timeout)

    def set_interval(self, interval: float) -> None:
        for p in self.pollers:
            p.interval = interval

    def wake(self) -> None:
        for p in self.pollers:
            p.wake()

    def source_for(self, domain: Domain, frame: FleetFrame) -> Source:
        """The source a domain of that frame came from: actions (console, VNC, lifecycle) go back through it."""
        return self.sources[frame.host_index(domain)]
