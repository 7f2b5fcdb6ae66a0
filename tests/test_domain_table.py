"""The column spec's layout and the table's rendering economy (what is off-screen is not rendered)."""

from __future__ import annotations

from typing import Any

import pytest

from xentui.columns import COLUMNS, Group, column, layout, plain_table
from xentui.fleet import FleetFrame, HostStatus
from xentui.model import Domain, HostInfo, Mode, Snapshot, State
from xentui.poller import Frame, Rates
from xentui.sources.demo import DemoSource
from xentui.ui.app import XenTUI
from xentui.ui.widgets.domain_table import DomainTable

KEY_COLUMNS = {"name", "state", "mode", "mem", "vcpus", "cpu"}


def guests(n: int, name: str = "guest-{:04d}") -> tuple[Domain, ...]:
    return tuple(
        Domain(name.format(i), i, f"u-{i}", State.RUNNING, 1 << 20, 1 << 20, 2, 2, Mode.PV, host="h", cpu_time_ns=i)
        for i in range(n)
    )


def core() -> list[Any]:
    return [c for c in COLUMNS if c.group is Group.CORE]


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_key_columns_always_fit(width: int) -> None:
    long_names = guests(3, "a-rather-long-guest-name-of-forty-chars-{:01d}")
    for domains in (guests(5), long_names):
        lay = layout(core(), domains, width)
        assert KEY_COLUMNS <= set(lay.keys) and lay.line_width <= width
        assert list(lay.keys) == [c.key for c in core() if c.key in lay.keys]  # display order kept


def test_the_least_important_go_first_and_the_name_fits_its_content() -> None:
    lay = layout(core(), guests(5, "vm{}"), 80)
    assert lay.widths[lay.keys.index("name")] == len("Name")  # "vm0".."vm4" are shorter than the label
    wide = layout(core(), guests(5), 200)
    assert set(wide.keys) == {c.key for c in core()}
    narrow = layout(core(), guests(5), 60)
    dropped = {c.key for c in core()} - set(narrow.keys)
    kept_priorities = [column(k).priority for k in narrow.keys]
    assert all(column(k).priority >= max(kept_priorities) for k in dropped)


def test_plain_table_uses_the_same_columns() -> None:
    text = plain_table(guests(2), ("name", "id", "state", "mode", "mem", "vcpus"))
    assert text.splitlines() == [
        "Name        ID  State    Mode    Mem  VCPUs",
        "guest-0000   0  running  PV    1024M      2",
        "guest-0001   1  running  PV    1024M      2",
    ]


def _frame(domains: tuple[Domain, ...], cpu: float) -> FleetFrame:
    snap = Snapshot(HostInfo("h", "src"), domains, 1.0)
    return FleetFrame.combine((HostStatus("h", "src", frame=Frame(snap, {d.key: Rates(cpu) for d in domains})),))


async def test_changed_rows_off_screen_are_not_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    real = DomainTable._render_cells

    def counting(self: DomainTable, d: Domain, *args: Any, **kwargs: Any) -> Any:
        rendered.append(d.name)
        return real(self, d, *args, **kwargs)

    monkeypatch.setattr(DomainTable, "_render_cells", counting)
    app = XenTUI(DemoSource(), interval=3600)
    monkeypatch.setattr(app.fleet, "start", lambda: None)  # frames come from this test alone
    domains = guests(1000)
    async with app.run_test(size=(80, 24)) as pilot:
        app.apply_frame(_frame(domains, 1.0))
        await pilot.pause()
        table = app.query_one(DomainTable)
        visible = table.size.height - 1
        assert table.row_count == 1000 and 0 < len(rendered) <= visible + 1
        rendered.clear()
        app.apply_frame(_frame(domains, 2.0))  # every row's CPU% changed
        await pilot.pause()
        assert 0 < len(rendered) <= visible + 1
        assert table.cell_text(table.keys_in_order()[999], "cpu") == "2.0"  # rendered when asked for
        await pilot.press("end")
        await pilot.pause()
        assert table.selected is not None and table.selected.name == "guest-0999"


async def test_selection_follows_its_domain_when_rows_above_it_go(monkeypatch: pytest.MonkeyPatch) -> None:
    app = XenTUI(DemoSource(), interval=3600)
    monkeypatch.setattr(app.fleet, "start", lambda: None)
    domains = guests(6)
    async with app.run_test(size=(80, 24)) as pilot:
        app.apply_frame(_frame(domains, 1.0))
        await pilot.pause()
        table = app.query_one(DomainTable)
        assert table.select_name("guest-0004")
        app.apply_frame(_frame(tuple(d for d in domains if d.name not in ("guest-0001", "guest-0002")), 1.5))
        await pilot.pause()
        assert table.selected is not None and table.selected.name == "guest-0004"
        gone = tuple(d for d in domains if d.name not in ("guest-0001", "guest-0002", "guest-0004"))
        app.apply_frame(_frame(gone, 2.0))  # the selected domain itself goes: the row that takes its place
        await pilot.pause()
        assert table.selected is not None and table.selected.name == "guest-0005"
