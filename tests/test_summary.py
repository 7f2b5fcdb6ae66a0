"""The summary facts, from real Xen 4.17 and KVM outputs in every configuration format."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import read_fixture

from xentui.columns import column, mode_text
from xentui.fleet import HostStatus
from xentui.model import Domain, DomainConfig, Endpoint, Frontend, HostInfo, Mode, Snapshot, State, XenbusState
from xentui.parsers.libvirt_xml import parse_domain_xml
from xentui.parsers.xl_json import parse_xl_json
from xentui.parsers.xm import parse_sxp_domains
from xentui.poller import Frame
from xentui.summary import Boot, Console, Disk, Nic, Summary, live_pv_text, summarize
from xentui.summary.live_pv import state_name
from xentui.ui.widgets.detail_pane import live_pv_line
from xentui.ui.widgets.summary_bar import host_line, resources_text, summary_text


def _by_name(domains: tuple[Domain, ...]) -> dict[str, Domain]:
    return {d.name: d for d in domains}


def xl_json(name: str) -> Summary:
    return summarize(_by_name(parse_xl_json(read_fixture("xl-list-long.json")).domains)[name])


def xml(fixture: str) -> Summary:
    return summarize(parse_domain_xml(read_fixture(fixture)).domains[0])


def sxp(fixture: str, name: str) -> Summary:
    return summarize(_by_name(parse_sxp_domains(read_fixture(fixture)).domains)[name])


def facts(s: Summary) -> tuple[object, ...]:
    """What one guest must show the same whichever toolstack printed its configuration.

    The xl and libvirt captures of the Xen lab were taken on different boots (other paths, other UUIDs), so
    paths and allocated ports are compared by kind, not by value.
    """
    assert s.boot is not None and s.consoles is not None and s.graphics is not None
    return (
        s.mode,
        s.pv_drivers if s.mode is not Mode.HVM else None,  # libvirt infers PV drivers from devices, xl from a flag
        s.boot.kind,
        s.boot.firmware,
        bool(s.boot.ramdisk),
        bool(s.boot.cmdline),
        s.vcpus,
        s.memory_mib,
        s.disks,
        s.nics,
        tuple(c.kind for c in s.consoles),
        tuple((g.kind, g.host) for g in s.graphics),
    )


XEN_LAB = [
    ("pvguest", "xen-4.17-virsh-dumpxml-pv.xml"),
    ("pvhguest", "xen-4.17-virsh-dumpxml-pvh.xml"),
    ("hvmguest", "xen-4.17-virsh-dumpxml-hvm.xml"),
    ("Domain-0", "xen-4.17-virsh-dumpxml-dom0.xml"),
]


@pytest.mark.parametrize(("name", "fixture"), XEN_LAB)
def test_same_facts_from_xl_json_and_libvirt_xml(name: str, fixture: str) -> None:
    from_xl, from_libvirt = xl_json(name), xml(fixture)
    assert from_xl.format == "xl-json" and from_libvirt.format == "libvirt-xml"
    if name == "Domain-0":  # xl prints no VCPU count for dom0, and its memory target is 1 KiB short of 2 GiB
        assert from_xl.vcpus is None and from_libvirt.vcpus == 2
        from_xl = replace(from_xl, vcpus=2)
    assert facts(from_xl) == facts(from_libvirt)


def test_pv_guest() -> None:
    s = xl_json("pvguest")
    assert (s.mode, s.why) == (Mode.PV, 'c_info.type "pv", b_info."type.pv"')
    assert s.boot == Boot(
        kernel="/guest/vmlinuz", ramdisk="/guest/initrd.gz", cmdline="console=hvc0 rdinit=/init quiet"
    )
    assert (s.vcpus, s.max_vcpus, s.memory_mib, s.max_memory_mib) == (1, 1, 128, 128)
    assert (s.disks, s.nics, s.consoles, s.graphics) == ((), (), (Console("PV console"),), ())
    x = xml("xen-4.17-virsh-dumpxml-pv.xml")
    assert x.boot is not None and x.boot.kernel == "/var/lib/xentui-lab/vmlinuz" and x.boot.firmware is None
    assert x.consoles == (Console("PV console", "pty", "/dev/pts/0"),)


def test_pvh_guest() -> None:
    s = xl_json("pvhguest")
    assert s.mode is Mode.PVH and s.boot is not None and s.boot.kind == "kernel" and s.boot.firmware is None
    x = xml("xen-4.17-virsh-dumpxml-pvh.xml")
    assert x.mode is Mode.PVH and x.why == "<os><type machine='xenpvh'>xenpvh</type>"
    assert x.boot == Boot(
        kernel="/var/lib/xentui-lab/vmlinuz",
        ramdisk="/var/lib/xentui-lab/initrd.gz",
        cmdline="console=hvc0 rdinit=/init lab_tty=hvc0",
    )


def test_hvm_guest() -> None:
    s = xl_json("hvmguest")
    assert s.mode is Mode.HVM and s.pv_drivers and s.why.endswith("→ PV drivers available")
    assert s.boot is not None and s.boot.firmware == "hvmloader" and s.boot.kernel == "/guest/vmlinuz"
    assert s.memory_mib == 256
    assert s.consoles == (Console("serial 0", "pty"),)
    assert s.graphics == (Endpoint("vnc", "127.0.0.1", None),)  # vncunused: the port is chosen at start
    x = xml("xen-4.17-virsh-dumpxml-hvm.xml")
    assert x.boot is not None and x.boot.firmware == "hvmloader" and x.boot.order == ("hd",)
    # libvirt lists serial 0 twice (<serial> and the <console> that mirrors it): one console.
    assert x.consoles == (Console("serial 0", "pty", "/dev/pts/3"),)
    assert x.graphics == (Endpoint("vnc", "127.0.0.1", 5900),)


def test_dom0_is_started_by_the_hypervisor() -> None:
    for s in (xl_json("Domain-0"), xml("xen-4.17-virsh-dumpxml-dom0.xml")):
        assert s.boot == Boot(by_hypervisor=True) and s.consoles == ()
    assert xl_json("Domain-0").memory_mib == 2048  # 2097151 KiB, rounded


def test_kvm_guest() -> None:
    s = xml("virsh-dumpxml-kvm.xml")
    assert s.mode is Mode.HVM and s.pv_drivers and "virtio disk, virtio net" in s.why
    assert s.boot == Boot(firmware="default BIOS", order=("hd",))
    assert (s.vcpus, s.max_vcpus, s.memory_mib, s.max_memory_mib) == (2, 4, 2048, 4096)
    assert s.disks == (Disk("vda", "/var/lib/libvirt/images/ubuntu.qcow2"),)
    assert s.nics == (Nic("network default", None, "virtio"),)
    assert s.consoles == (Console("serial 0", "pty", "/dev/pts/3"),)
    assert [(g.kind, g.port) for g in s.graphics or ()] == [("vnc", 5900), ("spice", None)]


def test_xend_pygrub_guest_with_devices() -> None:
    s = sxp("xend-multi.sxp", "web frontend")
    assert s.format == "xm-sxp" and s.boot is not None and s.boot.kind == "bootloader"
    assert (s.boot.bootloader, s.boot.bootloader_args) == ("/usr/bin/pygrub", '-q --args="console=hvc0"')
    assert (s.memory_mib, s.max_memory_mib) == (768, 1024)
    assert s.disks == (Disk("xvda", "phy:/dev/vg0/web"),)
    assert s.nics == (Nic("xenbr0", "00:16:3e:4a:10:01", "netfront"),)
    assert s.consoles == (Console("PV console", "vt100"),)
    seed = sxp("seed-xm-list-l-pv.sxp", "My-PV-VM")
    assert seed.boot is not None and seed.boot.kind == "bootloader" and seed.boot.bootloader_args == "-q"


def test_xend_hvm_guest_exposed_vnc() -> None:
    s = sxp("xend-multi.sxp", "win2008")
    assert s.boot == Boot(firmware="hvmloader", order=("hd",))
    assert s.consoles == (Console("serial 0", "pty"),)
    assert s.graphics is not None and [g.exposed for g in s.graphics] == [True]
    seed = sxp("seed-xm-list-l-hvm.sxp", "My-HVM-VM")
    assert seed.boot is not None and seed.boot.order == ("cdrom", "hd") and seed.consoles == ()  # (serial none)
    assert seed.vcpus == 8 and seed.memory_mib == 16384


def test_xl_sxp() -> None:
    hvm = sxp("xl-sxp.sxp", "winhvm")
    assert hvm.format == "xl-sxp" and hvm.boot == Boot(firmware="hvmloader", order=("hd",))  # (firmware (null))
    assert hvm.disks == (Disk("hda", "phy:/dev/vg0/winhvm"),)
    pv = sxp("xl-sxp.sxp", "pvlinux")
    assert pv.boot == Boot(kernel="/boot/vmlinuz", ramdisk="/boot/initrd.img", cmdline="root=/dev/xvda1")


def test_xl_sxp_device_layout_of_printf_info_sexp() -> None:
    # The layout xl's printf_info_sexp() writes: disks as (tap (physpath) (phystype N) (virtpath)), MACs bare.
    text = (
        "(domain (domid 7) (create_info) (hvm 0) (name g) (build_info) (max_vcpus 1) (max_memkb 262144)"
        " (target_memkb 262144) (bootloader pygrub) (bootloader_args -q)"
        " (image (linux 0) (kernel ) (cmdline ) (ramdisk ))"
        " (device (tap (backend_domid 0) (physpath /dev/vg0/g) (phystype 1) (virtpath xvda) (readwrite 0)"
        " (is_cdrom 0)))"
        " (device (vif (backend_domid 0) (devid 0) (mtu 1500) (model (null)) (mac 00163e0a0b0c))))"
    )
    s = summarize(parse_sxp_domains(text).domains[0])
    assert s.boot == Boot(bootloader="pygrub", bootloader_args="-q")
    assert s.disks == (Disk("xvda", "phy:/dev/vg0/g", readonly=True),)
    assert s.nics == (Nic(None, "00:16:3e:0a:0b:0c", "netfront"),)


def test_xl_json_devices_and_firmware() -> None:
    """Disks, NICs and firmware as libxl's JSON prints them (libxl_types.idl field names)."""
    record = json.loads(read_fixture("xl-list-long.json"))[3]
    config = record["config"]
    config["b_info"]["type.hvm"].update({"bios": "ovmf", "boot": "dc", "serial": "none"})
    config["b_info"].pop("kernel")
    config["disks"] = [
        {"pdev_path": "/dev/vg0/hvm", "vdev": "hda", "backend": "phy", "format": "raw", "readwrite": 1},
        {"vdev": "hdc", "backend": "qdisk", "format": "raw", "readwrite": 0, "is_cdrom": 1},
    ]
    config["nics"] = [
        {"devid": 0, "mac": "00:16:3e:11:22:33", "bridge": "xenbr0", "model": "e1000", "nictype": "vif_ioemu"},
        {"devid": 1, "mac": "00:16:3e:11:22:34", "bridge": "xenbr1", "nictype": "vif"},
    ]
    s = summarize(parse_xl_json(json.dumps([record])).domains[0])
    assert s.boot == Boot(ramdisk="/guest/initrd-serial.gz", cmdline="console=ttyS0 rdinit=/init quiet",
                          firmware="hvmloader + OVMF", order=("cdrom", "hd"))  # fmt: skip
    assert s.disks == (Disk("hda", "/dev/vg0/hvm"), Disk("hdc", None, "cdrom", readonly=True))
    assert s.nics == (Nic("xenbr0", "00:16:3e:11:22:33", "e1000"), Nic("xenbr1", "00:16:3e:11:22:34", "netfront"))
    assert s.consoles == ()
    pv = json.loads(read_fixture("xl-list-long.json"))[1]
    pv["config"]["b_info"].update({"bootloader": "pygrub", "bootloader_args": ["-q", "--entry=1"]})
    s = summarize(parse_xl_json(json.dumps([pv])).domains[0])
    assert s.boot is not None and s.boot.kind == "bootloader" and s.boot.bootloader_args == "-q --entry=1"


