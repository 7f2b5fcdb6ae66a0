"""What a refresh does not do: rows shown before their XML is read, unchanged domains kept as the same
objects (and their rates), one host's rows not rebuilt for another's frame, only changed characters repainted."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text

from bench.hosts import host_xml
from xentui.columns import column, mode_text
from xentui.fleet import Fleet, FleetFrame, HostStatus, RowKey
from xentui.model import Domain, HostInfo, Mode, Snapshot, State
from xentui.poller import Frame, Rates, compute_rates
from xentui.sources.base import SourceError
from xentui.sources.demo import DemoSource
from xentui.sources.libvirt_source import EARLY_ROWS, LibvirtSource, evolve
from xentui.ui.app import XenTUI
from xentui.ui.widgets.domain_table import MERGE_GAP, DomainTable, changed_span, merge_spans


def host(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"host-{n}.xml"
    path.write_text(host_xml(n))
    return path


def wait_for(event: threading.Event) -> None:
    assert event.wait(20), "the source never said its XML was read"


def test_a_large_first_refresh_lists_rows_before_their_xml_then_fills_them_in(tmp_path: Path) -> None:
    n = EARLY_ROWS * 3
    src = LibvirtSource(f"test://{host(tmp_path, n)}")
    read = threading.Event()
    src.set_change_callback(read.set)
    first = src.snapshot()
    try:
        assert len(first.domains) == n
        early = [d for d in first.domains if d.details_pending]
        assert early, "nothing listed early"
        for d in early:
            assert d.mode is Mode.UNKNOWN and d.config is None and mode_text(d) == "…"
            # What the bulk call gave (the test driver's gives the state alone; qemu's memory, VCPUs, CPU time).
            assert d.name.startswith(("guest-", "Domain-0")) and d.state in (State.RUNNING, State.SHUTOFF)
        wait_for(read)
        second = src.snapshot()
        assert not any(d.details_pending for d in second.domains)
        assert {d.mode for d in second.domains} == {Mode.PV, Mode.HVM, Mode.PVH}
        assert {d.key for d in second.domains} == {d.key for d in first.domains}
        third = src.snapshot()
        assert all(a is b for a, b in zip(second.domains, third.domains))  # nothing moved: the same objects
        one, other = (d.config for d in second.domains[1:3])
        assert one is not None and other is not None
        assert one.tree.find("on_crash") is other.tree.find("on_crash")  # read together: equal nodes shared
        assert one.tree.find("name") != other.tree.find("name")
    finally:
        src.close()


def test_a_small_host_is_read_before_its_first_frame(tmp_path: Path) -> None:
    src = LibvirtSource(f"test://{host(tmp_path, EARLY_ROWS)}")
    try:
        snap = src.snapshot()
        assert len(snap.domains) == EARLY_ROWS and not any(d.details_pending for d in snap.domains)
        assert all(d.config is not None for d in snap.domains)
    finally:
        src.close()


def test_demo_keeps_still_domains_and_moves_only_cpu_time(tmp_path: Path) -> None:
    now = [0.0]
    src = DemoSource(host_xml=str(host(tmp_path, 12)), clock=lambda: now[0])
    try:
        a = src.snapshot()
        now[0] = 1.0
        b = src.snapshot()
        for old, new in zip(a.domains, b.domains):
            assert old.key == new.key
            if new.state is State.RUNNING:
                assert new is not old and new.cpu_time_ns is not None and old.cpu_time_ns is not None
                assert new.cpu_time_ns > old.cpu_time_ns
                assert evolve(old, cpu_time_ns=new.cpu_time_ns) == new  # nothing else changed
            else:
                assert new is old  # shut off: not even a new object
        assert any(d.state is State.SHUTOFF for d in b.domains) and any(d.state is State.RUNNING for d in b.domains)
        assert next(d for d in b.domains if d.name == "Domain-0").id == 0  # renumbered as Xen does
    finally:
        src.close()


def test_evolve_is_replace_without_init() -> None:
    d = Domain("a", 1, "u", State.RUNNING, 1, 2, 1, 1, Mode.PV, cpu_time_ns=5)
    e = evolve(d, cpu_time_ns=9)
    assert e == Domain("a", 1, "u", State.RUNNING, 1, 2, 1, 1, Mode.PV, cpu_time_ns=9) and d.cpu_time_ns == 5
    with pytest.raises(AttributeError):
        e.name = "b"  # type: ignore[misc]  # still frozen


def test_rates_of_a_still_domain_are_kept_as_the_same_object() -> None:
    still = Domain("s", 1, "u1", State.RUNNING, 1, 1, 1, 1, Mode.PV, cpu_time_ns=10)
    moving = Domain("m", 2, "u2", State.RUNNING, 1, 1, 1, 1, Mode.PV, cpu_time_ns=10)
    h = HostInfo("h", "src")
    s1 = Snapshot(h, (still, moving), 1.0)
    s2 = Snapshot(h, (still, evolve(moving, cpu_time_ns=10 + 10**9)), 2.0)
    r2 = compute_rates(s1, s2)
    assert r2["u1"] == Rates(0.0) and r2["u2"].cpu_pct == pytest.approx(100.0)
    s3 = Snapshot(h, (still, evolve(moving, cpu_time_ns=10 + 2 * 10**9)), 3.0)
    r3 = compute_rates(s2, s3, r2)
    assert r3["u1"] is r2["u1"]  # the same object: the table skips the row by identity
    assert compute_rates(s2, s3)["u1"] == r2["u1"]  # the same figures without the last rates


def test_a_host_s_rows_are_not_rebuilt_for_another_host_s_frame() -> None:
    class Still:
        actions: frozenset[Any] = frozenset()
        read_only = True

        def __init__(self, name: str) -> None:
            self.host_name = self.label = name

    fleet = Fleet([Still("a"), Still("b")])  # type: ignore[list-item]
    frames: list[FleetFrame] = []
    fleet.on_frame = frames.append
    snap = Snapshot(HostInfo("a", "a"), (Domain("x", 1, "ux", State.RUNNING, 1, 1, 1, 1, Mode.PV),), 1.0)
    fleet._receiver(0)(Frame(snap))
    fleet._receiver(1)(Frame(Snapshot(HostInfo("b", "b"), (), 1.0)))
    first, second = frames
    key = RowKey("a", "ux")
    assert first.rows[key] is second.rows[key] and list(second.rows) == [key]
    assert fleet.frame.rows == second.rows
    assert FleetFrame.combine(second.hosts).rows == second.rows  # the same as combining from scratch


def test_only_changed_characters_are_repainted() -> None:
    assert changed_span(Text("21:07:14"), Text("21:07:15")) == (7, 8)
    assert changed_span(Text(" 67.8"), Text(" 70.9")) == (1, 5)
    assert changed_span(Text("  1.5"), Text(" 12.5")) == (1, 3)
    assert changed_span(Text("abc"), Text("abcd")) == (0, 4)  # another length: the whole cell
    assert changed_span(Text("aé "), Text("aè ")) == (0, 3)  # not ASCII: the whole cell
    assert changed_span(Text("run", style="green"), Text("run", style="red")) == (0, 3)  # style alone
    assert merge_spans([(60, 64), (10, 12), (70, 71)]) == [(10, 12), (60, 71)]
    assert merge_spans([(0, 1), (1 + MERGE_GAP, 30)]) == [(0, 1), (1 + MERGE_GAP, 30)]


def guests(n: int, cpu_ns: int = 0) -> tuple[Domain, ...]:
    return tuple(
        Domain(f"g{i:03d}", i, f"u{i}", State.RUNNING, 1 << 20, 1 << 20, 1, 1, Mode.PV, host="h", cpu_time_ns=cpu_ns)
        for i in range(n)
    )


def frame_of(domains: tuple[Domain, ...], rates: dict[str, Rates]) -> FleetFrame:
    snap = Snapshot(HostInfo("h", "src"), domains, 1.0)
    return FleetFrame.combine((HostStatus("h", "src", frame=Frame(snap, rates)),))


async def test_rows_are_not_sorted_again_while_no_sort_key_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    app = XenTUI(DemoSource(), interval=3600)
    monkeypatch.setattr(app.fleet, "start", lambda: None)  # frames come from this test alone
    sorts: list[int] = []
    real = DomainTable._sorted_keys

    def counting(self: DomainTable) -> Any:
        sorts.append(1)
        return real(self)

    monkeypatch.setattr(DomainTable, "_sorted_keys", counting)
    domains = guests(50)
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(DomainTable)
        app.apply_frame(frame_of(domains, {d.key: Rates(1.0) for d in domains}))
        await pilot.pause()
        order = table.keys_in_order()
        sorts.clear()
        moved = tuple(evolve(d, cpu_time_ns=10**9) for d in domains)
        app.apply_frame(frame_of(moved, {d.key: Rates(float(i)) for i, d in enumerate(moved)}))
        await pilot.pause()
        assert sorts == [] and table.keys_in_order() == order  # sorted by ID: CPU figures do not move rows
        assert table.cell_text(order[3], "cpu") == "3.0"
        table.set_sort("cpu", reverse=True)
        await pilot.pause()
        sorts.clear()
        app.apply_frame(frame_of(moved, {d.key: Rates(float(-i)) for i, d in enumerate(moved)}))
        await pilot.pause()
        assert sorts and table.keys_in_order()[0] == RowKey("h", "u0")  # by CPU%: the new biggest on top
        assert column("cpu").sort(moved[0], Rates(0.0)) == 0.0


def test_pending_rows_count_once_the_xml_is_read(tmp_path: Path) -> None:
    """The demo over a large host: no CPU time (so no made-up CPU%) until a guest's XML gave its load."""
    src = DemoSource(host_xml=str(host(tmp_path, EARLY_ROWS * 2)))
    read = threading.Event()
    src.set_change_callback(read.set)
    try:
        first = src.snapshot()
        assert all(d.cpu_time_ns is None for d in first.domains if d.details_pending)
        wait_for(read)
        time.sleep(0.01)
        second = src.snapshot()
        running = [d for d in second.domains if d.state is State.RUNNING]
        assert running and all(d.cpu_time_ns for d in running) and not any(d.details_pending for d in running)
    finally:
        src.close()


def test_connecting_early_reports_its_failure_once_at_the_first_snapshot(tmp_path: Path) -> None:
    src = LibvirtSource(f"test://{tmp_path}/no-such-host.xml")
    src.connect_soon()
    with pytest.raises(SourceError, match="cannot connect") as first:
        src.snapshot()
    with pytest.raises(SourceError) as again:  # tried again, not the early failure kept
        src.snapshot()
    assert str(first.value) == str(again.value)
    src.close()


def test_connecting_early_serves_the_first_snapshot(tmp_path: Path) -> None:
    src = LibvirtSource(f"test://{host(tmp_path, 3)}")
    src.connect_soon()
    try:
        assert len(src.snapshot().domains) == 3
    finally:
        src.close()
