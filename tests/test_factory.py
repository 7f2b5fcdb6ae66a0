"""The one source factory: every way of naming a source gets the same options, and hosts distinct names."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

from xentui import cli
from xentui.sources.demo import DemoSource, host_xml_path
from xentui.sources.factory import Kind, Options, Request, Spec, open_request, open_sources, plan, unique_names
from xentui.sources.files import FilesSource
from xentui.sources.libvirt_source import LibvirtSource
from xentui.sources.xl import ToolstackSource

SSH = "qemu+ssh://root@kvm7/system"
DEMO = f"test://{host_xml_path()}"


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XENTUI_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    return tmp_path


def test_libvirt_default_uri_over_ssh_gets_no_tty_in_the_dashboard(no_config: Path) -> None:
    env = {"LIBVIRT_DEFAULT_URI": SSH}
    opened = open_request(Request(), Options(batch=True), env)
    (src,) = opened.sources
    assert isinstance(src, LibvirtSource) and src.open_uri == SSH + "?no_tty=1" and src.label == SSH
    assert opened.notice == "LIBVIRT_DEFAULT_URI"
    # `list` and `mode` are not the dashboard: ssh may ask there, as virsh's would.
    assert open_request(Request(), Options(batch=False), env).sources[0].open_uri == SSH  # type: ignore[attr-defined]


def test_the_dashboard_opens_libvirt_default_uri_without_a_tty_and_closes_it(
    no_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real `xentui` path (cli.main → run_dashboard), up to the app's run."""
    from xentui.ui.app import XenTUI

    seen: list[str] = []
    closed: list[str] = []
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", SSH)
    monkeypatch.setattr(XenTUI, "run", lambda self: seen.extend(s.open_uri for s in self.sources))
    monkeypatch.setattr(LibvirtSource, "close", lambda self: closed.append(self.uri))
    assert cli.main([]) == 0
    assert seen == [SSH + "?no_tty=1"] and closed == [SSH]  # the fleet closed what it owned


def test_every_way_of_naming_a_host_gets_the_same_options(no_config: Path) -> None:
    cfg = no_config / "config.toml"
    cfg.write_text(f'interval = 3\n[hosts.dom0-a]\nuri = "xen+ssh://root@dom0-a/system"\n[hosts.lab]\nuri = "{DEMO}"\n')
    opts = Options(read_only=False, batch=True, timeout=2.5)
    from_file = open_request(Request(config=str(cfg)), opts)
    from_cli = open_request(Request(connect=("dom0-a", "qemu+ssh://kvm7/system"), config=str(cfg)), opts)
    from_env = open_request(Request(), opts, {"LIBVIRT_DEFAULT_URI": SSH})
    libvirts = [s for o in (from_file, from_cli, from_env) for s in o.sources]
    assert all(isinstance(s, LibvirtSource) and not s.read_only for s in libvirts)
    assert [s.open_uri for s in libvirts if "+ssh" in s.label] == [  # type: ignore[attr-defined]
        "xen+ssh://root@dom0-a/system?no_tty=1",
        "xen+ssh://root@dom0-a/system?no_tty=1",
        "qemu+ssh://kvm7/system?no_tty=1",
        SSH + "?no_tty=1",
    ]
    assert from_file.interval == 3.0 and [s.host_name for s in from_file.sources] == ["dom0-a", "lab"]
    (xl,) = open_request(Request(xl=True), opts).sources
    assert isinstance(xl, ToolstackSource) and (xl.timeout, xl.read_only) == (2.5, False)
    (demo,) = open_request(Request(demo=True), opts).sources
    assert isinstance(demo, DemoSource) and not demo.read_only
    demo.close()
    (files,) = open_request(Request(files=(str(FIXTURES / "xl-list.txt"),), demo=True), opts).sources
    assert isinstance(files, FilesSource) and files.read_only  # saved outputs are read-only whatever asked


def test_precedence(no_config: Path) -> None:
    cfg = no_config / "config.toml"
    cfg.write_text(f'interval = 2\n[hosts.cfg]\nuri = "{DEMO}"\n')
    env = {"LIBVIRT_DEFAULT_URI": "test:///default"}

    def kinds(request: Request) -> list[tuple[Kind, str]]:
        return [(s.kind, s.target) for s in plan(request, env).specs]

    with_cfg = Request(config=str(cfg))
    assert kinds(with_cfg) == [(Kind.LIBVIRT, DEMO)]  # the hosts file before LIBVIRT_DEFAULT_URI
    assert plan(with_cfg, env).interval == 2.0
    assert kinds(Request(connect=("test:///default",), xl=True)) == [(Kind.LIBVIRT, "test:///default")]
    assert kinds(Request(xl=True, xm=True)) == [(Kind.XL, "")]
    assert kinds(Request(demo=True, connect=("x:///",))) == [(Kind.DEMO, "")]
    assert kinds(Request(files=("a",), demo=True))[0][0] is Kind.FILES
    assert kinds(Request(demo_host="h.xml", files=("a",)))[0][0] is Kind.DEMO
    assert kinds(Request()) == [(Kind.LIBVIRT, "test:///default")]
    assert plan(Request(xl=True), env).interval is None  # a local choice reads no hosts file


def test_host_names_are_made_distinct_here_only() -> None:
    specs = [
        Spec(Kind.LIBVIRT, "xen+ssh://root@a/system", name="a"),
        Spec(Kind.LIBVIRT, "qemu+ssh://kvm7/system"),
        Spec(Kind.LIBVIRT, "qemu+tcp://kvm7:16510/system"),
        Spec(Kind.LIBVIRT, "qemu:///system"),
        Spec(Kind.LIBVIRT, "test+tcp://h/default"),
        Spec(Kind.LIBVIRT, "test+ssh://h/default"),
        Spec(Kind.LIBVIRT, "test+ssh://a/default"),
    ]
    assert [s.name for s in unique_names(specs)] == ["a", "kvm7", "kvm7:16510", "qemu:system", "h", "h#2", "a#2"]
    sources = open_sources(specs, Options())
    assert [s.host_name for s in sources] == ["a", "kvm7", "kvm7:16510", "qemu:system", "h", "h#2", "a#2"]
    # One host keeps its own name: libvirt's hostname is shown for it.
    assert unique_names([Spec(Kind.LIBVIRT, "qemu:///system")]) == (Spec(Kind.LIBVIRT, "qemu:///system"),)