def test_libvirt_bootloader_uefi_and_network_disks() -> None:
    text = """<domain type='kvm'><name>k</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>
      <os firmware='efi'><type machine='q35'>hvm</type><boot dev='cdrom'/><boot dev='hd'/></os>
      <devices>
        <disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='sda'/></disk>
        <disk type='file' device='cdrom'><target dev='sdb'/><readonly/></disk>
        <interface type='direct'><mac address='52:54:00:00:00:01'/><source dev='eth0' mode='bridge'/></interface>
        <console type='pty'><target type='virtio' port='0'/></console>
      </devices></domain>"""
    s = summarize(parse_domain_xml(text).domains[0])
    assert s.boot == Boot(firmware="UEFI", order=("cdrom", "hd"))
    assert s.disks == (Disk("sda", "rbd:pool/img"), Disk("sdb", None, "cdrom", readonly=True))
    assert s.nics == (Nic("direct eth0", "52:54:00:00:00:01", None),)
    assert s.consoles == (Console("virtio console", "pty"),)
    pygrub = """<domain type='xen'><name>p</name><memory>524288</memory><vcpu>1</vcpu>
      <bootloader>/usr/lib/xen-4.17/bin/pygrub</bootloader><bootloader_args>-q</bootloader_args>
      <os><type machine='xenpv'>linux</type></os></domain>"""
    p = summarize(parse_domain_xml(pygrub).domains[0])
    assert p.boot == Boot(bootloader="/usr/lib/xen-4.17/bin/pygrub", bootloader_args="-q")


