"""Several hosts: the hosts file, host names, the combined frame, the table's host grouping and its cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import libvirt
import pytest

from xentui import config
from xentui.config import ConfigError, HostSpec
from xentui.fleet import Fleet, FleetFrame, HostStatus, RowKey, UnknownRow
from xentui.model import HostInfo, Mode, Snapshot, State
from xentui.poller import Frame
from xentui.sources.base import SourceError
from xentui.sources.demo import host_xml_path
from xentui.sources.libvirt_source import LibvirtSource, batch_uri, error_kind, uri_host
from xentui.ui.app import XenTUI
from xentui.ui.widgets.domain_table import DomainTable

DEMO = f"test://{host_xml_path()}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_config_hosts_and_interval(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'interval = 2\n[hosts.dom0-a]\nuri = "xen+ssh://root@dom0-a/system"\n\n[hosts."kvm 7"]\nuri = "qemu:///system"\n',
    )
    cfg = config.load(path)
    assert cfg.interval == 2.0
    assert cfg.hosts == (HostSpec("xen+ssh://root@dom0-a/system", "dom0-a"), HostSpec("qemu:///system", "kvm 7"))
    assert config.load(tmp_path / "absent.toml") == config.Config()  # no file, no hosts: not an error
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "absent.toml", required=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[hosts.a]\nuri = \n", r"config\.toml:2:7: "),
        ("[hosts.a]\nurl = 'x'\n", r"hosts\.a: unknown setting 'url'"),
        ("[hosts.a]\nuri = 'nothing'\n", r"hosts\.a: uri must be a libvirt URI"),
        ("hosts = 3\n", r"hosts must be tables"),
        ("interval = -1\n", r"interval must be a positive number"),
        ("colour = 'red'\n", r"unknown setting 'colour'"),
        ("\xff\xfe", r"not UTF-8"),
    ],
)
def test_bad_config_names_file_and_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError, match=message):
        config.load(path)


def test_resolve_picks_configured_hosts_each_uri_once() -> None:
    cfg = config.Config((HostSpec("xen+ssh://root@a/system", "a"),))
    assert config.resolve([], cfg) == [HostSpec("xen+ssh://root@a/system", "a")]
    assert config.resolve(["qemu:///system"], cfg) == [HostSpec("qemu:///system")]  # one host: libvirt names it
    got = config.resolve(["a", "qemu+ssh://kvm7/system", "qemu:///system", "a"], cfg)
    assert got == [
        HostSpec("xen+ssh://root@a/system", "a"),
        HostSpec("qemu+ssh://kvm7/system"),
        HostSpec("qemu:///system"),
    ]
    # Names are made distinct by the source factory alone (tests/test_factory.py).


def test_uri_helpers() -> None:
    assert uri_host("qemu+ssh://root@kvm7:2222/system") == "kvm7:2222" and uri_host("xen:///system") == ""
    assert batch_uri("qemu+ssh://kvm7/system") == "qemu+ssh://kvm7/system?no_tty=1"
    assert batch_uri("qemu+ssh://kvm7/system?keyfile=k") == "qemu+ssh://kvm7/system?keyfile=k&no_tty=1"
    assert batch_uri("qemu+tcp://kvm7/system") == "qemu+tcp://kvm7/system"
    denied = libvirt.libvirtError("x")
    denied.err = (libvirt.VIR_ERR_SYSTEM_ERROR, 0, "root@h: Permission denied (publickey).", 2, "", "", "", 0, 0)
    refused = libvirt.libvirtError("x")
    refused.err = (libvirt.VIR_ERR_SYSTEM_ERROR, 0, "unable to connect: Connection refused", 2, "", "", "", 0, 0)
    assert (error_kind(denied), error_kind(refused)) == ("auth", "unreachable")


def test_cli_list_several_hosts_has_host_column_and_bad_config_is_exit_2(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "xentui", "list", "-c", "test:///default", "-c", DEMO]
    out = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("Host ")
    assert any(ln.startswith("test:host.xml") and "web-01" in ln for ln in out.stdout.splitlines())
    bad = write(tmp_path, "[hosts.a\n")
    out = subprocess.run(
        [sys.executable, "-m", "xentui", "--config", str(bad), "list"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and out.stderr.startswith(f"xentui: error: {bad}:1:") and out.stderr.count("\n") == 1


def _frame(host: str, source: str, names: list[str], connected: bool = True) -> Frame:
    from xentui.model import Domain

    domains = tuple(
        Domain(n, i + 1, f"{source}-{n}", State.RUNNING, 1024, 1024, 1, 1, Mode.PV, host=host, source=source)
        for i, n in enumerate(names)
    )
    snap = Snapshot(HostInfo(host, source), domains, 1.0)
    return Frame(snap) if connected else Frame(snap, connected=False, error="gone", reason="gone", retry_in=8)


def test_fleet_frame_conditions_and_owners() -> None:
    a = HostStatus("a", "test+tcp://a/default", frame=_frame("a", "A", ["x", "y"]))
    b = HostStatus("b", "test+tcp://b/default", frame=_frame("b", "B", ["x"], connected=False))
    c = HostStatus("c", "test+tcp://c/default")
    auth = HostStatus("d", "d", frame=Frame(None, connected=False, error_kind="auth"))
    gone = HostStatus("e", "e", frame=Frame(None, connected=False))
    frame = FleetFrame.combine((a, b, c, auth, gone))
    assert [h.condition for h in frame.hosts] == [
        "connected",
        "disconnected",
        "connecting",
        "auth failed",
        "unreachable",
    ]
    assert [d.name for d in frame.domains] == ["x", "y", "x"]  # the same name on two hosts: two rows
    assert [frame.host_index(k) for k in frame.rows] == [0, 0, 1] and not frame.connected
    assert list(frame.rows) == [RowKey("a", "A-x"), RowKey("a", "A-y"), RowKey("b", "B-x")]
    with pytest.raises(UnknownRow):
        frame.host_index(RowKey("z", "A-x"))
    with pytest.raises(UnknownRow):
        frame.domain(RowKey("b", "A-y"))


async def test_table_groups_by_host_and_renders_only_the_host_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    real = DomainTable._render_cells

    def counting(self: DomainTable, d: Any, *args: Any, **kwargs: Any) -> Any:
        rendered.append(d.name)
        return real(self, d, *args, **kwargs)

    monkeypatch.setattr(DomainTable, "_render_cells", counting)
    app = XenTUI([LibvirtSource("test:///default"), LibvirtSource(DEMO)], interval=3600)
    monkeypatch.setattr(app.fleet, "start", lambda: None)  # frames come from this test alone
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(DomainTable)
        a = HostStatus("a", "A", frame=_frame("alpha", "A", ["zeta", "beta"]))
        b = HostStatus("b", "B", frame=_frame("bravo", "B", ["alpha", "omega"]))
        app.apply_frame(FleetFrame.combine((a, b)))
        await pilot.pause()
        # Grouped by host in the fleet's order, sorted (by ID) within each host.
        assert [table.cell_text(k, "name") for k in table.keys_in_order()] == ["zeta", "beta", "alpha", "omega"]
        assert table.cell_text(table.keys_in_order()[0], "host") == "alpha"  # the Host column
        rendered.clear()
        b2 = HostStatus("b", "B", frame=_frame("bravo", "B", ["alpha", "omega"]))  # b refreshed, a did not
        app.apply_frame(FleetFrame.combine((a, b2)))
        assert sorted(rendered) == ["alpha", "omega"]
        # b goes away: its rows stay, dimmed; a's rows are untouched.
        rendered.clear()
        app.apply_frame(FleetFrame.combine((a, HostStatus("b", "B", frame=_frame("bravo", "B", ["alpha"], False)))))
        await pilot.pause()  # a row set that changed is rendered as it is drawn
        assert rendered == ["alpha"]
        dim = table.keys_in_order()[2]
        assert all("dim" in table.column_styles(dim, k) for k, v in table.row_texts(dim).items() if v)
        await pilot.press("g")  # ungrouped: one order across hosts
        assert [table.cell_text(k, "name") for k in table.keys_in_order()] == ["alpha", "zeta", "beta"]


class _NoBulk:
    """A libvirt connection of a driver without getAllDomainStats (libvirt's xen driver)."""

    class Dom:
        def __init__(self, name: str, domid: int, info: list[int]) -> None:
            self._name, self._id, self._info = name, domid, info

        def name(self) -> str:
            return self._name

        def ID(self) -> int:
            return self._id

        def UUIDString(self) -> str:
            return f"00000000-0000-0000-0000-00000000000{self._id}"

        def info(self) -> list[int]:
            if self._name == "vanished":
                raise libvirt.libvirtError("Domain not found")
            return self._info

        def XMLDesc(self, _flags: int) -> str:
            return (
                f"<domain type='xen'><name>{self._name}</name><uuid>{self.UUIDString()}</uuid>"
                "<memory>262144</memory><vcpu>2</vcpu>"
                "<os><type machine='xenpvh'>xenpvh</type></os></domain>"
            )

    def getAllDomainStats(self, *_a: Any) -> Any:
        err = libvirt.libvirtError("this function is not supported by the connection driver")
        err.err = (libvirt.VIR_ERR_NO_SUPPORT, 0, "not supported", 2, "", "", "", 0, 0)
        raise err

    def listAllDomains(self, _flags: int) -> list[Any]:
        return [self.Dom("pvh1", 1, [1, 262144, 131072, 2, 5_000_000_000]), self.Dom("vanished", 2, [])]


def test_driver_without_bulk_stats_is_read_domain_by_domain() -> None:
    src = LibvirtSource("xen:///system")
    src._conn = _NoBulk()
    src._host = HostInfo("dom0", "xen:///system")
    snap = src.snapshot()
    (d,) = snap.domains
    assert (d.name, d.state, d.mode, d.memory_mib, d.max_memory_mib, d.vcpus, d.cpu_time_ns) == (
        "pvh1", State.RUNNING, Mode.PVH, 128, 256, 2, 5_000_000_000
    )  # fmt: skip
    assert src._bulk is False
    calls = src.calls
    src.snapshot()
    assert src.calls - calls == 3  # the list and one info per domain; XML not read again


def test_fleet_polls_each_host_on_its_own() -> None:
    class Slow:
        label, host_name, read_only = "slow", "slow", True

        def __init__(self) -> None:
            import threading

            self.release = threading.Event()

        def snapshot(self) -> Snapshot:
            self.release.wait(10)
            raise SourceError("too slow")

        def set_change_callback(self, cb: Any) -> None: ...
        def set_interval(self, seconds: float) -> None: ...
        def console(self, d: Any) -> Any: ...
        def lifecycle(self, d: Any, a: Any) -> None: ...
        def close(self) -> None: ...

    import threading

    got = threading.Event()
    frames: list[FleetFrame] = []

    def on_frame(f: FleetFrame) -> None:
        frames.append(f)
        got.set()

    slow = Slow()
    fleet = Fleet([slow, LibvirtSource("test:///default")], on_frame, interval=0.2)
    fleet.start()
    try:
        assert got.wait(10), "the fast host's frame did not come while the slow one hung"
        assert frames[0].hosts[0].condition == "connecting" and frames[0].hosts[1].condition == "connected"
    finally:
        slow.release.set()
        fleet.stop()
        fleet.join()


def test_source_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xentui.cli import _open, build_parser

    cfg = write(tmp_path, f'[hosts.cfg]\nuri = "{DEMO}"\n')
    monkeypatch.setenv("XENTUI_CONFIG", str(cfg))
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")

    def labels(*argv: str) -> list[str]:
        opened = _open(build_parser().parse_args(list(argv)))
        return [s.label for s in opened.sources]

    assert labels() == [DEMO]  # the config's hosts before LIBVIRT_DEFAULT_URI
    assert labels("-c", "test:///default", "--xl") == ["test:///default"]  # -c before --xl
    assert labels("--demo", "-c", "test:///default") == ["demo (libvirt test driver)"]
    monkeypatch.setenv("XENTUI_CONFIG", str(tmp_path / "none.toml"))
    assert labels() == ["test:///default"]


class _Counting(LibvirtSource):
    """A real test-driver source that counts its snapshots and closes."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.snapshots = 0
        self.closed = 0

    def snapshot(self) -> Snapshot:
        self.snapshots += 1
        return super().snapshot()

    def close(self) -> None:
        self.closed += 1
        super().close()


def test_fleet_is_a_context_manager_that_joins_its_pollers_and_closes_its_sources() -> None:
    import threading

    sources = [_Counting("test:///default"), _Counting(DEMO)]
    first = threading.Event()
    with Fleet(sources, lambda f: first.set(), interval=0.2) as fleet:
        fleet.start()
        assert first.wait(10)
        threads = list(fleet._threads)
    assert all(not t.is_alive() for t in threads)  # joined on exit
    assert [s.closed for s in sources] == [1, 1]
    fleet.close()  # closing again does nothing
    assert [s.closed for s in sources] == [1, 1]
    with pytest.raises(ValueError, match="two hosts named 'test:default'"):
        Fleet([LibvirtSource("test:///default"), LibvirtSource("test:///default")])


def test_faster_at_a_long_interval_takes_effect_at_once() -> None:
    """`+` at 30 s: the pollers are woken to wait for the new interval's tick, not the rest of 30 s."""
    import threading
    import time

    frames: list[float] = []
    seen = threading.Event()

    def on_frame(_f: FleetFrame) -> None:
        frames.append(time.monotonic())
        seen.set()

    with Fleet([_Counting("test:///default"), _Counting(DEMO)], on_frame, interval=30) as fleet:
        fleet.start()
        for _ in range(2):  # each host's first frame
            assert seen.wait(10)
            seen.clear()
        time.sleep(0.3)
        count, asked = len(frames), time.monotonic()
        fleet.set_interval(0.5)
        deadline = asked + 3
        while len(frames) < count + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(frames) >= count + 2, "the pollers went on waiting out the 30 s interval"
        assert frames[count + 1] - asked < 1.0  # both hosts, on the new interval's next tick
