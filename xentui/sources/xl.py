"""A Xen dom0 through its command-line toolstack: `xl` (or `xm` on xend hosts).

Each refresh runs `xl list` (cheap); `xl list -l` and xenstore are read again only when the
set of domains changes.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import replace

from xentui.model import Domain, Endpoint, HostInfo, Mode, Snapshot, XenstoreEntry
from xentui.parsers.errors import ParseError
from xentui.parsers.sniff import merge_run_state, parse_text, row_domain
from xentui.parsers.tables import parse_list_table
from xentui.sources.base import (
    ALL_LIFECYCLE,
    ActionError,
    CommandConsole,
    ConsoleRoute,
    ConsoleStream,
    Display,
    DisplayRoute,
    Lifecycle,
    SourceError,
    check_lifecycle,
)
from xentui.sources.commands import run

# The toolstack's verb for each action. Starting needs the guest's config file (`xl create FILE`), which the
# dashboard does not know: START is not offered.
_VERBS = {
    Lifecycle.SHUTDOWN: "shutdown", Lifecycle.REBOOT: "reboot", Lifecycle.PAUSE: "pause",
    Lifecycle.RESUME: "unpause", Lifecycle.DESTROY: "destroy",
}  # fmt: skip


class ToolstackSource:
    actions = ALL_LIFECYCLE - {Lifecycle.START}
    console_route = ConsoleRoute.COMMAND
    display = Display(DisplayRoute.LOCAL)

    def __init__(self, tool: str = "xl", read_only: bool = True, timeout: float = 10.0, name: str = "") -> None:
        self.tool = tool
        self.label = tool
        self.host_name = name or socket.gethostname()
        self.read_only = read_only
        self.timeout = timeout
        self._host: HostInfo | None = None
        self._configs: dict[tuple[int | None, str], Domain] = {}
        self._ids: tuple[tuple[int | None, str], ...] = ()
        self.calls = 0

    def _run(self, *args: str) -> str:
        self.calls += 1
        return run([self.tool, *args], self.timeout)

    def _host_info(self) -> HostInfo:
        if self._host is None:
            version = ""
            cpus = mem = None
            try:
                info = dict(
                    (k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in self._run("info").splitlines())
                )
                v = info.get("xen_version") or ".".join(
                    p.strip(".")
                    for p in (info.get("xen_major", ""), info.get("xen_minor", ""), info.get("xen_extra", ""))
                    if p.strip(".")
                )
                version = f"Xen {v}" if v else ""
                cpus = int(info["nr_cpus"]) if info.get("nr_cpus", "").isdigit() else None
                mem = int(info["total_memory"]) * 1024 if info.get("total_memory", "").isdigit() else None
            except SourceError:
                pass
            self._host = HostInfo(self.host_name, self.tool, version or "Xen", self.read_only, False, cpus, mem)
        return self._host

    def snapshot(self) -> Snapshot:
        text = self._run("list")
        try:
            rows = [row_domain(r, self.tool) for r in parse_list_table(text, f"{self.tool} list")]
        except ParseError as exc:
            raise SourceError(f"unexpected output from {self.tool} list: {exc}") from None
        ids = tuple(sorted(((r.id, r.name) for r in rows), key=str))
        if ids != self._ids:
            self._configs = self._read_configs()
            self._ids = ids
        merged = merge_run_state(list(self._configs.values()), rows)
        host = self._host_info()
        present = {(r.id, r.name) for r in rows}
        domains = tuple(replace(d, host=host.hostname, source=self.tool) for d in merged if (d.id, d.name) in present)
        return Snapshot(host, domains, time.monotonic())

    def _read_configs(self) -> dict[tuple[int | None, str], Domain]:
        try:
            parsed = parse_text(self._run("list", "-l"), f"{self.tool} list -l")
        except (SourceError, ParseError):
            return {}  # the table alone still shows every domain; modes show as unknown
        out = {}
        for d in parsed.domains:
            if d.id is not None and d.mode is Mode.HVM:
                d = replace(d, graphics=tuple(self._vnc_port(d.id, g) for g in d.graphics))
            out[(d.id, d.name)] = d
        return out

    def _vnc_port(self, domid: int, ep: Endpoint) -> Endpoint:
        """QEMU picks the port when vncunused is set; xl records it in xenstore."""
        if ep.kind != "vnc" or ep.port is not None:
            return ep
        base = f"/local/domain/{domid}/console"
        try:
            port = int(run(["xenstore-read", f"{base}/vnc-port"], self.timeout).strip())
        except (SourceError, ValueError):
            return ep
        try:
            listen = run(["xenstore-read", f"{base}/vnc-listen"], self.timeout).strip() or ep.host
        except SourceError:
            listen = ep.host
        return Endpoint("vnc", listen, port)

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        pass  # no events from the command line: polled only

    def console(self, domain: Domain) -> CommandConsole | ConsoleStream:
        if domain.id is None or not domain.state.active:
            raise ActionError(f"{domain.name} is not running: start it to use its console")
        if not domain.has_console:
            raise ActionError(f"{domain.name} has no serial or PV console")
        kind = "serial" if domain.mode is Mode.HVM else "pv"
        if self.tool == "xm":
            return CommandConsole(("xm", "console", domain.name))
        return CommandConsole((self.tool, "console", "-t", kind, domain.name))

    def lifecycle(self, domain: Domain, action: Lifecycle) -> None:
        check_lifecycle(self)
        if action not in _VERBS:
            raise ActionError(f"{self.tool} cannot start {domain.name} by name: use its config file with xl create")
        try:
            self._run(_VERBS[action], domain.name)
        except SourceError as exc:
            raise ActionError(str(exc)) from None

    def set_interval(self, seconds: float) -> None:
        pass  # polled: the poller keeps the time

    def read_xenstore(self, domain: Domain) -> tuple[XenstoreEntry, ...]:
        raise ActionError("xenstore view: not yet")

    def close(self) -> None:
        pass