def test_without_configuration_only_the_table_facts() -> None:
    d = Domain("bare", 3, None, State.RUNNING, 524288, 1048576, 2, 2, Mode.PV)
    s = summarize(d)
    assert (s.format, s.boot, s.disks, s.nics, s.consoles, s.graphics) == (None, None, None, None, None, None)
    assert (s.memory_mib, s.max_memory_mib, s.vcpus) == (512, 1024, 2)


def test_unknown_sizes() -> None:
    d = xl_json("pvguest")
    dom = _by_name(parse_xl_json(read_fixture("xl-list-long.json")).domains)["pvguest"]
    # Sizes become `int | None` (unknown) in the model; 0 has always meant "not reported".
    for unknown in (None, 0):
        s = summarize(replace(dom, memory_kib=unknown, max_memory_kib=unknown, vcpus=unknown))  # type: ignore[arg-type]
        assert (s.memory_mib, s.max_memory_mib, s.vcpus) == (None, None, None)
        assert s.boot == d.boot


def test_verdict_read_through_str() -> None:
    class Verdict:  # the shape DomainConfig.verdict is taking: an object whose str() is the one-line text
        def __str__(self) -> str:
            return "PV: bootloader pygrub"

    dom = _by_name(parse_xl_json(read_fixture("xl-list-long.json")).domains)["pvguest"]
    assert dom.config is not None
    config = DomainConfig(dom.config.format, dom.config.tree, dom.config.raw, Verdict())  # type: ignore[arg-type]
    assert summarize(replace(dom, config=config)).why == "bootloader pygrub"


