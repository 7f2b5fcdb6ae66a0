"""Outputs people actually paste (issue 13): each kind that was misread, on a real sample where one exists
(tests/fixtures/pastes and pairs, provenance in tests/fixtures/README.md), and the CLI's handling of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, read_fixture

from xentui import cli
from xentui.model import Mode, State
from xentui.parsers import ParseError
from xentui.parsers.sniff import detect, parse_text
from xentui.parsers.tables import parse_list_table, parse_xentop
from xentui.sources.files import combine, read_file

PASTES = FIXTURES / "pastes"
PAIRS = FIXTURES / "pairs"


def _inspect_json(capsys: pytest.CaptureFixture[str], *paths: Path | str) -> list[dict[str, object]]:
    assert cli.main(["inspect", "--json", *map(str, paths)]) == 0
    out: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return out


# 1 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["xentop-4.1-no-limit.txt", "xentop-4.9-no-limit.txt"])
def test_xentop_uncapped_dom0_no_limit_keeps_columns(name: str) -> None:
    rows = {r.name: r for r in parse_xentop(read_fixture(f"pastes/{name}"))}
    dom0 = rows["Domain-0"]
    assert dom0.max_memory_unlimited and dom0.max_memory_kib is None and dom0.vcpus == 8
    assert (dom0.net_tx_kib, dom0.vbd_read) == (0, 0)
    guest = next(r for n, r in rows.items() if n != "Domain-0")
    assert not guest.max_memory_unlimited and guest.vcpus in (2, 8) and guest.net_rx_kib > 0


def test_xl_list_and_its_xentop_with_no_limit_merge(capsys: pytest.CaptureFixture[str]) -> None:
    """The same host's `xl list` and `xl top` (a course write-up, Xen 4.9.2): one merged inspect."""
    out = {d["name"]: d for d in _inspect_json(capsys, PASTES / "xl-list-4.9.txt", PASTES / "xentop-4.9-no-limit.txt")}
    assert set(out) == {"Domain-0", "guest-01"}
    assert out["Domain-0"]["max_memory_mib"] is None and out["Domain-0"]["max_memory_unlimited"] is True
    assert (out["guest-01"]["id"], out["guest-01"]["vcpus"], out["guest-01"]["state"]) == (4, 2, "blocked")


# 2 -------------------------------------------------------------------------------------------------------------
def test_xentop_two_iterations_gives_every_domain_of_the_last_frame() -> None:
    rows = parse_xentop(read_fixture("pastes/xentop-two-iterations.txt"))
    assert [r.name for r in rows] == ["Domain-0", "vm2057", "vm2113", "vm2132"]
    assert rows[-1].vcpus is None  # this paste has no VCPUS column: unknown, not 0
    text = read_fixture("pastes/xentop-two-iterations.txt").replace("0.2     262144", "9.9     262144")
    assert parse_xentop(text)[-1].name == "vm2132"


def test_xentop_header_repeated_before_each_domain() -> None:
    """`xentop -b -r` prints the header before every domain (built from the real 4.9.2 rows)."""
    lines = read_fixture("pastes/xentop-4.9-no-limit.txt").splitlines()
    header, rows = lines[3], lines[4:]
    text = "\n".join(line for row in rows for line in (header, row)) + "\n"
    assert [r.name for r in parse_xentop(text)] == ["Domain-0", "guest-01"]
    cut = text + header + "\n" + rows[0][:30]  # a second frame cut inside its first row
    assert [r.name for r in parse_xentop(cut)] == ["Domain-0", "guest-01"]


# 3, 4 ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["xm-list-xcat.txt", "xm-list-book-of-xen.txt"])
def test_xen3_xm_list_mem_mib_header(name: str) -> None:
    text = read_fixture(f"pastes/{name}")
    assert detect(text) == "list-table"
    parsed = parse_text(text, name)
    assert parsed.table and parsed.domains[0].name == "Domain-0" and parsed.domains[0].id == 0


def test_xm_list_xcat_rows() -> None:
    rows = parse_list_table(read_fixture("pastes/xm-list-xcat.txt"))
    assert [(r.name, r.id, r.memory_mib, r.vcpus, r.state) for r in rows] == [
        ("Domain-0", 0, 2439, 4, State.RUNNING),
        ("xen1", 3, 519, 1, State.BLOCKED),
        ("xen2", 7, 519, 1, State.BLOCKED),
    ]


