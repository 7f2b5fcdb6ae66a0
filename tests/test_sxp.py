from __future__ import annotations

import pytest
from conftest import read_fixture

from xentui.model import Mode, State
from xentui.parsers import ParseError
from xentui.parsers.sxp import read_records, render
from xentui.parsers.xm import parse_sxp_domains


def test_seed_pv_record_is_pv_though_cut_short() -> None:
    r = parse_sxp_domains(read_fixture("seed-xm-list-l-pv.sxp"), "pv.sxp")
    (d,) = r.domains
    assert (d.name, d.id, d.mode, d.memory_mib, d.max_memory_mib, d.vcpus) == ("My-PV-VM", 7, Mode.PV, 10240, 10240, 4)
    assert d.uuid == "52da5902-fa44-ffeb-1b9f-e595b0b25a5f"
    assert d.cpu_time_ns == 18018885986400000
    assert d.config is not None and str(d.config.verdict).startswith("PV: image (linux")
    assert d.config.tree.find("image", "linux", "args").value == "DOM0=6CU33020NK"  # type: ignore[union-attr]
    assert len(r.problems) == 1 and "cut short" in r.problems[0] and "pv.sxp:26:1" in r.problems[0]


def test_seed_hvm_record() -> None:
    (d,) = parse_sxp_domains(read_fixture("seed-xm-list-l-hvm.sxp")).domains
    assert (d.name, d.id, d.mode, d.state, d.flags) == ("My-HVM-VM", 11, Mode.HVM, State.BLOCKED, "-b----")
    assert (d.memory_mib, d.vcpus, d.pv_drivers) == (16384, 8, True)
    assert d.config is not None
    assert "loader hvmloader" in str(d.config.verdict) and "xen_platform_pci 1" in str(d.config.verdict)
    hvm = d.config.tree.find("image", "hvm")
    assert hvm is not None and hvm.decisive
    assert hvm.find("xen_platform_pci").decisive  # type: ignore[union-attr]
    assert not hvm.find("acpi").decisive  # type: ignore[union-attr]
    assert d.config.tree.find("cpus").value.startswith("((4 5 6")  # type: ignore[union-attr]


def test_multi_record_quirks() -> None:
    r = parse_sxp_domains(read_fixture("xend-multi.sxp"), "multi")
    by = {d.name: d for d in r.domains}
    assert list(by) == ["Domain-0", "web frontend", "win2008", "standby", "cutshort"]
    dom0 = by["Domain-0"]
    assert dom0.id == 0 and not dom0.has_console and dom0.memory_mib == 2048 and dom0.max_memory_mib == 16384
    web = by["web frontend"]  # pygrub: no (image ...) at all, so PV
    assert web.mode is Mode.PV and "bootloader /usr/bin/pygrub" in str(web.config.verdict)  # type: ignore[union-attr]
    assert web.config.tree.find("description").value == "front|back end"  # type: ignore[union-attr]
    assert web.config.tree.find("bootloader_args").value == '-q --args="console=hvc0"'  # type: ignore[union-attr]
    assert web.has_console and [g.address for g in web.graphics] == ["127.0.0.1:5901"]
    win = by["win2008"]  # the one-line form
    assert win.mode is Mode.HVM and not win.pv_drivers and win.state is State.RUNNING
    assert [g.address for g in win.graphics] == ["0.0.0.0:5903"] and win.graphics[0].exposed
    assert win.has_console  # serial pty
    standby = by["standby"]
    assert standby.id is None and standby.state is State.SHUTOFF and standby.mode is Mode.PV
    assert by["cutshort"].mode is Mode.HVM
    assert len(r.problems) == 1 and "'cutshort' cut short" in r.problems[0]


def test_xl_sxp_output_format() -> None:
    r = parse_sxp_domains(read_fixture("xl-sxp.sxp"))
    win, pv = r.domains
    assert (win.name, win.id, win.mode, win.memory_mib, win.max_vcpus) == ("winhvm", 4, Mode.HVM, 2048, 2)
    assert win.config is not None and win.config.format == "xl-sxp"
    assert win.has_console  # (serial pty)
    assert (pv.name, pv.mode, pv.memory_mib) == ("pvlinux", Mode.PV, 512)


def test_single_quote_escapes_and_empty_string() -> None:
    recs = read_records(r"""(domain (name 'it\'s') (e '') (p 'a|b') (x "q") (n 'tab\there'))""")
    (rec,) = recs.records
    assert rec.value == ["domain", ["name", "it's"], ["e", ""], ["p", "a|b"], ["x", "q"], ["n", "tab\there"]]
    assert render(rec.value[1]) == '(name "it\'s")'


def test_prompt_line_before_records_is_skipped() -> None:
    r = parse_sxp_domains("root@dom0:~# xm list -l\n(domain (domid 1) (name a) (state r-----))\n")
    assert [d.name for d in r.domains] == ["a"]


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("", "1:1", "S-expression record"),
        ("(domain (name a))\nzz", "2:1", "'(' to open a record"),
        ("(domain (domid 1))", "1:1", "(name ...)"),
        ("(vm (name a))", "1:1", "'(domain ...)' record"),
        ("(domain (name a)\x00)", "1:17", "NUL byte"),
    ],
)
def test_errors_name_position_and_expectation(text: str, position: str, expected: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_sxp_domains(text, "f.sxp")
    assert err.value.source == "f.sxp" and err.value.position == position and expected in str(err.value)


def test_deep_nesting_is_refused_not_recursed() -> None:
    with pytest.raises(ParseError, match="nested at most"):
        parse_sxp_domains("(domain " + "(" * 100_000)
