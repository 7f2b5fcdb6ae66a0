"""A libvirt connection (any URI): one bulk stats call per refresh, XML parsed only when a domain changes."""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from shutil import which
from typing import Any, TypeVar

from xentui.model import ConfigNode, Domain, HostInfo, IOCounters, Mode, Snapshot, State, XenstoreEntry, flags_for
from xentui.parsers.errors import ParseError
from xentui.parsers.libvirt_xml import parse_domain_xml
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
from xentui.sources.dom0_figures import Dom0Figures, xentop_for
from xentui.sources.libvirt_binding import libvirt
from xentui.sources.libvirt_console import open_console
from xentui.sources.runner import LocalRunner
from xentui.sources.uri import uri_host
from xentui.sources.xenstore import read_domain
from xentui.sources.xentop_stream import XentopStream

_STATES = {
    0: State.UNKNOWN, 1: State.RUNNING, 2: State.BLOCKED, 3: State.PAUSED, 4: State.SHUTDOWN,
    5: State.SHUTOFF, 6: State.CRASHED, 7: State.PAUSED,  # PMSUSPENDED: suspended to RAM
}  # fmt: skip
_STATS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)

# A first refresh finding more domains than this never read lists them at once (mode "…") and reads their XML
# in the background: the table is there in the time of one bulk call, whatever the size of the host.
EARLY_ROWS = 16

_T = TypeVar("_T")


def shared_tree(node: ConfigNode, pool: dict[ConfigNode, ConfigNode]) -> ConfigNode:
    """The tree with every subtree equal to one already in `pool` replaced by that one (and the new ones added).

    A host's guests have much of their configuration in common (`<on_crash>destroy</on_crash>`, the same
    console, attributes such as unit='KiB'): read together, they share those nodes, a third of the memory.
    """
    kids = tuple(shared_tree(c, pool) for c in node.children)
    if any(a is not b for a, b in zip(kids, node.children)):
        node = replace(node, children=kids)
    return pool.setdefault(node, node)


def give_back_freed_memory() -> None:
    """Return the C heap's free pages to the system (glibc keeps them otherwise): after a first read of many
    domains the parsers' garbage would stay in the resident size for the life of the dashboard."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def evolve(obj: _T, **changes: Any) -> _T:
    """A copy of a frozen dataclass with some fields changed, as `dataclasses.replace` but without running
    `__init__` again (a tenth of the cost): for the refresh's hot path, where the fields are the model's own."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


_loop_lock = threading.Lock()
_TURNS = threading.Lock()
_readers: ThreadPoolExecutor | None = None


def _xml_readers() -> ThreadPoolExecutor:
    """Eight XML readers shared by every host: ten hosts starting together then finish one after another,
    the first one's rows showing early, instead of eighty threads all finishing at the end."""
    global _readers
    with _loop_lock:
        if _readers is None:
            _readers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="libvirt-xml")
        return _readers


_loop_started = False


def _silence(_ctx: object, _err: object) -> None:
    """libvirt prints every error to stderr by default, which would scribble over the TUI."""


def ensure_event_loop() -> None:
    """libvirt's default event loop in a daemon thread: events, keepalives and streams need it."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.registerErrorHandler(_silence, None)
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _loop_started = True


def _reason(exc: libvirt.libvirtError) -> str:
    """libvirt's message on one line; ssh's "Permanently added … to the list of known hosts" notes dropped."""
    lines = str(exc.get_error_message() or exc).replace("\r", "\n").split("\n")
    return " ".join(ln.strip() for ln in lines if ln.strip() and "to the list of known hosts" not in ln)


_AUTH_CODES = {
    getattr(libvirt, n, -1) for n in ("VIR_ERR_AUTH_FAILED", "VIR_ERR_AUTH_CANCELLED", "VIR_ERR_AUTH_UNAVAILABLE")
}
# What ssh says when the host answered but would not let us in (libvirt passes it on as a system error).
_AUTH_WORDS = ("permission denied", "host key verification failed", "authentication failed", "access denied")


def error_kind(exc: libvirt.libvirtError) -> str:
    """ "auth" when the host answered but refused us, else "unreachable"."""
    if exc.get_error_code() in _AUTH_CODES or any(w in _reason(exc).lower() for w in _AUTH_WORDS):
        return "auth"
    return "unreachable"


def short_uri(uri: str) -> str:
    """A local URI as a short host name: qemu:///system → qemu:system, test:///srv/h.xml → test:h.xml."""
    scheme, _, rest = uri.partition("://")
    path = rest.split("?", 1)[0].strip("/")
    return f"{scheme}:{os.path.basename(path) or path}" if path else scheme