def test_xm_list_label_column_and_inactive_id_minus_one() -> None:
    """Layout of xm's own printf (`%(dom)3d` with -1 for a domain that is not running) and of `--label`;
    no real paste of either was found, so the rows are the xCAT sample's with those columns."""
    text = (
        "Name          ID Mem(MiB) VCPUs State   Time(s) Label\n"
        "Domain-0      0     2439     4 r-----   2772.6 ACM:example:SystemManagement\n"
        "xen1           3      519     1 -b----     33.4 ACM:example:green\n"
        "domain1       -1      256     1 ------      0.0 ACM:example:blue\n"
    )
    rows = parse_list_table(text)
    assert [(r.name, r.id, r.state, r.cpu_seconds) for r in rows] == [
        ("Domain-0", 0, State.RUNNING, 2772.6),
        ("xen1", 3, State.BLOCKED, 33.4),
        ("domain1", None, State.SHUTOFF, 0.0),
    ]


# 5, 6, 8: see test_pairs.py (vcpu_avail, pygrub without <os>, netfront on HVM) and test_verdict.py -------------
def test_pygrub_xml_without_os_is_pv() -> None:
    (d,) = parse_text(read_fixture("pairs/sexpr2xml-pv-bootloader.xml"), "x").domains
    assert d.mode is Mode.PV and "bootloader /usr/bin/pypxeboot" in str(d.config.verdict)  # type: ignore[union-attr]


def test_hvm_netfront_has_pv_drivers_in_both_formats() -> None:
    for name in ("pairs/sexpr2xml-fv-net-netfront.sexpr", "pairs/sexpr2xml-fv-net-netfront.xml"):
        (d,) = parse_text(read_fixture(name), name).domains
        assert d.pv_drivers and d.config is not None and d.config.verdict.evidence == ("netfront net",)


# 7 -------------------------------------------------------------------------------------------------------------
def test_spice_only_guest_has_no_vnc(capsys: pytest.CaptureFixture[str]) -> None:
    (d,) = _inspect_json(capsys, PASTES / "xlconfig-spice.xml")
    assert d["vnc"] is None
    assert d["graphics"] == [{"type": "spice", "host": "127.0.0.1", "port": 590}]


# 9 -------------------------------------------------------------------------------------------------------------
def test_elided_sizes_are_unknown_not_zero(capsys: pytest.CaptureFixture[str]) -> None:
    (d,) = _inspect_json(capsys, FIXTURES / "seed-xl-list-l.json")
    assert (d["memory_mib"], d["max_memory_mib"], d["vcpus"], d["max_vcpus"]) == (None, None, None, None)
    assert cli.main(["inspect", str(FIXTURES / "seed-xl-list-l.json")]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("My-Virtual-Machine "))
    assert " 0 " not in row and " - " in row


def test_xend_maxmem_16777215_is_no_limit() -> None:
    """xend's maxmem for an uncapped Domain-0 (2**24 - 1 MiB); the record is the seed's, with that value."""
    text = "(domain (domid 0) (name Domain-0) (memory 1024) (maxmem 16777215) (vcpus 2) (state r-----))"
    (d,) = parse_text(text, "x").domains
    assert (d.memory_mib, d.max_memory_kib, d.max_memory_unlimited) == (1024, None, True)


# 10 ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prompt", ["[root@host ~]# xm list -l", "root@dom0:~# xm list -l", "dom0:~ # xm list -l", "$ xm list -l"]
)
def test_shell_prompt_before_s_expression(prompt: str) -> None:
    record = read_fixture("pairs/sexpr2xml-fv-autoport.sexpr")  # a real `xm list -l` of an xVM host
    text = prompt + "\n" + record
    assert detect(text) == "sxp"
    (d,) = parse_text(text, "x").domains
    assert (d.name, d.id, d.mode) == ("domu-224", 21, Mode.HVM)


def test_shell_prompt_before_json_keeps_positions() -> None:
    text = "[root@host ~]# xl list -l\n" + read_fixture("xl-list-long.json")
    assert len(parse_text(text, "x").domains) == 4
    with pytest.raises(ParseError) as err:
        parse_text('[root@host ~]# xl list -l\n[\n  {"domid": 1,}\n]\n', "x.json")
    assert err.value.position.startswith("3:")


