"""The libvirt source on a Xen dom0 takes its running figures from xentop's stream: libvirt's test driver plays
the connection, a stand-in `xentop` on PATH the dom0's (the real child, pipe and frame paths run)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES

from xentui.model import Domain, Snapshot, State
from xentui.sources.base import Lifecycle
from xentui.sources.dom0_figures import local_xen, xentop_for
from xentui.sources.libvirt_source import LibvirtSource
from xentui.sources.xentop_stream import XentopStream

HEAD = (
    "      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS NETTX(k) NETRX(k)"
    " VBDS   VBD_OO   VBD_RD   VBD_WR  VBD_RSECT  VBD_WSECT SSID"
)
# Frame n: CPU time 10+n s, 3.5 %, network and block counters growing by n; the names from FAKE_DIR/names.
XENTOP = f"""#!{sys.executable}
import os, sys, time
d = os.environ["FAKE_DIR"]
if os.path.exists(d + "/fail"):
    sys.exit("Failed to initialize xenstat library")
n = 0
while True:
    print({HEAD!r})
    for name in open(d + "/names").read().split():
        print(f"{{name:>10}} --b--- {{10 + n:10d}} {{3.5:6.1f}} {{524288:10d}}   1.0 {{524288:10d}}   1.0"
              f" 2 1 {{100 * n:8d}} {{200 * n:8d}} 1 0 {{3 * n:8d}} {{4 * n:8d}} {{30 * n:10d}} {{40 * n:10d}} 0")
    sys.stdout.flush()
    n += 1
    time.sleep(0.3)
"""
# xenstore-ls -f PATH: the lines of FAKE_DIR/xenstore under PATH, counted; xenstore-watch PATH: its set-up line,
# then each line appended to FAKE_DIR/events.
XENSTORE_LS = f"""#!{sys.executable}
import os, sys
d = os.environ["FAKE_DIR"]
open(d + "/xenstore-ls.calls", "a").write(sys.argv[-1] + "\\n")
sys.stdout.write("".join(ln for ln in open(d + "/xenstore") if ln.startswith(sys.argv[-1] + "/")))
"""
XENSTORE_WATCH = f"""#!{sys.executable}
import os, sys, time
print(sys.argv[1], flush=True)
events = open(os.environ["FAKE_DIR"] + "/events")
while True:
    line = events.readline()
    if line:
        print(line.strip(), flush=True)
    else:
        time.sleep(0.05)
"""


def guest_xenstore(fixture: str) -> str:
    """A real HVM guest's /local/domain/N (Xen 4.17 lab) as the test driver's domain 1's."""
    text = (FIXTURES / fixture).read_text()
    domid = text.split("/")[3]
    return text.replace(f"/local/domain/{domid}/", "/local/domain/1/")


@pytest.fixture
def dom0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, text in (("xentop", XENTOP), ("xenstore-ls", XENSTORE_LS), ("xenstore-watch", XENSTORE_WATCH)):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    (tmp_path / "xenstore").write_text(guest_xenstore("xen-4.17-xenstore-ls-hvmguest.txt"))
    (tmp_path / "events").write_text("")
    (tmp_path / "names").write_text("test\n")
    monkeypatch.setenv("FAKE_DIR", str(tmp_path))
    monkeypatch.setenv("PATH", f"{tmp_path}:{Path(sys.executable).parent}:/usr/bin:/bin")
    return tmp_path


@pytest.fixture
def source(dom0: Path) -> Iterator[LibvirtSource]:
    src = LibvirtSource("test:///default", read_only=False, xentop=XentopStream())
    yield src
    src.close()


def _until(source: LibvirtSource, check: Callable[[Domain], bool], what: str, timeout: float = 10) -> Snapshot:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        snap = source.snapshot()
        d = next(d for d in snap.domains if d.name == "test")
        if check(d):
            return snap
        time.sleep(0.05)
    raise AssertionError(f"never saw {what}")


def _test(snap: Snapshot) -> Domain:
    return next(d for d in snap.domains if d.name == "test")


