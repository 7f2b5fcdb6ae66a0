"""On a Xen dom0 (a local `xen://` URI), the libvirt source's running figures from xentop's stream.

libvirt's xen (libxl) driver has no bulk stats: each refresh was a list and one virDomainGetInfo per domain,
each a round trip into libvirtd and a hypercall there. Measured in the project's Xen lab (8 guests, 1 s
refresh), libvirtd's share alone (10.2 % of a dom0 core) was more than xentop's whole cost (8.6 %). One
long-running xentop (`sources/xentop_stream.py`, as the xl source reads it) gives the same figures, and more:
CPU% over its own window, network and block counters. libvirt stays the source of the domains, their
configuration, state, events and actions: it is listed again only when one of its events says a domain
changed, when xentop's set of names changes, or every LIST_EVERY_S.
"""

from __future__ import annotations

import time
from shutil import which
from typing import Any

from xentui.parsers.tables import TopRow
from xentui.sources.runner import LocalRunner
from xentui.sources.uri import uri_host
from xentui.sources.xentop_stream import XentopFrame, XentopStream

LIST_EVERY_S = 30.0  # a missed event (none is expected) shows within this


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

    def __init__(self, stream: XentopStream) -> None:
        self.stream = stream
        self._started = False
        self._listing: list[tuple[Any, dict[str, Any]]] | None = None
        self._listed_at = float("-inf")
        self._names: frozenset[str] | None = None  # the names of the frame last used
        self.stale = True  # list again at the next refresh (an event)

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.stream.start()

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
        rows = {r.name: r for r in frame.rows}
        out = []
        for dom, st in self._listing:
            row = rows.get(dom.name()) if st.get("state.state") != _SHUTOFF else None
            out.append((dom, overlay(st, row) if row is not None else st))
        return out

    def forget(self) -> None:
        """The connection went: its domain objects with it."""
        self._listing, self.stale = None, True

    def close(self) -> None:
        self.stream.close()


_SHUTOFF = 5  # libvirt's VIR_DOMAIN_SHUTOFF: not in the hypervisor, whatever xentop lists under that name
