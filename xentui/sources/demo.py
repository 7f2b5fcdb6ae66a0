"""The built-in demo: a Xen host modelled by libvirt's test driver, needing no daemon and no Xen.

Everything goes through the real libvirt API. Two things are simulated, and the header says
"demo data": CPU time (the test driver reports wall-clock time there) follows each guest's load
from the host XML, and `ci-runner` is started and destroyed on a cycle, producing real lifecycle
events.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources

from xentui.model import ConfigNode, Domain, DomainConfig, HostInfo, Snapshot, XenstoreEntry
from xentui.sources.base import (
    ALL_LIFECYCLE,
    ActionError,
    CommandConsole,
    ConsoleRoute,
    ConsoleStream,
    Display,
    DisplayRoute,
    Lifecycle,
    check_lifecycle,
)
from xentui.sources.demo_xenstore import demo_frontends, demo_xenstore
from xentui.sources.libvirt_source import LibvirtSource, evolve

_LOAD = re.compile(r"""<\w+:demo\b[^>]*\bload=['"](\d+)""")
_CYCLE = re.compile(r"""<\w+:demo\b[^>]*\bcycle=['"]yes""")
CYCLE_UP_S = 40.0
CYCLE_DOWN_S = 15.0
DEMO_HOSTNAME = "xen-demo"


def host_xml_path() -> str:
    return str(resources.files("xentui.sources").joinpath("demo").joinpath("host.xml"))


def demo_uri(host_xml: str | None = None) -> str:
    return "test://" + (host_xml or host_xml_path())


@dataclass
class _Simulated:
    """A guest's simulation, made from one object of the libvirt source: what stays, and the last result."""

    source: Domain  # the libvirt source's object it was made from
    last: Domain  # the last domain shown (its CPU time aside, what the simulation made of `source`)
    scale: float | None  # CPU ns per second of simulated time at full load; None: no CPU time
    phase: float


class DemoSource:
    """`host_xml`: another node XML in the same form (the benchmark uses hosts of 100 and 1000 guests);
    `name`: the host's name (several demo hosts make a demo fleet)."""

    actions = ALL_LIFECYCLE
    console_route = ConsoleRoute.NONE  # the test driver's guests have no console to attach to
    display = Display(DisplayRoute.LOCAL)  # as a real dom0's would: the hints are the ones a dom0 gets

    def __init__(
        self,
        read_only: bool = True,
        clock: Callable[[], float] = time.monotonic,
        host_xml: str | None = None,
        name: str = DEMO_HOSTNAME,
    ) -> None:
        # The in-process test driver is private to us: open it read-write so the demo can move.
        self._lv = LibvirtSource(demo_uri(host_xml), read_only=False, demo=True)
        self.label = "demo (libvirt test driver)"
        self.host_name = name
        self.read_only = read_only
        self._clock = clock
        self._t0 = clock()
        self._cycled: dict[str, float] = {}  # name → time of its last start/stop
        self._configs: dict[str, tuple[int, DomainConfig, DomainConfig]] = {}  # key → (test id, read, renumbered)
        self._sims: dict[str, _Simulated] = {}
        self._marked: dict[int, tuple[DomainConfig, float, bool]] = {}  # id(config) → (config, load, cycles)
        self._host: HostInfo | None = None

    @property
    def calls(self) -> int:
        return self._lv.calls

    def snapshot(self) -> Snapshot:
        snap = self._lv.snapshot()
        if self._run_cycles(snap.domains):
            snap = self._lv.snapshot()
        now = self._clock() - self._t0
        host = self._host
        if host is None or (host.cpus, host.memory_kib) != (snap.host.cpus, snap.host.memory_kib):
            host = self._host = HostInfo(
                hostname=self.host_name,
                source=self.label,
                hypervisor="Xen 4.17 (simulated)",
                read_only=self.read_only,
                demo=True,
                cpus=snap.host.cpus,
                memory_kib=snap.host.memory_kib,
            )
        domains = tuple(self._simulate(d, now) for d in snap.domains)
        if len(self._sims) > len(domains):
            shown = {d.key for d in domains}
            self._sims = {k: v for k, v in self._sims.items() if k in shown}
            self._configs = {k: v for k, v in self._configs.items() if k in shown}
        return Snapshot(host, domains, snap.taken_at, snap.problems)

    def _simulate(self, d: Domain, now: float) -> Domain:
        """The domain as the demo shows it. Work is done once per object of the libvirt source (which keeps
        a domain's object while its figures stand still); after that a refresh only computes the CPU time,
        and a domain whose CPU time did not move is handed back as the very object of the last refresh."""
        sim = self._sims.get(d.key)
        if sim is None or sim.source is not d:
            sim = self._sims[d.key] = self._prepare(d)
        if sim.scale is None:
            return sim.last
        # Integral of load * (1 + 0.3 sin(t / 7 + phase)): smooth, varied, never decreasing.
        # Guests not running keep the CPU time they had.
        t = 86_400 + (now if d.state.value in ("running", "blocked") else 0.0)
        cpu = int(sim.scale * (t - 2.1 * math.cos(t / 7 + sim.phase)))
        if cpu != sim.last.cpu_time_ns:
            sim.last = evolve(sim.last, cpu_time_ns=cpu)
        return sim.last

    def _prepare(self, d: Domain) -> _Simulated:
        # The test driver numbers domains from 1; Xen's Domain-0 is 0.
        domid = d.id - 1 if d.id is not None else None
        base = evolve(d, id=domid, host=self.host_name, cpu_time_ns=None, config=self._renumbered(d, domid))
        base = evolve(base, frontends=demo_frontends(base))  # what its simulated xenstore shows
        if not d.state.active or d.config is None:  # not running, or its XML not read yet: no CPU time
            return _Simulated(d, base, None, 0.0)
        load, _cycles = self._marks(d.config)
        phase = (sum(map(ord, d.name)) % 17) / 3
        return _Simulated(d, base, 1e9 * (d.max_vcpus or 1) * load, phase)

    def _marks(self, config: DomainConfig) -> tuple[float, bool]:
        """The demo's load and cycle marks in a guest's XML, read once per configuration."""
        marks = self._marked.get(id(config))
        if marks is None or marks[0] is not config:
            m = _LOAD.search(config.raw)
            marks = (config, int(m.group(1)) / 100 if m else 0.0, bool(_CYCLE.search(config.raw)))
            if len(self._marked) > 4 * len(self._sims) + 64:  # configurations since replaced
                self._marked.clear()
            self._marked[id(config)] = marks
        return marks[1], marks[2]

    def _renumbered(self, d: Domain, domid: int | None) -> DomainConfig | None:
        """The config as Xen would show it: the test driver's id attribute, one higher, put right."""
        if d.config is None or d.id is None:
            return d.config
        cached = self._configs.get(d.key)
        if cached is not None and cached[0] == d.id and cached[1] is d.config:
            return cached[2]
        tree = d.config.tree
        kids = tuple(ConfigNode("@id", str(domid)) if c.key == "@id" else c for c in tree.children)
        raw = d.config.raw.replace(f" id='{d.id}'", f" id='{domid}'", 1)
        fixed = replace(d.config, tree=replace(tree, children=kids), raw=raw)
        self._configs[d.key] = (d.id, d.config, fixed)
        return fixed

    def _run_cycles(self, domains: tuple[Domain, ...]) -> bool:
        """Start or destroy the guests marked to cycle when their time is up; True if one changed."""
        changed = False
        now = self._clock()
        for d in domains:
            if d.config is None or not self._marks(d.config)[1]:
                continue
            since = self._cycled.setdefault(d.name, now)
            due = CYCLE_UP_S if d.state.active else CYCLE_DOWN_S
            if now - since >= due:
                self._lv.lifecycle(replace(d, id=None), Lifecycle.DESTROY if d.state.active else Lifecycle.START)
                self._cycled[d.name] = now
                changed = True
        return changed

    def connect_soon(self) -> None:
        self._lv.connect_soon()

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        self._lv.set_change_callback(callback)

    def console(self, domain: Domain) -> CommandConsole | ConsoleStream:
        raise ActionError(
            f"{domain.name} is a demo guest with no real console: run xentui -c URI on a real host to attach"
        )

    def lifecycle(self, domain: Domain, action: Lifecycle) -> None:
        check_lifecycle(self, action)
        self._lv.lifecycle(replace(domain, id=None), action)

    def set_interval(self, seconds: float) -> None:
        pass  # polled: the poller keeps the time

    def read_xenstore(self, domain: Domain) -> tuple[XenstoreEntry, ...]:
        return demo_xenstore(domain)

    def close(self) -> None:
        self._lv.close()