def test_figures_come_from_xentop_and_libvirt_is_asked_only_when_the_domains_change(
    source: LibvirtSource, dom0: Path
) -> None:
    snap = _until(source, lambda d: d.cpu_pct == 3.5, "xentop's CPU%")
    d = _test(snap)
    assert d.memory_kib == 524288 and d.vcpus == 2
    assert d.io is not None and d.io.net_rx > 0 and d.io.block_write > 0
    assert d.cpu_time_ns is not None and d.cpu_time_ns % 1_000_000_000 == 0  # xentop's whole seconds
    assert snap.taken_at == source._dom0.stream.frame.taken_at  # type: ignore[union-attr]
    # Asked again before xentop's next frame (the poller's own timer): the very same snapshot, no new frame.
    for _ in range(20):
        a, b = source.snapshot(), source.snapshot()
        if a.taken_at == b.taken_at:
            assert a is b
            break
    else:
        raise AssertionError("never two snapshots of one frame")
    # Frames go on; libvirt is not asked again while its domains stay the same.
    calls = source.calls
    first = d.cpu_time_ns
    snap = _until(source, lambda d: d.cpu_time_ns is not None and d.cpu_time_ns >= first + 2_000_000_000, "2 s more")
    assert source.calls == calls
    # A domain xentop lists and the listing does not (one started by xl): libvirt is listed again, once.
    (dom0 / "names").write_text("test\nxl-started\n")
    end = time.monotonic() + 5
    while source.calls == calls and time.monotonic() < end:
        source.snapshot()
        time.sleep(0.05)
    assert source.calls > calls
    calls = source.calls
    time.sleep(1)
    source.snapshot()
    assert source.calls == calls
    assert "xl-started" not in {d.name for d in source.snapshot().domains}  # libvirt's domains, as before


def test_hvm_guests_frontends_come_from_xenstore_and_follow_its_backends(source: LibvirtSource, dom0: Path) -> None:
    """The live PV-driver triage of the xl source, on libvirt's xen driver: read once, then on backend events."""
    d = _test(_until(source, lambda d: d.frontends is not None, "the HVM guest's frontends"))
    assert {f.kind for f in d.frontends or () if f.connected} == {"vbd", "vif", "vkbd"}
    reads = (dom0 / "xenstore-ls.calls").read_text().count("\n")
    time.sleep(1.5)
    source.snapshot()
    assert (dom0 / "xenstore-ls.calls").read_text().count("\n") == reads  # not per refresh
    # The guest unloads its PV drivers: the backends move, the watch fires, the frontends are read again.
    (dom0 / "xenstore").write_text(guest_xenstore("xen-4.17-xenstore-ls-hvmnopv.txt"))
    with (dom0 / "events").open("a") as events:
        events.write("/local/domain/0/backend/vif/1/0/state\n")
    d = _test(_until(source, lambda d: not any(f.io and f.connected for f in d.frontends or ()), "no PV disk/net"))
    assert {f.kind for f in d.frontends or () if f.connected} == {"vkbd"}


def test_a_libvirt_event_lists_the_domains_again(source: LibvirtSource) -> None:
    snap = _until(source, lambda d: d.cpu_pct == 3.5, "xentop's CPU%")
    try:
        source.lifecycle(_test(snap), Lifecycle.PAUSE)
        _until(source, lambda d: d.state is State.PAUSED, "the pause, from the event", 5)
    finally:
        source.lifecycle(_test(source.snapshot()), Lifecycle.RESUME)
    _until(source, lambda d: d.state is State.RUNNING, "the resume", 5)


def test_while_xentop_fails_libvirt_gives_the_figures(dom0: Path) -> None:
    (dom0 / "fail").write_text("")
    source = LibvirtSource("test:///default", xentop=XentopStream())
    try:
        for _ in range(3):
            calls = source.calls
            d = _test(source.snapshot())
            assert source.calls > calls  # every refresh asks libvirt
            assert d.cpu_pct is None and d.memory_kib != 524288
            time.sleep(0.2)
    finally:
        source.close()


def test_the_interval_reaches_xentop(source: LibvirtSource) -> None:
    source.set_interval(3)
    assert source._dom0 is not None and source._dom0.stream.delay == 3


def test_only_this_dom0s_libvirt_uses_xentop(dom0: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_xen("xen:///system") and local_xen("xen:///") and local_xen("xen+unix:///system")
    assert not local_xen("xen+ssh://root@dom0/system") and not local_xen("qemu:///system")
    assert not local_xen("xen://dom0/system")
    assert xentop_for("xen:///system") is not None and xentop_for("qemu:///system") is None
    monkeypatch.setenv("PATH", "/nonexistent")
    assert xentop_for("xen:///system") is None  # no xentop here: libvirt's figures, as on any host
