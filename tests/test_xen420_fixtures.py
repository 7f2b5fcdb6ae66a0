"""Real Xen 4.20 outputs (Debian 13 dom0 of the project's Xen lab, see tests/fixtures/README.md) read by the
parsers every source uses: the table, `xl list -l`, `xentop -b` (two iterations), `virsh dumpxml` of
libvirt 11's xen driver, and `xl info` through the xl source."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from conftest import FIXTURES

from xentui.model import Domain, Endpoint, Mode, State
from xentui.sources.files import combine, read_file
from xentui.sources.xl import ToolstackSource

GUEST_MODES = {"Domain-0": Mode.PV, "pvguest": Mode.PV, "pvhguest": Mode.PVH, "hvmguest": Mode.HVM}
MEMORY_MIB = {"Domain-0": 2048, "pvguest": 128, "pvhguest": 128, "hvmguest": 256}
VCPUS = {"Domain-0": 2, "pvguest": 1, "pvhguest": 1, "hvmguest": 1}
IDS = {"Domain-0": 0, "pvguest": 1, "pvhguest": 2, "hvmguest": 3}


def _read(*names: str) -> dict[str, Domain]:
    domains, problems = combine([read_file(str(FIXTURES / f"xen-4.20-{name}")) for name in names])
    assert problems == []
    by_name = {d.name: d for d in domains}
    assert len(by_name) == len(domains), [d.name for d in domains]
    return by_name


def test_xl_list_with_xl_list_l() -> None:
    by = _read("xl-list.txt", "xl-list-l.json")
    assert {n: d.mode for n, d in by.items()} == GUEST_MODES
    assert {n: d.memory_mib for n, d in by.items()} == MEMORY_MIB
    assert {n: d.max_memory_mib for n, d in by.items()} == MEMORY_MIB
    assert {n: d.vcpus for n, d in by.items()} == VCPUS
    assert {n: d.id for n, d in by.items()} == IDS
    # hvmguest's flags were `------`: runnable, waiting for a CPU, which is running as xentop shows it.
    assert {n: d.state for n, d in by.items()} == {
        "Domain-0": State.RUNNING, "pvguest": State.BLOCKED, "pvhguest": State.BLOCKED, "hvmguest": State.RUNNING
    }  # fmt: skip
    assert by["Domain-0"].flags == "r-----" and by["pvguest"].flags == "-b----"
    assert by["Domain-0"].cpu_time_ns == 319_700_000_000
    hvm = by["hvmguest"]
    # xl's JSON has vnclisten but not the port QEMU picked (that is in xenstore): known host, port not yet.
    assert hvm.graphics == (Endpoint("vnc", "127.0.0.1", None),) and hvm.pv_drivers
    assert [n for n, d in by.items() if d.graphics] == ["hvmguest"]
    assert {n for n, d in by.items() if d.has_console} == {"pvguest", "pvhguest", "hvmguest"}
    assert by["pvhguest"].uuid == "156df3f7-b11e-4da3-a60c-93b2dcf7b98c"


def test_xl_list_l_alone_decides_modes_from_c_info_type() -> None:
    (parsed,) = [read_file(str(FIXTURES / "xen-4.20-xl-list-l.json"))]
    assert parsed.format == "xl-json" and not parsed.table
    by = {d.name: d for d in parsed.domains}
    assert {n: d.mode for n, d in by.items()} == GUEST_MODES
    for name in ("pvguest", "pvhguest", "hvmguest"):
        config = by[name].config
        assert config is not None and "c_info/type" in config.verdict.fields, name
    assert by["hvmguest"].config is not None and by["hvmguest"].config.verdict.pv_drivers
    # Domain-0's record has no vcpus and its target memory is 1 KiB under its maximum.
    assert (by["Domain-0"].vcpus, by["Domain-0"].memory_kib, by["Domain-0"].max_memory_kib) == (None, 2097151, 2097152)


def test_xentop_batch_two_iterations_with_xl_list_l() -> None:
    parsed = read_file(str(FIXTURES / "xen-4.20-xentop-batch.txt"))
    assert parsed.format == "xentop" and parsed.table
    assert sorted(d.name for d in parsed.domains) == sorted(GUEST_MODES)  # one row each, not one per iteration
    rows = {d.name: d for d in parsed.domains}
    # xentop's MEM(k) and MAXMEM(k): a little above the configured sizes (xl list shows 256 and 128 MiB).
    assert (rows["hvmguest"].memory_kib, rows["hvmguest"].max_memory_kib) == (262188, 263168)
    assert (rows["pvhguest"].memory_kib, rows["pvguest"].memory_kib) == (131128, 131072)
    assert {n: d.mode for n, d in rows.items()} == dict.fromkeys(GUEST_MODES, Mode.UNKNOWN)  # a table has no mode
    by = _read("xentop-batch.txt", "xl-list-l.json")
    # The last iteration counts: CPU(sec) 334 for Domain-0 there (330 in the first), hvmguest `-----r`.
    assert by["Domain-0"].cpu_time_ns == 334_000_000_000
    assert {n: d.state for n, d in by.items()} == {
        "Domain-0": State.RUNNING, "pvguest": State.BLOCKED, "pvhguest": State.BLOCKED, "hvmguest": State.RUNNING
    }  # fmt: skip
    assert {n: d.mode for n, d in by.items()} == GUEST_MODES
    assert {n: d.vcpus for n, d in by.items()} == VCPUS
    # The table's current memory wins over the configuration's; the maximum is the configuration's (256 MiB),
    # raised to what the guest holds now.
    assert (by["hvmguest"].memory_kib, by["hvmguest"].max_memory_kib) == (262188, 262188)
    # Domain-0 is capped in the lab (dom0_mem=2048M,max:2048M): no "no limit" here.
    assert (by["Domain-0"].memory_kib, by["Domain-0"].max_memory_kib) == (2097152, 2097152)
    assert not by["Domain-0"].max_memory_unlimited


@pytest.mark.parametrize(
    ("what", "name", "mode"),
    [
        ("pv", "pvguest", Mode.PV),
        ("pvh", "pvhguest", Mode.PVH),
        ("hvm", "hvmguest", Mode.HVM),
        ("dom0", "Domain-0", Mode.PV),
    ],
)
def test_virsh_dumpxml_of_libvirt_11_xen_driver(what: str, name: str, mode: Mode) -> None:
    parsed = read_file(str(FIXTURES / f"xen-4.20-virsh-dumpxml-{what}.xml"))
    (d,) = parsed.domains
    assert parsed.format == "libvirt-xml" and d.config is not None and d.config.format == "libvirt-xml"
    assert (d.name, d.mode, d.id, d.hypervisor) == (name, mode, IDS[name], "xen")
    assert (d.memory_mib, d.max_memory_mib) == (MEMORY_MIB[name], MEMORY_MIB[name])
    assert (d.vcpus, d.max_vcpus) == (VCPUS[name], VCPUS[name])
    assert d.state is State.UNKNOWN  # dumpxml carries no run state
    if what == "hvm":
        # libvirt shows the port QEMU was given (autoport), unlike xl's JSON.
        assert d.graphics == (Endpoint("vnc", "127.0.0.1", 5900),) and d.pv_drivers
    else:
        assert d.graphics == () and not d.pv_drivers
    assert d.has_console is (what != "dom0")
    if what == "dom0":
        assert d.uuid == "00000000-0000-0000-0000-000000000000"


def test_guests_given_as_xl_list_and_dumpxml_are_one_domain_each() -> None:
    by = _read("xl-list.txt", "virsh-dumpxml-pv.xml", "virsh-dumpxml-pvh.xml", "virsh-dumpxml-hvm.xml")
    assert set(by) == set(GUEST_MODES)
    assert {n: d.mode for n, d in by.items() if n != "Domain-0"} == {
        n: m for n, m in GUEST_MODES.items() if n != "Domain-0"
    }
    assert by["hvmguest"].state is State.RUNNING and by["hvmguest"].vnc == Endpoint("vnc", "127.0.0.1", 5900)


def test_xl_source_on_a_xen_4_20_dom0(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The xl source against a stand-in `xl` that replays the real 4.20 outputs, `xl info` included."""
    script = tmp_path / "xl"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1 $2" in\n'
        f'  "list ") cat {FIXTURES}/xen-4.20-xl-list.txt ;;\n'
        f'  "list -l") cat {FIXTURES}/xen-4.20-xl-list-l.json ;;\n'
        f'  "info "*) cat {FIXTURES}/xen-4.20-xl-info.txt ;;\n'
        '  *) echo "unexpected $*" >&2; exit 1 ;;\n'
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    snap = ToolstackSource("xl").snapshot()
    assert snap.host.hypervisor == "Xen 4.20.5-pre"
    assert (snap.host.cpus, snap.host.memory_kib) == (2, 3583 * 1024)
    by = {d.name: d for d in snap.domains}
    assert {n: d.mode for n, d in by.items()} == GUEST_MODES
    assert {n: d.memory_mib for n, d in by.items()} == MEMORY_MIB
    assert {n: d.vcpus for n, d in by.items()} == VCPUS
    assert by["pvguest"].state is State.BLOCKED and by["hvmguest"].pv_drivers


