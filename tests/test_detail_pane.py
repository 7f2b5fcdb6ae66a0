"""Pilot tests of the detail pane's summary card on the demo host and on real Xen 4.17 outputs."""

from __future__ import annotations

from conftest import FIXTURES
from rich.cells import cell_len
from test_app import wait_rows

from xentui.sources.demo import DemoSource
from xentui.sources.files import FilesSource
from xentui.ui.app import XenTUI
from xentui.ui.widgets.detail_pane import DetailPane
from xentui.ui.widgets.domain_table import DomainTable
from xentui.ui.widgets.summary_card import SummaryCard


def screen_rows(card: SummaryCard) -> list[str]:
    """The card's rows as the compositor receives them (inside the padding)."""
    return ["".join(seg.text for seg in card.render_line(y)) for y in range(card.size.height)]


async def open_detail(app: XenTUI, pilot, name: str) -> SummaryCard:  # type: ignore[no-untyped-def]
    table = app.query_one(DomainTable)
    for _ in range(table.row_count):
        if table.selected is not None and table.selected.name == name:
            break
        await pilot.press("down")
    else:
        raise AssertionError(name)
    await pilot.press("enter")
    await pilot.pause(0.1)
    return app.query_one(SummaryCard)


async def test_card_on_the_demo_at_80x24() -> None:
    app = XenTUI(DemoSource(), interval=60)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_rows(app, pilot, 13)
        card = await open_detail(app, pilot, "web-01")
        lines = [line.plain for line in card.lines()]
        assert lines[0].startswith("Boot      kernel /var/lib/xen/boot/vmlinuz-6.1.0-27-amd64 · initrd ")
        assert lines[1:] == [
            "CPU/Mem   2 VCPUs · 1024 MiB",
            "Disks     xvda ← /dev/vg0/web-01-disk",
            "NICs      xenbr0 00:16:3e:00:00:01 netfront",
            "Console   PV console (pty)",
            "Graphics  VNC 127.0.0.1:5900",
        ]
        rows = screen_rows(card)
        assert len(rows) == len(lines) == card.size.height
        assert card.content_size.width == 78  # 80 columns less the padding
        assert all(0 < cell_len(r) <= 78 for r in rows)  # one terminal row each: cut, never wrapped
        assert cell_len(rows[0]) == 78 and rows[0].endswith("…") and rows[0].startswith("Boot ")
        tree = app.query_one("#config-tree")
        assert tree.region.y == card.region.bottom  # the tree starts right below the card
        await pilot.press("down")  # web-02: no graphics
        assert card.lines()[-1].plain == "Without   graphics"


async def test_card_warns_of_a_server_on_every_interface() -> None:
    app = XenTUI(DemoSource(), interval=60)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_rows(app, pilot, 13)
        card = await open_detail(app, pilot, "win2019")
        lines = [line.plain for line in card.lines()]
        assert "Boot      firmware hvmloader · boots from hd" in lines
        assert "NICs      xenbr0 00:16:3e:00:00:04 e1000" in lines
        assert "Graphics  VNC 0.0.0.0:5902 ! listens on every interface" in lines
        assert "Without   console" in lines
        warning = next(line for line in card.lines() if "every interface" in line.plain)
        assert any("red" in str(span.style) for span in warning.spans)


async def test_card_on_real_xen_outputs_and_hidden_without_a_domain() -> None:
    files = [str(FIXTURES / "xl-list.txt"), str(FIXTURES / "xl-list-long.json")]
    app = XenTUI(FilesSource(files), interval=60)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_rows(app, pilot, 4)
        card = await open_detail(app, pilot, "hvmguest")
        assert [line.plain for line in card.lines()][1:] == [
            "CPU/Mem   1 VCPU · 256 MiB",
            "Console   serial 0 (pty)",
            "Graphics  VNC 127.0.0.1:auto",
            "Without   disks, NICs",
        ]
        assert card.lines()[0].plain.startswith("Boot      firmware hvmloader · kernel /guest/vmlinuz")
        await pilot.press("up", "up", "up")  # Domain-0
        assert card.lines()[0].plain == "Boot      started by the hypervisor (Domain-0)"
        await pilot.press("slash", *"nothing-matches")
        await pilot.pause(0.1)
        assert not card.display
        verdict = str(app.query_one(DetailPane).query_one("#verdict").render())
        assert "No domain selected" in verdict


def test_size_line_in_mib() -> None:
    from dataclasses import replace

    from xentui.model import Mode
    from xentui.summary import Summary
    from xentui.ui.widgets.summary_card import size_text

    s = Summary("g", None, Mode.PV, "", False, 2, 4, 1536, 2048, False, None, None, None, None, None)
    assert size_text(s).plain == "2 VCPUs (max 4) · 1536 MiB (max 2048 MiB)"
    assert size_text(replace(s, max_vcpus=2, max_memory_mib=None, max_memory_unlimited=True)).plain == (
        "2 VCPUs · 1536 MiB (no maximum)"
    )
    assert size_text(replace(s, vcpus=None, memory_mib=None)).plain == "VCPUs unknown · memory unknown"


async def test_card_follows_a_ballooned_domain_with_the_same_config() -> None:
    from dataclasses import replace

    from xentui.fleet import FleetFrame

    files = [str(FIXTURES / "xl-list.txt"), str(FIXTURES / "xl-list-long.json")]
    app = XenTUI(FilesSource(files), interval=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_rows(app, pilot, 4)
        card = await open_detail(app, pilot, "pvguest")
        assert card.lines()[1].plain == "CPU/Mem   1 VCPU · 128 MiB"
        frame = app.frame
        assert frame is not None
        rows = {k: replace(d, memory_kib=98304) if d.name == "pvguest" else d for k, d in frame.rows.items()}
        app.apply_frame(FleetFrame(frame.hosts, rows, frame.rates))
        await pilot.pause(0.1)
        assert card.lines()[1].plain == "CPU/Mem   1 VCPU · 96 MiB (max 128 MiB)"


def test_absent_devices_of_a_cut_short_record_are_not_claimed_absent() -> None:
    from conftest import read_fixture

    from xentui.parsers.xm import parse_sxp_domains
    from xentui.summary import summarize
    from xentui.ui.widgets.summary_card import render_card

    domains = {d.name: d for d in parse_sxp_domains(read_fixture("xend-multi.sxp")).domains}
    cut = [line.plain for line in render_card(summarize(domains["cutshort"]), 200)]
    assert cut[-1] == "Not seen  disks, NICs, console, graphics (the configuration is cut short)"
    whole = [line.plain for line in render_card(summarize(domains["standby"]), 200)]
    assert whole[-1] == "Without   disks, NICs, graphics"
