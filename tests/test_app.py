"""Pilot-driven tests of the dashboard on the built-in demo host (real libvirt test driver)."""

from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Input, Static

from xentui.fleet import FleetFrame, RowKey
from xentui.model import ConfigNode, Domain, DomainConfig, HostInfo, Mode, Snapshot, State
from xentui.poller import Frame
from xentui.sources.demo import DemoSource
from xentui.ui.app import XenTUI
from xentui.ui.screens.help import HelpScreen
from xentui.ui.screens.lifecycle import ConfirmScreen, LifecycleScreen
from xentui.ui.screens.vnc_hint import VncHintScreen
from xentui.ui.widgets.console_pane import ConsolePane
from xentui.ui.widgets.detail_pane import DetailPane
from xentui.ui.widgets.domain_table import DomainTable


def names(app: XenTUI) -> list[str]:
    table = app.query_one(DomainTable)
    return [table.cell_text(k, "name") for k in table.keys_in_order()]


async def wait_rows(app: XenTUI, pilot, n: int = 1) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        if app.query_one(DomainTable).row_count >= n and app.frame is not None:
            return
        await pilot.pause(0.05)
    raise AssertionError("the table never filled")


@pytest.fixture
def app() -> XenTUI:
    return XenTUI(DemoSource(), interval=0.2)


async def test_table_header_and_detail(app: XenTUI) -> None:
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        assert names(app)[0] == "Domain-0" and len(names(app)) == 13
        header = app.query_one("#summary", Static).render()
        plain = str(header)
        assert "DEMO DATA" in plain and "read-only" in plain and "13 domains: 10 running, 1 paused, 2 off" in plain
        assert "PV 5" in plain and "HVM 4" in plain and "PVH 4" in plain
        table = app.query_one(DomainTable)
        db = RowKey("xen-demo", "6a1c0003-5e7a-4c1e-9a6b-00163e000003")
        assert (table.cell_text(db, "state"), table.cell_text(db, "mode")) == ("running", "HVM+pv")
        await pilot.pause(0.5)  # a second frame gives CPU%
        assert float(table.cell_text(RowKey("xen-demo", "6a1c0005-5e7a-4c1e-9a6b-00163e000005"), "cpu")) > 0
        await pilot.press("down", "down", "down")
        pane = app.query_one(DetailPane)
        verdict = str(pane.query_one("#verdict", Static).render())
        assert "db-01" in verdict and "PV drivers in use" in verdict


async def test_filter_typed_in_one_burst_goes_to_the_box(app: XenTUI) -> None:
    # Over SSH "/" and the words after it often arrive in one read: none of them may reach the table's bindings.
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        for key, char in [("slash", "/"), ("c", "c"), ("o", "o"), ("l", "l"), ("d", "d")]:
            app.post_message(events.Key(key, char))
        await pilot.pause(0.2)
        assert app.query_one("#filter", Input).value == "cold"
        assert not app.query(ConsolePane) or not app.query_one(ConsolePane).display
        assert app.query_one(DomainTable).sort_key == "id"  # "o" flipped nothing


async def test_filter_sort_and_selection_kept(app: XenTUI) -> None:
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await pilot.press("down", "down")  # web-02
        assert app.query_one(DomainTable).selected.name == "web-02"  # type: ignore[union-attr]
        table = app.query_one(DomainTable)
        await pilot.press("s")  # from ID to the next column: State
        states = [table.cell_text(k, "state") for k in table.keys_in_order()]
        assert table.sort_key == "state" and states == sorted(states)
        assert table.selected.name == "web-02"  # type: ignore[union-attr]
        await pilot.press("o")
        states = [table.cell_text(k, "state") for k in table.keys_in_order()]
        assert states == sorted(states, reverse=True) and table.selected.name == "web-02"  # type: ignore[union-attr]
        await pilot.press("slash", *"hvm")
        await pilot.pause(0.1)
        assert set(names(app)) == {"db-01", "win2019", "monitor", "legacy-nt"}
        await pilot.press("enter")
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert len(names(app)) == 13 and not app.query_one("#filter", Input).has_class("shown")
        await pilot.press("a")
        assert "backup-01" not in names(app) and "test-pvh" not in names(app)


async def test_header_click_sorts(app: XenTUI) -> None:
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        table = app.query_one(DomainTable)
        await pilot.click(DomainTable, offset=(table.column_x("mem") + 1, 0))  # the Mem header
        assert table.sort_key == "mem" and names(app)[0] == "db-01"


