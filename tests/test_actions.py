from __future__ import annotations

import os
import pty
import re
import select
import termios
import threading

import pytest

from xentui.actions.console import bridge, parse_detach_key
from xentui.actions.vnc import Hint, Launch, Unavailable, plan, viewer_argv
from xentui.model import Domain, Endpoint, Mode, State
from xentui.sources.base import Display, DisplayRoute
from xentui.sources.libvirt_source import display_for


class FakeStream:
    """Stands in for libvirt's console stream in these unit tests."""

    def __init__(self, output: list[bytes], end: bool = False) -> None:
        self.output = output
        self.end = end
        self.sent = b""
        self.closed = False

    def recv(self, size: int) -> bytes | None:
        if self.output:
            return self.output.pop(0)
        return b"" if self.end else None

    def send(self, data: bytes) -> None:
        self.sent += data

    def close(self) -> None:
        self.closed = True


def _read_all(fd: int, into: list[bytes], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            into.append(os.read(fd, 4096))
        except OSError:
            return


def test_bridge_copies_both_ways_detaches_and_restores_terminal() -> None:
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    stream = FakeStream([b"Welcome to guest\r\n", b"# "])
    got: list[bytes] = []
    stop = threading.Event()
    reader = threading.Thread(target=_read_all, args=(master, got, stop), daemon=True)
    reader.start()
    os.write(master, b"echo hi\r")
    # The pty hands input to the line discipline asynchronously: wait until the typed-ahead line is there
    # (readable in canonical mode means a whole line, its CR already read as LF) before raw mode begins.
    assert select.select([slave], [], [], 5)[0], "the typed-ahead line never reached the terminal"
    result: list[object] = []
    t = threading.Thread(target=lambda: result.append(bridge(stream, "web\x1b[2J", 0x1D, slave, slave)))
    t.start()
    threading.Event().wait(0.3)
    os.write(master, b"ls\x1dignored")
    t.join(5)
    stop.set()
    assert not t.is_alive() and result[0].ended_by == "detach"  # type: ignore[attr-defined]
    assert stream.sent == b"echo hi\nls" and stream.closed  # typed ahead (cooked: CR read as LF) is kept
    assert termios.tcgetattr(slave) == before  # raw mode undone
    out = b"".join(got)
    assert b"Escape character is Ctrl-]" in out and b"Welcome to guest" in out
    assert b"\x1b[2J" not in out.split(b"Welcome")[0]  # the guest's name is shown escaped
    os.close(master)
    os.close(slave)


def test_bridge_ends_when_guest_goes_away() -> None:
    master, slave = pty.openpty()
    stream = FakeStream([b"bye\r\n"], end=True)
    result = bridge(stream, "g", 0x1D, slave, slave)
    assert result.ended_by == "guest" and "closed" in result.message and stream.closed
    os.close(master)
    os.close(slave)


@pytest.mark.parametrize(("spec", "code"), [("ctrl-]", 0x1D), ("Ctrl-A", 1), ("^x", 24), ("ctrl+_", 0x1F)])
def test_detach_keys(spec: str, code: int) -> None:
    assert parse_detach_key(spec) == code


def test_bad_detach_key() -> None:
    with pytest.raises(ValueError):
        parse_detach_key("alt-x")


def dom(*graphics: Endpoint, state: State = State.RUNNING, name: str = "g") -> Domain:
    return Domain(name, 3, "u", state, 1, 1, 1, 1, Mode.HVM, graphics=graphics)


LOCAL = Endpoint("vnc", "127.0.0.1", 5901)


def test_launch_prefers_vncviewer_env_then_known_viewers() -> None:
    found = {"myviewer": "/opt/myviewer", "remote-viewer": "/usr/bin/remote-viewer"}
    step = plan(dom(LOCAL), display_for("qemu:///system"), {"DISPLAY": ":0", "VNCVIEWER": "myviewer"}, which=found.get)
    assert isinstance(step, Launch) and step.argv == ("/opt/myviewer", "127.0.0.1::5901")
    step = plan(dom(LOCAL), display_for("qemu:///system"), {"DISPLAY": ":0"}, which=found.get)
    assert isinstance(step, Launch) and step.argv == ("/usr/bin/remote-viewer", "vnc://127.0.0.1:5901")
    assert viewer_argv("gvncviewer", "::1", 5902) == ("gvncviewer", "[::1]:2")


def test_ssh_session_without_display_gets_tunnel_hint() -> None:
    env = {"SSH_CONNECTION": "198.51.100.7 5000 192.0.2.10 22", "USER": "root"}
    step = plan(
        dom(Endpoint("vnc", "0.0.0.0", 5903), name="win"), display_for("xen:///system"), env, which=lambda _: None
    )
    assert isinstance(step, Hint)
    assert "  ssh -N -L 5903:127.0.0.1:5903 root@192.0.2.10" in step.lines
    assert "  virt-viewer -c xen+ssh://root@192.0.2.10/system win" in step.lines
    assert "exposed" in step.warning and step.url == "vnc://localhost:5903"


def test_remote_uri_tunnels_via_its_host_as_the_uri_says() -> None:
    uri = "qemu+ssh://admin@kvm7:2222/system?keyfile=/k/id%20x&no_tty=1"
    step = plan(dom(LOCAL), display_for(uri), {"DISPLAY": ":0", "USER": "me"}, which=lambda _: None)
    assert isinstance(step, Hint)
    tunnel = next(line for line in step.lines if "ssh -N" in line)
    # The local port is the guest's unless something here holds it already.
    assert re.fullmatch(r"  ssh -N -p 2222 -i '/k/id x' -L \d+:127.0.0.1:5901 admin@kvm7", tunnel), tunnel
    assert f"  virt-viewer -c '{uri}' g" in step.lines
    # tcp/tls ports are libvirt's, not ssh's: not passed to ssh.
    step = plan(dom(LOCAL), display_for("xen+tcp://root@dom0:16509/system"), {"DISPLAY": ":0"}, which=lambda _: None)
    assert isinstance(step, Hint) and any(
        re.search(r"ssh -N -L \d+:127.0.0.1:5901 root@dom0$", ln) for ln in step.lines
    )


def test_remote_uri_with_display_lets_virt_viewer_tunnel() -> None:
    found = {"virt-viewer": "/usr/bin/virt-viewer"}
    step = plan(dom(LOCAL), display_for("qemu+ssh://admin@kvm7/system"), {"DISPLAY": ":0"}, which=found.get)
    assert isinstance(step, Launch)
    assert step.argv == ("/usr/bin/virt-viewer", "--connect", "qemu+ssh://admin@kvm7/system", "--", "g")


def test_exposed_server_on_a_remote_host_is_reached_directly() -> None:
    found = {"vncviewer": "/usr/bin/vncviewer"}
    step = plan(
        dom(Endpoint("vnc", "0.0.0.0", 5903)),
        display_for("xen+ssh://root@dom0/system"),
        {"DISPLAY": ":0"},
        which=found.get,
    )
    assert isinstance(step, Launch) and step.argv == ("/usr/bin/vncviewer", "dom0::5903") and "exposed" in step.warning


def test_unavailable_cases() -> None:
    assert isinstance(plan(dom(), display_for("x"), {"DISPLAY": ":0"}), Unavailable)
    assert isinstance(plan(dom(LOCAL, state=State.SHUTOFF), display_for("x"), {"DISPLAY": ":0"}), Unavailable)
    assert isinstance(plan(dom(Endpoint("vnc", "127.0.0.1", None)), display_for("x"), {"DISPLAY": ":0"}), Unavailable)
    none_found = plan(dom(LOCAL), display_for("qemu:///system"), {"DISPLAY": ":0"}, which=lambda _: None)
    assert isinstance(none_found, Unavailable) and "no VNC viewer" in none_found.reason


def test_shell_metacharacters_stay_one_argument() -> None:
    evil = "$(touch /tmp/pwned);`id`"
    env = {"SSH_CONNECTION": "1 2 3.3.3.3 22", "USER": "root"}
    step = plan(dom(LOCAL, name=evil), display_for("xen:///system"), env, which=lambda _: None)
    assert isinstance(step, Hint)
    assert any(line.endswith("'$(touch /tmp/pwned);`id`'") for line in step.lines)  # quoted for the admin's shell


def test_display_route_decides_not_the_uri_text() -> None:
    # xl on a dom0: local displays; over SSH the tunnel goes to this dom0, and there is no libvirt URI to offer.
    env = {"SSH_CONNECTION": "198.51.100.7 5000 192.0.2.10 22", "USER": "root"}
    step = plan(dom(LOCAL, name="hvm"), Display(DisplayRoute.LOCAL), env, which=lambda _: None)
    assert isinstance(step, Hint) and "  ssh -N -L 5901:127.0.0.1:5901 root@192.0.2.10" in step.lines
    assert not any("virt-viewer" in line for line in step.lines)
    # Saved outputs: no live display, whatever the domain's config says.
    gone = plan(dom(LOCAL), Display(DisplayRoute.NONE), {"DISPLAY": ":0"}, which=lambda _: "/usr/bin/vncviewer")
    assert isinstance(gone, Unavailable) and "no live display" in gone.reason
    assert display_for("qemu+ssh://kvm7/system").route is DisplayRoute.TUNNEL
    assert display_for("qemu:///system") == Display(DisplayRoute.LOCAL, "qemu:///system")
