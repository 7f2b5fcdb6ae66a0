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
from dataclasses import replace
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
from xentui.sources.libvirt_source import LibvirtSource

_LOAD = re.compile(r"""<\w+:demo\b[^>]*\bload=['"](\d+)""")
_CYCLE = re.compile(r"""<\w+:demo\b[^>]*\bcycle=['"]yes""")
CYCLE_UP_S = 40.0
CYCLE_DOWN_S = 15.0
DEMO_HOSTNAME = "xen-demo"


def host_xml_path() -> str:
    return str(resources.files("xentui.sources").joinpath("demo").joinpath("host.xml"))


def demo_uri(host_xml: str | None = None) -> str:
    return "test://" + (host_xml or host_xml_path())


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
        self._configs: dict[tuple[str, int, int], DomainConfig] = {}

    @property
    def calls(self) -> int:
        return self._lv.calls

    def snapshot(self) -> Snapshot:
        snap = self._lv.snapshot()
        if self._run_cycles(snap.domains):
            snap = self._lv.snapshot()
        now = self._clock() - self._t0
        host = HostInfo(
            hostname=self.host_name,
            source=self.label,
            hypervisor="Xen 4.17 (simulated)",
            read_only=self.read_only,
            demo=True,
            cpus=snap.host.cpus,
            memory_kib=snap.host.memory_kib,
        )
        domains = tuple(self._simulate(d, now) for d in snap.domains)
        return Snapshot(host, domains, snap.taken_at, snap.problems)

    def _simulate(self, d: Domain, now: float) -> Domain:
        # The test driver numbers domains from 1; Xen's Domain-0 is 0.
        domid = d.id - 1 if d.id is not None else None
        cpu: int | None = None
        if d.state.active:
            m = _LOAD.search(d.config.raw if d.config else "")
            load = int(m.group(1)) / 100 if m else 0.0
            # Integral of load * (1 + 0.3 sin(t / 7 + phase)): smooth, varied, never decreasing.
            # Guests not running keep the CPU time they had.
            t = 86_400 + (now if d.state.value in ("running", "blocked") else 0.0)
            phase = (sum(map(ord, d.name)) % 17) / 3
            cpu = int(1e9 * (d.max_vcpus or 1) * load * (t - 2.1 * math.cos(t / 7 + phase)))
        shown = replace(d, id=domid, host=self.host_name, cpu_time_ns=cpu, config=self._renumbered(d, domid))
        return replace(shown, frontends=demo_frontends(shown))  # what its simulated xenstore shows

    def _renumbered(self, d: Domain, domid: int | None) -> DomainConfig | None:
        """The config as Xen would show it: the test driver's id attribute, one higher, put right."""
        if d.config is None or d.id is None:
            return d.config
        key = (d.key, d.id, id(d.config))
        fixed = self._configs.get(key)
        if fixed is None:
            tree = d.config.tree
            kids = tuple(ConfigNode("@id", str(domid)) if c.key == "@id" else c for c in tree.children)
            raw = d.config.raw.replace(f" id='{d.id}'", f" id='{domid}'", 1)
            fixed = replace(d.config, tree=replace(tree, children=kids), raw=raw)
            self._configs = {k: v for k, v in self._configs.items() if k[0] != d.key}
            self._configs[key] = fixed
        return fixed

    def _run_cycles(self, domains: tuple[Domain, ...]) -> bool:
        """Start or destroy the guests marked to cycle when their time is up; True if one changed."""
        changed = False
        now = self._clock()
        for d in domains:
            if not (d.config and _CYCLE.search(d.config.raw)):
                continue
            since = self._cycled.setdefault(d.name, now)
            due = CYCLE_UP_S if d.state.active else CYCLE_DOWN_S
            if now - since >= due:
                self._lv.lifecycle(replace(d, id=None), Lifecycle.DESTROY if d.state.active else Lifecycle.START)
                self._cycled[d.name] = now
                changed = True
        return changed

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
