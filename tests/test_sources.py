from __future__ import annotations

import os
import stat
import threading
import time
from dataclasses import replace
from pathlib import Path

import libvirt
import pytest
from conftest import FIXTURES

from xentui.model import Domain, Mode, Snapshot, State
from xentui.poller import Poller, compute_rates
from xentui.sources.base import (
    READ_ONLY,
    ActionError,
    CommandConsole,
    ConsoleRoute,
    Display,
    DisplayRoute,
    Lifecycle,
    Source,
    SourceError,
    check_lifecycle,
    lifecycle_choices,
)
from xentui.sources.demo import DemoSource
from xentui.sources.files import FilesSource
from xentui.sources.libvirt_source import LibvirtSource
from xentui.sources.xl import ToolstackSource


def fake_xl(tmp_path: Path, body: str) -> Path:
    """A stand-in `xl` on PATH that prints saved real outputs: exercises the real subprocess path."""
    script = tmp_path / "xl"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return tmp_path


REPLAY = f"""case "$1 $2" in
  "list ") cat {FIXTURES}/xl-list.txt ;;
  "list -l") cat {FIXTURES}/xl-list-long.json ;;
  "info "*) printf 'xen_major : 4\\nxen_minor : 17\\nxen_version : 4.17.7\\nnr_cpus : 2\\n' ;;
  *) echo "unexpected $*" >&2; exit 1 ;;
esac
"""


def test_xl_source_merges_list_and_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_xl(tmp_path, REPLAY)}:{os.environ['PATH']}")
    src = ToolstackSource("xl")
    snap = src.snapshot()
    by = {d.name: d for d in snap.domains}
    assert snap.host.hypervisor == "Xen 4.17.7"
    assert (by["hvmguest"].mode, by["hvmguest"].state, by["hvmguest"].id) == (Mode.HVM, State.RUNNING, 3)
    assert by["pvhguest"].mode is Mode.PVH and by["pvguest"].state is State.BLOCKED
    calls = src.calls
    src.snapshot()
    assert src.calls == calls + 1  # same domains: only `xl list` again
    assert src.console(by["pvguest"]) == CommandConsole(("xl", "console", "-t", "pv", "pvguest"))
    assert src.console(by["hvmguest"]) == CommandConsole(("xl", "console", "-t", "serial", "hvmguest"))
    with pytest.raises(ActionError, match="read-only"):
        src.lifecycle(by["pvguest"], Lifecycle.DESTROY)


def test_xl_hang_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_xl(tmp_path, 'exec sleep 30')}:{os.environ['PATH']}")
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"no answer within 0\.5 s"):
        ToolstackSource("xl", timeout=0.5).snapshot()
    assert time.monotonic() - started < 5


def test_xl_failure_reports_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = "echo 'libxl: error: cannot open /dev/xen/privcmd' >&2; exit 1"
    monkeypatch.setenv("PATH", f"{fake_xl(tmp_path, body)}:{os.environ['PATH']}")
    with pytest.raises(SourceError, match="privcmd"):
        ToolstackSource("xl").snapshot()


def test_demo_source_is_live_through_libvirt() -> None:
    clock = [1000.0]
    src = DemoSource(clock=lambda: clock[0])
    first = src.snapshot()
    assert first.host.demo and first.host.read_only
    by = {d.name: d for d in first.domains}
    assert by["Domain-0"].id == 0 and not by["Domain-0"].has_console
    assert by["mail-01"].state is State.PAUSED and by["backup-01"].state is State.SHUTOFF
    assert by["db-01"].pv_drivers and by["win2019"].graphics[0].exposed
    time.sleep(0.05)
    clock[0] += 41  # past the ci-runner's cycle: it is destroyed through the API
    second = src.snapshot()
    assert {d.name: d for d in second.domains}["ci-runner"].state is State.SHUTOFF
    rates = compute_rates(first, second)
    assert rates[by["build-pvh"].key].cpu_pct is not None
    with pytest.raises(ActionError, match="demo guest"):
        src.console(by["web-01"])
    with pytest.raises(ActionError, match="read-only"):
        src.lifecycle(by["web-01"], Lifecycle.PAUSE)
    src.close()


def test_files_source_rereads_changed_files(tmp_path: Path) -> None:
    f = tmp_path / "xl-list.txt"
    f.write_text((FIXTURES / "xl-list.txt").read_text())
    src = FilesSource([str(f)])
    assert len(src.snapshot().domains) == 4
    f.write_text("\n".join((FIXTURES / "xl-list.txt").read_text().splitlines()[:3]) + "\n")
    os.utime(f, (time.time() + 5, time.time() + 5))
    assert [d.name for d in src.snapshot().domains] == ["Domain-0", "pvguest"]


