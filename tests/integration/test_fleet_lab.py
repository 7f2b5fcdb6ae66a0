"""The fleet view against real daemons: two test-driver libvirtds on TCP ports, one reached through a real
sshd, and the QEMU lab's daemon with real guests (tests/integration/conftest.py)."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.rfb import grab_frame
from lab.fleet_lab import FleetLab
from lab.procs import free_port
from lab.qemu_lab import QemuLab
from xentui.actions.vnc import Hint, plan
from xentui.sources.base import CommandConsole
from xentui.sources.libvirt_source import LibvirtSource
from xentui.ui.app import XenTUI
from xentui.ui.widgets.domain_table import DomainTable

pytestmark = pytest.mark.lab


def qemu_over_ssh(fleet: FleetLab, lab: QemuLab) -> str:
    """The QEMU lab's daemon as a remote host: qemu+ssh through the fleet lab's sshd to its socket."""
    return fleet.ssh_uri("qemu", "/system", lab.workdir / "libvirt-sock")


def _xentui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xentui", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **(env or {})},
    )


def test_list_json_from_several_hosts_names_each_host(fleet: FleetLab, tmp_path: Path) -> None:
    alpha, beta = fleet.daemons
    beta_ssh = fleet.ssh_uri("test", str(beta.node), beta.socket_path)
    config = tmp_path / "config.toml"
    config.write_text(f'[hosts.alpha]\nuri = "{alpha.uri}"\n\n[hosts.beta-ssh]\nuri = "{beta_ssh}"\n')
    out = _xentui("list", "--json", env={"XENTUI_CONFIG": str(config)})
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    by_host: dict[str, set[str]] = {}
    for row in rows:
        by_host.setdefault(row["host"], set()).add(row["name"])
    assert by_host == {"alpha": {"alpha-g0", "alpha-g1", "alpha-g2"}, "beta-ssh": {f"beta-g{i}" for i in range(4)}}
    modes = {r["name"]: r["mode"] for r in rows}
    assert (modes["alpha-g0"], modes["alpha-g1"], modes["alpha-g2"]) == ("PV", "HVM", "PVH")
    # -c picks configured hosts by name; the table gets a Host column.
    out = _xentui("list", "-c", "beta-ssh", "-c", alpha.uri, env={"XENTUI_CONFIG": str(config)})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Host") and any(ln.startswith("beta-ssh") and "beta-g3" in ln for ln in lines)
    assert any(ln.startswith(f"127.0.0.1:{alpha.port}") and "alpha-g1" in ln for ln in lines)


def test_list_with_one_host_down_lists_the_others_and_fails(fleet: FleetLab) -> None:
    alpha = fleet.daemons[0]
    dead = f"test+tcp://127.0.0.1:{free_port()}/default"
    out = _xentui("list", "--json", "-c", alpha.uri, "-c", dead)
    assert out.returncode == 1
    assert {r["name"] for r in json.loads(out.stdout)} == {"alpha-g0", "alpha-g1", "alpha-g2"}
    assert out.stderr.count("\n") == 1 and "Connection refused" in out.stderr and "Traceback" not in out.stderr


async def _wait(pilot: Any, check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"not in {timeout} s: {what}")


def _rows(app: XenTUI) -> dict[str, dict[str, str]]:
    """name → the row's cell texts by column key."""
    table = app.query_one(DomainTable)
    return {table.cell_text(k, "name"): table.row_texts(k) for k in table.keys_in_order()}


def _header_line(app: XenTUI, host: str) -> str:
    lines = str(app.query_one("#summary").render()).splitlines()
    return next(ln for ln in lines if ln.startswith(f" {host} "))


def _condition(app: XenTUI, index: int) -> str:
    frame = app.frame
    return frame.hosts[index].condition if frame is not None else "none"