# (a) -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "position", "expected", "found"),
    [
        ("(domain (name a))\nzz\n", "2:1", "'(' to open a record", "'zz'"),
        ("<domain><name>a</name></domian>", "1:25", "well-formed XML", "mismatched tag"),
        ('[\n  {"domid": 1, "config": 3}\n]', "2:3", 'an object with "domid" and "config"', "keys domid"),
        ("hello world\n", "1:1", "a known format", "'hello world'"),
        ("Name ID Mem VCPUs State Time(s)\nonly-a-name\n", "2:1", "a row: name, ID", "'only-a-name'"),
    ],
)
def test_errors_say_file_position_expected_and_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, position: str, expected: str, found: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    assert cli.main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"xentui: error: {path}:{position}: expected {expected}") and ", found " in err, err
    assert found in err.split(", found ", 1)[1] and "\n" not in err


# (b) -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["inspect"], ["list", "-f"], ["mode", "x", "-f"]])
def test_bad_input_exits_2_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    path = tmp_path / "bad.sxp"
    path.write_text("(domain (name a))\nzz\n")
    assert cli.main([*argv, str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"xentui: error: {path}:2:1: expected '(' to open a record, found 'zz'"


def test_dashboard_with_a_bad_file_exits_2_before_starting(tmp_path: Path) -> None:
    path = tmp_path / "bad.sxp"
    path.write_text("(vm (name a))")
    assert cli.main(["-f", str(path)]) == 2


# (c) -----------------------------------------------------------------------------------------------------------
def test_same_domain_as_s_expression_and_xml_is_one(capsys: pytest.CaptureFixture[str]) -> None:
    """libvirt's sexpr writes the UUID without dashes, its XML with: still one domain."""
    out = _inspect_json(capsys, PAIRS / "sexpr2xml-pv-vcpus.sexpr", PAIRS / "sexpr2xml-pv-vcpus.xml")
    assert len(out) == 1 and out[0]["uuid"] == "596a5d21-71f4-8fb2-e068-e2386a5c413e"
    assert (out[0]["vcpus"], out[0]["max_vcpus"], out[0]["mode"]) == (2, 4, "PV")


def test_error_in_a_later_record_names_its_line() -> None:
    with pytest.raises(ParseError) as err:
        parse_text("(domain (name a))\n\n(domain (domid 3))\n", "two.sxp")
    assert str(err.value) == "two.sxp:3:1: expected a (name ...) in the domain record, found none"


def test_merge_by_name_when_no_uuid_and_mode_disagreement_is_reported() -> None:
    a = parse_text("(domain (name web) (image (linux (kernel /k))))", "a.sxp")
    b = parse_text("<domain type='xen'><name>web</name><os><type>hvm</type></os></domain>", "b.xml")
    domains, problems = combine([a, b])
    assert len(domains) == 1 and domains[0].mode is Mode.PV
    assert problems == ["b.xml: 'web' is HVM there but PV in a.sxp; keeping PV"]


def test_domain_0_from_xl_without_uuid_and_from_libvirt_with_zeros_is_one(capsys: pytest.CaptureFixture[str]) -> None:
    """The real Xen 4.17 host: `xl list -l` gives Domain-0 no UUID, `virsh dumpxml` the all-zero one."""
    out = _inspect_json(capsys, FIXTURES / "xl-list-long.json", FIXTURES / "xen-4.17-virsh-dumpxml-dom0.xml")
    dom0 = [d for d in out if d["name"] == "Domain-0"]
    assert len(dom0) == 1 and dom0[0]["uuid"] == "00000000-0000-0000-0000-000000000000"
    assert [d["name"] for d in out].count("pvguest") == 1


# (d) -----------------------------------------------------------------------------------------------------------
def test_utf8_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.xml"
    path.write_bytes(b"\xef\xbb\xbf" + (PAIRS / "libxl-basic-pv.xml").read_bytes())
    (d,) = read_file(str(path)).domains
    assert (d.name, d.mode) == ("test-pv", Mode.PV)


# (e) -----------------------------------------------------------------------------------------------------------
def test_bare_libxl_domain_config_via_inspect(capsys: pytest.CaptureFixture[str]) -> None:
    (d,) = _inspect_json(capsys, PAIRS / "libxl-basic-pvh.json")
    assert (d["name"], d["id"], d["mode"], d["memory_mib"], d["vcpus"]) == ("test-pvh", None, "PVH", 512, 4)
