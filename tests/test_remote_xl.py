"""Remote xl hosts: `xl+ssh://[user@]host[:port][/?keyfile=PATH]` on the command line and in the hosts file, one
ssh master connection per host, clear errors, the console and VNC through the same ssh target.

The end-to-end tests run a private sshd on this machine (tests/ssh_dom0.py) with test doubles of the dom0's
tools first on its PATH: the ssh side is real, the Xen tools are not (the Xen lab's tests cover those).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES
from ssh_dom0 import PrivateSshd

from xentui import cli, config
from xentui.actions import vnc
from xentui.model import Domain, Endpoint, Mode, State
from xentui.sources.base import CommandConsole, ConsoleRoute, Display, DisplayRoute, SourceError
from xentui.sources.factory import Kind, Options, Request, Spec, open_request, open_sources, plan
from xentui.sources.libvirt_source import LibvirtSource
from xentui.sources.runner import LocalRunner, SshRunner, SshTarget, ssh_error
from xentui.sources.uri import UriError, XlUri, parse_xl_uri
from xentui.sources.xl import ToolstackSource

HOSTILE = ("a;b", "$(touch /tmp/pwned)", 'it\'s "quoted"', "two  spaces", "`id`", "x\ny", "-t", "*", "")


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XENTUI_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    return tmp_path


# -- URIs ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "want"),
    [
        ("xl://", XlUri()),
        ("xl:///", XlUri()),
        ("xl+ssh://dom0-b", XlUri(host="dom0-b")),
        ("xl+ssh://root@dom0-b:2222/", XlUri("root", "dom0-b", 2222)),
        ("xl+ssh://root@10.0.0.5/?keyfile=/root/.ssh/lab", XlUri("root", "10.0.0.5", None, "/root/.ssh/lab")),
        ("xl+ssh://root@[fd00::5]:22", XlUri("root", "fd00::5", 22)),
        ("xl+ssh://ad%40min@h?keyfile=%2Fk%20ey&no_verify=1", XlUri("ad@min", "h", None, "/k ey", "", False)),
        ("xl+ssh://h/?known_hosts=/tmp/kh&no_tty=1", XlUri(host="h", known_hosts="/tmp/kh")),
    ],
)
def test_xl_uris(uri: str, want: XlUri) -> None:
    assert parse_xl_uri(uri) == want


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("xl+tcp://dom0-b", "unknown scheme 'xl+tcp'"),
        ("xl+tls://dom0-b/system", "unknown scheme 'xl+tls'"),
        ("xl+ssh://dom0-b:22x", "bad port '22x'"),
        ("xl+ssh://dom0-b:70000", "bad port '70000'"),
        ("xl+ssh://dom0-b:0", "bad port '0'"),
        ("xl+ssh://", "no host"),
        ("xl+ssh://dom0-b/system", "no path"),
        ("xl+ssh://dom0-b?keyfile=/k&keyfile=/j", "'keyfile' given twice"),
        ("xl+ssh://dom0-b?sshauth=agent", "unknown parameter 'sshauth'"),
        ("xl+ssh://dom0-b?keyfile=", "keyfile= needs a path"),
        ("xl+ssh://dom0-b?no_verify=yes", "no_verify must be 0 or 1"),
        ("xl+ssh://root:secret@dom0-b", "no password in the URI"),
        ("xl+ssh://-oProxyCommand=id", "may not start with '-'"),
        ("xl+ssh://a%20b", "spaces or control characters"),
        ("xl://dom0-b", "takes no host"),
        ("xl+ssh://[fd00::5", "not a URI"),
    ],
)
def test_bad_xl_uris_say_what_is_wrong_on_one_line(uri: str, says: str) -> None:
    with pytest.raises(UriError) as info:
        parse_xl_uri(uri)
    assert says in str(info.value) and str(info.value).startswith(uri) and "\n" not in str(info.value)


def test_bad_uri_on_the_command_line_is_one_line_and_status_2(
    no_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["-c", "xl+ssh://dom0-b:22x", "list"]) == 2
    assert cli.main(["-c", "xl+tcp://dom0-b", "list"]) == 2
    assert cli.main(["-c", "xl+ssh://dom0-\x1b[31mb:1x", "list"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "xentui: error: xl+ssh://dom0-b:22x: bad port '22x' (a number from 1 to 65535)"
    assert err[1].startswith("xentui: error: xl+tcp://dom0-b: unknown scheme 'xl+tcp' (use xl:// for this dom0")
    assert "\x1b" not in err[2] and "\\x1b" in err[2]  # the URI is shown inert
    assert len(err) == 3


def test_bad_xl_uri_in_the_hosts_file_names_the_file_and_host(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[hosts.dom0-b]\nuri = "xl+ssh://root@dom0-b:ssh"\n')
    with pytest.raises(config.ConfigError, match=r"config\.toml: hosts\.dom0-b: xl\+ssh://root@dom0-b:ssh: bad port"):
        config.load(path)


# -- planning and naming ---------------------------------------------------------------------------------------


def test_command_line_xl_uris_plan_xl_sources(no_config: Path) -> None:
    got = plan(Request(connect=("xl+ssh://root@dom0-b:2222/?keyfile=/k", "xl://")))
    assert got.specs == (Spec(Kind.XL, "xl+ssh://root@dom0-b:2222/?keyfile=/k"), Spec(Kind.XL, "xl://"))


def test_hosts_file_names_point_to_xl_hosts_in_a_mixed_fleet(no_config: Path) -> None:
    cfg = no_config / "config.toml"
    cfg.write_text(
        '[hosts.dom0-b]\nuri = "xl+ssh://root@dom0-b.example.net:2222/?keyfile=/k"\n'
        '[hosts.kvm7]\nuri = "qemu+ssh://root@kvm7/system"\n'
    )
    every = plan(Request(config=str(cfg)))
    assert [(s.kind, s.name) for s in every.specs] == [(Kind.XL, "dom0-b"), (Kind.LIBVIRT, "kvm7")]
    picked = plan(Request(connect=("dom0-b",), config=str(cfg)))
    assert picked.specs == (Spec(Kind.XL, "xl+ssh://root@dom0-b.example.net:2222/?keyfile=/k", name="dom0-b"),)

    opened = open_request(Request(config=str(cfg)), Options(read_only=False, batch=True, timeout=4.0))
    xl, lv = opened.sources
    try:
        assert isinstance(xl, ToolstackSource) and isinstance(lv, LibvirtSource)
        assert (xl.host_name, xl.label, xl.read_only, xl.console_route) == (
            "dom0-b",
            "xl+ssh://root@dom0-b.example.net:2222/?keyfile=/k",
            False,
            ConsoleRoute.COMMAND,
        )
        runner = xl.runner
        assert isinstance(runner, SshRunner)
        assert runner.target == SshTarget("root", "dom0-b.example.net", 2222, "/k")
        assert runner.connect_timeout == 4.0
        assert xl.display == Display(DisplayRoute.TUNNEL, "xl+ssh://root@dom0-b.example.net:2222/?keyfile=/k")
    finally:
        for src in opened.sources:
            src.close()


def test_remote_xl_hosts_are_named_host_port_and_stay_unique(no_config: Path) -> None:
    specs = (
        Spec(Kind.XL, "xl+ssh://root@dom0-b:2222"),
        Spec(Kind.XL, "xl+ssh://admin@dom0-b:2222"),  # the same host by another login: still two rows of hosts
        Spec(Kind.LIBVIRT, "xen+ssh://root@dom0-b:2222/system"),
        Spec(Kind.XL, "xl+ssh://dom0-c"),
        Spec(Kind.XL, "xl://"),
    )
    sources = open_sources(specs, Options())
    try:
        assert [s.host_name for s in sources] == ["dom0-b:2222", "dom0-b:2222#2", "dom0-b:2222#3", "dom0-c", "xl"]
    finally:
        for src in sources:
            src.close()
    alone = open_sources((Spec(Kind.XL, "xl+ssh://root@dom0-b"),), Options())[0]
    assert alone.host_name == "dom0-b" and alone.display.route is DisplayRoute.TUNNEL  # not this machine's name
    alone.close()


def test_the_helpers_uris_parse_as_meant() -> None:
    from ssh_dom0 import xl_ssh_uri

    lab = xl_ssh_uri("127.0.0.1", 2222, "/tmp/lab dir/id_ed25519", verify=False)
    assert lab == "xl+ssh://root@127.0.0.1:2222/?keyfile=/tmp/lab%20dir/id_ed25519&no_verify=1"
    assert parse_xl_uri(lab) == XlUri("root", "127.0.0.1", 2222, "/tmp/lab dir/id_ed25519", verify=False)
    pinned = parse_xl_uri(xl_ssh_uri("127.0.0.1", 2222, "/k", "/kh"))
    assert (pinned.known_hosts, pinned.verify) == ("/kh", True)


def test_local_xl_uri_is_this_dom0(no_config: Path) -> None:
    (src,) = open_request(Request(connect=("xl:///",)), Options()).sources
    assert isinstance(src, ToolstackSource) and isinstance(src.runner, LocalRunner)
    assert src.display.route is DisplayRoute.LOCAL and src.label == "xl"


# -- ssh words and errors --------------------------------------------------------------------------------------


def test_hostile_domain_names_stay_one_word_for_the_remote_shell() -> None:
    runner = SshRunner(SshTarget("root", "dom0-b", 2222, "/k"))
    try:
        for name in HOSTILE:
            argv = runner.argv(["xl", "console", "-t", "pv", name], tty=True)
            assert argv[argv.index("--") + 1] == "root@dom0-b"
            remote = argv[-1]
            assert shlex.split(remote) == ["xl", "console", "-t", "pv", name]
            # What a POSIX shell on the dom0 makes of it: the same words, nothing run.
            words = subprocess.run(["sh", "-c", f"printf '%s\\0' {remote}"], capture_output=True, check=True).stdout
            assert words.split(b"\0")[:-1] == [w.encode() for w in ["xl", "console", "-t", "pv", name]]
    finally:
        runner.close()


def test_ssh_options_never_prompt_and_log_in_as_the_uri_says() -> None:
    runner = SshRunner(SshTarget("root", "dom0-b", 2222, "/k", "/kh"))
    argv = runner.argv_raw(["xl", "list"])
    opts = " ".join(argv)
    assert "BatchMode=yes" in opts and "ControlMaster=auto" in opts and "-p 2222" in opts
    assert "-i /k -o IdentitiesOnly=yes" in opts and "UserKnownHostsFile=/kh" in opts
    assert "StrictHostKeyChecking" not in opts
    assert shlex.split(argv[-1]) == ["env", "LC_ALL=C", "xl", "list"]  # figures parsed in the C locale
    runner.close()
    lab = SshRunner(SshTarget("root", "lab", verify=False))
    unchecked = " ".join(lab.argv_raw(["true"]))
    lab.close()
    assert f"UserKnownHostsFile={os.devnull}" in unchecked and "StrictHostKeyChecking=no" in unchecked


@pytest.mark.parametrize(
    ("status", "stderr", "kind", "says"),
    [
        (255, b"root@dom0-b: Permission denied (publickey).\r\n", "auth", "ssh login refused"),
        (255, b"Received disconnect: Too many authentication failures\n", "auth", "ssh login refused"),
        (255, b"No ED25519 host key is known for [dom0-b]:2222.\nHost key verification failed.\n", "auth",
         "ssh-keyscan -p 2222 dom0-b >> ~/.ssh/known_hosts"),
        (255, b"ssh: connect to host dom0-b port 2222: Connection refused\n", "unreachable", "unreachable over ssh"),
        (255, b"ssh: Could not resolve hostname dom0-b: Name or service not known\n", "unreachable", "unreachable"),
        (255, b"", "unreachable", "unreachable over ssh: exit status 255"),
        (127, b"bash: line 1: xl: command not found\n", "unreachable", "xl: command not found on the remote host"),
        (1, b"libxl: error: cannot connect\n", "unreachable", "xl list: libxl: error: cannot connect"),
    ],
)  # fmt: skip
def test_ssh_failures_are_one_clear_line(status: int, stderr: bytes, kind: str, says: str) -> None:
    err = ssh_error(SshTarget("root", "dom0-b", 2222), "xl", status, stderr, "xl list")
    assert err.kind == kind and says in str(err) and str(err).startswith("root@dom0-b:2222: ")
    assert "\n" not in str(err) and err.reason in str(err)


def test_vnc_of_a_remote_xl_guest_tunnels_through_the_same_ssh_target() -> None:
    vnc_here = (Endpoint("vnc", "127.0.0.1", 5901),)
    guest = Domain("hvmguest", 3, None, State.RUNNING, 262144, 262144, 1, 1, Mode.HVM, graphics=vnc_here)
    display = Display(DisplayRoute.TUNNEL, "xl+ssh://root@dom0-b:2222/?keyfile=/k")
    over_ssh = vnc.plan(guest, display, env={"SSH_CONNECTION": "10.0.0.9 5000 10.0.0.1 22"})
    assert isinstance(over_ssh, vnc.Hint)
    assert "  ssh -N -p 2222 -i /k -L 5901:127.0.0.1:5901 root@dom0-b" in over_ssh.lines
    assert not any("virt-viewer" in line for line in over_ssh.lines)  # there is no libvirt on that host
    # A desktop here with virt-viewer installed: still the tunnel, never virt-viewer on an xl URI.
    here = vnc.plan(guest, display, env={"DISPLAY": ":0"}, which=lambda name: f"/usr/bin/{name}")
    assert isinstance(here, vnc.Hint) and "root@dom0-b" in here.copy_text and "-p 2222 -i /k" in here.copy_text
    # The host key is checked as the URI says, for the tunnel as for the commands.
    lab = Display(DisplayRoute.TUNNEL, "xl+ssh://root@127.0.0.1:2222/?keyfile=/k&no_verify=1")
    unchecked = vnc.plan(guest, lab, env={"SSH_CONNECTION": "10.0.0.9 5000 10.0.0.1 22"})
    assert isinstance(unchecked, vnc.Hint)
    assert f"-i /k -o UserKnownHostsFile={os.devnull} -o StrictHostKeyChecking=no -L" in unchecked.copy_text
    pinned = Display(DisplayRoute.TUNNEL, "xl+ssh://dom0-b/?known_hosts=/kh")
    hint = vnc.plan(guest, pinned, env={"SSH_CONNECTION": "10.0.0.9 5000 10.0.0.1 22"})
    assert (
        isinstance(hint, vnc.Hint)
        and "ssh -N -o UserKnownHostsFile=/kh -L 5901:127.0.0.1:5901 dom0-b" in hint.copy_text
    )


# -- a real sshd -----------------------------------------------------------------------------------------------

_XL = """#!/bin/sh
case "$*" in
  "list") cat {f}/xen-4.20-xl-list-booted.txt ;;
  "list -l") cat {f}/xen-4.20-xl-list-l.json ;;
  "info") cat {f}/xen-4.20-xl-info.txt ;;
  "console -t "*) echo "console of $4 ($3)"; read -r line; echo "bye $line" ;;
  *) echo "xl (test double): $* is not played" >&2; exit 1 ;;