def test_no_memory_maximum() -> None:
    from dataclasses import fields

    if "max_memory_unlimited" not in {f.name for f in fields(Domain)}:
        pytest.skip("the model has no max_memory_unlimited yet")
    dom = _by_name(parse_sxp_domains(read_fixture("xend-multi.sxp")).domains)["Domain-0"]
    s = summarize(replace(dom, max_memory_kib=None, max_memory_unlimited=True))  # type: ignore[call-arg]
    assert s.max_memory_unlimited and s.max_memory_mib is None and s.memory_mib == 2048
    assert not summarize(dom).max_memory_unlimited


@pytest.mark.parametrize(
    ("fixture", "parse", "name", "cut"),
    [
        ("xend-multi.sxp", parse_sxp_domains, "cutshort", True),  # the file ends inside the record
        ("xend-multi.sxp", parse_sxp_domains, "web frontend", False),  # quoted '-q --args="console=hvc0"'
        ("seed-xm-list-l-pv.sxp", parse_sxp_domains, "My-PV-VM", True),  # "......" where lines were left out
        ("seed-virsh-dumpxml-hvm.xml", parse_domain_xml, "My-HVM-VM", True),  # cut after </os>
        ("xen-4.17-virsh-dumpxml-hvm.xml", parse_domain_xml, "hvmguest", False),
        ("xl-sxp.sxp", parse_sxp_domains, "winhvm", False),
        ("xl-list-long.json", parse_xl_json, "hvmguest", False),
    ],
)
def test_cut_short_configurations_are_flagged(fixture: str, parse, name: str, cut: bool) -> None:  # type: ignore[no-untyped-def]
    assert summarize(_by_name(parse(read_fixture(fixture)).domains)[name]).cut_short is cut