def test_poller_keeps_last_snapshot_and_backs_off() -> None:
    class Flaky:
        label, read_only = "flaky", True

        def __init__(self) -> None:
            self.inner = DemoSource()
            self.fail = False

        def snapshot(self):  # type: ignore[no-untyped-def]
            if self.fail:
                raise SourceError("flaky: connection reset")
            return self.inner.snapshot()

        def set_interval(self, seconds):  # type: ignore[no-untyped-def]
            pass

        def set_change_callback(self, cb):  # type: ignore[no-untyped-def]
            pass

    src = Flaky()
    poller = Poller(src, lambda f: None)  # type: ignore[arg-type]
    ok = poller.poll_once()
    src.fail = True
    bad1, bad2 = poller.poll_once(), poller.poll_once()
    assert not bad1.connected and bad1.snapshot is ok.snapshot and "connection reset" in bad1.error
    assert bad2.retry_in > bad1.retry_in
    src.fail = False
    assert poller.poll_once().connected


def test_libvirt_test_driver_bulk_calls_constant(tmp_path: Path) -> None:
    doms = "".join(
        f"<domain type='test'><name>g{i}</name><memory>1024</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
        for i in range(50)
    )
    (tmp_path / "n.xml").write_text(f"<node>{doms}</node>")
    src = LibvirtSource(f"test://{tmp_path}/n.xml")
    assert len(src.snapshot().domains) == 50
    before = src.calls
    src.snapshot()
    assert src.calls - before == 1  # one getAllDomainStats; XML cached for unchanged domains
    src.close()


def test_xl_with_no_domains_is_an_empty_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (
        'case "$1 $2" in\n  "list ") echo "Name ID Mem VCPUs\tState\tTime(s)" ;;\n'
        '  "list -l") echo "[]" ;;\n  *) ;;\nesac\n'
    )
    monkeypatch.setenv("PATH", f"{fake_xl(tmp_path, body)}:{os.environ['PATH']}")
    assert ToolstackSource("xl").snapshot().domains == ()


def test_each_source_states_what_it_can_do(tmp_path: Path) -> None:
    lv = LibvirtSource("qemu+ssh://root@kvm7:2222/system", read_only=False)
    xl = ToolstackSource("xl", name="dom0-a")
    demo = DemoSource(name="demo-b")
    files = FilesSource([str(FIXTURES / "xl-list.txt")])
    assert all(isinstance(s, Source) for s in (lv, xl, demo, files))
    assert (lv.host_name, lv.actions, lv.console_route, lv.display) == (
        "kvm7:2222", frozenset(Lifecycle), ConsoleRoute.STREAM, Display(DisplayRoute.TUNNEL, lv.uri)
    )  # fmt: skip
    assert LibvirtSource("qemu:///system").host_name == "qemu:system"
    assert LibvirtSource("qemu:///system").display == Display(DisplayRoute.LOCAL, "qemu:///system")
    assert (xl.host_name, xl.console_route, xl.display.route) == ("dom0-a", ConsoleRoute.COMMAND, DisplayRoute.LOCAL)
    assert Lifecycle.START not in xl.actions and Lifecycle.DESTROY in xl.actions  # xl starts from a file only
    assert (demo.host_name, demo.console_route, demo.actions) == ("demo-b", ConsoleRoute.NONE, frozenset(Lifecycle))
    assert (files.actions, files.console_route, files.display.route) == (
        frozenset(),
        ConsoleRoute.NONE,
        DisplayRoute.NONE,
    )
    demo.close()


