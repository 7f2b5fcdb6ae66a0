"""The xenstore view of the detail pane (X), and the demo host's simulated xenstore behind it."""

from __future__ import annotations

import threading

from conftest import FIXTURES
from test_app import wait_rows
from test_xl_stream import Dom0
from test_xl_stream import dom0 as played_dom0  # noqa: F401  (a fixture: the played dom0)

from xentui.columns import mode_text
from xentui.model import Domain, Frontend, Mode, XenbusState, XenstoreEntry
from xentui.sources.base import ActionError
from xentui.sources.demo import DemoSource
from xentui.sources.demo_xenstore import demo_frontends, demo_xenstore, vbd_devid
from xentui.sources.files import FilesSource
from xentui.sources.xl import ToolstackSource
from xentui.ui.app import XenTUI
from xentui.ui.widgets.detail_pane import DetailPane
from xentui.ui.widgets.domain_table import DomainTable
from xentui.ui.widgets.summary_bar import SummaryBar
from xentui.ui.widgets.summary_card import SummaryCard
from xentui.ui.widgets.xenstore_view import KeyList, XenstoreView, entries_text

HOSTILE_KEY = "evil\x1b[2J[bold red]key[red]"
HOSTILE_VALUE = "\x1b]0;owned\x07[link=http://x]click[/link]\u202eevil\r\n"


class CountingDemo(DemoSource):
    """The demo host, counting reads of xenstore; optionally with a hostile key in every subtree, or failing."""

    def __init__(self, hostile: bool = False, fail: str = "") -> None:
        super().__init__(clock=lambda: 0.0)
        self.reads: list[str] = []
        self.started: list[str] = []
        self.hostile = hostile
        self.fail = fail
        self.held: dict[str, threading.Event] = {}  # reads of these domains wait until their event is set

    def read_xenstore(self, domain: Domain) -> tuple[XenstoreEntry, ...]:
        self.started.append(domain.name)
        if domain.name in self.held:
            self.held[domain.name].wait(10)
        self.reads.append(domain.name)
        if self.fail:
            raise ActionError(self.fail)
        entries = super().read_xenstore(domain)
        if self.hostile:
            root = f"/local/domain/{domain.id}"
            entries += (XenstoreEntry(f"{root}/data/{HOSTILE_KEY}", HOSTILE_VALUE),)
        return entries