async def test_help_raw_interval_and_vnc_hint(app: XenTUI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.1.2.3 50000 192.0.2.10 22")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("USER", "admin")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("r")
        assert app.query_one(DetailPane).has_class("raw")
        await pilot.press("plus")
        assert app.interval == 0.5 or app.interval < 0.5
        await pilot.press("down")  # web-01: PV with a VNC framebuffer on 127.0.0.1:5900
        await pilot.press("v")
        assert isinstance(app.screen, VncHintScreen)
        text = str(app.screen.query_one("#vnc-hint", Static).render())
        assert "ssh -N -L 5900:127.0.0.1:5900 admin@192.0.2.10" in text and "vncviewer localhost::5900" in text


async def test_console_on_demo_says_why() -> None:
    app = XenTUI(DemoSource(), interval=0.2)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await pilot.press("down", "c")
        await pilot.pause(0.3)
        assert any("no real console" in n.message for n in app._notifications)
        app._notifications.clear()
        table = app.query_one(DomainTable)
        x = table.column_x("access") + 1
        await pilot.click(DomainTable, offset=(x, 3))  # the "con" marker of web-02
        await pilot.pause(0.3)
        assert table.selected.name == "web-02"  # type: ignore[union-attr]
        assert any("web-02 is a demo guest" in n.message for n in app._notifications)


def _hostile(name: str) -> Domain:
    tree = ConfigNode("domain", None, (ConfigNode("name", name), ConfigNode("description", "[@click=app.quit]x[/]")))
    return Domain(name, 1, "u-" + str(len(name)), State.RUNNING, 1024, 1024, 1, 1, Mode.PV,
                  config=DomainConfig("xm-sxp", tree, f"(domain (name {name!r}))", "PV: [bold]x[/]"))  # fmt: skip


async def test_hostile_names_are_shown_literally() -> None:
    evil = [
        "[bold red]x[/]",
        "[@click=app.quit]q[/]",
        "\x1b]52;c;cHduZWQ=\x07osc",
        "a\nb\x9b31m",
        "\u202eevil",
        "名" * 30,
    ]
    app = XenTUI(DemoSource(), interval=60)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        snap = Snapshot(HostInfo("h\x1b[2J", "src"), tuple(_hostile(n) for n in evil), 1.0)
        app.apply_frame(FleetFrame.one(Frame(snap)))
        await pilot.pause(0.1)
        shown = names(app)
        assert "[bold red]x[/]" in shown and "[@click=app.quit]q[/]" in shown
        assert all("\x1b" not in s and "\x9b" not in s and "\n" not in s and "\u202e" not in s for s in shown)
        assert "\\x1b]52;c;cHduZWQ=\\x07osc" in shown
        await pilot.press("enter")
        verdict = str(app.query_one(DetailPane).query_one("#verdict", Static).render())
        assert "PV: [bold]x[/]" in verdict and "\x1b" not in verdict
        assert app.is_running


async def _select(app: XenTUI, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    table = app.query_one(DomainTable)
    for _ in range(table.row_count):
        if table.selected is not None and table.selected.name == name:
            return
        await pilot.press("down")
    raise AssertionError(name)


async def _state_of(app: XenTUI, pilot, name: str, want: str) -> None:  # type: ignore[no-untyped-def]
    table = app.query_one(DomainTable)
    for _ in range(100):
        for key in table.keys_in_order():
            if table.cell_text(key, "name") == name and table.cell_text(key, "state") == want:
                return
        await pilot.pause(0.05)
    raise AssertionError(f"{name} never became {want}")


async def test_lifecycle_is_refused_read_only() -> None:
    app = XenTUI(DemoSource(), interval=0.2)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await _select(app, pilot, "web-01")
        await pilot.press("l")
        assert not isinstance(app.screen, LifecycleScreen)
        assert any("--rw" in n.message for n in app._notifications)


async def test_lifecycle_pause_with_confirmation_and_destroy_needs_the_name() -> None:
    app = XenTUI(DemoSource(read_only=False), interval=0.2)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await _select(app, pilot, "web-01")
        await pilot.press("l")
        assert isinstance(app.screen, LifecycleScreen)
        await pilot.press("down", "down", "enter")  # shutdown, reboot, [pause]
        assert isinstance(app.screen, ConfirmScreen)
        assert "Pause web-01 on xen-demo?" in str(app.screen.query_one("#question", Static).render())
        await pilot.press("n")
        await pilot.pause(0.3)
        await _state_of(app, pilot, "web-01", "running")
        await pilot.press("l", "down", "down", "enter", "y")
        await _state_of(app, pilot, "web-01", "paused")
        await pilot.press("l", "down", "enter")  # resume, [destroy]
        await pilot.press(*"web-02", "enter")  # the wrong name: nothing happens
        await pilot.pause(0.3)
        await _state_of(app, pilot, "web-01", "paused")
        await pilot.press("l", "down", "enter", *"web-01", "enter")
        await _state_of(app, pilot, "web-01", "shutoff")


async def test_unreachable_uri_is_shown_and_the_app_keeps_running() -> None:
    from xentui.sources.libvirt_source import LibvirtSource

    app = XenTUI(LibvirtSource("qemu+unix:///system?socket=/nonexistent/sock"), interval=0.2)
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(100):
            if app.frame is not None:
                break
            await pilot.pause(0.05)
        header = str(app.query_one("#summary", Static).render())
        assert "unreachable, retrying in 1 s: cannot connect to qemu+unix" in header
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen) and app.is_running