def test_lifecycle_enum_choices_and_the_one_read_only_rule() -> None:
    assert [a.value for a in Lifecycle] == ["start", "shutdown", "reboot", "pause", "resume", "destroy"]
    assert [a for a in Lifecycle if a.destructive] == [Lifecycle.DESTROY]
    assert (Lifecycle.SHUTDOWN.verb, Lifecycle.SHUTDOWN.label) == ("Shut down", "Shut down (ask the guest)")
    assert f"{Lifecycle.PAUSE}" == "pause"

    def d(state: State, domid: int | None = 3, hv: str = "xen") -> Domain:
        return Domain("g", domid, "u", state, 1, 1, 1, 1, Mode.PV, hypervisor=hv)

    every = frozenset(Lifecycle)
    assert lifecycle_choices(d(State.SHUTOFF, None), every) == (Lifecycle.START,)
    assert lifecycle_choices(d(State.PAUSED), every) == (Lifecycle.RESUME, Lifecycle.DESTROY)
    assert lifecycle_choices(d(State.RUNNING), every) == (
        Lifecycle.SHUTDOWN, Lifecycle.REBOOT, Lifecycle.PAUSE, Lifecycle.DESTROY
    )  # fmt: skip
    assert lifecycle_choices(d(State.RUNNING, 0), every) == ()  # Domain-0
    assert lifecycle_choices(d(State.SHUTOFF, None), ToolstackSource("xl").actions) == ()  # xl cannot start by name
    # One rule, one message, whatever the source.
    for src in (LibvirtSource("test:///default"), ToolstackSource("xl"), DemoSource()):
        with pytest.raises(ActionError) as caught:
            check_lifecycle(src, Lifecycle.PAUSE)
        assert str(caught.value) == READ_ONLY and "--rw" in READ_ONLY
        with pytest.raises(ActionError, match=r"^read-only: start xentui with --rw"):
            src.lifecycle(d(State.RUNNING), Lifecycle.PAUSE)
    with pytest.raises(ActionError, match="no lifecycle actions"):
        check_lifecycle(FilesSource([str(FIXTURES / "xl-list.txt")]))
    with pytest.raises(ActionError, match="xl cannot start g by name"):
        ToolstackSource("xl", read_only=False).lifecycle(d(State.SHUTOFF, None), Lifecycle.START)


def test_metadata_change_event_rereads_the_xml_and_wakes_the_poller() -> None:
    """The test driver emits libvirt's metadata-change event: the new description is in the next snapshot,
    read again although the domain's state and ID did not change."""
    src = LibvirtSource("test:///default", read_only=False)
    woken = threading.Event()
    src.set_change_callback(woken.set)
    before = {d.name: d for d in src.snapshot().domains}["test"]
    assert "a changed description" not in before.config.raw  # type: ignore[union-attr]
    calls = src.calls
    src.snapshot()
    assert src.calls == calls + 1  # unchanged: no XML read
    dom = src._conn.lookupByName("test")  # the test driver's state lives in this connection only
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "a changed description", None, None, 0)
    assert woken.wait(5), "no metadata-change event"
    after = {d.name: d for d in src.snapshot().domains}["test"]
    assert "a changed description" in after.config.raw  # type: ignore[union-attr]
    src.close()


def test_poller_takes_a_new_interval_at_once() -> None:
    """At a 30 s interval, a shorter one set meanwhile gives the next frame within a fraction of a second."""
    frames: list[float] = []
    got = threading.Event()

    def on_frame(_f: object) -> None:
        frames.append(time.monotonic())
        got.set()

    src = DemoSource()
    poller = Poller(src, on_frame, interval=30)  # type: ignore[arg-type]
    t = threading.Thread(target=poller.run, daemon=True)
    t.start()
    try:
        assert got.wait(10)
        got.clear()
        time.sleep(0.2)
        asked = time.monotonic()
        poller.set_interval(0.5)
        assert got.wait(2), "the new interval waited for the old one"
        assert frames[-1] - asked < 1.0
    finally:
        poller.stop()
        t.join(5)
        src.close()
    assert not t.is_alive()


def test_poller_between_stream_frames_hands_back_the_last_frame_and_prefers_the_sources_cpu_pct() -> None:
    class Streaming:
        label, read_only = "stream", True

        def __init__(self) -> None:
            self.snap = DemoSource().snapshot()
            self.intervals: list[float] = []

        def snapshot(self) -> Snapshot:
            return self.snap

        def set_interval(self, seconds: float) -> None:
            self.intervals.append(seconds)

        def set_change_callback(self, cb: object) -> None:
            pass

    src = Streaming()
    poller = Poller(src, lambda f: None, interval=2.0)  # type: ignore[arg-type]
    first = poller.poll_once()
    assert poller.poll_once() is first  # the same snapshot again: no new frame, rates kept
    poller.set_interval(5.0)
    assert src.intervals == [5.0]
    web = next(d for d in src.snap.domains if d.name == "web-01")
    later = replace(
        src.snap,
        taken_at=src.snap.taken_at + 1,
        domains=tuple(replace(d, cpu_pct=42.5) if d is web else d for d in src.snap.domains),
    )
    src.snap = later
    second = poller.poll_once()
    assert second is not first and second.rates[web.key].cpu_pct == 42.5
