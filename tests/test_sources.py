from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from conftest import FIXTURES

from xentui.model import Mode, State
from xentui.poller import Poller, compute_rates
from xentui.sources.base import ActionError, CommandConsole, SourceError
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
        src.lifecycle(by["pvguest"], "destroy")


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
        src.lifecycle(by["web-01"], "pause")
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
