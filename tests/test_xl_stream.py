"""The streaming xl source against stand-in `xentop`, `xl`, `xenstore-watch` and `xenstore-ls` programs on
PATH that replay real outputs of the Xen lab (tests/fixtures/xen-4.20-*): the real subprocess, thread and
restart paths run; only the dom0 is played."""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from xentui.model import Frontend, Mode, Snapshot, State
from xentui.parsers.tables import parse_xentop
from xentui.sources.base import ActionError, CommandConsole, SourceError
from xentui.sources.xenstore import Watches
from xentui.sources.xentop_stream import XentopStream
from xentui.sources.xl import NO_XENTOP, ToolstackSource

BATCH = FIXTURES / "xen-4.20-xentop-batch.txt"  # two frames of the lab's dom0 and three guests

# xentop -b: the fixture's frames in turn, one every FAKE_XENTOP_SLEEP (else -d) seconds, flushed each.
XENTOP = """
import os, sys, time
args = sys.argv[1:]
d = args[args.index("-d") + 1]
with open(os.environ["FAKE_DIR"] + "/xentop.calls", "a") as f:
    f.write(" ".join(args) + "\\n")
frames, cur = [], None
for line in open(os.environ.get("FAKE_XENTOP_BATCH", "{batch}")):
    if line.split()[:2] == ["NAME", "STATE"]:
        cur = [line]
        frames.append(cur)
    elif cur is not None and line.strip():
        cur.append(line)
mode = os.environ.get("FAKE_XENTOP_MODE", "")
if mode == "fail":
    sys.exit("Failed to initialize xenstat library")
n = 0
while True:
    sys.stdout.write("".join(frames[n % len(frames)]))
    sys.stdout.flush()
    n += 1
    if mode == "hang":
        time.sleep(3600)
    time.sleep(float(os.environ.get("FAKE_XENTOP_SLEEP") or d))
"""

# xl: list / list -l / info from files the test may rewrite; anything else recorded.
XL = """
import os, sys
d = os.environ["FAKE_DIR"]
args = sys.argv[1:]
with open(d + "/xl.calls", "a") as f:
    f.write(" ".join(args) + "\\n")
files = {"list -l": d + "/xl-list-l.json", "list": "{fixtures}/xen-4.20-xl-list.txt",
         "info": "{fixtures}/xen-4.20-xl-info.txt"}
name = files.get(" ".join(args))
if name is None:
    sys.exit(0)
if args == ["list", "-l"]:  # Xen 4.20's takes over a second in the lab's emulated dom0
    import time
    time.sleep(float(os.environ.get("FAKE_XL_LIST_L_SLEEP") or 0))
if not os.path.exists(name):
    sys.exit("libxl: error: libxl_domain.c: cannot retrieve the domain configurations")
sys.stdout.write(open(name).read())
"""

# xenstore-watch PATH: fires once when set up, then for every line of FAKE_DIR/events under PATH.
WATCH = """
import os, sys, time
path = sys.argv[1]
print(path, flush=True)
events = open(os.environ["FAKE_DIR"] + "/events")
while True:
    line = events.readline()
    if not line:
        time.sleep(0.02)
        continue
    line = line.strip()
    if line == path or line.startswith(path + "/"):
        print(line, flush=True)
"""

# xenstore-ls -f PATH: the keys of FAKE_DIR/xenstore.txt under PATH.
XS_LS = """
import os, sys
path = sys.argv[-1]
with open(os.environ["FAKE_DIR"] + "/xenstore-ls.calls", "a") as f:
    f.write(path + "\\n")
keys = [ln for ln in open(os.environ["FAKE_DIR"] + "/xenstore.txt") if ln.startswith(path + "/")]
if not keys:
    sys.exit("xenstore-ls: xs_directory (" + path + "): No such file or directory")
sys.stdout.write("".join(keys))
"""

# xenstore-list /local/domain: the domids of FAKE_DIR/xl-list-l.json (libxl keeps them in step).
XS_LIST = """
import json, os, sys
with open(os.environ["FAKE_DIR"] + "/xenstore-list.calls", "a") as f:
    f.write(sys.argv[-1] + "\\n")
domids = os.environ["FAKE_DIR"] + "/domids"  # when the test sets xenstore's domains apart from xl's
if os.path.exists(domids):
    sys.stdout.write(open(domids).read())
else:
    for r in json.load(open(os.environ["FAKE_DIR"] + "/xl-list-l.json")):
        print(r["domid"])
"""

# The HVM guest (domain 3) with its PV frontends: a vif connected, a vbd still initialising.
XENSTORE = """\
/local/domain/3/device = ""
/local/domain/3/device/vbd = ""
/local/domain/3/device/vbd/768 = ""
/local/domain/3/device/vbd/768/backend = "/local/domain/0/backend/vbd/3/768"
/local/domain/3/device/vbd/768/state = "1"
/local/domain/3/device/vif = ""
/local/domain/3/device/vif/0 = ""
/local/domain/3/device/vif/0/backend = "/local/domain/0/backend/vif/3/0"
/local/domain/3/device/vif/0/state = "4"
/local/domain/3/name = "hvmguest"
/local/domain/3/data/evil = "\\x1b]0;pwned\\007[bold red]x[/] "$(id)\\n"
"""


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!{sys.executable}\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@dataclass
class Dom0:
    dir: Path

    def calls(self, tool: str) -> list[str]:
        f = self.dir / f"{tool}.calls"
        return f.read_text().splitlines() if f.exists() else []

    def event(self, path: str) -> None:
        with (self.dir / "events").open("a") as f:
            f.write(path + "\n")

    def set_domains(self, records: list[dict[str, object]]) -> None:
        tmp = self.dir / "xl-list-l.tmp"
        tmp.write_text(json.dumps(records, indent=4))
        tmp.replace(self.dir / "xl-list-l.json")