def test_after_boot_the_hvm_guest_holds_its_balloon_target() -> None:
    """Captured from another boot once the guests had booted: the HVM guest's kernel gave back the 8 MiB of
    video RAM that libxl leaves out of its balloon target (and this boot gave it ID 4, not 3)."""
    table = {d.name: d for d in read_file(str(FIXTURES / "xen-4.20-xl-list-booted.txt")).domains}
    assert {n: d.memory_mib for n, d in table.items()} == {**MEMORY_MIB, "hvmguest": 248}
    assert {n: d.id for n, d in table.items()} == {**IDS, "hvmguest": 4}
    top = {d.name: d for d in read_file(str(FIXTURES / "xen-4.20-xentop-batch-booted.txt")).domains}
    assert (top["hvmguest"].memory_kib, top["hvmguest"].max_memory_kib) == (253996, 263168)
    assert top["hvmguest"].state is State.RUNNING and top["pvguest"].state is State.BLOCKED
    # With the configuration: current 248 MiB, maximum the configured 256 MiB (the ID differs, the name matches).
    by = _read("xl-list-booted.txt", "xl-list-l.json")
    assert (by["hvmguest"].memory_mib, by["hvmguest"].max_memory_mib, by["hvmguest"].id) == (248, 256, 4)
    assert by["hvmguest"].mode is Mode.HVM
