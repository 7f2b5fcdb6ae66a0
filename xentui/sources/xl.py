"""A Xen dom0 through its command-line toolstack: `xl` (or `xm` on xend hosts), here or through a runner (ssh).

With `xl`, nothing is forked per refresh: figures come from one long-running `xentop -b` (xentop_stream.py),
domains appearing or leaving from `xenstore-watch` children (xenstore.py). `xl list -l` (configurations,
domain IDs, displays) is read again only when the set of domains changes (names in xentop's frames, or a
xenstore event); `xl info` (the host's CPUs, total and free memory) only when the set of domains or their
memory changes; each running HVM guest's PV frontends (`xenstore-ls`) when the set of domains changes or
its backends do. A domain being created is in xenstore before `xl list -l` lists it (Xen 4.20 lists it as its
creation ends): its row is made from its `/local/domain/N` (name, ID, memory target, VCPUs; details pending)
until `xl list -l` lists it.

`xm` hosts keep polling `xm list` each refresh, and so does `xl` where xentop is missing (said in the header).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from xentui.model import Domain, Endpoint, Frontend, HostInfo, Mode, Snapshot, XenstoreEntry
from xentui.parsers.errors import ParseError
from xentui.parsers.sniff import merge_run_state, parse_text, row_domain, top_domain
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
from xentui.sources.runner import LocalRunner, Runner
from xentui.sources.xenstore import (
    BACKENDS,
    DOMAINS_CHANGED,
    RELEASED,
    Watches,
    backend_domid,
    live_domids,
    read_domain,
    read_frontends,
    read_introduced,
)
from xentui.sources.xentop_stream import XentopFrame, XentopStream

# The toolstack's verb for each action. Starting needs the guest's config file (`xl create FILE`), which the
# dashboard does not know: START is not offered.
_VERBS = {
    Lifecycle.SHUTDOWN: "shutdown", Lifecycle.REBOOT: "reboot", Lifecycle.PAUSE: "pause",
    Lifecycle.RESUME: "unpause", Lifecycle.DESTROY: "destroy",
}  # fmt: skip
BACKEND_GAP_S = 1.0  # at most one frontends read a second, however chatty a backend is
# A domain xenstore introduced that `xl list -l` does not list yet is looked for again this often, so many times.
INTRODUCED_RETRY_S, INTRODUCED_RETRIES = 0.5, 12
PENDING_RETRY_MAX_S = 30.0  # then, while its row is still made from xenstore, twice as long each time up to this
_EVERY_GUEST = -1  # in the domains whose frontends to read: all of them (backend events may have been missed)
NO_XENTOP = "xentop: command not found: reading `xl list` every refresh instead"


@dataclass(frozen=True)
class _Read:
    """One `xl list -l` and what goes with it, read off the snapshot's thread and applied by the next snapshot."""

    domains: tuple[Domain, ...]
    problem: str
    frontends: dict[int, tuple[Frontend, ...] | None]
    failed: bool = False