@pytest.fixture
def dom0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dom0:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _script(bin_dir / "xentop", XENTOP.replace("{batch}", str(BATCH)))
    _script(bin_dir / "xl", XL.replace("{fixtures}", str(FIXTURES)))
    _script(bin_dir / "xenstore-watch", WATCH)
    _script(bin_dir / "xenstore-ls", XS_LS)
    _script(bin_dir / "xenstore-list", XS_LIST)
    (tmp_path / "events").write_text("")
    (tmp_path / "xenstore.txt").write_text(XENSTORE)
    (tmp_path / "xl-list-l.json").write_text((FIXTURES / "xen-4.20-xl-list-l.json").read_text())
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_DIR", str(tmp_path))
    monkeypatch.setenv("FAKE_XENTOP_SLEEP", "0.3")
    return Dom0(tmp_path)


class Woken:
    """The change callback: counts wakes, lets a test wait for the next one."""

    def __init__(self) -> None:
        self.count = 0
        self._cond = threading.Condition()

    def __call__(self) -> None:
        with self._cond:
            self.count += 1
            self._cond.notify_all()


def wait_for(src: ToolstackSource, test: Callable[[Snapshot], bool], timeout: float) -> Snapshot:
    end = time.monotonic() + timeout
    while True:
        snap = src.snapshot()
        if test(snap):
            return snap
        assert time.monotonic() < end, f"not within {timeout} s: {[d.name for d in snap.domains]} {snap.problems}"
        time.sleep(0.02)


@pytest.fixture
def source(dom0: Dom0) -> Iterator[ToolstackSource]:
    src = ToolstackSource("xl", timeout=5)
    yield src
    src.close()


async def rows_at_least(pilot: Any, table: Any, n: int) -> None:
    """Wait up to 10 s for the app's table to hold `n` rows."""
    for _ in range(200):
        if table.row_count >= n:
            return
        await pilot.pause(0.05)


def started_watches(source: ToolstackSource) -> Watches:
    """The source's xenstore watchers, once every one of them runs (their pids are known)."""
    source.set_change_callback(Woken())
    source.snapshot()
    watches = source._watches
    assert watches is not None
    end = time.monotonic() + 3
    while None in watches.pids:
        assert time.monotonic() < end
        time.sleep(0.02)
    return watches


def by_name(snap: Snapshot) -> dict[str, object]:
    return {d.name: d for d in snap.domains}


def test_frames_give_state_memory_cpu_pct_and_host(source: ToolstackSource, dom0: Dom0) -> None:
    first = source.snapshot()
    d = {x.name: x for x in first.domains}
    assert set(d) == {"Domain-0", "pvguest", "pvhguest", "hvmguest"}
    assert (d["hvmguest"].id, d["hvmguest"].mode, d["hvmguest"].memory_kib) == (3, Mode.HVM, 262188)
    assert d["pvguest"].state is State.BLOCKED and d["Domain-0"].vcpus == 2
    assert all(x.cpu_pct is None for x in first.domains)  # xentop's first frame has no earlier sample
    assert first.host.cpus == 2 and first.host.memory_kib == 3583 * 1024 and first.host.free_memory_kib == 978 * 1024
    assert first.host.hypervisor == "Xen 4.20.5-pre"
    assert first.problems == ()
    second = wait_for(source, lambda s: s is not first, 3)
    pct = {x.name: x.cpu_pct for x in second.domains}
    assert pct == {"Domain-0": 89.7, "hvmguest": 32.2, "pvguest": 1.4, "pvhguest": 5.9}  # frame 2, as xentop said
    assert second.taken_at > first.taken_at


def test_nothing_new_is_the_same_snapshot_and_no_fork_per_frame(source: ToolstackSource, dom0: Dom0) -> None:
    snap = source.snapshot()
    assert source.snapshot() is snap  # no new frame yet: the poller shows nothing new
    calls, xl_calls = source.calls, len(dom0.calls("xl"))
    frames = {snap.taken_at}
    end = time.monotonic() + 2
    while time.monotonic() < end:
        frames.add(source.snapshot().taken_at)
        time.sleep(0.05)
    assert len(frames) >= 4  # xentop's frames went by…
    assert source.calls == calls and len(dom0.calls("xl")) == xl_calls  # …and nothing was run for them
    assert len(dom0.calls("xentop")) == 1  # one xentop all along