# -- live PV-driver triage (xenstore's frontends beside the configuration's verdict) -----------------------------
def _xl(name: str) -> Domain:
    return _by_name(parse_xl_json(read_fixture("xl-list-long.json")).domains)[name]


def _fe(kind: str, devid: str, state: int) -> Frontend:
    return Frontend(kind, devid, state)


VIF_UP, VBD_UP = _fe("vif", "0", XenbusState.CONNECTED), _fe("vbd", "51712", XenbusState.CONNECTED)
VIF_INIT, VBD_INIT = _fe("vif", "0", XenbusState.INITIALISING), _fe("vbd", "768", XenbusState.INITIALISING)


def test_mode_cell_follows_the_live_frontends_where_xenstore_was_read() -> None:
    hvm = _xl("hvmguest")  # xen_platform_pci default (on): the configuration says PV drivers are available
    assert hvm.pv_drivers and hvm.frontends is None
    assert mode_text(hvm) == "HVM+pv"  # no xenstore read: the configuration's rule
    assert mode_text(replace(hvm, frontends=(VIF_UP, VBD_INIT))) == "HVM+pv"
    assert mode_text(replace(hvm, frontends=(VIF_INIT, VBD_INIT))) == "HVM"
    assert mode_text(replace(hvm, frontends=())) == "HVM"
    off = replace(hvm, pv_drivers=False)
    assert mode_text(off) == "HVM" and mode_text(replace(off, frontends=(VBD_UP,))) == "HVM+pv"
    pv = _xl("pvguest")
    assert mode_text(replace(pv, frontends=(VIF_UP,))) == "PV" and mode_text(replace(pv, frontends=())) == "PV"
    cell = column("mode").render(replace(hvm, frontends=(VIF_INIT,)), None)
    assert cell.plain == "HVM"


def test_connected_frontends_named_beside_the_configured_evidence() -> None:
    s = summarize(replace(_xl("hvmguest"), frontends=(VIF_UP, VBD_UP, _fe("vif", "1", XenbusState.CONNECTED))))
    assert s.live_pv is not None
    assert s.live_pv.connected == ("vif", "vbd") and s.live_pv.evidence == ("xen_platform_pci default (on)",)
    assert live_pv_text(s.live_pv) == "PV drivers live: vif, vbd connected"
    assert not s.live_pv.emulated_only


