"""Faults a dashboard on a dom0 meets: hang-ups while attached, huge or hostile input, vanishing domains."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from bench.pty_run import PtyProcess
from xentui.model import Domain, Mode, State
from xentui.sources.libvirt_source import LibvirtSource
from xentui.sources.xl import ToolstackSource

# The fake console's `sleep` runs for a time no other process on the machine is likely to use, so that
# looking for it by its command line finds ours alone.
CONSOLE = f"sleep {3000 + os.getpid() % 997}"


def fake_xl(tmp_path: Path, extra: str = "") -> Path:
    script = tmp_path / "xl"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {tmp_path}/calls\n'
        'case "$1 $2" in\n'
        f'  "list ") cat {FIXTURES}/xl-list.txt ;;\n'
        f'  "list -l") cat {FIXTURES}/xl-list-long.json ;;\n'
        '  "info "*) echo "xen_version : 4.17.7" ;;\n'
        f'  "console "*) exec {CONSOLE} ;;\n'
        f"{extra}"
        "  *) exit 0 ;;\n"
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return tmp_path


def _alive(pattern: str) -> list[str]:
    done = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    return done.stdout.split()


def test_hangup_while_attached_leaves_no_process(tmp_path: Path) -> None:
    path = f"{fake_xl(tmp_path)}:{os.environ['PATH']}"
    xentui = str(Path(sys.executable).with_name("xentui"))
    app = PtyProcess([xentui, "--xl"], marker=b"4 domains:", env={"PATH": path})
    app.start()
    try:
        app.wait_first_frame()
        time.sleep(1)
        os.write(app.master, b"j")  # pvguest
        time.sleep(0.3)
        os.write(app.master, b"c")  # xl console -t pv pvguest: here a long `sleep` holding the terminal
        deadline = time.monotonic() + 10
        while not (tmp_path / "calls").exists() or "console" not in (tmp_path / "calls").read_text():
            assert time.monotonic() < deadline, "the console was never started"
            time.sleep(0.1)
        assert "console -t pv pvguest" in (tmp_path / "calls").read_text()
        app.hang_up()  # the SSH session drops
        assert app.proc.wait(10) != 0
        deadline = time.monotonic() + 5
        while _alive(CONSOLE) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(CONSOLE), "the console program outlived the hang-up"
    finally:
        for pid in _alive(CONSOLE):
            os.kill(int(pid), signal.SIGKILL)
        app.stop()


def test_lifecycle_argv_keeps_hostile_names_one_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_xl(tmp_path)}:{os.environ['PATH']}")
    evil = "$(touch /tmp/xentui-pwned);`id`;x"
    dom = Domain(evil, 5, None, State.RUNNING, 1, 1, 1, 1, Mode.PV, has_console=True)
    src = ToolstackSource("xl", read_only=False)
    src.lifecycle(dom, "pause")
    src.lifecycle(dom, "destroy")
    assert src.console(dom).argv == ("xl", "console", "-t", "pv", evil)  # type: ignore[union-attr]
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [f"pause {evil}", f"destroy {evil}"]
    assert not Path("/tmp/xentui-pwned").exists()


def test_huge_file_is_refused_quickly(tmp_path: Path) -> None:
    big = tmp_path / "huge.sxp"
    with big.open("wb") as f:
        f.write(b"(domain (name a) (x " + b"y" * (100 * 1024 * 1024) + b"))")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "xentui", "inspect", str(big)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2 and "at most 64 MiB" in done.stderr and time.monotonic() - started < 10


def test_domain_vanishing_between_listing_and_reading_is_left_out(tmp_path: Path) -> None:
    import libvirt

    (tmp_path / "n.xml").write_text(
        "<node>"
        + "".join(
            f"<domain type='test'><name>g{i}</name><memory>1024</memory><vcpu>1</vcpu>"
            "<os><type>hvm</type></os></domain>"
            for i in range(3)
        )
        + "</node>"
    )
    src = LibvirtSource(f"test://{tmp_path}/n.xml", read_only=False)  # read-write only to make one vanish
    conn: Any = src._connect()
    real = conn.getAllDomainStats

    def stats_then_vanish(*args: Any) -> Any:
        result = real(*args)
        for dom, _ in result:
            if dom.name() == "g1":
                dom.destroy()  # gone before its XML is read
                dom.undefine()
        return result

    conn.getAllDomainStats = stats_then_vanish
    names = sorted(d.name for d in src.snapshot().domains)
    assert "g0" in names and "g2" in names and "g1" not in names
    conn.getAllDomainStats = real
    assert sorted(d.name for d in src.snapshot().domains) == ["g0", "g2"]
    src.close()
    assert libvirt is not None


async def test_summary_card_shows_hostile_config_values_inert() -> None:
    """Escape sequences, markup and bidi overrides from a configuration reach the card as visible text."""
    import json

    from conftest import read_fixture
    from test_app import wait_rows

    from xentui.fleet import FleetFrame
    from xentui.model import HostInfo, Snapshot
    from xentui.parsers.xl_json import parse_xl_json
    from xentui.poller import Frame
    from xentui.sources.demo import DemoSource
    from xentui.ui.app import XenTUI
    from xentui.ui.widgets.summary_card import SummaryCard

    record = json.loads(read_fixture("xl-list-long.json"))[1]
    config = record["config"]
    config["b_info"]["cmdline"] = "console=hvc0 \u202eevil\x9b31m"
    config["b_info"]["bootloader"] = "/usr/bin/[bold red]pygrub[/]"
    config["b_info"]["bootloader_args"] = ["\u202eevil\x9b31m"]
    config["disks"] = [{"pdev_path": "/dev/\x1b]52;c;cHduZWQ=\x07x", "vdev": "xvda\x1b[2J", "readwrite": 1}]
    config["nics"] = [{"mac": "[@click=app.quit]q[/]", "bridge": "br\nsecond line", "model": "名" * 60}]
    dom = parse_xl_json(json.dumps([record])).domains[0]
    app = XenTUI(DemoSource(), interval=60)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_rows(app, pilot, 13)
        app.apply_frame(FleetFrame.one(Frame(Snapshot(HostInfo("h", "src"), (dom,), 1.0))))
        await pilot.pause(0.1)
        await pilot.press("enter")
        await pilot.pause(0.1)
        card = app.query_one(SummaryCard)
        rows = ["".join(seg.text for seg in card.render_line(y)) for y in range(card.size.height)]
        shown = "\n".join(rows)
        assert len(rows) == len(card.lines()) == 6  # a newline in a value does not add a row
        assert not any(c in shown for c in "\x1b\x9b\x07\u202e\r")
        assert "bootloader /usr/bin/[bold red]pygrub[/] \\u202eevil\\x9b31m · kernel" in shown
        assert "xvda\\x1b[2J ← /dev/\\x1b]52;c;cHduZWQ=\\x07x" in shown
        assert "br\\x0asecond line [@click=app.quit]q[/] 名" in shown and rows[3].endswith("…")
        assert app.is_running