def display_for(uri: str) -> Display:
    """Guests of a URI naming a host show their displays there (a tunnel away); else on this machine."""
    return Display(DisplayRoute.TUNNEL if uri_host(uri) else DisplayRoute.LOCAL, uri)


def batch_uri(uri: str) -> str:
    """For ssh transports, libvirt's no_tty=1: ssh must fail rather than ask for a password over the TUI."""
    scheme = uri.split(":", 1)[0]
    if not scheme.endswith("+ssh") or "no_tty=" in uri:
        return uri
    return uri + ("&" if "?" in uri else "?") + "no_tty=1"


def hypervisor_label(conn: Any) -> str:
    kind = str(conn.getType())
    try:
        v = int(conn.getVersion())
    except libvirt.libvirtError:
        return kind
    return f"{kind} {v // 1_000_000}.{v // 1000 % 1000}.{v % 1000}" if v else kind


@dataclass
class _Cached:
    id: int | None
    state: State
    domain: Domain  # as parsed from the XML
    stats: dict[str, Any] | None = None  # the figures `last` was made from
    last: Domain | None = None


# Events after which a domain's XML is read again (virt-manager registers the same): hot-plugged devices,
# a new title or description, a ballooned memory target, changed media, tuning, the guest agent coming up.
_XML_EVENTS = (
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
    libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
    libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
    libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
    libvirt.VIR_DOMAIN_EVENT_ID_TRAY_CHANGE,
    libvirt.VIR_DOMAIN_EVENT_ID_DISK_CHANGE,
    libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE,
    libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
)