def test_platform_device_on_but_no_frontend_connected_is_said_plainly() -> None:
    s = summarize(replace(_xl("hvmguest"), frontends=(VBD_INIT, VIF_INIT)))
    assert s.live_pv is not None and s.live_pv.emulated_only and s.live_pv.platform_on
    assert live_pv_text(s.live_pv) == (
        "platform device on, no PV disk/net frontend connected: emulated devices only (no PV drivers in the guest?)"
        "; vbd 768 initialising, vif 0 initialising"
    )
    # No frontend at all (a guest configured without disks or NICs on the PV path) reads the same.
    bare = summarize(replace(_xl("hvmguest"), frontends=())).live_pv
    assert bare is not None and live_pv_text(bare).startswith("platform device on, no PV disk/net frontend connected")


def test_platform_device_off_and_other_states() -> None:
    off = summarize(replace(_xl("hvmguest"), pv_drivers=False, frontends=(_fe("vbd", "768", 99),))).live_pv
    assert off is not None
    assert live_pv_text(off) == "no PV disk/net frontend connected: emulated devices only; vbd 768 state 99"
    mixed = summarize(replace(_xl("hvmguest"), frontends=(VBD_UP, _fe("vif", "0", XenbusState.INIT_WAIT)))).live_pv
    assert mixed is not None and live_pv_text(mixed) == "PV drivers live: vbd connected; vif 0 init wait"
    closing = summarize(replace(_xl("pvguest"), frontends=(_fe("vif", "0", XenbusState.CLOSED),))).live_pv
    assert closing is not None and live_pv_text(closing) == "no PV frontend connected; vif 0 closed"
    assert [state_name(s) for s in (0, 2, 4, 5, 7, 8, -1)] == [
        "unknown", "init wait", "connected", "closing", "reconfiguring", "reconfigured", "state -1",
    ]  # fmt: skip


def test_no_live_line_without_xenstore_or_for_domain_0() -> None:
    assert summarize(_xl("hvmguest")).live_pv is None  # the source did not read xenstore
    assert summarize(replace(_xl("Domain-0"), frontends=())).live_pv is None  # it holds the backends
    kvm = summarize(parse_domain_xml(read_fixture("virsh-dumpxml-kvm.xml")).domains[0])
    assert kvm.live_pv is None


def test_live_line_in_the_detail_pane_is_inert() -> None:
    hostile = Frontend("vif\x1b[31m[bold]", "0\u202e", XenbusState.INITIALISING)
    s = summarize(replace(_xl("hvmguest"), frontends=(hostile,)))
    assert s.live_pv is not None
    line = live_pv_line(s.live_pv)
    assert "\x1b" not in line.plain and "\u202e" not in line.plain
    assert "vif\\x1b[31m[bold] 0\\u202e initialising" in line.plain
    assert line.plain.endswith(" · configured: xen_platform_pci default (on)")


# -- the header: the host's memory and CPUs ----------------------------------------------------------------------
def _frame(host: HostInfo, domains: tuple[Domain, ...] = ()) -> Frame:
    return Frame(Snapshot(host, domains, 0.0), {}, connected=True)


GIB = 1024 * 1024


