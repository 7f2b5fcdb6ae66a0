"""SVG snapshots of the dashboard on real Xen 4.17 outputs (deterministic: saved files do not change).

Update after an intended UI change with: .venv/bin/pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from conftest import FIXTURES

from xentui.sources.files import FilesSource
from xentui.ui.app import XenTUI
from xentui.ui.widgets.detail_pane import DetailPane
from xentui.ui.widgets.domain_table import DomainTable

# The classic SSH window, a common laptop terminal, and a wide one.
SMALL, MEDIUM, LARGE = (80, 24), (120, 40), (200, 60)


def xen_app() -> XenTUI:
    return XenTUI(FilesSource([str(FIXTURES / "xl-list.txt"), str(FIXTURES / "xl-list-long.json")]), interval=60)


async def _settled(pilot) -> None:  # type: ignore[no-untyped-def]
    """After the keys: the rebuilds and the tree's layout they cause are done before the picture (on a loaded
    machine one pause was not always enough)."""
    for _ in range(3):
        await pilot.pause(0.1)


async def _filled(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if pilot.app.query_one(DomainTable).row_count == 4:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.1)


def test_80x24_table_keeps_the_key_columns(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Name, State, Mode, Mem, VCPUs and CPU% on screen, no horizontal scrollbar, the detail pane closed."""

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _filled(pilot)
        table = pilot.app.query_one(DomainTable)
        assert {"name", "state", "mode", "mem", "vcpus", "cpu"} <= set(table.visible_column_keys)
        assert table.line_width <= 80 and not pilot.app.query_one(DetailPane).display

    assert snap_compare(xen_app(), terminal_size=SMALL, run_before=before)


def test_80x24_detail_opened(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _filled(pilot)
        await pilot.press("down", "enter")
        await _settled(pilot)

    assert snap_compare(xen_app(), terminal_size=SMALL, run_before=before)


def test_xen_table_and_pv_detail(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _filled(pilot)
        await pilot.press("down")
        await _settled(pilot)

    assert snap_compare(xen_app(), terminal_size=MEDIUM, run_before=before)


def test_xen_hvm_detail(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _filled(pilot)
        await pilot.press("down", "down", "down", "i")
        await _settled(pilot)

    assert snap_compare(xen_app(), terminal_size=LARGE, run_before=before)


def test_xen_raw_json(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _filled(pilot)
        await pilot.press("down", "down", "r")
        await _settled(pilot)

    assert snap_compare(xen_app(), terminal_size=MEDIUM, run_before=before)


def test_help(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _filled(pilot)
        await pilot.press("question_mark")
        await _settled(pilot)

    assert snap_compare(xen_app(), terminal_size=MEDIUM, run_before=before)


# -- the demo host: the host's memory and CPUs in the header, live PV triage, the xenstore view (X) ---------------
def demo_app() -> XenTUI:
    from xentui.sources.demo import DemoSource

    return XenTUI(DemoSource(clock=lambda: 0.0), interval=60)  # a still clock: the same CPU times every run


async def _demo_filled(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    table = pilot.app.query_one(DomainTable)
    for _ in range(200):
        if table.row_count == 13:
            break
        await pilot.pause(0.02)
    # CPU% needs two refreshes (the still clock makes it 0.0): one more, so that no run shows "-".
    for _ in range(200):
        keys = table.keys_in_order()
        if keys and table.cell_text(keys[0], "cpu").strip() == "0.0":
            break
        if _ % 50 == 0:
            pilot.app.action_refresh_now()
        await pilot.pause(0.02)
    for _ in range(table.row_count):
        if table.selected is not None and table.selected.name == name:
            break
        await pilot.press("down")
    await _settled(pilot)


def test_demo_header_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Memory and CPUs on their own line when the demo's first two lines cannot hold them at 80 columns."""

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _demo_filled(pilot, "Domain-0")

    assert snap_compare(demo_app(), terminal_size=SMALL, run_before=before)


def test_demo_header_and_live_pv_160x45(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The figures in the first line; win2019: platform device on, no PV frontend connected."""

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _demo_filled(pilot, "win2019")

    assert snap_compare(demo_app(), terminal_size=(160, 45), run_before=before)


async def _xenstore_read(pilot) -> None:  # type: ignore[no-untyped-def]
    from xentui.ui.widgets.xenstore_view import XenstoreView

    await pilot.press("X")
    view = pilot.app.query_one(XenstoreView)
    for _ in range(200):
        await pilot.pause(0.02)
        if view.reads and "reading…" not in view.body.plain:
            break
    await _settled(pilot)


def test_xenstore_view_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _demo_filled(pilot, "win2019")
        await pilot.press("enter")
        await _xenstore_read(pilot)

    assert snap_compare(demo_app(), terminal_size=SMALL, run_before=before)


def test_xenstore_view_160x45(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _demo_filled(pilot, "db-01")
        await _xenstore_read(pilot)

    assert snap_compare(demo_app(), terminal_size=(160, 45), run_before=before)