class LibvirtSource:
    """`name`: what the table calls this host (a fleet's configured name); else libvirt's hostname.

    `batch`: never let ssh ask for a password (the dashboard owns the terminal). Sources are opened by
    `xentui.sources.factory`, which sets it for the dashboard whatever the way the URI was given.
    """

    actions = ALL_LIFECYCLE
    console_route = ConsoleRoute.STREAM

    def __init__(
        self,
        uri: str,
        read_only: bool = True,
        demo: bool = False,
        name: str | None = None,
        batch: bool = False,
        xentop: XentopStream | bool | None = True,
    ) -> None:
        self.uri = uri
        self.label = uri
        self.read_only = read_only
        self.demo = demo
        self.name = name
        self.host_name = name or uri_host(uri) or short_uri(uri)
        self.display = display_for(uri)
        self.open_uri = batch_uri(uri) if batch else uri  # what libvirt is given
        self._conn: Any = None
        self._host: HostInfo | None = None
        self._cache: dict[str, _Cached] = {}
        self._stale: set[str] = set()  # UUIDs an event said changed: their XML is read again
        self._free_stale = False  # the host's free memory to read again (a lifecycle event)
        self._reading: set[str] = set()  # UUIDs whose first XML read runs in the background
        self._early: dict[str, tuple[dict[str, Any], Domain]] = {}  # their rows meanwhile: (figures, row)
        self._callback: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._bulk = True  # until the driver says it has no getAllDomainStats
        self.calls = 0  # libvirt calls made by snapshots, for the benchmark
        self._early_error: SourceError | None = None  # connect_soon's failure, for the first snapshot to raise
        self._closed = False
        # On this very dom0, running figures from one xentop child instead of a round trip per domain
        # (`xentop=True`: when the URI is a local xen:// one and xentop is installed; a stream: that one).
        stream = xentop_for(uri) if xentop is True else xentop or None
        self._dom0 = Dom0Figures(stream) if isinstance(stream, XentopStream) else None
        if self._dom0 is not None:
            self._dom0.on_change = self._notify  # a new frame, or a guest's backends moved: a new snapshot
        self._taken_at: float | None = None  # the xentop frame's time, when the figures are its
        self._last: Snapshot | None = None

    # -- connection ------------------------------------------------------------------------------------------
    def connect_soon(self) -> None:
        """Connect in the background now (libvirt lets go of the GIL meanwhile), so that the first snapshot,
        asked for once the dashboard is up, does not wait for the connection too. Its failure is the first
        snapshot's error, not a second attempt."""

        def connect() -> None:
            with self._lock:
                try:
                    self._connect()
                except SourceError as exc:
                    self._early_error = exc
                    return
            if self._closed:  # closed while connecting: that connection is nobody's
                self.close()

        threading.Thread(target=connect, name="libvirt-connect", daemon=True).start()

    def _connect(self) -> Any:
        if self._conn is not None:
            return self._conn
        if self._early_error is not None:
            exc, self._early_error = self._early_error, None
            raise exc
        ensure_event_loop()
        try:
            conn = libvirt.openReadOnly(self.open_uri) if self.read_only else libvirt.open(self.open_uri)
        except libvirt.libvirtError as exc:
            why = _reason(exc)
            raise SourceError(
                f"cannot connect to {self.uri}: {why}", error_kind(exc), f"cannot connect: {why}"
            ) from None
        if conn is None:
            raise SourceError(f"cannot connect to {self.uri}")
        try:
            if "+" in self.uri.split(":", 1)[0]:  # remote transports: notice a dead peer
                conn.setKeepAlive(5, 3)
            conn.registerCloseCallback(self._on_close, None)
            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_event, None)
        except libvirt.libvirtError:
            pass  # drivers without events are polled only
        else:
            if uri_host(self.uri):  # a round trip each: over a slow link they would hold up the first frame
                threading.Thread(
                    target=self._register_xml_events, args=(conn,), name="libvirt-events", daemon=True
                ).start()
            else:
                self._register_xml_events(conn)
        self._host = HostInfo(
            hostname=self.name or _safe(conn.getHostname, self.uri),
            source=self.uri,
            hypervisor=hypervisor_label(conn),
            read_only=self.read_only,
            demo=self.demo,
            cpus=_safe(lambda: conn.getInfo()[2], None),
            memory_kib=_safe(lambda: conn.getInfo()[1] * 1024, None),
            free_memory_kib=_safe(lambda: conn.getFreeMemory() // 1024, None),
        )
        self._conn = conn
        return conn

    def _on_close(self, _conn: Any, _reason: int, _opaque: object) -> None:
        self._conn = None
        if self._dom0 is not None:
            self._dom0.forget()
        self._notify()

    def _on_event(self, _conn: Any, dom: Any, _event: int, _detail: int, _opaque: object) -> None:
        self._stale.add(_safe(dom.UUIDString, ""))
        if self._dom0 is not None:
            self._dom0.stale = True
        self._free_stale = True  # a guest started or stopped: the host's free memory moved
        self._notify()

    def _register_xml_events(self, conn: Any) -> None:
        for event in _XML_EVENTS:
            try:
                conn.domainEventRegisterAny(None, event, self._on_xml_event, None)
            except libvirt.libvirtError:
                pass  # not offered by this driver, or the connection closed: polling still sees the change

    def _on_xml_event(self, _conn: Any, dom: Any, *_details: object) -> None:
        """Any of `_XML_EVENTS` (each has its own arguments, the opaque last): the domain's XML changed."""
        self._stale.add(_safe(dom.UUIDString, ""))
        self._notify()

    def _notify(self) -> None:
        cb = self._callback
        if cb is not None:
            cb()

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        self._callback = callback

    def set_interval(self, seconds: float) -> None:
        if self._dom0 is not None:
            self._dom0.stream.set_interval(seconds)  # else polled: the poller keeps the time

    def read_xenstore(self, domain: Domain) -> tuple[XenstoreEntry, ...]:
        # libvirt has no call for it: on this dom0 (a local xen:// URI) xenstore's own tool reads it.
        if self.uri.partition(":")[0] not in ("xen", "xen+unix") or uri_host(self.uri) or not which("xenstore-ls"):
            raise ActionError(f"{self.label}: xenstore is readable only on a Xen dom0 (xen:///system here)")
        if not domain.state.active:
            raise ActionError(f"{domain.name} is not running: xenstore holds running domains only")
        return read_domain(LocalRunner(), domain.id, domain.name, 10.0)

    def close(self) -> None:
        self._closed = True
        if self._dom0 is not None:
            self._dom0.close()
        self._close_connection()

    def _close_connection(self) -> None:
        if self._dom0 is not None:
            self._dom0.forget()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except libvirt.libvirtError:
                pass

    # -- snapshots -------------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            conn = self._connect()
            try:
                stats = self._stats(conn)
            except libvirt.libvirtError as exc:
                self._drop()
                raise SourceError(f"{self.uri}: {_reason(exc)}", reason=_reason(exc)) from None
            # One UUID and ID lookup per domain and refresh: with many hosts these small calls add up, and
            # each lets go of the GIL. Hosts take turns here (not in the network call above), so that ten
            # pollers do not hand the GIL to each other a thousand times a second.
            with _TURNS:
                keyed = [(dom, st, *self._key(dom, st)) for dom, st in stats]
            self._read_changed_xml(keyed)
            domains: list[Domain] = []
            seen: set[str] = set()
            for dom, st, uuid, domid, state in keyed:
                d = self._domain(uuid, domid, state, st)
                if d is None and uuid in self._reading:
                    d = self._early_row(dom, uuid, domid, state, st)
                if d is not None:
                    domains.append(d)
                    seen.add(d.uuid or "")
            for gone in set(self._cache) - seen:
                del self._cache[gone]
            if self._early and not self._reading:  # every early row has its XML read now
                self._early.clear()
            assert self._host is not None
            if self._free_stale and self._conn is not None:
                self._free_stale = False
                free = _safe(lambda: self._conn.getFreeMemory() // 1024, None)
                self._host = replace(self._host, free_memory_kib=free)
            if self._taken_at is None or self._dom0 is None:
                return Snapshot(self._host, tuple(domains), time.monotonic())
            self._dom0.hvm = frozenset(d.id for d in domains if d.mode is Mode.HVM and d.id and d.state.active)
            last, problems = self._last, self._dom0.problems
            if (
                last is not None
                and last.taken_at == self._taken_at
                and last.host is self._host
                and last.problems == problems
                and len(last.domains) == len(domains)
                and all(a is b for a, b in zip(last.domains, domains))
            ):
                return last  # the same xentop frame and domains (the poller's timer and the frame's wake): no new frame
            self._last = Snapshot(self._host, tuple(domains), self._taken_at, problems)
            return self._last

    def _stats(self, conn: Any) -> list[tuple[Any, dict[str, Any]]]:
        """Every domain with its figures: one bulk call where the driver has it.

        libvirt's xen (libxl) driver has no bulk stats: there it is a list and one virDomainGetInfo per
        domain, the figures put in the bulk call's form; on this very dom0, xentop's stream instead
        (`dom0_figures`). A domain that vanishes in between is left out.
        """
        self._taken_at = None
        if self._dom0 is not None:
            frame = self._dom0.frame()
            if frame is not None:
                self._taken_at = frame.taken_at
                return self._dom0.stats(frame, lambda: self._list_and_info(conn))
        if self._bulk:
            self.calls += 1
            try:
                return list(conn.getAllDomainStats(_STATS, 0))
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
                    raise
                self._bulk = False
        return self._list_and_info(conn)

    def _list_and_info(self, conn: Any) -> list[tuple[Any, dict[str, Any]]]:
        self.calls += 1
        out = []
        for dom in conn.listAllDomains(0):
            self.calls += 1
            try:
                state, max_kib, cur_kib, vcpus, cpu_ns = dom.info()
            except libvirt.libvirtError:
                continue
            st = {"state.state": state, "balloon.current": cur_kib, "balloon.maximum": max_kib}
            st.update({"vcpu.current": vcpus, "cpu.time": cpu_ns})
            out.append((dom, st))
        return out

    def _drop(self) -> None:
        conn = self._conn
        try:
            alive = conn is not None and conn.isAlive() == 1
        except libvirt.libvirtError:
            alive = False
        if not alive:
            self._close_connection()

    @staticmethod
    def _key(dom: Any, st: dict[str, Any]) -> tuple[str, int | None, State]:
        domid = dom.ID()
        state = _STATES.get(int(st.get("state.state", 0)), State.UNKNOWN)
        return dom.UUIDString(), (domid if domid is not None and domid >= 0 else None), state

    def _read_changed_xml(self, keyed: list[tuple[Any, dict[str, Any], str, int | None, State]]) -> None:
        """Parse the XML of new domains and of those whose ID or state changed (or an event named).

        The reads run in parallel: over a slow link a first refresh of N domains then costs a few
        round trips, not N.
        """
        todo = []
        for dom, _st, uuid, domid, state in keyed:
            cached = self._cache.get(uuid)
            if cached is None and uuid in self._reading:
                continue  # its first read is under way
            if cached is None or uuid in self._stale or cached.id != domid or cached.state != state:
                self._stale.discard(uuid)
                todo.append((dom, uuid, domid, state))
        if not todo:
            return
        never_read = [item for item in todo if item[1] not in self._cache]
        if len(never_read) > EARLY_ROWS:
            self._read_later(never_read)
            todo = [item for item in todo if item[1] in self._cache]
            if not todo:
                return

        def read(item: tuple[Any, str, int | None, State]) -> None:
            dom, uuid, domid, state = item
            try:
                xml = dom.XMLDesc(0)
                parsed = parse_domain_xml(xml, f"{self.uri}/{dom.name()}", state).domains[0]
            except (libvirt.libvirtError, ParseError):
                return  # vanished between listing and querying, or unreadable: left out of this snapshot
            domain = replace(parsed, host=_host_name(self._host), source=self.uri)
            self._cache[uuid] = _Cached(domid, state, domain)

        self.calls += len(todo)
        if len(todo) == 1:
            read(todo[0])
            return
        list(_xml_readers().map(read, todo))

    def _read_later(self, todo: list[tuple[Any, str, int | None, State]]) -> None:
        """Read these domains' XML off the refresh (the shared readers, eight at a time); when all are read,
        the change callback asks for a refresh, which shows them parsed."""
        self._reading.update(item[1] for item in todo)
        self.calls += len(todo)
        uri = self.uri
        pool: dict[ConfigNode, ConfigNode] = {}  # for this batch alone: kept, it would cost what it saves

        def read(item: tuple[Any, str, int | None, State]) -> tuple[str, int | None, State, Domain | None]:
            dom, uuid, domid, state = item
            try:
                parsed = parse_domain_xml(dom.XMLDesc(0), f"{uri}/{dom.name()}", state).domains[0]
            except (libvirt.libvirtError, ParseError):
                return uuid, domid, state, None  # vanished, or unreadable: read again at the next refresh
            if parsed.config is not None:  # shared at once, so that the copies' memory is used again at once
                parsed = replace(parsed, config=replace(parsed.config, tree=shared_tree(parsed.config.tree, pool)))
            return uuid, domid, state, parsed

        def read_yielding(item: tuple[Any, str, int | None, State]) -> tuple[str, int | None, State, Domain | None]:
            result = read(item)
            time.sleep(0)  # hand the GIL over at once to a thread waiting for it: the UI drawing the early rows
            return result

        def read_all() -> None:
            results: list[tuple[str, int | None, State, Domain | None]] = []
            try:
                # In parallel over a network; here a daemon (or the in-process test driver) answers at once,
                # and parsing holds the GIL anyway.
                results = list(_xml_readers().map(read, todo)) if uri_host(uri) else [read_yielding(i) for i in todo]
            finally:
                with self._lock:
                    for uuid, domid, state, parsed in results:
                        if parsed is not None:
                            domain = replace(parsed, host=_host_name(self._host), source=self.uri)
                            self._cache[uuid] = _Cached(domid, state, domain)
                    self._reading.difference_update(item[1] for item in todo)
                results.clear()
                pool.clear()
                give_back_freed_memory()
            self._notify()

        threading.Thread(target=read_all, name="libvirt-xml-first", daemon=True).start()

    def _early_row(self, dom: Any, uuid: str, domid: int | None, state: State, st: dict[str, Any]) -> Domain:
        """A domain listed before its XML is read: the bulk call's figures, the mode not known yet."""
        early = self._early.get(uuid)
        if early is not None and early[0] == st:
            return early[1]
        active = state.active
        d = Domain(
            name=_safe(dom.name, uuid),
            id=domid,
            uuid=uuid,
            state=state,
            memory_kib=int(st["balloon.current"]) if "balloon.current" in st else None,
            max_memory_kib=int(st["balloon.maximum"]) if "balloon.maximum" in st else None,
            vcpus=int(st["vcpu.current"]) if "vcpu.current" in st else None,
            max_vcpus=int(st["vcpu.maximum"]) if "vcpu.maximum" in st else None,
            mode=Mode.UNKNOWN,
            flags=flags_for(state),
            cpu_time_ns=int(st["cpu.time"]) if "cpu.time" in st and active else None,
            cpu_pct=st.get("xentop.cpu_pct") if active else None,
            host=_host_name(self._host),
            source=self.uri,
            io=_io(st) if active else None,
            details_pending=True,
        )
        self._early[uuid] = (st, d)
        return d

    def _domain(self, uuid: str, domid_or_none: int | None, state: State, st: dict[str, Any]) -> Domain | None:
        cached = self._cache.get(uuid)
        if cached is None or cached.id != domid_or_none or cached.state != state:
            return None
        if cached.last is not None and cached.stats == st:
            return cached.last  # nothing moved: the same object, which views can skip without looking inside
        base = cached.domain
        cached.stats = st
        last = evolve(
            base,
            id=domid_or_none,
            state=state,
            flags=flags_for(state),
            memory_kib=int(st["balloon.current"]) if "balloon.current" in st else base.memory_kib,
            max_memory_kib=int(st["balloon.maximum"]) if "balloon.maximum" in st else base.max_memory_kib,
            vcpus=int(st["vcpu.current"]) if "vcpu.current" in st else base.vcpus,
            max_vcpus=int(st["vcpu.maximum"]) if "vcpu.maximum" in st else base.max_vcpus,
            # A shut-off domain has no CPU time or I/O of its own, whatever the driver reports.
            cpu_time_ns=int(st["cpu.time"]) if "cpu.time" in st and state.active else None,
            cpu_pct=st.get("xentop.cpu_pct") if state.active else None,  # xentop's own window, on a dom0
            frontends=st.get("xenstore.frontends", base.frontends) if state.active else None,
            io=_io(st) if state.active else None,
        )
        # Stats that moved in what we do not show (some libvirt versions report more than the figures above)
        # keep the object: cheap, the configuration is the same object on both sides.
        if last != cached.last:
            cached.last = last
        return cached.last

    # -- actions ---------------------------------------------------------------------------------------------
    def _lookup(self, conn: Any, domain: Domain) -> Any:
        try:
            return conn.lookupByUUIDString(domain.uuid) if domain.uuid else conn.lookupByName(domain.name)
        except libvirt.libvirtError as exc:
            raise ActionError(f"{domain.name}: {_reason(exc)}") from None

    def console(self, domain: Domain) -> CommandConsole | ConsoleStream:
        if not domain.state.active:
            raise ActionError(f"{domain.name} is {domain.state.value}: start it to use its console")
        if not domain.has_console:
            raise ActionError(f"{domain.name} has no serial or PV console")
        ensure_event_loop()
        try:
            # Consoles need a read-write connection even when the dashboard's is read-only.
            conn = libvirt.open(self.open_uri)
        except libvirt.libvirtError as exc:
            raise ActionError(f"console of {domain.name}: cannot open {self.uri} read-write: {_reason(exc)}") from None
        return open_console(conn, self._lookup(conn, domain), domain.name)

    def lifecycle(self, domain: Domain, action: Lifecycle) -> None:
        check_lifecycle(self, action)
        conn = self._connect()
        dom = self._lookup(conn, domain)
        calls = {
            Lifecycle.START: dom.create, Lifecycle.SHUTDOWN: dom.shutdown, Lifecycle.REBOOT: lambda: dom.reboot(0),
            Lifecycle.PAUSE: dom.suspend, Lifecycle.RESUME: dom.resume, Lifecycle.DESTROY: dom.destroy,
        }  # fmt: skip
        try:
            calls[action]()
        except libvirt.libvirtError as exc:
            raise ActionError(f"{action.value} {domain.name}: {_reason(exc)}") from None
        self._notify()


def _host_name(host: HostInfo | None) -> str:
    return host.hostname if host is not None else ""


def _safe(fn: Callable[[], Any], default: Any) -> Any:
    try:
        return fn()
    except libvirt.libvirtError:
        return default


def _io(st: dict[str, Any]) -> IOCounters | None:
    if "net.count" not in st and "block.count" not in st:
        return None
    rx = sum(int(st.get(f"net.{i}.rx.bytes", 0)) for i in range(int(st.get("net.count", 0))))
    tx = sum(int(st.get(f"net.{i}.tx.bytes", 0)) for i in range(int(st.get("net.count", 0))))
    rd = sum(int(st.get(f"block.{i}.rd.bytes", 0)) for i in range(int(st.get("block.count", 0))))
    wr = sum(int(st.get(f"block.{i}.wr.bytes", 0)) for i in range(int(st.get("block.count", 0))))
    return IOCounters(rx, tx, rd, wr)