def test_host_memory_and_cpus_like_xentop() -> None:
    host = HostInfo("dom0-a", "xl", "Xen 4.17.5", cpus=8, memory_kib=64 * GIB, free_memory_kib=41 * GIB + GIB // 2)
    assert resources_text(host) == "Mem 64.0G total, 22.5G used, 41.5G free, 8 CPUs"
    assert resources_text(host, compact=True) == "41.5G free/64.0G, 8 CPUs"
    text = summary_text(_frame(host), 1.0, "xl").plain
    assert (
        text.splitlines()[0]
        == " dom0-a  Xen 4.17.5  Mem 64.0G total, 22.5G used, 41.5G free, 8 CPUs  xl  read-only  every 1s"
    )


def test_unknown_host_figures_are_left_out_never_zero() -> None:
    bare = HostInfo("h", "file:x", "")
    assert resources_text(bare) == "" and resources_text(bare, compact=True) == ""
    assert summary_text(_frame(bare), 1.0, "file:x").plain.splitlines()[0] == " h    file:x  read-only  every 1s"
    assert resources_text(replace(bare, cpus=1)) == "1 CPU"
    assert resources_text(replace(bare, memory_kib=512 * 1024)) == "Mem 512M total"
    assert resources_text(replace(bare, memory_kib=512 * 1024), compact=True) == "512M mem"
    assert resources_text(replace(bare, free_memory_kib=0)) == "0M free"  # known to be none free: said


@pytest.mark.parametrize("width", [80, 100, 200])
def test_header_fits_80_columns(width: int) -> None:
    host = HostInfo(
        "xen-host-01.example.com", "xl", "Xen 4.17.5", cpus=32, memory_kib=256 * GIB, free_memory_kib=100 * GIB
    )
    domains = tuple(replace(_xl("pvguest"), name=f"g{i}", id=i) for i in range(1, 6))
    lines = summary_text(_frame(host, domains), 1.0, "xl", width).plain.splitlines()
    assert all(len(line) <= width for line in lines)
    both = " ".join(lines)
    assert "read-only" in lines[0] and "every 1s" in lines[0]
    assert "100.0G free" in both and "32 CPUs" in both
    if width == 200:
        assert lines[0].endswith("Mem 256.0G total, 156.0G used, 100.0G free, 32 CPUs  xl  read-only  every 1s")
    if width == 80:
        assert len(lines) == 2 and lines[1].endswith("| 100.0G free/256.0G, 32 CPUs")


def test_header_third_line_only_when_two_cannot_hold_it() -> None:
    host = HostInfo("xen-demo", "demo", "Xen 4.17 (simulated)", demo=True, cpus=32, memory_kib=64 * GIB)
    domains = tuple(replace(_xl("pvguest"), name=f"g{i}", id=i, state=st) for i, st in enumerate(State))
    lines = summary_text(_frame(host, domains), 1.0, "demo", 80).plain.splitlines()
    assert len(lines) == 3 and lines[2] == " Mem 64.0G total, 32 CPUs"
    assert "DEMO DATA  read-only  every 1s" in lines[0]


def test_fleet_host_line_has_the_compact_figures() -> None:
    host = HostInfo("dom0-b", "xl+ssh://root@b", "Xen 4.20.0", cpus=4, memory_kib=16 * GIB, free_memory_kib=GIB)
    status = HostStatus("dom0-b", "xl+ssh://root@b", frame=_frame(host))
    assert "  Xen 4.20.0  1024M free/16.0G, 4 CPUs " in host_line(status, 8).plain


def test_a_connected_keyboard_alone_is_not_pv_drivers() -> None:
    """Linux connects its built-in vkbd frontend even in an HVM guest on emulated disks and NICs (seen in the
    Xen 4.17 lab's hvmnopv): only disk and network frontends make HVM+pv."""
    vkbd = _fe("vkbd", "0", XenbusState.CONNECTED)
    hvm = replace(_xl("hvmguest"), frontends=(vkbd, VIF_INIT))
    assert mode_text(hvm) == "HVM"
    live = summarize(hvm).live_pv
    assert live is not None and live.emulated_only and live.also == ("vkbd",)
    assert live_pv_text(live) == (
        "platform device on, no PV disk/net frontend connected: emulated devices only (no PV drivers in the guest?)"
        "; also connected: vkbd; vif 0 initialising"
    )
    assert mode_text(replace(hvm, frontends=(vkbd, VIF_UP))) == "HVM+pv"