def test_io_counters_from_xentop(dom0: Dom0, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Xen 4.9's `xl top` row of a guest with a vif and two vbds (tests/fixtures/pastes), as the lab's guest.
    header, *_ = BATCH.read_text().splitlines()
    row = "  hvmguest --b---          7    0.0    1048576    6.3    1049600       6.3     2    1      113       34"
    row += "    2        0     2495     1077     112010      31608    0"
    (tmp_path / "batch.txt").write_text(f"{header}\n{row}\n")
    monkeypatch.setenv("FAKE_XENTOP_BATCH", str(tmp_path / "batch.txt"))
    src = ToolstackSource("xl", timeout=5)
    try:
        io = {d.name: d.io for d in src.snapshot().domains}["hvmguest"]
        assert io is not None
        assert (io.net_tx, io.net_rx, io.block_read, io.block_write) == (
            113 * 1024,
            34 * 1024,
            112010 * 512,
            31608 * 512,
        )
    finally:
        src.close()


def test_interval_change_restarts_xentop_at_once(source: ToolstackSource, dom0: Dom0) -> None:
    source.set_interval(1.0)
    source.snapshot()
    stream = source._stream
    assert stream is not None and dom0.calls("xentop") == ["-b -f -d 1"]
    before = stream.pid
    source.set_interval(5.0)
    end = time.monotonic() + 2
    while len(dom0.calls("xentop")) < 2:
        assert time.monotonic() < end, "xentop was not restarted with the new interval"
        time.sleep(0.02)
    assert dom0.calls("xentop")[-1] == "-b -f -d 5" and stream.pid != before
    source.set_interval(0.5)  # xentop counts whole seconds
    end = time.monotonic() + 2
    while len(dom0.calls("xentop")) < 3:
        assert time.monotonic() < end
        time.sleep(0.02)
    assert dom0.calls("xentop")[-1] == "-b -f -d 1"


def test_killed_xentop_is_reported_and_restarted(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_XENTOP_SLEEP", "2")  # time to see the new xentop's first frame
    woken = Woken()
    source.set_change_callback(woken)
    good = source.snapshot()
    stream = source._stream
    assert stream is not None and stream.pid is not None
    os.kill(stream.pid, signal.SIGKILL)  # the xentop this test's source started
    hurt = wait_for(source, lambda s: bool(s.problems), 3)
    assert hurt.problems == ("xentop exited (killed by signal 9): restarting in 1 s",)
    assert {d.name for d in hurt.domains} == {d.name for d in good.domains}  # the last frame stays on screen
    healed = wait_for(source, lambda s: not s.problems, 4)
    assert len(dom0.calls("xentop")) == 2 and {d.name for d in healed.domains} == {d.name for d in good.domains}
    # The new xentop's first frame: no CPU% yet, and its CPU time is not measured against the old one's.
    assert all(d.cpu_pct is None and d.cpu_time_ns is None for d in healed.domains)
    assert woken.count >= 2


def test_xentop_that_fails_backs_off_and_says_why(dom0: Dom0, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_XENTOP_MODE", "fail")
    src = ToolstackSource("xl", timeout=5)
    try:
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            src.snapshot()  # no frame ever: the first snapshot says why at once, not after the timeout
        assert str(caught.value) == (
            "xentop: xentop exited (status 1: Failed to initialize xenstat library): restarting in 1 s"
        )
        assert time.monotonic() - started < 2
        stream = src._stream
        assert stream is not None
        end = time.monotonic() + 4
        while not stream.problem.endswith("restarting in 2 s"):
            assert time.monotonic() < end, stream.problem
            time.sleep(0.05)
        assert len(dom0.calls("xentop")) == 2
    finally:
        src.close()


def test_silent_xentop_is_killed_after_three_intervals(dom0: Dom0, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_XENTOP_MODE", "hang")
    stream = XentopStream(stall_grace_s=0.5)
    try:
        stream.start()
        assert stream.wait_frame(5) is not None
        end = time.monotonic() + 6
        while "printed nothing" not in stream.problem:
            assert time.monotonic() < end, "a silent xentop was never found out"
            time.sleep(0.05)
        assert stream.problem == "xentop printed nothing for 3.5 s: restarting in 1 s"
        assert stream.frame is not None  # the last frame stays
    finally:
        stream.close()


def test_watch_event_shows_new_and_destroyed_domains_within_a_second_at_interval_10(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_XENTOP_SLEEP", "")  # xentop's own -d 10
    source.set_interval(10.0)
    woken = Woken()
    source.set_change_callback(woken)
    first = source.snapshot()
    records = json.loads((FIXTURES / "xen-4.20-xl-list-l.json").read_text())
    new = json.loads(json.dumps(records[1]))
    new["domid"], new["config"]["c_info"]["name"], new["config"]["c_info"]["uuid"] = 7, "newguest", "1" * 32
    time.sleep(0.3)  # the watchers are set up
    dom0.set_domains([*records, new])
    started = time.monotonic()
    dom0.event("@introduceDomain")
    snap = wait_for(source, lambda s: "newguest" in {d.name for d in s.domains}, 1.0)
    assert time.monotonic() - started < 1.0
    guest = {d.name: d for d in snap.domains}["newguest"]
    assert (guest.id, guest.mode, guest.cpu_pct) == (7, Mode.PV, None)  # figures come with xentop's next frame
    assert len(dom0.calls("xentop")) == 1 and snap.taken_at == first.taken_at  # no new frame was needed
    dom0.set_domains([r for r in records if r["config"]["c_info"]["name"] != "pvguest"])
    reads, lists = dom0.calls("xl").count("list -l"), len(dom0.calls("xenstore-list"))
    started = time.monotonic()
    dom0.event("@releaseDomain")
    snap = wait_for(source, lambda s: "pvguest" not in {d.name for d in s.domains}, 1.0)
    assert time.monotonic() - started < 1.0 and "hvmguest" in {d.name for d in snap.domains}
    # Told by one xenstore-list, not by xl list -l (over a second on a small dom0).
    assert len(dom0.calls("xenstore-list")) == lists + 1 and dom0.calls("xl").count("list -l") == reads


def test_frontends_of_hvm_guests_and_backend_events(source: ToolstackSource, dom0: Dom0) -> None:
    woken = Woken()
    source.set_change_callback(woken)
    snap = source.snapshot()
    d = {x.name: x for x in snap.domains}
    assert d["hvmguest"].frontends == (Frontend("vbd", "768", 1), Frontend("vif", "0", 4))
    assert d["pvguest"].frontends is None and d["Domain-0"].frontends is None  # read for HVM guests only
    assert dom0.calls("xenstore-ls") == ["/local/domain/3/device"]
    time.sleep(0.3)  # the watchers are set up
    text = (dom0.dir / "xenstore.txt").read_text().replace('vbd/768/state = "1"', 'vbd/768/state = "4"')
    (dom0.dir / "xenstore.txt").write_text(text)
    for _ in range(20):  # a chatty backend: one read a second at most
        dom0.event("/local/domain/0/backend/vbd/3/768/state")
    snap = wait_for(source, lambda s: by_name(s)["hvmguest"].frontends[0].connected, 2.0)  # type: ignore[attr-defined]
    time.sleep(1.5)
    source.snapshot()
    assert 2 <= len(dom0.calls("xenstore-ls")) <= 3
    dom0.event("/local/domain/0/backend/vif/1/0/state")  # a PV guest's backend: nothing to read
    time.sleep(1.2)
    source.snapshot()
    assert len(dom0.calls("xenstore-ls")) <= 3


def test_read_xenstore_keeps_hostile_values_as_text(source: ToolstackSource, dom0: Dom0) -> None:
    snap = source.snapshot()
    d = {x.name: x for x in snap.domains}
    entries = {e.path: e.value for e in source.read_xenstore(d["hvmguest"])}
    assert entries["/local/domain/3/name"] == "hvmguest"
    assert entries["/local/domain/3/data/evil"] == '\x1b]0;pwned\x07[bold red]x[/] "$(id)\n'
    with pytest.raises(ActionError, match="xenstore of pvguest"):
        source.read_xenstore(d["pvguest"])  # the stand-in holds nothing for it: the reason, in one line


def test_console_and_lifecycle_go_through_the_runner(dom0: Dom0) -> None:
    class Prefixed:
        """A runner that runs everything through `env` (as an ssh runner wraps it in ssh)."""

        where = "test"

        def argv(self, command: list[str], tty: bool = False) -> list[str]:
            return ["env", "XENTUI_TTY=1" if tty else "XENTUI_TTY=0", *command]

        def run(self, command: list[str], timeout: float = 10.0) -> str:
            from xentui.sources.commands import run

            return run(self.argv(command), timeout)

        def close(self) -> None:
            pass

    src = ToolstackSource("xl", read_only=False, timeout=5, runner=Prefixed())
    try:
        d = {x.name: x for x in src.snapshot().domains}
        assert src.console(d["pvguest"]) == CommandConsole(
            ("env", "XENTUI_TTY=1", "xl", "console", "-t", "pv", "pvguest")
        )
        evil = "$(touch /tmp/xentui-pwned);x"
        from dataclasses import replace

        src.lifecycle(replace(d["pvguest"], name=evil), "pause")  # type: ignore[arg-type]
        assert dom0.calls("xl")[-1] == f"pause {evil}" and not Path("/tmp/xentui-pwned").exists()
    finally:
        src.close()


def test_hostile_names_in_the_stream_stay_text(dom0: Dom0, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header, dom0_row, *_ = BATCH.read_text().splitlines()
    evil = "\x1b[2J[b]x[/b]$(id)"
    row = dom0_row.replace("  Domain-0", evil, 1)
    (tmp_path / "batch.txt").write_text(f"{header}\n{dom0_row}\n{row}\n")
    monkeypatch.setenv("FAKE_XENTOP_BATCH", str(tmp_path / "batch.txt"))
    src = ToolstackSource("xl", timeout=5)
    try:
        names = {d.name for d in src.snapshot().domains}
        assert evil in names
    finally:
        src.close()


def test_without_xentop_xl_list_is_polled_and_said(dom0: Dom0) -> None:
    (dom0.dir / "bin" / "xentop").unlink()
    src = ToolstackSource("xl", timeout=5)
    try:
        snap = src.snapshot()
        assert NO_XENTOP in snap.problems and {d.name for d in snap.domains} >= {"hvmguest", "pvguest"}
        assert src.snapshot() is not snap  # polled: every refresh is new
    finally:
        src.close()


def test_fixture_frames_parse_with_cpu_pct() -> None:
    rows = parse_xentop(BATCH.read_text())
    assert {r.name: r.cpu_pct for r in rows}["Domain-0"] == 89.7


def test_a_killed_watcher_is_reported_restarted_and_events_flow_again(source: ToolstackSource, dom0: Dom0) -> None:
    watches = started_watches(source)
    xl_list_l = dom0.calls("xl").count("list -l")
    os.kill(watches.pids[0], signal.SIGKILL)  # the @introduceDomain watcher this source started
    hurt = wait_for(source, lambda s: bool(s.problems), 3)
    assert hurt.problems == (
        "xenstore-watch exited (killed by signal 9): restarting in 1 s (watching @introduceDomain)",
    )
    wait_for(source, lambda s: not s.problems, 4)
    # Events may have been missed while it was down: `xl list -l` is read again once it is back (on its thread).
    end = time.monotonic() + 2
    while dom0.calls("xl").count("list -l") == xl_list_l:
        assert time.monotonic() < end, "xl list -l was not read again"
        time.sleep(0.05)
    assert dom0.calls("xl").count("list -l") == xl_list_l + 1
    records = json.loads((FIXTURES / "xen-4.20-xl-list-l.json").read_text())
    dom0.set_domains(records[:3])
    dom0.event("@introduceDomain")
    wait_for(source, lambda s: "hvmguest" not in {d.name for d in s.domains}, 1.0)


def test_without_xenstore_watch_the_header_says_so(dom0: Dom0) -> None:
    (dom0.dir / "bin" / "xenstore-watch").unlink()
    src = ToolstackSource("xl", timeout=5)
    try:
        src.set_change_callback(Woken())
        snap = wait_for(src, lambda s: bool(s.problems), 3)
        assert snap.problems == ("xenstore-watch: command not found: changes made elsewhere show at the next frame",)
    finally:
        src.close()


def test_one_shot_list_leaves_no_process_behind(dom0: Dom0) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "xentui", "--xl", "list"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert {"Domain-0", "pvguest", "pvhguest", "hvmguest"} <= set(done.stdout.split())
    assert done.stderr == ""
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", str(dom0.dir)], capture_output=True, text=True, check=False)
    assert left.stdout == "", "a child of the source outlived it"


def test_rates_stand_when_an_event_recomposes_the_same_frame(source: ToolstackSource, dom0: Dom0) -> None:
    from dataclasses import replace

    from xentui.poller import compute_rates

    first = source.snapshot()
    second = wait_for(source, lambda s: s is not first, 3)
    rates = compute_rates(first, second)
    assert rates[by_name(second)["hvmguest"].key].cpu_pct == 32.2  # type: ignore[attr-defined]
    # What an event between two frames hands over: the same frame's figures, another set of domains.
    recomposed = replace(second, domains=second.domains[:3])
    assert compute_rates(second, recomposed, rates) == rates
    assert compute_rates(second, replace(second, taken_at=second.taken_at - 1), rates) == {}


def test_a_rebooting_guest_twice_in_a_frame(dom0: Dom0, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `xl reboot`: the old domain dying while its successor of the same name runs, both in one xentop frame.
    header, d0, hvm, pv, pvh = BATCH.read_text().splitlines()[:5]
    dying = hvm.replace("------", "d-----", 1)
    (tmp_path / "batch.txt").write_text("\n".join([header, d0, dying, hvm, pv, pvh]) + "\n")
    monkeypatch.setenv("FAKE_XENTOP_BATCH", str(tmp_path / "batch.txt"))
    src = ToolstackSource("xl", timeout=5)
    try:
        d = {x.name: x for x in src.snapshot().domains}
        assert set(d) == {"Domain-0", "hvmguest", "pvguest", "pvhguest"}
        assert d["hvmguest"].state is State.RUNNING
    finally:
        src.close()


def test_configurations_that_cannot_be_read_are_said_and_rows_still_shown(dom0: Dom0) -> None:
    (dom0.dir / "xl-list-l.json").unlink()
    src = ToolstackSource("xl", timeout=5)
    try:
        snap = src.snapshot()
        assert {d.name for d in snap.domains} == {"Domain-0", "pvguest", "pvhguest", "hvmguest"}
        assert all(d.mode is Mode.UNKNOWN for d in snap.domains)
        assert snap.problems == (
            "configurations not read: xl list -l: libxl: error: libxl_domain.c: cannot retrieve the domain "
            "configurations",
        )
    finally:
        src.close()


def test_frontends_read_again_when_the_backend_watcher_is_back(source: ToolstackSource, dom0: Dom0) -> None:
    watches = started_watches(source)
    reads = len(dom0.calls("xenstore-ls"))
    os.kill(watches.pids[2], signal.SIGKILL)  # the backends' watcher this source started
    wait_for(source, lambda s: bool(s.problems), 3)
    wait_for(source, lambda s: not s.problems, 4)
    end = time.monotonic() + 2
    while len(dom0.calls("xenstore-ls")) == reads:  # what changed while it was down is read again
        assert time.monotonic() < end, "the frontends were not read again"
        source.snapshot()
        time.sleep(0.05)
    assert dom0.calls("xenstore-ls")[reads:] == ["/local/domain/3/device"]


def test_the_xen_417_lab_with_eight_guests(dom0: Dom0, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real captures of the lab's dom0 (xentop with traffic, xl list -l, xenstore-ls of both HVM guests)."""
    from xentui.poller import compute_rates

    monkeypatch.setenv("FAKE_XENTOP_BATCH", str(FIXTURES / "xen-4.17-xentop-batch-8guests.txt"))
    (dom0.dir / "xl-list-l.json").write_text((FIXTURES / "xen-4.17-xl-list-l-8guests.txt").read_text())
    (dom0.dir / "xenstore.txt").write_text(
        (FIXTURES / "xen-4.17-xenstore-ls-hvmguest.txt").read_text()
        + (FIXTURES / "xen-4.17-xenstore-ls-hvmnopv.txt").read_text()
    )
    src = ToolstackSource("xl", timeout=5)
    try:
        first = src.snapshot()
        d = {x.name: x for x in first.domains}
        assert len(d) == 9 and (d["hvmguest"].id, d["hvmnopv"].id, d["pvsmall2"].id) == (18, 19, 16)
        assert d["pvguest"].io is not None and d["pvguest"].io.block_write == 49152 * 512
        hvm, nopv = d["hvmguest"].frontends, d["hvmnopv"].frontends
        assert hvm is not None and [f.kind for f in hvm if f.connected] == ["vbd", "vif", "vkbd"]
        assert nopv is not None and [f.kind for f in nopv if f.connected] == ["vkbd"]
        assert sorted(dom0.calls("xenstore-ls")) == ["/local/domain/18/device", "/local/domain/19/device"]
        second = wait_for(src, lambda s: s is not first, 3)
        rates = compute_rates(first, second)
        by_key = {x.name: rates[x.key] for x in second.domains}
        assert by_key["Domain-0"].cpu_pct == 30.8 and by_key["hvmnopv"].cpu_pct == 1.7  # xentop's own
        assert by_key["pvguest"].net_rx_bps is not None and by_key["pvguest"].net_rx_bps > 0  # 8 → 9 KiB
        assert by_key["pvguest"].net_tx_bps == 0.0
    finally:
        src.close()


EVIL_NAMES = ("[bold red]x[/]", "\x1b]52;c;cHduZWQ=\x07osc", "\u202eevil", "[@click=app.quit]q[/]")


async def test_hostile_names_and_values_through_the_stream_stay_inert_on_screen(
    dom0: Dom0, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard on the stream: names from xentop's rows and values from xenstore-ls, both written by
    whoever named or runs the guest, are shown as text (escapes visible), never as markup or terminal codes."""
    from xentui.ui.app import XenTUI
    from xentui.ui.widgets.domain_table import DomainTable
    from xentui.ui.widgets.xenstore_view import XenstoreView

    header, d0, hvm, *_ = BATCH.read_text().splitlines()
    rows = [d0, hvm] + [hvm.replace("  hvmguest", f"  {name}", 1) for name in EVIL_NAMES]
    (tmp_path / "batch.txt").write_text("\n".join([header, *rows]) + "\n")
    monkeypatch.setenv("FAKE_XENTOP_BATCH", str(tmp_path / "batch.txt"))
    records = json.loads((FIXTURES / "xen-4.20-xl-list-l.json").read_text())
    dom0.set_domains([r for r in records if r["domid"] in (0, 3)])  # as xentop shows them: the others, no config
    src = ToolstackSource("xl", timeout=5)
    app = XenTUI([src], interval=1.0)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            table = app.query_one(DomainTable)
            await rows_at_least(pilot, table, 6)
            shown = [table.cell_text(k, "name") for k in table.keys_in_order()]
            assert "[bold red]x[/]" in shown and "[@click=app.quit]q[/]" in shown
            assert "\\x1b]52;c;cHduZWQ=\\x07osc" in shown
            assert all("\x1b" not in s and "\x07" not in s and "\u202e" not in s for s in shown)
            for _ in range(table.row_count):  # the HVM guest, whose xenstore holds a hostile value
                if table.selected is not None and table.selected.name == "hvmguest":
                    break
                await pilot.press("down")
            await pilot.press("X")
            view = app.query_one(XenstoreView)
            for _ in range(100):
                await pilot.pause(0.05)
                if "evil" in view.body.plain:
                    break
            body = view.body.plain
            assert '  evil = "\\x1b]0;pwned\\x07[bold red]x[/] "$(id)\\x0a"' in body.splitlines(), body
            assert "\x1b" not in body and "\x07" not in body
            assert app.is_running
    finally:
        app.fleet.stop()
        src.close()


def test_a_new_domain_xl_list_l_does_not_list_yet_is_read_again_shortly(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Xen 4.20: @introduceDomain fires while xl list -l cannot list the new domain yet; at --interval 10 the
    next xentop frame would be up to 10 s away, so the source reads xl list -l again until it is there."""
    monkeypatch.setenv("FAKE_XENTOP_SLEEP", "")  # xentop's own -d 10
    source.set_interval(10.0)
    source.set_change_callback(Woken())
    source.snapshot()
    records = json.loads((FIXTURES / "xen-4.20-xl-list-l.json").read_text())
    new = json.loads(json.dumps(records[1]))
    new["domid"], new["config"]["c_info"]["name"], new["config"]["c_info"]["uuid"] = 7, "newguest", "1" * 32
    time.sleep(0.3)  # the watchers are set up
    (dom0.dir / "domids").write_text("".join(f"{r['domid']}\n" for r in [*records, new]))
    reads = dom0.calls("xl").count("list -l")
    dom0.event("@introduceDomain")  # xl list -l does not list it yet
    end = time.monotonic() + 1.2
    while time.monotonic() < end:  # as the poller does when woken
        source.snapshot()
        time.sleep(0.05)
    assert dom0.calls("xl").count("list -l") >= reads + 2  # read on the event, and again since
    dom0.set_domains([*records, new])  # the creation ends
    started = time.monotonic()
    wait_for(source, lambda s: "newguest" in {d.name for d in s.domains}, 1.5)
    assert time.monotonic() - started < 1.5
    calls = len(dom0.calls("xl"))
    time.sleep(1.2)
    assert len(dom0.calls("xl")) == calls  # found: no more reads


# A PV guest being created (domain 7) as Xen 4.20's xenstore holds it while `xl list -l` does not list it yet.
NEW_UUID = "11111111-2222-4333-8444-555555555555"
NEW_GUEST_XENSTORE = f"""\
/local/domain/7 = ""
/local/domain/7/vm = "/vm/{NEW_UUID}"
/local/domain/7/name = "NAME"
/local/domain/7/domid = "7"
/local/domain/7/cpu = ""
/local/domain/7/cpu/0 = ""
/local/domain/7/cpu/0/availability = "online"
/local/domain/7/cpu/1 = ""
/local/domain/7/cpu/1/availability = "offline"
/local/domain/7/memory = ""
/local/domain/7/memory/static-max = "131072"
/local/domain/7/memory/target = "131072"
"""


class Creation:
    """A domain whose creation is under way in the stand-in dom0: in xenstore first, in `xl list -l` later."""

    def __init__(self, dom0: Dom0, name: str = "newguest") -> None:
        self.dom0 = dom0
        self.records = json.loads((FIXTURES / "xen-4.20-xl-list-l.json").read_text())
        self.record = json.loads(json.dumps(self.records[1]))  # pvguest's configuration, as domain 7
        self.record["domid"] = 7
        self.record["config"]["c_info"].update(name="newguest", uuid=NEW_UUID)
        self.name = name  # as xenstore-ls prints it (escaped)
        self.base = (dom0.dir / "xenstore.txt").read_text()

    def in_xenstore(self) -> None:
        (self.dom0.dir / "xenstore.txt").write_text(self.base + NEW_GUEST_XENSTORE.replace("NAME", self.name))
        (self.dom0.dir / "domids").write_text("".join(f"{r['domid']}\n" for r in [*self.records, self.record]))
        self.dom0.event("@introduceDomain")

    def listed(self) -> None:
        self.dom0.set_domains([*self.records, self.record])

    def gone(self) -> None:
        (self.dom0.dir / "xenstore.txt").write_text(self.base)
        (self.dom0.dir / "domids").write_text("".join(f"{r['domid']}\n" for r in self.records))
        self.dom0.set_domains(self.records)
        self.dom0.event("@releaseDomain")


def _at_interval_10(source: ToolstackSource, monkeypatch: pytest.MonkeyPatch) -> Snapshot:
    monkeypatch.setenv("FAKE_XENTOP_SLEEP", "")  # xentop's own -d 10: no frame comes to the rescue
    source.set_interval(10.0)
    started_watches(source)
    return source.snapshot()


def test_a_domain_being_created_shows_from_xenstore_at_once_then_as_xl_lists_it(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Xen 4.20: @introduceDomain fires long before `xl list -l` lists the domain (and each read takes over a
    second): its row comes from xenstore at once, pending, and the real one takes its place later."""
    monkeypatch.setenv("FAKE_XL_LIST_L_SLEEP", "1.5")
    first = _at_interval_10(source, monkeypatch)
    creation = Creation(dom0)
    started = time.monotonic()
    creation.in_xenstore()
    snap = wait_for(source, lambda s: "newguest" in by_name(s), 0.6)  # not after a 1.5 s `xl list -l`
    assert time.monotonic() - started < 0.6 and snap.taken_at == first.taken_at  # no xentop frame needed
    row = by_name(snap)["newguest"]
    assert (row.id, row.state, row.mode, row.details_pending) == (7, State.UNKNOWN, Mode.UNKNOWN, True)  # type: ignore[attr-defined]
    assert (row.memory_kib, row.vcpus, row.max_vcpus, row.uuid) == (131072, 1, 2, NEW_UUID)  # type: ignore[attr-defined]
    assert row.cpu_pct is None and row.source == "xl" and row.host == snap.host.hostname  # type: ignore[attr-defined]
    assert {"Domain-0", "pvguest", "pvhguest", "hvmguest"} < set(by_name(snap))
    assert dom0.calls("xenstore-ls")[-1] == "/local/domain/7"
    time.sleep(2)  # `xl list -l` read again meanwhile, still without it: the row stays
    assert by_name(wait_for(source, lambda s: True, 0))["newguest"].details_pending  # type: ignore[attr-defined]
    creation.listed()
    snap = wait_for(source, lambda s: not by_name(s)["newguest"].details_pending, 4)  # type: ignore[attr-defined]
    real = by_name(snap)["newguest"]
    assert (real.id, real.mode, real.key) == (7, Mode.PV, row.key)  # type: ignore[attr-defined]
    assert real.config is not None and len(snap.domains) == 5  # type: ignore[attr-defined]
    assert dom0.calls("xenstore-ls").count("/local/domain/7") == 1  # read once, not at every retry
    # Listed: nothing is run any more while nothing changes (no retry, no xenstore read per refresh).
    time.sleep(0.2)
    calls, forks = source.calls, {t: len(dom0.calls(t)) for t in ("xl", "xenstore-ls", "xenstore-list")}
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        source.snapshot()
        time.sleep(0.05)
    assert source.calls == calls and {t: len(dom0.calls(t)) for t in forks} == forks


def test_a_domain_whose_creation_fails_leaves_with_its_xenstore(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    _at_interval_10(source, monkeypatch)
    creation = Creation(dom0)
    creation.in_xenstore()
    wait_for(source, lambda s: "newguest" in by_name(s), 1.0)
    started = time.monotonic()
    creation.gone()  # libxl removes /local/domain/7 as the creation fails
    snap = wait_for(source, lambda s: "newguest" not in by_name(s), 1.0)
    assert time.monotonic() - started < 1.0
    assert set(by_name(snap)) == {"Domain-0", "pvguest", "pvhguest", "hvmguest"}
    settled = time.monotonic() + 0.5  # the read begun before it went is applied…
    while time.monotonic() < settled:
        assert "newguest" not in by_name(source.snapshot())  # …without bringing it back
        time.sleep(0.05)
    calls = source.calls
    end = time.monotonic() + 1.2
    while time.monotonic() < end:
        source.snapshot()
        time.sleep(0.05)
    assert source.calls == calls  # nothing left to wait for: no more reads


def test_a_domain_that_vanishes_without_a_release_event_leaves_at_the_next_look(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retries look at xenstore again: a domain gone meanwhile (its @releaseDomain missed) goes too."""
    _at_interval_10(source, monkeypatch)
    creation = Creation(dom0)
    creation.in_xenstore()
    wait_for(source, lambda s: "newguest" in by_name(s), 1.0)
    (dom0.dir / "domids").write_text("".join(f"{r['domid']}\n" for r in creation.records))
    wait_for(source, lambda s: "newguest" not in by_name(s), 1.5)


def test_a_frame_that_lists_the_new_domain_gives_its_figures_to_the_pending_row(
    dom0: Dom0, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = BATCH.read_text().splitlines()[:5]  # the first frame, and the new domain in it
    pv = next(r for r in frame if " pvguest " in r)
    (tmp_path / "batch.txt").write_text("\n".join([*frame, pv.replace(" pvguest ", "newguest ", 1)]) + "\n")
    src = ToolstackSource("xl", timeout=5)
    try:
        started_watches(src)
        first = src.snapshot()
        Creation(dom0).in_xenstore()
        wait_for(src, lambda s: "newguest" in by_name(s), 1.0)
        monkeypatch.setenv("FAKE_XENTOP_BATCH", str(tmp_path / "batch.txt"))
        src.set_interval(2.0)  # a new xentop, on the new batch: its frames list the new domain
        snap = wait_for(src, lambda s: by_name(s)["newguest"].state is not State.UNKNOWN, 4)  # type: ignore[attr-defined]
        assert snap.taken_at > first.taken_at
        row = by_name(snap)["newguest"]
        pvguest = by_name(snap)["pvguest"]
        assert (row.id, row.details_pending, row.state) == (7, True, pvguest.state)  # type: ignore[attr-defined]
        assert row.memory_kib == pvguest.memory_kib and row.io == pvguest.io  # type: ignore[attr-defined]
        assert len([d for d in snap.domains if d.name == "newguest"]) == 1
    finally:
        src.close()


HOSTILE_IN_XENSTORE = "\\x1b[2J[b]x[/b]\\007$(id)"  # as xenstore-ls prints it
HOSTILE = "\x1b[2J[b]x[/b]\x07$(id)"


async def test_a_hostile_name_from_xenstore_stays_inert(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xentui.ui.app import XenTUI
    from xentui.ui.widgets.domain_table import DomainTable

    monkeypatch.setenv("FAKE_XENTOP_SLEEP", "")
    app = XenTUI([source], interval=10.0)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            table = app.query_one(DomainTable)
            await rows_at_least(pilot, table, 4)
            await pilot.pause(0.3)  # the watchers are set up
            Creation(dom0, HOSTILE_IN_XENSTORE).in_xenstore()
            assert HOSTILE in {d.name for d in wait_for(source, lambda s: HOSTILE in by_name(s), 1.0).domains}
            for _ in range(100):
                if table.row_count >= 5:
                    break
                await pilot.pause(0.05)
            shown = [table.cell_text(k, "name") for k in table.keys_in_order()]
            assert "\\x1b[2J[b]x[/b]\\x07$(id)" in shown, shown  # as text, escapes visible
            assert all("\x1b" not in s and "\x07" not in s for s in shown)
            assert app.is_running
    finally:
        app.fleet.stop()


def test_introduced_domain_takes_only_well_formed_values() -> None:
    from xentui.model import XenstoreEntry
    from xentui.sources.xenstore import introduced_domain

    def entries(**keys: str) -> tuple[XenstoreEntry, ...]:
        return tuple(XenstoreEntry(f"/local/domain/9/{k.replace('_', '/')}", v) for k, v in keys.items())

    assert introduced_domain(entries(vm=f"/vm/{NEW_UUID}"), 9) is None  # no name yet: no row
    assert introduced_domain(entries(name=""), 9) is None
    d = introduced_domain(entries(name="[b]x", vm="/vm/$(id)", memory_target="1e9", cpu_x="", cpu_0=""), 9)
    assert d is not None
    assert (d.name, d.id, d.uuid, d.memory_kib, d.vcpus, d.max_vcpus) == ("[b]x", 9, None, None, 1, 1)
    assert introduced_domain(entries(name="a", memory_target="\u0661\u0662"), 9).memory_kib is None  # type: ignore[union-attr]
    # Another domain's keys (a prefix of its ID) are not its own.
    other = (XenstoreEntry("/local/domain/91/name", "other"), XenstoreEntry("/local/domain/9/name", "mine"))
    assert introduced_domain(other, 9).name == "mine"  # type: ignore[union-attr]


def test_a_creation_slower_than_the_quick_reads_is_still_looked_for_less_often(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HVM guest's device model can keep its creation going past the quick reads: its row, pending, is
    still looked for (1 s, then 2 s, 4 s… up to 30 s apart), not left pending until some other change."""
    import xentui.sources.xl as xl

    monkeypatch.setattr(xl, "INTRODUCED_RETRIES", 1)
    _at_interval_10(source, monkeypatch)
    creation = Creation(dom0)
    reads = dom0.calls("xl").count("list -l")
    creation.in_xenstore()
    wait_for(source, lambda s: "newguest" in by_name(s), 1.0)
    end = time.monotonic() + 2.2  # the read the event asks for, the one quick retry (0.5 s), one 1 s later
    while time.monotonic() < end:  # as the poller does when woken
        source.snapshot()
        time.sleep(0.05)
    assert dom0.calls("xl").count("list -l") == reads + 3
    creation.listed()
    wait_for(source, lambda s: not by_name(s)["newguest"].details_pending, 3)  # type: ignore[attr-defined]


class Polling:
    """The poller's part: one thread that takes a snapshot whenever the source wakes it (or every 0.1 s)."""

    def __init__(self, source: ToolstackSource) -> None:
        self.source, self.latest = source, source.snapshot()
        self._woken, self._stop = threading.Event(), False
        source.set_change_callback(self._woken.set)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            self._woken.wait(0.1)
            self._woken.clear()
            self.latest = self.source.snapshot()

    def wait_for(self, test: Callable[[Snapshot], bool], timeout: float) -> None:
        end = time.monotonic() + timeout
        while not test(self.latest):
            assert time.monotonic() < end, f"not within {timeout} s: {[d.name for d in self.latest.domains]}"
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop = True
        self._thread.join(10)


def test_an_event_during_a_slow_xl_list_l_is_handled_at_once(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read of `xl list -l` under way (begun at a xentop frame, an earlier event…) does not hold the next
    event: the new domain's row comes from xenstore while the read runs."""
    _at_interval_10(source, monkeypatch)
    monkeypatch.setenv("FAKE_XL_LIST_L_SLEEP", "2")
    polling = Polling(source)
    try:
        reads = dom0.calls("xl").count("list -l")
        dom0.event("@introduceDomain")  # nothing new: a read, 2 s long
        end = time.monotonic() + 2
        while dom0.calls("xl").count("list -l") == reads:
            assert time.monotonic() < end
            time.sleep(0.02)
        started = time.monotonic()
        Creation(dom0).in_xenstore()
        polling.wait_for(lambda s: "newguest" in by_name(s), 0.8)
        assert time.monotonic() - started < 0.8
    finally:
        polling.stop()


def test_a_read_begun_before_a_domain_went_does_not_bring_it_back(
    source: ToolstackSource, dom0: Dom0, monkeypatch: pytest.MonkeyPatch
) -> None:
    _at_interval_10(source, monkeypatch)
    monkeypatch.setenv("FAKE_XL_LIST_L_SLEEP", "1.5")
    reads = dom0.calls("xl").count("list -l")
    dom0.event("@introduceDomain")  # a read that will still list pvguest
    end = time.monotonic() + 2
    while dom0.calls("xl").count("list -l") == reads:
        assert time.monotonic() < end
        source.snapshot()
        time.sleep(0.02)
    records = json.loads((FIXTURES / "xen-4.20-xl-list-l.json").read_text())
    (dom0.dir / "domids").write_text("".join(f"{r['domid']}\n" for r in records if r["domid"] != 1))
    dom0.event("@releaseDomain")  # pvguest (domain 1) destroyed while the read runs
    wait_for(source, lambda s: "pvguest" not in by_name(s), 1.0)
    end = time.monotonic() + 2.5  # the read ends and is applied meanwhile
    while time.monotonic() < end:
        assert "pvguest" not in by_name(source.snapshot())
        time.sleep(0.05)
    assert dom0.calls("xl").count("list -l") == reads + 1