@contextlib.contextmanager
def _silent_listener() -> Iterator[int]:
    """A TCP port that accepts connections and never answers: a host that hangs."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(srv.accept()[0])

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()
        srv.close()


async def test_fleet_dashboard_survives_a_host_going_away_and_a_hanging_one(fleet: FleetLab, lab: QemuLab) -> None:
    alpha, beta = fleet.daemons
    with _silent_listener() as hanging_port:
        sources = [
            LibvirtSource(alpha.uri, name="alpha"),
            LibvirtSource(fleet.ssh_uri("test", str(beta.node), beta.socket_path), name="beta", batch=True),
            LibvirtSource(qemu_over_ssh(fleet, lab), name="qemu-lab", batch=True),
            LibvirtSource(f"test+tcp://127.0.0.1:{hanging_port}/default", name="hangs"),
        ]
        app = XenTUI(sources, interval=0.5)
        run = lab.names()["run"]
        try:
            async with app.run_test(size=(180, 50)) as pilot:
                await _wait(pilot, lambda: {"alpha-g0", "beta-g3", run} <= set(_rows(app)), 30, "three hosts' rows")
                rows = _rows(app)
                assert [rows[n]["host"] for n in ("alpha-g1", "beta-g3", run)] == ["alpha", "beta", "qemu-lab"]
                assert _condition(app, 3) == "connecting"  # the hanging host holds up nobody
                header = str(app.query_one("#summary").render())
                assert "4 hosts" in header and "3 connected, 1 connecting" in header
                # Rows are grouped by host, in the order the hosts were given.
                hosts = [row["host"] for row in _rows(app).values()]
                assert hosts == sorted(hosts, key=["alpha", "beta", "qemu-lab"].index)

                fleet.stop(alpha)
                await _wait(pilot, lambda: _condition(app, 0) == "disconnected", 15, "alpha disconnected")
                assert "disconnected, retrying in" in _header_line(app, "alpha")
                assert "alpha-g0" in _rows(app)  # its last rows stay, dimmed

                # The others go on refreshing: the real guest's CPU time keeps moving (in ns: the column shows
                # whole seconds, which an idle guest may not use up in 10 s).
                def guest_cpu_ns() -> int | None:
                    frame = app.frame
                    rows = frame.rows if frame is not None else {}
                    return next((d.cpu_time_ns for d in rows.values() if d.name == run), None)

                before = guest_cpu_ns()
                await _wait(pilot, lambda: guest_cpu_ns() != before, 10, "the QEMU guest's CPU time to move")
                assert _condition(app, 1) == "connected" and _condition(app, 2) == "connected"
                # Keys still work while a host is away and another hangs.
                await pilot.press("slash")
                await pilot.press(*"beta-g")
                await _wait(pilot, lambda: set(_rows(app)) == {f"beta-g{i}" for i in range(4)}, 5, "filter")
                await pilot.press("escape")

                fleet.start(alpha)
                await _wait(pilot, lambda: _condition(app, 0) == "connected", 40, "alpha back")
        finally:
            app.fleet.stop()
            for s in sources:
                s.close()
            if alpha.pid is None:  # failed while alpha was down: the other tests share it
                fleet.start(alpha)


async def test_wrong_key_shows_auth_failed(fleet: FleetLab, tmp_path: Path) -> None:
    beta = fleet.daemons[1]
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    uri = fleet.ssh_uri("test", str(beta.node), beta.socket_path, key=other)
    app = XenTUI([LibvirtSource(uri, name="locked", batch=True), LibvirtSource(beta.uri, name="open")], interval=0.5)
    async with app.run_test(size=(180, 40)) as pilot:
        await _wait(pilot, lambda: _condition(app, 0) == "auth failed", 20, "auth failed")
        line = _header_line(app, "locked")
        assert "auth failed, retrying in" in line and "Permission denied" in line
        # The other host connects all the same (its first frame may come after the refusal).
        await _wait(pilot, lambda: _condition(app, 1) == "connected", 20, "the open host connected")
        assert _condition(app, 0) == "auth failed"
    app.fleet.stop()


def test_console_of_a_remote_guest_goes_through_the_remote_connection(fleet: FleetLab, lab: QemuLab) -> None:
    source = LibvirtSource(qemu_over_ssh(fleet, lab), batch=True)
    run = next(d for d in source.snapshot().domains if d.name == lab.names()["run"])
    stream = source.console(run)
    assert not isinstance(stream, CommandConsole)  # a libvirt stream over the ssh connection, not a program
    try:
        seen = b""
        deadline = time.monotonic() + 30
        sent = False
        while time.monotonic() < deadline and b"\nhello" not in seen.replace(b"\r", b""):
            if not sent or b"lab#" in seen[-200:]:
                stream.send(b"echo hel''lo\r")  # type: ignore[union-attr]
                sent = True
            chunk = stream.recv(4096)  # type: ignore[union-attr]
            if chunk:
                seen += chunk
            else:
                time.sleep(0.1)
        assert b"\nhello" in seen.replace(b"\r", b""), seen[-300:]
    finally:
        stream.close()  # type: ignore[union-attr]
        source.close()


def test_vnc_of_a_remote_guest_through_the_planned_tunnel(fleet: FleetLab, lab: QemuLab) -> None:
    uri = qemu_over_ssh(fleet, lab)
    source = LibvirtSource(uri, batch=True)
    dom = next(d for d in source.snapshot().domains if d.name == lab.names()["run"])
    source.close()
    step = plan(dom, source.display, {"DISPLAY": ":0"}, which=lambda _: None)  # no virt-viewer: the tunnel here
    assert isinstance(step, Hint)
    tunnel = next(line.strip() for line in step.lines if line.strip().startswith("ssh -N"))
    argv = shlex.split(tunnel)
    assert argv[:6] == ["ssh", "-N", "-p", str(fleet.sshd_port), "-i", str(fleet.key)]
    local = int(argv[argv.index("-L") + 1].split(":")[0])
    assert local != dom.vnc.port  # type: ignore[union-attr]  # the guest's own port is taken here, by the guest
    # The admin's ssh knows the host already (libvirt's ssh recorded it); ours is told not to ask.
    opts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"]
    proc = subprocess.Popen([argv[0], *opts, *argv[1:]], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        frame = None
        while frame is None and time.monotonic() < deadline:
            try:
                frame = grab_frame("127.0.0.1", local, timeout=5)
            except OSError:
                time.sleep(0.2)
        assert frame is not None, "no frame through the tunnel"
        assert frame.width >= 640 and lab.names()["run"] in frame.name
        assert step.url == f"vnc://localhost:{local}"
    finally:
        proc.terminate()
        proc.wait(5)