esac
"""
# xentop -b prints a frame every -d seconds until it is killed or its output is gone.
_XENTOP = """#!/bin/sh
delay=1
while [ $# -gt 0 ]; do case "$1" in -d) delay=$2; shift ;; esac; shift; done
while :; do cat {f}/xen-4.20-xentop-batch-booted.txt || exit 0; sleep "$delay"; done
"""
# Watches fire once when set and then wait, as the real one does, printing nothing: neither a closed channel
# nor a closed connection ends them.
_WATCH = """#!/bin/sh
echo "$1"
while :; do sleep 1; done
"""
_QUIET = "#!/bin/sh\nexit 0\n"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateSshd]:
    if not os.path.exists("/usr/sbin/sshd"):
        pytest.skip("openssh-server is not installed (apt-get install openssh-server)")
    root = tmp_path_factory.mktemp("sshd")
    os.chmod(root, 0o755)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for name, text in (
        ("xl", _XL),
        ("xentop", _XENTOP),
        ("xenstore-watch", _WATCH),
        ("xenstore-ls", _QUIET),
        ("xenstore-read", "#!/bin/sh\nexit 1\n"),
    ):
        (bin_dir / name).write_text(text.replace("{f}", str(FIXTURES)))
        (bin_dir / name).chmod(0o755)
    with PrivateSshd(root, bin_dir) as server:
        yield server
    for line in _remote_tools(server):  # left by a failed test: the doubles would wait forever
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)


def _ssh_processes(control_dir: str) -> list[str]:
    """Local processes whose command line names the runner's private directory (masters and clients)."""
    out = subprocess.run(["pgrep", "-af", control_dir], capture_output=True, text=True, check=False).stdout
    return [ln for ln in out.splitlines() if "pgrep" not in ln]


def _remote_tools(sshd: PrivateSshd) -> list[str]:
    """The test doubles running on the "dom0" (they are in the sshd's private bin directory)."""
    out = subprocess.run(["pgrep", "-af", str(sshd.path_first)], capture_output=True, text=True, check=False).stdout
    return [ln for ln in out.splitlines() if "pgrep" not in ln]


def _wait(condition: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_a_full_snapshot_arrives_over_one_ssh_master_and_close_leaves_nothing(sshd: PrivateSshd) -> None:
    (src,) = open_sources((Spec(Kind.XL, sshd.uri()),), Options(timeout=10.0))
    assert isinstance(src, ToolstackSource)
    runner = src.runner
    assert isinstance(runner, SshRunner)
    control_dir = os.path.dirname(runner.control_path)
    assert control_dir.startswith("/tmp/xentui-ssh-")
    woken: list[bool] = []
    try:
        src.set_interval(1.0)
        src.set_change_callback(lambda: woken.append(True))  # as the poller does: the xenstore watches start
        deadline = time.monotonic() + 15
        snap = src.snapshot()
        while {d.name for d in snap.domains} != {"Domain-0", "pvguest", "pvhguest", "hvmguest"}:
            assert time.monotonic() < deadline, f"no full snapshot over ssh: {snap}"
            time.sleep(0.2)
            snap = src.snapshot()
        by = {d.name: d for d in snap.domains}
        assert by["hvmguest"].mode is Mode.HVM and by["pvguest"].mode is Mode.PV and by["pvhguest"].mode is Mode.PVH
        assert snap.host.cpus == 2 and snap.host.memory_kib
        assert all(d.host == "127.0.0.1:" + str(sshd.port) for d in snap.domains)
        for _ in range(3):
            src.snapshot()
        assert woken and _wait(lambda: len(_remote_tools(sshd)) >= 4)  # xentop and three watches
        # One master connection carries every command and stream: one sshd connection, one local master.
        masters = [p for p in _ssh_processes(control_dir) if "[mux]" in p]
        assert len(masters) == 1, masters
        assert len(sshd.connections()) == 1, sshd.connections()
        console = src.console(by["pvguest"])
        assert isinstance(console, CommandConsole)
        assert console.argv[0] == "ssh" and "BatchMode=yes" in console.argv
        assert console.argv[-6:-3] == ("-t", "-e", "none")  # a terminal, and every key for the guest
        assert shlex.split(console.argv[-1]) == ["xl", "console", "-t", "pv", "pvguest"]
        assert shlex.split(src.console(by["hvmguest"]).argv[-1])[-2:] == ["serial", "hvmguest"]  # type: ignore[union-attr]
    finally:
        src.close()
    assert _wait(lambda: not _ssh_processes(control_dir)), _ssh_processes(control_dir)
    assert _wait(lambda: not sshd.connections()), "the dom0 still has our connection"
    assert _wait(lambda: not _remote_tools(sshd)), _remote_tools(sshd)
    assert not os.path.exists(control_dir)


def test_a_master_left_behind_by_a_killed_xentui_ends_by_itself(sshd: PrivateSshd) -> None:
    runner = SshRunner(SshTarget("root", "127.0.0.1", sshd.port, str(sshd.client_key), str(sshd.known_hosts)))
    runner.persist_s = 1  # 60 s in use
    control_dir = os.path.dirname(runner.control_path)
    try:
        assert runner.run(["echo", "hi"]) == "hi\n"
        assert [p for p in _ssh_processes(control_dir) if "[mux]" in p]
        # No `close` (as when xentui is killed): once idle, the master goes anyway.
        assert _wait(lambda: not _ssh_processes(control_dir), 10), _ssh_processes(control_dir)
        assert runner.run(["echo", "again"]) == "again\n"  # and a later command opens a new one
    finally:
        runner.close()


@pytest.mark.skipif(shutil.which("ssh") is None, reason="the OpenSSH client is not installed")
def test_close_ends_a_connect_to_a_host_that_does_not_answer() -> None:
    import socket
    import threading

    with socket.socket() as silent:  # accepts the connection (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        runner = SshRunner(SshTarget("root", "127.0.0.1", port, verify=False), connect_timeout=10)
        failed: list[SourceError] = []

        def poll() -> None:
            try:
                runner.run(["xl", "list"])
            except SourceError as exc:
                failed.append(exc)

        thread = threading.Thread(target=poll)
        thread.start()
        time.sleep(1)
        t0 = time.monotonic()
        runner.close()
        thread.join(5)
        assert time.monotonic() - t0 < 3 and not thread.is_alive()  # not the 10 s of ConnectTimeout
        assert failed and "connection closed" in str(failed[0])
        assert not os.path.exists(os.path.dirname(runner.control_path))


def test_commands_over_ssh_keep_hostile_words_whole(sshd: PrivateSshd) -> None:
    runner = SshRunner(SshTarget("root", "127.0.0.1", sshd.port, str(sshd.client_key), str(sshd.known_hosts)))
    try:
        for name in HOSTILE:
            assert runner.run(["printf", "%s\\0", name]) == name + "\0"
        assert not os.path.exists("/tmp/pwned")
        assert runner.run(["sh", "-c", "echo $LC_ALL"]) == "C\n"
    finally:
        runner.close()


def test_refused_key_is_kind_auth_and_the_app_can_go_on(sshd: PrivateSshd, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    (src,) = open_sources((Spec(Kind.XL, sshd.uri(key=stranger)),), Options(timeout=5.0))
    try:
        with pytest.raises(SourceError) as info:
            src.snapshot()
        assert info.value.kind == "auth" and "Permission denied" in str(info.value)
        assert "\n" not in str(info.value)
    finally:
        src.close()


def test_unknown_host_key_fails_at_once_naming_ssh_keyscan(sshd: PrivateSshd, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    runner = SshRunner(SshTarget("root", "127.0.0.1", sshd.port, str(sshd.client_key), str(empty)))
    t0 = time.monotonic()
    try:
        with pytest.raises(SourceError) as info:
            runner.run(["xl", "list"])
    finally:
        runner.close()
    assert time.monotonic() - t0 < 5  # failed, did not wait for an answer nobody can give
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts" in str(info.value)
    assert empty.read_text() == ""  # nothing was accepted on our behalf


def test_unreachable_host_and_missing_xl_are_one_line(sshd: PrivateSshd) -> None:
    from ssh_dom0 import free_port

    down = SshRunner(SshTarget("root", "127.0.0.1", free_port(), str(sshd.client_key), str(sshd.known_hosts)))
    try:
        with pytest.raises(SourceError) as info:
            down.run(["xl", "list"])
        assert info.value.kind == "unreachable" and "Connection refused" in str(info.value)
        with pytest.raises(SourceError, match="Connection refused"):
            down.argv(["xentop", "-b"])  # a stream is not handed an ssh bound to fail the same way
    finally:
        down.close()
    with pytest.raises(SourceError, match="connection closed"):
        down.argv(["xentop", "-b"])  # nothing is started after close
    up = SshRunner(SshTarget("root", "127.0.0.1", sshd.port, str(sshd.client_key), str(sshd.known_hosts)))
    try:
        with pytest.raises(SourceError, match="xenstore-nowhere: command not found on the remote host"):
            up.run(["xenstore-nowhere", "/local"])
    finally:
        up.close()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_dashboard_with_a_remote_xl_host_beside_libvirt_console_and_clean_exit(
    sshd: PrivateSshd, tmp_path: Path
) -> None:
    """The installed `xentui` in a terminal: an xl+ssh host and a libvirt one in one fleet, `C` on the remote
    guest runs its `xl console` over ssh and gives the dashboard back, `q` leaves no ssh behind."""
    from tmux_driver import XENTUI, Tmux

    marker = tmp_path / "exit-status"
    remote = f"127.0.0.1:{sshd.port}"
    t = Tmux(
        f"env -u COLUMNS -u LINES XENTUI_CONFIG={tmp_path / 'none.toml'} {XENTUI} "
        f"-c {shlex.quote(sshd.uri())} -c test:///default; echo $? > {marker}; sleep 30"
    )
    try:
        t.wait_until(lambda s: "hvmguest" in s and "pvhguest" in s and " test " in s, "both hosts' domains")
        assert remote in t.screen()
        time.sleep(1)
        t.keys("/")
        t.wait_for("filter: name, state")  # the filter box has the keys now
        t.keys("pvguest")
        t.wait_until(lambda s: " pvguest " in s and "pvhguest" not in s and " test " not in s, "pvguest alone")
        t.keys("Enter")
        time.sleep(0.5)
        t.keys("C")
        t.wait_for("console of pvguest (pv)")  # the dom0's `xl console -t pv pvguest`, over ssh -t
        t.keys("hello", "Enter")
        t.wait_for("detached from pvguest")
        assert len(sshd.connections()) == 1  # the console went through the same master
        t.keys("q")
        assert _wait(marker.exists), t.screen()[-1500:]
        assert marker.read_text().strip() == "0" and "Traceback" not in t.screen()
    finally:
        t.kill()
    assert _wait(lambda: not sshd.connections()), "the dom0 still has our connection after q"
    assert _wait(lambda: not _remote_tools(sshd)), _remote_tools(sshd)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("how", ["hangup", "terminate"])
def test_a_closed_terminal_or_kill_still_closes_the_connection(sshd: PrivateSshd, tmp_path: Path, how: str) -> None:
    """The admin's ssh session drops (SIGHUP) or xentui is killed (SIGTERM): the sources are closed as on `q`,
    so neither the ssh master nor the watches over it outlive xentui."""
    from tmux_driver import XENTUI, Tmux

    pidfile = tmp_path / "pid"
    script = f"echo $$ > {pidfile}; exec {XENTUI} -c {shlex.quote(sshd.uri())}"
    t = Tmux(f"env -u COLUMNS -u LINES XENTUI_CONFIG={tmp_path / 'none.toml'} sh -c {shlex.quote(script)}")
    try:
        t.wait_until(lambda s: "hvmguest" in s and "pvhguest" in s, "the remote host's domains")
        assert _wait(lambda: len(_remote_tools(sshd)) >= 4)  # xentop and the watches run over the connection
        assert len(sshd.connections()) == 1
        if how == "terminate":
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        else:
            t.kill()  # tmux hangs up the terminal: SIGHUP
        assert _wait(lambda: not sshd.connections(), 15), "the dom0 still has our connection"
        assert _wait(lambda: not _remote_tools(sshd)), _remote_tools(sshd)
    finally:
        t.kill()