class ToolstackSource:
    actions = ALL_LIFECYCLE - {Lifecycle.START}
    console_route = ConsoleRoute.COMMAND
    display = Display(DisplayRoute.LOCAL)

    def __init__(
        self,
        tool: str = "xl",
        read_only: bool = True,
        timeout: float = 10.0,
        name: str = "",
        runner: Runner | None = None,
    ) -> None:
        self.tool = tool
        self.label = tool
        self.runner: Runner = runner or LocalRunner()
        self.host_name = name or socket.gethostname()
        self.read_only = read_only
        self.timeout = timeout
        self.calls = 0  # commands run through the runner (not the long-running children)
        self._interval = 1.0
        self._callback: Callable[[], None] | None = None
        self._lock = threading.Lock()  # what the children's threads hand over: flags, dirty domains
        self._polling = tool != "xl"
        self._notes: tuple[str, ...] = ()
        self._config_problem = ""  # the last `xl list -l` failed: why
        self._stream: XentopStream | None = None
        self._watches: Watches | None = None
        self._timer: threading.Timer | None = None
        self._frontends_read_at = float("-inf")
        self._stale = True  # read `xl list -l` at the next snapshot
        self._released = False  # @releaseDomain fired: see which domains xenstore still holds
        self._introduced = 0  # @introduceDomain fired: reads of `xl list -l` left until it lists the new domain
        self._probe = False  # look in xenstore for new domains at the next snapshot
        self._unlisted: frozenset[int] = frozenset()  # domains xenstore held that `xl list -l` did not list
        self._pending: dict[int, Domain] = {}  # their rows, made from xenstore, by domain ID
        self._retry: threading.Timer | None = None
        self._closed = False
        self._dirty: set[int] = set()  # domains whose frontends to read again
        self._configs: dict[str, Domain] = {}
        self._configs_at = float("-inf")
        self._configs_seq = 0
        self._gone: frozenset[str] = frozenset()  # names the last `xl list -l` dropped
        self._dropped: frozenset[str] = frozenset()  # names dropped since then, xenstore no longer holding them
        self._dropped_ids: dict[int, float] = {}  # and their IDs, with when
        self._fetching = False  # `xl list -l` runs on its thread
        self._fetched: tuple[float, _Read] | None = None  # when it began, what it read: for the next snapshot
        self._frame_names: frozenset[str] | None = None
        self._frontends: dict[int, tuple[Frontend, ...] | None] = {}
        self._frontends_seq = 0
        self._host: HostInfo | None = None
        self._host_key: object = None
        self._snap: Snapshot | None = None
        self._snap_key: object = None
        # `xm`, or the fallback: `xl list` each refresh.
        self._ids: tuple[tuple[int | None, str], ...] | None = None

    # -- commands -------------------------------------------------------------------------------------------

    def _run(self, *args: str) -> str:
        self.calls += 1
        return self.runner.run([self.tool, *args], self.timeout)

    def _host_info(self, key: object) -> HostInfo:
        """`xl info`, read again when `key` (the set of domains and their memory) changes."""
        if self._host is not None and key == self._host_key:
            return self._host
        self._host_key = key
        try:
            info = {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in self._run("info").splitlines())}
        except SourceError:
            if self._host is not None:
                return self._host
            info = {}
        v = info.get("xen_version") or ".".join(
            p.strip(".") for p in (info.get("xen_major", ""), info.get("xen_minor", ""), info.get("xen_extra", ""))
            if p.strip(".")
        )  # fmt: skip

        def kib(field: str) -> int | None:
            return int(info[field]) * 1024 if info.get(field, "").isdigit() else None

        cpus = int(info["nr_cpus"]) if info.get("nr_cpus", "").isdigit() else None
        self._host = HostInfo(
            self.host_name, self.label, f"Xen {v}" if v else "Xen", self.read_only, False,
            cpus, kib("total_memory"), kib("free_memory"),
        )  # fmt: skip
        return self._host

    def _read_configs(self) -> None:
        self._apply_configs(time.monotonic(), self._fetch_configs())

    def _fetch_configs(self) -> _Read:
        """`xl list -l`, with what goes with it: the VNC ports QEMU picked, the HVM guests' PV frontends."""
        try:
            parsed = parse_text(self._run("list", "-l"), f"{self.tool} list -l")
        except (SourceError, ParseError) as exc:
            return _Read((), f"configurations not read: {exc}", {}, failed=True)
        domains = tuple(
            replace(d, graphics=tuple(self._vnc_port(d.id, g) for g in d.graphics))
            if d.id is not None and d.mode is Mode.HVM
            else d
            for d in parsed.domains
        )
        frontends = {}
        for domid in sorted({d.id for d in domains if d.mode is Mode.HVM and d.id} if not self._polling else ()):
            self.calls += 1
            frontends[domid] = read_frontends(self.runner, domid, self.timeout)
        return _Read(domains, "", frontends)

    def _fetch_in_background(self) -> None:
        """`xl list -l` on its own thread (1.5 to 3.3 s a read in the Xen 4.20 lab while a guest was created), so
        that snapshots, and the xenstore events they handle, do not wait for it; one at a time, and once more
        after it when asked meanwhile."""
        with self._lock:
            if self._fetching or self._closed:
                self._stale = True
                return
            self._fetching = True

        def fetch() -> None:
            started = time.monotonic()
            read = self._fetch_configs()
            with self._lock:
                self._fetched, self._fetching = (started, read), False
            self._wake()

        threading.Thread(target=fetch, name="xl list -l", daemon=True).start()

    def _apply_configs(self, started: float, read: _Read) -> None:
        if read.failed:
            # Keep what was known (the rows alone still show every domain); read again at the next change.
            self._config_problem = read.problem
            self._configs_seq += 1
            return
        self._config_problem = ""
        # Not those xenstore showed gone after the read began: it may have listed them just before they went.
        went = {i for i, at in self._dropped_ids.items() if at >= started}
        self._dropped_ids = {i: at for i, at in self._dropped_ids.items() if at >= started}
        configs = {d.name: d for d in read.domains if d.id not in went}
        # What xenstore showed gone since the last read counts too: it was dropped from the configurations already.
        self._gone = (frozenset(self._configs) | self._dropped) - frozenset(configs)
        self._dropped = frozenset()
        self._configs, self._configs_at = configs, time.monotonic()
        self._configs_seq += 1
        listed = {d.id for d in configs.values()}
        self._unlisted = frozenset(i for i in self._unlisted if i not in listed)
        self._pending = {i: d for i, d in self._pending.items() if i not in listed}  # the real rows replace them
        if not self._polling:
            self._frontends = dict(read.frontends)
            self._frontends_seq += 1
            self._frontends_read_at = time.monotonic()

    def _check_xenstore(self, introduced: bool) -> bool:
        """After @releaseDomain or @introduceDomain, one `xenstore-list /local/domain`: the domains xenstore no
        longer holds are dropped (libxl removes a domain's /local/domain/N before the hypervisor lets it go),
        instead of reading `xl list -l` (over a second on a small dom0); after @introduceDomain each new one's
        row is read from its xenstore (one `xenstore-ls` each, once). Whether every domain xenstore holds is
        known: False when it could not tell (a domain without a row, or no answer)."""
        live = live_domids(self.runner, self.timeout)
        self.calls += 1
        if live is None:
            return False
        known = {d.id: n for n, d in self._configs.items() if d.id is not None}
        gone = frozenset(n for i, n in known.items() if i not in live)
        changed = any(i not in live for i in self._pending)
        self._pending = {i: d for i, d in self._pending.items() if i in live}  # creation failed, or destroyed
        if gone:  # else a shutdown or a crash: xentop's next frame shows the state
            self._gone, self._dropped = self._gone | gone, self._dropped | gone
            now = time.monotonic()
            self._dropped_ids.update((i, now) for i in known if i not in live)
            self._configs = {n: d for n, d in self._configs.items() if n not in gone}
            self._configs_at = time.monotonic()
            changed = True
        added = False
        self._unlisted = frozenset(live - set(known) if introduced else self._unlisted & live)
        if not self._unlisted:  # nothing left to wait for: no more retries
            with self._lock:
                retry, self._retry, self._introduced = self._retry, None, 0
            if retry is not None:
                retry.cancel()
        if introduced:
            # Not before `xl list -l` was read once (all would look new), nor Domain-0 (its subtree is the backends').
            for domid in sorted(self._unlisted - set(self._pending) - {0} if known else ()):
                self.calls += 1
                row = read_introduced(self.runner, domid, self.timeout)
                if row is not None:  # None: not named yet, or no answer; looked at again at the next retry
                    self._pending[domid] = row
                    added = True
        if changed or added:
            self._configs_seq += 1
        return bool(known) and live <= set(known) | set(self._pending)

    def _await_introduced(self) -> None:
        """After @introduceDomain: while xenstore holds a domain that `xl list -l` did not list (libxl records a
        new domain's configuration as its creation ends; Xen 4.20's xl list -l misses it until then), read it
        again shortly, rather than at xentop's next frame (up to a whole --interval later). Once those reads
        are spent, a row made from xenstore is still looked for, ever less often, until `xl list -l` lists it
        or xenstore drops it: a creation slower than the reads (an HVM guest's device model) ends pending."""
        waiting = self._unlisted  # as xenstore held them at the last look, less those `xl list -l` now lists
        with self._lock:
            left = self._introduced
            if not waiting or (left <= 0 and not self._pending):
                self._introduced = 0
                return
            self._introduced = left - 1
            if self._retry is not None or self._closed:
                return
            gap = INTRODUCED_RETRY_S if left > 0 else min(PENDING_RETRY_MAX_S, INTRODUCED_RETRY_S * 2 ** (1 - left))
            self._retry = threading.Timer(gap, self._read_again)
            self._retry.daemon = True
            self._retry.start()

    def _read_again(self) -> None:
        with self._lock:
            self._retry, self._stale, self._probe = None, True, True
        self._wake()

    def _read_frontends(self, domids: set[int]) -> None:
        hvm = {d.id for d in self._configs.values() if d.mode is Mode.HVM and d.id}
        for domid in sorted(hvm if _EVERY_GUEST in domids else domids & hvm):
            self.calls += 1
            self._frontends[domid] = read_frontends(self.runner, domid, self.timeout)
            self._frontends_seq += 1
            self._frontends_read_at = time.monotonic()

    def _vnc_port(self, domid: int, ep: Endpoint) -> Endpoint:
        """QEMU picks the port when vncunused is set; xl records it in xenstore."""
        if ep.kind != "vnc" or ep.port is not None:
            return ep
        base = f"/local/domain/{domid}/console"
        try:
            self.calls += 1
            port = int(self.runner.run(["xenstore-read", f"{base}/vnc-port"], self.timeout).strip())
        except (SourceError, ValueError):
            return ep
        try:
            self.calls += 1
            listen = self.runner.run(["xenstore-read", f"{base}/vnc-listen"], self.timeout).strip() or ep.host
        except SourceError:
            listen = ep.host
        return Endpoint("vnc", listen, port)

    # -- snapshots --------------------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        if self._polling:
            return self._poll()
        stream = self._start_stream()
        frame = stream.frame or stream.wait_frame(self.timeout)
        if frame is None:
            if stream.missing:
                self._polling, self._notes = True, (NO_XENTOP,)
                return self._poll()
            self._run("info")  # when the dom0 cannot be reached at all (ssh refused…), the runner says why
            raise SourceError(f"xentop: {stream.problem or f'no output within {self.timeout:g} s'}")
        return self._compose(stream, frame)

    def _start_stream(self) -> XentopStream:
        if self._stream is None:
            self._stream = XentopStream(self.runner)
            self._stream.set_interval(self._interval)
            self._stream.on_change = self._wake
            self._stream.start()
        return self._stream

    def _compose(self, stream: XentopStream, frame: XentopFrame) -> Snapshot:
        with self._lock:
            stale, released, dirty, probe = self._stale, self._released, self._dirty, self._probe
            self._stale, self._released, self._dirty, self._probe = False, False, set(), False
            fetched, self._fetched = self._fetched, None
        if fetched is not None:
            self._apply_configs(*fetched)
            self._await_introduced()
        if probe or (released and not stale):
            stale = not self._check_xenstore(probe) or stale
        names = frozenset(r.name for r in frame.rows)
        if stale or (names != self._frame_names and names != frozenset(self._configs)):
            if self._snap is None:  # the first snapshot comes with the configurations
                self._read_configs()
            else:
                self._fetch_in_background()
        elif dirty and time.monotonic() - self._frontends_read_at >= BACKEND_GAP_S:
            self._read_frontends(dirty)
        elif dirty:  # read them a moment later: a chatty backend does not make us spin
            with self._lock:
                self._dirty |= dirty
            self._backend_wake_later()
        self._frame_names = names
        # After an event `xl list -l` may be newer than the frame: its set of domains is the one to show.
        newer = self._configs_at > frame.taken_at
        blank_cpu = frame.fresh and self._snap is not None  # a new xentop's CPU time against the old one's
        rows = [
            replace(top_domain(r, self.tool), cpu_time_ns=None) if blank_cpu else top_domain(r, self.tool)
            for r in frame.rows
            if not (newer and r.name in self._gone)
        ]
        shown = {r.name for r in rows} | (set(self._configs) if newer else set())
        listed = [d for n, d in self._configs.items() if n in shown]
        merged = merge_run_state(listed + self._unlisted_rows(listed), rows)
        host = self._host_info((frozenset(shown), sum(r.memory_kib for r in frame.rows)))
        pct = {r.name: r.cpu_pct for r in frame.rows}
        domains = tuple(
            replace(
                d,
                host=host.hostname,
                source=self.tool,
                cpu_pct=pct.get(d.name),
                frontends=self._frontends.get(d.id) if d.mode is Mode.HVM and d.id else None,
            )
            for d in merged
        )
        problems = tuple(p for p in (stream.problem, self._config_problem, *self._watch_problems(), *self._notes) if p)
        key = (frame.seq, self._configs_seq, self._frontends_seq, host, problems)
        if self._snap is not None and key == self._snap_key:
            return self._snap  # nothing new since: the poller shows nothing new
        self._snap, self._snap_key = Snapshot(host, domains, frame.taken_at, problems), key
        return self._snap

    def _unlisted_rows(self, listed: list[Domain]) -> list[Domain]:
        """The rows made from xenstore, but none under a name `xl list -l` lists, nor with a UUID it lists (a
        domain migrating to this host, or rebooting, is there twice for a moment): one row, one identity."""
        names, uuids = {d.name for d in listed}, {d.uuid for d in listed if d.uuid}
        return [replace(d, uuid=None) if d.uuid in uuids else d for d in self._pending.values() if d.name not in names]

    def _watch_problems(self) -> tuple[str, ...]:
        return self._watches.problems if self._watches is not None else ()

    def _poll(self) -> Snapshot:
        """`xm list` / `xl list` now (xm hosts, or no xentop); `list -l` again when the set of domains changes."""
        text = self._run("list")
        try:
            rows = [row_domain(r, self.tool) for r in parse_list_table(text, f"{self.tool} list")]
        except ParseError as exc:
            raise SourceError(f"unexpected output from {self.tool} list: {exc}") from None
        ids = tuple(sorted(((r.id, r.name) for r in rows), key=str))
        with self._lock:
            stale, self._stale = self._stale, False
        if ids != self._ids or stale:
            self._read_configs()
            self._ids = ids
        present = set(ids)
        configs = [d for d in self._configs.values() if (d.id, d.name) in present]
        merged = merge_run_state(configs, rows)
        host = self._host_info((ids, sum(r.memory_kib or 0 for r in rows)))
        domains = tuple(replace(d, host=host.hostname, source=self.tool) for d in merged)
        problems = tuple(p for p in (self._config_problem, *self._watch_problems(), *self._notes) if p)
        return Snapshot(host, domains, time.monotonic(), problems)

    # -- events -----------------------------------------------------------------------------------------------

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        self._callback = callback
        if callback is not None and self.tool == "xl" and self._watches is None:
            self._watches = Watches(self.runner, (*DOMAINS_CHANGED, BACKENDS), self._event)
            self._watches.start()

    def _wake(self) -> None:
        callback = self._callback
        if callback is not None:
            callback()

    def _event(self, path: str) -> None:
        """A watch fired (on its thread): domains came or went, a backend changed, or a watcher is in trouble."""
        if path in DOMAINS_CHANGED:
            with self._lock:
                if path == RELEASED:
                    self._released = True
                else:
                    self._stale, self._probe, self._introduced = True, True, INTRODUCED_RETRIES
            self._wake()
            return
        domid = _EVERY_GUEST if path == BACKENDS else backend_domid(path)  # BACKENDS: its watcher is back
        if domid is None:
            self._wake()  # a watcher's trouble, or its return: the header says so
            return
        with self._lock:
            self._dirty.add(domid)
        self._backend_wake_later()

    def _backend_wake_later(self) -> None:
        """One wake when the frontends may be read again (at once if they may now); one pending at most."""
        with self._lock:
            if self._timer is not None:
                return
            wait = max(0.0, self._frontends_read_at + BACKEND_GAP_S - time.monotonic())
            self._timer = threading.Timer(wait, self._backend_wake)
            self._timer.daemon = True
            self._timer.start()

    def _backend_wake(self) -> None:
        with self._lock:
            self._timer = None
        self._wake()

    def set_interval(self, seconds: float) -> None:
        self._interval = seconds
        if self._stream is not None:
            self._stream.set_interval(seconds)

    # -- actions ----------------------------------------------------------------------------------------------

    def console(self, domain: Domain) -> CommandConsole | ConsoleStream:
        if domain.id is None or not domain.state.active:
            raise ActionError(f"{domain.name} is not running: start it to use its console")
        if not domain.has_console:
            raise ActionError(f"{domain.name} has no serial or PV console")
        if self.tool == "xm":
            return CommandConsole(tuple(self.runner.argv(["xm", "console", domain.name], tty=True)))
        kind = "serial" if domain.mode is Mode.HVM else "pv"
        return CommandConsole(tuple(self.runner.argv([self.tool, "console", "-t", kind, domain.name], tty=True)))

    def lifecycle(self, domain: Domain, action: Lifecycle) -> None:
        check_lifecycle(self)
        if action not in _VERBS:
            raise ActionError(f"{self.tool} cannot start {domain.name} by name: use its config file with xl create")
        try:
            self._run(_VERBS[action], domain.name)
        except SourceError as exc:
            raise ActionError(str(exc)) from None

    def read_xenstore(self, domain: Domain) -> tuple[XenstoreEntry, ...]:
        if not domain.state.active:
            raise ActionError(f"{domain.name} is not running: xenstore holds running domains only")
        return read_domain(self.runner, domain.id, domain.name, self.timeout)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            timers, self._timer, self._retry = (self._timer, self._retry), None, None
        for timer in timers:
            if timer is not None:
                timer.cancel()
        for part in (self._stream, self._watches):
            if part is not None:
                part.close()
        self.runner.close()
