"""Snapshots over time, off the UI thread: rates from consecutive snapshots, backoff and reconnect."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from xentui.model import Domain, Snapshot
from xentui.sources.base import Source, SourceError

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


@dataclass(frozen=True)
class Rates:
    """Per-second figures between two snapshots. cpu_pct is % of one physical CPU, as xentop shows it."""

    cpu_pct: float | None = None
    net_rx_bps: float | None = None
    net_tx_bps: float | None = None
    block_read_bps: float | None = None
    block_write_bps: float | None = None


@dataclass(frozen=True)
class Frame:
    """What the UI renders: the last good snapshot, its rates, and the connection's condition."""

    snapshot: Snapshot | None
    rates: dict[str, Rates] = field(default_factory=dict)
    connected: bool = True
    error: str = ""
    error_kind: str = ""  # SourceError.kind of the last failure
    reason: str = ""  # SourceError.reason: the error without the source's name
    retry_in: float = 0.0
    refresh_s: float = 0.0  # how long the last refresh took


def compute_rates(prev: Snapshot | None, cur: Snapshot, prev_rates: dict[str, Rates] | None = None) -> dict[str, Rates]:
    """`prev_rates`: the rates computed for `prev`. A domain handed back as the very object of `prev` has
    not moved: its rates are the still ones (no CPU time, no I/O since), and when `prev_rates` already held
    exactly those, that object is kept, so views can skip the row by identity."""
    if prev is None:
        return {}
    dt = cur.taken_at - prev.taken_at
    if dt <= 0:
        # dt == 0: the same measurement composed again (a stream's event between two frames): its rates stand.
        return dict(prev_rates) if dt == 0 and prev_rates else {}
    old = prev.by_key()
    before = prev_rates or {}
    out: dict[str, Rates] = {}
    for d in cur.domains:
        p = old.get(d.key)
        if p is None or p.id != d.id:  # new, or restarted since: counters started again
            continue
        if p is d:
            still = _still(d)
            kept = before.get(d.key)
            out[d.key] = kept if kept == still else still
            continue
        cpu = d.cpu_pct
        if cpu is None and d.cpu_time_ns is not None and p.cpu_time_ns is not None and d.cpu_time_ns >= p.cpu_time_ns:
            cpu = (d.cpu_time_ns - p.cpu_time_ns) / (dt * 1e9) * 100
        io = {}
        if d.io is not None and p.io is not None:
            for name in ("net_rx", "net_tx", "block_read", "block_write"):
                delta = getattr(d.io, name) - getattr(p.io, name)
                io[name + "_bps"] = delta / dt if delta >= 0 else None
        out[d.key] = Rates(cpu, **io)
    return out


def _still(d: Domain) -> Rates:
    """The rates of a domain that did not change between two snapshots."""
    cpu = d.cpu_pct if d.cpu_pct is not None else (0.0 if d.cpu_time_ns is not None else None)
    if d.io is None:
        return Rates(cpu)
    return Rates(cpu, 0.0, 0.0, 0.0, 0.0)


class Poller:
    """Runs in a worker thread: `run()` loops until `stop()`; `wake()` refreshes at once (events, keys);
    `set_interval()` takes effect at once (the wait under way is measured again)."""

    def __init__(
        self,
        source: Source,
        on_frame: Callable[[Frame], None],
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.on_frame = on_frame
        self.interval = interval
        self._clock = clock
        self._cond = threading.Condition()
        self._refresh = False  # poll at once
        self._retime = False  # the interval changed: measure the wait again
        self._stopped = False
        self._last: Snapshot | None = None
        self._frame: Frame | None = None  # the last good frame, handed back while the source has nothing new
        self._failures = 0

    def wake(self) -> None:
        with self._cond:
            self._refresh = True
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def set_interval(self, interval: float) -> None:
        with self._cond:
            self.interval = interval
            self._retime = True
            self._cond.notify_all()
        self.source.set_interval(interval)

    def poll_once(self) -> Frame:
        """One refresh: a frame with new rates, or the last snapshot kept with the error and retry delay."""
        started = self._clock()
        try:
            snap = self.source.snapshot()
        except SourceError as exc:
            delay = BACKOFF_S[min(self._failures, len(BACKOFF_S) - 1)]
            self._failures += 1
            return Frame(
                self._last, {}, connected=False, error=str(exc), error_kind=exc.kind, reason=exc.reason, retry_in=delay
            )
        self._failures = 0
        if snap is self._last and self._frame is not None:
            return self._frame  # a streaming source between two of its frames: nothing new
        rates = compute_rates(self._last, snap, self._frame.rates if self._frame is not None else None)
        self._last = snap
        self._frame = Frame(snap, rates, refresh_s=self._clock() - started)
        return self._frame

    def _until_next_tick(self) -> float:
        """Refreshes fall on multiples of the interval, so that the hosts of a fleet refresh together and
        their frames reach the screen as one repaint rather than one per host."""
        return self.interval - (self._clock() % self.interval)

    def _wait(self, frame: Frame) -> None:
        """Until the next tick (or the retry, after a failure), a wake or a stop. A new interval re-measures
        the wait to the next tick of that interval; a retry's backoff stands."""
        with self._cond:
            end = time.monotonic() + (frame.retry_in if not frame.connected else self._until_next_tick())
            while not (self._refresh or self._stopped):
                if self._retime:
                    self._retime = False
                    if frame.connected:
                        end = time.monotonic() + self._until_next_tick()
                left = end - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def run(self) -> None:
        self.source.set_interval(self.interval)
        self.source.set_change_callback(self.wake)
        try:
            while True:
                with self._cond:
                    if self._stopped:
                        break
                    # Cleared before polling: a change that arrives meanwhile still cuts the next wait short.
                    self._refresh = self._retime = False
                last = self._frame
                frame = self.poll_once()
                if self._stopped:
                    break
                if frame is not last:
                    self.on_frame(frame)
                self._wait(frame)
        finally:
            self.source.set_change_callback(None)
