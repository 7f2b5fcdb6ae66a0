"""On a Xen dom0 (a local `xen://` URI), the libvirt source's running figures from xentop's stream.

libvirt's xen (libxl) driver has no bulk stats: each refresh was a list and one virDomainGetInfo per domain,
each a round trip into libvirtd and a hypercall there. Measured in the project's Xen lab (8 guests, 1 s
refresh), libvirtd's share alone (10.2 % of a dom0 core) was more than xentop's whole cost (8.6 %). One
long-running xentop (`sources/xentop_stream.py`, as the xl source reads it) gives the same figures, and more:
CPU% over its own window, network and block counters. libvirt stays the source of the domains, their
configuration, state, events and actions: it is listed again only when one of its events says a domain
changed, when xentop's set of names changes, or every LIST_EVERY_S.

The HVM guests' PV frontends are read from xenstore as the xl source reads them (live PV-driver triage):
when a guest is first seen HVM, and when a `xenstore-watch` on dom0's backends says its devices moved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from shutil import which
from typing import Any

from xentui.model import Frontend
from xentui.parsers.tables import TopRow
from xentui.sources.runner import LocalRunner, Runner
from xentui.sources.uri import uri_host
from xentui.sources.xenstore import BACKENDS, Watches, backend_domid, read_frontends
from xentui.sources.xentop_stream import XentopFrame, XentopStream

LIST_EVERY_S = 30.0  # a missed event (none is expected) shows within this
FRONTENDS_GAP_S = 1.0  # at most one round of frontend reads a second, however chatty a backend is
_EVERY_GUEST = -1  # the backends' watcher (re)started: events may have been missed


def local_xen(uri: str) -> bool:
    """This very dom0's libvirt: xenstore and xentop here see the same domains."""
    return uri.partition(":")[0] in ("xen", "xen+unix") and not uri_host(uri)


def xentop_for(uri: str) -> XentopStream | None:
    if not local_xen(uri) or which("xentop") is None:
        return None
    return XentopStream(LocalRunner())


def overlay(st: dict[str, Any], row: TopRow) -> dict[str, Any]:
    """An active domain's figures from libvirt's last listing, with xentop's newer ones, in the bulk call's form."""
    out = dict(st)
    if row.cpu_pct is None:  # xentop's first sight of it: no CPU% yet, and a time in whole seconds would
        out.pop("cpu.time", None)  # make a false one against libvirt's nanoseconds
    else:
        out["cpu.time"] = int(row.cpu_seconds * 1e9)
    out["balloon.current"] = row.memory_kib
    if row.vcpus is not None:
        out["vcpu.current"] = row.vcpus
    out["net.count"] = out["block.count"] = 1
    out["net.0.rx.bytes"], out["net.0.tx.bytes"] = row.net_rx_kib * 1024, row.net_tx_kib * 1024
    out["block.0.rd.bytes"], out["block.0.wr.bytes"] = row.vbd_read, row.vbd_write
    out["xentop.cpu_pct"] = row.cpu_pct
    return out


class Dom0Figures:
    """libvirt's listing (domain objects with their GetInfo figures) kept between events, completed with the
    newest xentop frame. `list_domains(conn)` is the libvirt listing; the caller holds its own lock."""

    def __init__(self, stream: XentopStream, runner: Runner | None = None, watch: bool = True) -> None:
        self.stream = stream
        self.runner: Runner = runner or LocalRunner()
        self.on_change: Callable[[], None] | None = None  # a new frame, or a backend moved (any thread)
        self.hvm: frozenset[int] = frozenset()  # the running HVM guests' IDs, told by the source
        self._frontends: dict[int, tuple[Frontend, ...] | None] = {}
        self._frontends_at = float("-inf")
        self._dirty: set[int] = set()  # guests whose frontends to read again
        self._lock = threading.Lock()  # _dirty, from the watcher's thread
        self._watches = Watches(self.runner, (BACKENDS,), self._backend_event) if watch else None
        self._started = False
        self._listing: list[tuple[Any, dict[str, Any]]] | None = None
        self._listed_at = float("-inf")
        self._names: frozenset[str] | None = None  # the names of the frame last used
        self.stale = True  # list again at the next refresh (an event)

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.stream.on_change = self._changed
            self.stream.start()
            if self._watches is not None:
                self._watches.start()

    def _changed(self) -> None:
        callback = self.on_change
        if callback is not None:
            callback()

    def _backend_event(self, path: str) -> None:
        domid = _EVERY_GUEST if path == BACKENDS else backend_domid(path)
        if domid is not None:
            with self._lock:
                self._dirty.add(domid)
            self._changed()

    def frame(self) -> XentopFrame | None:
        """The frame to use, or None: no frame yet, or xentop in trouble (the caller asks libvirt meanwhile)."""
        self.start()
        frame = self.stream.frame
        if frame is None or self.stream.problem:
            return None
        return frame

    def stats(self, frame: XentopFrame, list_domains: Any) -> list[tuple[Any, dict[str, Any]]]:
        names = frozenset(r.name for r in frame.rows)
        now = time.monotonic()
        if self._listing is None or self.stale or names != self._names or now - self._listed_at >= LIST_EVERY_S:
            self.stale = False
            self._listing, self._listed_at = list_domains(), now
        self._names = names
        self._read_frontends()
        rows = {r.name: r for r in frame.rows}
        out = []
        for dom, st in self._listing:
            row = rows.get(dom.name()) if st.get("state.state") != _SHUTOFF else None
            if row is not None:
                st = overlay(st, row)
                domid = dom.ID()
                if domid in self._frontends:
                    st["xenstore.frontends"] = self._frontends[domid]
            out.append((dom, st))
        return out

    def _read_frontends(self) -> None:
        """Each HVM guest's frontends: once when first seen HVM, again when its backends moved."""
        with self._lock:
            dirty = self._dirty
            if dirty and time.monotonic() - self._frontends_at < FRONTENDS_GAP_S:
                dirty = set()  # a moment later: the next frame's refresh reads them
            else:
                self._dirty = set()
        todo = {i for i in self.hvm if i not in self._frontends or i in dirty or _EVERY_GUEST in dirty}
        self._frontends = {i: f for i, f in self._frontends.items() if i in self.hvm}
        for domid in sorted(todo):
            self._frontends[domid] = read_frontends(self.runner, domid, 10.0)
        if todo:
            self._frontends_at = time.monotonic()

    def forget(self) -> None:
        """The connection went: its domain objects with it."""
        self._listing, self.stale = None, True

    @property
    def problems(self) -> tuple[str, ...]:
        return self._watches.problems if self._watches is not None else ()

    def close(self) -> None:
        self.stream.close()
        if self._watches is not None:
            self._watches.close()


_SHUTOFF = 5  # libvirt's VIR_DOMAIN_SHUTOFF: not in the hypervisor, whatever xentop lists under that name
