"""Row identity is (host, domain): two Xen hosts whose Domain-0s share the all-zero UUID, and a guest defined on
both (an HA pair), show every row, and each action goes to the host of the row it was asked on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from conftest import FIXTURES
from textual.widgets import Static

from xentui.fleet import Fleet, FleetFrame, HostStatus, RowKey, UnknownRow
from xentui.model import Domain, HostInfo, Snapshot, State
from xentui.poller import Frame
from xentui.sources.base import (
    ALL_LIFECYCLE,
    ActionError,
    CommandConsole,
    ConsoleRoute,
    ConsoleStream,
    Display,
    DisplayRoute,
)
from xentui.sources.files import combine, read_file
from xentui.ui.app import XenTUI
from xentui.ui.widgets.domain_table import DomainTable

ZERO = "00000000-0000-0000-0000-000000000000"


def xen_domains(host: str) -> tuple[Domain, ...]:
    """The real Xen 4.17 host's domains (libvirt's xen driver: `virsh dumpxml` of each), as seen on `host`."""
    files = [FIXTURES / f"xen-4.17-virsh-dumpxml-{what}.xml" for what in ("dom0", "pv", "pvh", "hvm")]
    domains, _ = combine([read_file(str(f)) for f in files])
    # dumpxml carries no run state: these guests are running, with the IDs the lab's host gave them.
    return tuple(replace(d, host=host, state=State.RUNNING, id=i) for i, d in enumerate(domains))


class RecordingHost:
    """A read-write host that serves the real fixture's domains and records the actions asked of it."""

    actions = ALL_LIFECYCLE
    console_route = ConsoleRoute.STREAM

    def __init__(self, name: str, calls: list[tuple[str, str, str]]) -> None:
        self.label = f"xen+ssh://root@{name}/system"
        self.host_name = name
        self.read_only = False
        self.display = Display(DisplayRoute.TUNNEL, self.label)
        self._calls = calls
        self._domains = xen_domains(name)

    def snapshot(self) -> Snapshot:
        return Snapshot(HostInfo(self.host_name, self.label, "Xen 4.17.7", False), self._domains, time.monotonic())

    def set_interval(self, seconds: float) -> None:
        pass

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        pass

    def console(self, domain: Domain) -> CommandConsole | ConsoleStream:
        self._calls.append((self.host_name, "console", domain.name))
        raise ActionError(f"console of {domain.name} on {self.host_name} (recorded)")

    def lifecycle(self, domain: Domain, action: str) -> None:
        self._calls.append((self.host_name, str(action), domain.name))

    def close(self) -> None:
        pass


def test_two_xen_hosts_keep_every_row_and_a_missing_key_is_an_error() -> None:
    a, b = xen_domains("xen-a"), xen_domains("xen-b")
    assert [d.uuid for d in a if d.name == "Domain-0"] == [ZERO]  # the real fixture: all zeros, on every dom0
    frame = FleetFrame.combine(
        (
            HostStatus("xen-a", "A", frame=Frame(Snapshot(HostInfo("xen-a", "A"), a, 1.0))),
            HostStatus("xen-b", "B", frame=Frame(Snapshot(HostInfo("xen-b", "B"), b, 1.0))),
        )
    )
    assert len(frame.rows) == 8 and [d.name for d in frame.domains].count("Domain-0") == 2
    assert RowKey("xen-a", ZERO) in frame.rows and RowKey("xen-b", ZERO) in frame.rows
    assert frame.domain(RowKey("xen-b", ZERO)).host == "xen-b"
    with pytest.raises(UnknownRow):
        frame.domain(RowKey("xen-c", ZERO))
    with pytest.raises(UnknownRow):
        frame.host_index(RowKey("xen-c", ZERO))


def test_fleet_source_for_an_unknown_host_is_an_error_not_host_zero() -> None:
    calls: list[tuple[str, str, str]] = []
    fleet = Fleet([RecordingHost("xen-a", calls), RecordingHost("xen-b", calls)], lambda f: None)
    assert fleet.source_for(RowKey("xen-b", ZERO)).label.endswith("@xen-b/system")
    with pytest.raises(UnknownRow):
        fleet.source_for(RowKey("nowhere", ZERO))


async def test_two_xen_hosts_in_the_dashboard_and_actions_reach_the_right_host() -> None:
    calls: list[tuple[str, str, str]] = []
    app = XenTUI([RecordingHost("xen-a", calls), RecordingHost("xen-b", calls)], interval=60)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(DomainTable)
        for _ in range(100):
            if table.row_count == 8:
                break
            await pilot.pause(0.05)
        assert table.row_count == 8
        header = str(app.query_one("#summary", Static).render())
        assert "8 domains" in header
        hosts = [(k.host, table.cell_text(k, "name")) for k in table.keys_in_order()]
        assert hosts.count(("xen-a", "Domain-0")) == 1 and hosts.count(("xen-b", "Domain-0")) == 1
        # The guest with the same UUID on both hosts: a row on each.
        assert hosts.count(("xen-a", "hvmguest")) == 1 and hosts.count(("xen-b", "hvmguest")) == 1

        assert table.select_name("Domain-0", host="xen-b")
        await pilot.press("C")  # the full-terminal console asks the source at once
        await pilot.pause(0.3)
        assert calls == [("xen-b", "console", "Domain-0")]

        assert table.select_name("hvmguest", host="xen-a")
        await pilot.press("C")
        await pilot.pause(0.3)
        assert calls[-1] == ("xen-a", "console", "hvmguest")

        assert table.select_name("pvguest", host="xen-b")
        await pilot.press("l", "down", "down", "enter", "y")  # shutdown, reboot, [pause], confirmed
        for _ in range(40):
            if len(calls) == 3:
                break
            await pilot.pause(0.05)
        assert calls[-1][0] == "xen-b" and calls[-1][2] == "pvguest" and "pause" in calls[-1][1]