async def _select(app: XenTUI, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    table = app.query_one(DomainTable)
    for _ in range(table.row_count + 1):
        if table.selected is not None and table.selected.name == name:
            return
        await pilot.press("down")
    raise AssertionError(name)


async def _read(pilot, view: XenstoreView) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        await pilot.pause(0.02)
        if "reading…" not in view.body.plain:
            return
    raise AssertionError("the read never ended")


async def test_x_opens_the_selected_domains_subtree() -> None:
    source = CountingDemo()
    app = XenTUI(source, interval=60)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await _select(app, pilot, "db-01")
        await pilot.press("X")
        view = app.query_one(XenstoreView)
        await _read(pilot, view)
        pane = app.query_one(DetailPane)
        assert pane.display and pane.has_class("xenstore") and view.display
        assert not app.query_one("#config-tree").display and not app.query_one(SummaryCard).display
        lines = view.body.plain.splitlines()
        assert lines[:4] == ['vm = "/vm/6a1c0003-5e7a-4c1e-9a6b-00163e000003"', 'name = "db-01"', 'domid = "3"', "cpu"]
        assert "    vbd" not in lines and "  vbd" in lines and '      state = "4"' in lines
        assert source.reads == ["db-01"]
        # The live triage beside the configured evidence, above the view.
        live = str(app.query_one("#live-pv").render())
        assert "PV drivers live: vbd, vif connected · configured: xen disk, netfront net" in live
        await pilot.press("X")  # closes: the configuration and the card come back
        await pilot.pause(0.05)
        assert not pane.has_class("xenstore") and app.query_one("#config-tree").display
        assert app.query_one(SummaryCard).display


async def test_read_on_opening_and_selection_never_on_refresh() -> None:
    source = CountingDemo()
    app = XenTUI(source, interval=60)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await _select(app, pilot, "win2019")
        await pilot.press("X")
        view = app.query_one(XenstoreView)
        await _read(pilot, view)
        assert source.reads == ["win2019"] and view.reads == 1
        frames = 0
        for _ in range(3):  # refreshes: new frames with new snapshots, the same selection
            before = app.frame
            app.action_refresh_now()
            for _ in range(100):
                await pilot.pause(0.02)
                if app.frame is not before:
                    frames += 1
                    break
        assert frames == 3
        assert app.frame is not None
        app.apply_frame(app.frame)
        await pilot.pause(0.05)
        assert source.reads == ["win2019"] and view.reads == 1
        await _select(app, pilot, "monitor")  # another domain while open: read (where the selection rests)
        await _read(pilot, view)
        assert source.reads[0] == "win2019" and source.reads[-1] == "monitor" and "win2019" not in source.reads[1:]
        assert 'name = "monitor"' in view.body.plain
        reads = len(source.reads)
        await pilot.press("X", "X")  # closed and opened again: read again
        await _read(pilot, view)
        assert source.reads[reads:] == ["monitor"]
        await pilot.press("r")  # the raw configuration takes its place: closed
        assert not app.query_one(DetailPane).has_class("xenstore")


async def test_hostile_keys_and_values_stay_inert() -> None:
    source = CountingDemo(hostile=True)
    app = XenTUI(source, interval=60)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await _select(app, pilot, "web-01")
        await pilot.press("X")
        view = app.query_one(XenstoreView)
        await _read(pilot, view)
        text = view.body
        line = next(x for x in text.plain.splitlines() if "evil" in x)
        assert line == (
            '  evil\\x1b[2J[bold red]key[red] = "\\x1b]0;owned\\x07[link=http://x]click[/link]\\u202eevil\\x0d\\x0a"'
        )
        assert not any(c in text.plain for c in "\x1b\x07\r\u202e")
        styles = {str(span.style) for span in text.spans}
        assert styles <= {"bold", "dim", "green"}  # nothing from the value became a style or a link
        rendered = "".join(seg.text for y in range(view.size.height) for seg in view.render_line(y))
        assert "\x1b" not in rendered


async def test_a_source_that_cannot_read_xenstore_says_why() -> None:
    # Saved outputs have no live xenstore: the source's own reason is shown, the app keeps running.
    app = XenTUI(FilesSource([str(FIXTURES / "xl-list.txt"), str(FIXTURES / "xl-list-long.json")]), interval=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_rows(app, pilot, 4)
        await pilot.press("down", "X")
        view = app.query_one(XenstoreView)
        await _read(pilot, view)
        assert view.body.plain == "saved outputs have no live xenstore"
        assert [str(span.style) for span in view.body.spans] == ["bold red"]
        await pilot.press("down")
        await _read(pilot, view)
        assert view.body.plain == "saved outputs have no live xenstore"
        assert app.is_running


async def test_action_error_message_and_a_domain_not_running() -> None:
    source = CountingDemo(fail="xenstore-ls: \x1b[31mpermission denied")
    app = XenTUI(source, interval=60)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await _select(app, pilot, "db-01")
        await pilot.press("X")
        view = app.query_one(XenstoreView)
        await _read(pilot, view)
        assert view.body.plain == "xenstore-ls: \\x1b[31mpermission denied"
        app.query_one(DomainTable).show_inactive = True
        await _select(app, pilot, "backup-01")  # shut off: nothing to read, and no read is tried
        await pilot.pause(0.05)
        assert "backup-01 is not running: no xenstore" in view.body.plain
        assert source.reads[0] == "db-01" and "backup-01" not in source.reads


async def test_a_slow_read_for_a_domain_left_behind_is_not_shown() -> None:
    source = CountingDemo()
    app = XenTUI(source, interval=60)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        await _select(app, pilot, "web-01")
        source.held["web-01"] = threading.Event()  # web-01's read hangs…
        await pilot.press("X")
        view = app.query_one(XenstoreView)
        assert view.body.plain == "reading…"
        for _ in range(100):
            if source.started:
                break
            await pilot.pause(0.02)
        assert source.started == ["web-01"]
        await _select(app, pilot, "web-02")  # …the admin moves on, web-02 is read and shown
        await _read(pilot, view)
        assert source.reads == ["web-02"] and 'name = "web-02"' in view.body.plain
        source.held["web-01"].set()  # web-01's answer comes late: not shown over web-02's
        for _ in range(100):
            if len(source.reads) == 2:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.1)
        assert source.reads == ["web-02", "web-01"]
        assert 'name = "web-02"' in view.body.plain and "web-01" not in view.body.plain


def test_entries_text_indents_and_adds_missing_parents() -> None:
    root = "/local/domain/7"
    entries = (
        XenstoreEntry(root, ""),
        XenstoreEntry(f"{root}/device/vif/0/state", "4"),  # its parents not listed
        XenstoreEntry(f"{root}/name", ""),
        XenstoreEntry("/vm/abc/name", "x"),  # outside the subtree: shown by its full path
    )
    assert entries_text(entries, root).plain.splitlines() == [
        "device",
        "  vif",
        "    0",
        '      state = "4"',
        'name = ""',
        "vm",
        "  abc",
        '    name = "x"',
    ]
    assert entries_text((), root).plain == ""


# -- the demo host's simulated xenstore -------------------------------------------------------------------------
def _demo() -> dict[str, Domain]:
    source = DemoSource(clock=lambda: 0.0)
    try:
        return {d.name: d for d in source.snapshot().domains}
    finally:
        source.close()


def test_demo_frontends_give_every_triage_case() -> None:
    demo = _demo()
    up, init = XenbusState.CONNECTED, XenbusState.INITIALISING
    assert demo["db-01"].frontends == (Frontend("vbd", "51712", up), Frontend("vif", "0", up))
    assert demo["win2019"].frontends == (Frontend("vbd", "768", init), Frontend("vif", "0", init))
    assert demo["monitor"].frontends == (Frontend("vbd", "768", up), Frontend("vif", "0", init))
    assert demo["Domain-0"].frontends == ()
    assert demo["backup-01"].frontends is None  # shut off: no subtree
    assert [mode_text(demo[n]) for n in ("db-01", "win2019", "monitor", "legacy-nt")] == [
        "HVM+pv", "HVM", "HVM+pv", "HVM",
    ]  # fmt: skip
    # The configuration alone says PV drivers are available for the Windows guest; xenstore says otherwise.
    assert demo["win2019"].pv_drivers and demo["win2019"].mode is Mode.HVM


def test_demo_domains_stay_the_same_objects_between_refreshes() -> None:
    source = DemoSource(clock=lambda: 0.0)
    try:
        first = {d.key: d for d in source.snapshot().domains}
        second = {d.key: d for d in source.snapshot().domains}
    finally:
        source.close()
    assert first.keys() == second.keys()
    assert all(second[k] is first[k] for k in first)


def test_demo_xenstore_subtree() -> None:
    demo = _demo()
    keys = {e.path: e.value for e in demo_xenstore(demo["win2019"])}
    assert keys["/local/domain/4/name"] == "win2019"
    assert keys["/local/domain/4/memory/target"] == str(4096 * 1024)
    assert keys["/local/domain/4/device/vbd/768/state"] == "1"
    assert keys["/local/domain/4/device/vif/0/mac"] == "00:16:3e:00:00:04"
    assert "/local/domain/4/control/feature-poweroff" not in keys  # no PV drivers announce anything
    assert all(p == "/local/domain/4" or p.startswith("/local/domain/4/") for p in keys)
    zero = {e.path: e.value for e in demo_xenstore(demo["Domain-0"])}
    assert zero["/local/domain/0/name"] == "Domain-0"
    try:
        demo_xenstore(demo["backup-01"])
    except ActionError as exc:
        assert str(exc) == "backup-01 is not running: it has no xenstore subtree"
    else:
        raise AssertionError("a shut-off guest has no subtree")
    assert demo_frontends(demo["backup-01"]) is None


def test_vbd_devids() -> None:
    assert [vbd_devid(t, 0) for t in ("xvda", "xvdb", "hda", "hdb", "hdc", "hdd", "sda", "sdb")] == [
        51712, 51728, 768, 832, 5632, 5696, 2048, 2064,
    ]  # fmt: skip
    assert vbd_devid(None, 2) == 51744 and vbd_devid("weird0", 1) == 51728


# -- the xl source on a played dom0 (stand-in xentop, xl, xenstore-watch and xenstore-ls; see test_xl_stream) ------
async def test_xl_source_end_to_end(played_dom0: Dom0) -> None:  # noqa: F811  (the fixture imported above)
    dom0 = played_dom0
    source = ToolstackSource("xl", timeout=5)
    app = XenTUI(source, interval=1)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 4)
        header = str(app.query_one(SummaryBar).render()).splitlines()
        # xl info: 3583 MiB total, 978 MiB free, 2 CPUs
        assert "  Mem 3583M total, 2605M used, 978M free, 2 CPUs  xl  read-only" in header[0]
        table = app.query_one(DomainTable)
        key = next(k for k in table.keys_in_order() if table.cell_text(k, "name").strip() == "hvmguest")
        assert table.cell_text(key, "mode").strip() == "HVM+pv"  # the vif is connected, the vbd initialising
        await _select(app, pilot, "hvmguest")
        await pilot.press("enter")
        await pilot.pause(0.1)
        live = str(app.query_one("#live-pv").render())
        assert "PV drivers live: vif connected; vbd 768 initialising" in live
        await pilot.press("X")
        view = app.query_one(XenstoreView)
        await _read(pilot, view)
        body = view.body.plain
        assert 'name = "hvmguest"' in body and "\x1b" not in body and "\x07" not in body
        assert '  evil = "\\x1b]0;pwned\\x07[bold red]x[/] "$(id)\\x0a"' in body
        reads = dom0.calls("xenstore-ls").count("/local/domain/3")
        assert reads == 1
        # The guest's drivers go away (both frontends back to Initialising), a backend event says so.
        text = (dom0.dir / "xenstore.txt").read_text().replace('vif/0/state = "4"', 'vif/0/state = "1"')
        (dom0.dir / "xenstore.txt").write_text(text)
        await pilot.pause(0.3)
        dom0.event("/local/domain/0/backend/vif/3/0/state")
        for _ in range(150):
            await pilot.pause(0.02)
            if table.cell_text(key, "mode").strip() == "HVM":
                break
        assert table.cell_text(key, "mode").strip() == "HVM"
        await pilot.pause(0.1)
        live = str(app.query_one("#live-pv").render())
        assert "platform device on, no PV disk/net frontend connected: emulated devices only" in live
        assert dom0.calls("xenstore-ls").count("/local/domain/3") == 1  # refreshes did not re-read the view
    source.close()


async def test_thousands_of_keys_render_only_the_rows_on_screen() -> None:
    class Big(CountingDemo):
        def read_xenstore(self, domain: Domain) -> tuple[XenstoreEntry, ...]:
            root = f"/local/domain/{domain.id}"
            keys = [f"{root}/backend/vbd/{g}/{d}/k{k}" for g in range(50) for d in range(4) for k in range(15)]
            return tuple(XenstoreEntry(k, "v" * 300) for k in keys)

    app = XenTUI(Big(), interval=60)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_rows(app, pilot, 13)
        await pilot.press("enter", "X")
        view = app.query_one(XenstoreView)
        await _read(pilot, view)
        keys = view.query_one(KeyList)
        assert len(keys.lines) == 2 + 50 * (1 + 4 * (1 + 15))  # backend, vbd, each guest, each device and its keys
        assert keys.virtual_size.width > keys.size.width  # a long value scrolls sideways, not wrapped
        await pilot.pause(0.1)
        assert 0 < len(keys._strips) <= keys.size.height  # only what is on screen was rendered
