from __future__ import annotations

import pytest
from conftest import read_fixture

from xentui.model import State
from xentui.parsers import ParseError
from xentui.parsers.sniff import detect, merge_run_state, parse_text
from xentui.parsers.tables import parse_list_table, parse_xentop


def test_real_xl_list_with_tabs() -> None:
    rows = parse_list_table(read_fixture("xl-list.txt"))
    assert [(r.name, r.id, r.memory_mib, r.vcpus, r.flags, r.state) for r in rows] == [
        ("Domain-0", 0, 2048, 2, "r-----", State.RUNNING),
        ("pvguest", 1, 128, 1, "-b----", State.BLOCKED),
        ("pvhguest", 2, 128, 1, "-b----", State.BLOCKED),
        ("hvmguest", 3, 256, 1, "------", State.RUNNING),  # runnable: no letter set
    ]
    assert rows[0].cpu_seconds == 71.6


def test_seed_xm_list() -> None:
    rows = parse_list_table(read_fixture("seed-xm-list.txt"))
    assert [(r.name, r.id, r.memory_mib, r.vcpus) for r in rows] == [
        ("Domain-0", 0, 1024, 24),
        ("My-PV-VM", 7, 10240, 4),
    ]
    assert rows[1].cpu_seconds == 18018883.9


def test_xm_inactive_row_and_paused_and_verbose_columns() -> None:
    text = (
        "Name                                        ID   Mem VCPUs      State   Time(s)\n"
        "standby                                          512     1                 0.0\n"
        "frozen                                       4   256     1     --p---     12.5\n"
        "Domain-0                                     0  1024     2     r-----    100.0 00000000-0000 - -\n"
    )
    a, b, c = parse_list_table(text)
    assert (a.name, a.id, a.state) == ("standby", None, State.SHUTOFF)
    assert (b.state, b.cpu_seconds) == (State.PAUSED, 12.5)
    assert (c.name, c.id, c.cpu_seconds) == ("Domain-0", 0, 100.0)


def test_real_xentop_batch() -> None:
    rows = {r.name: r for r in parse_xentop(read_fixture("xentop-batch.txt"))}
    assert rows["hvmguest"].memory_kib == 262188 and rows["hvmguest"].max_memory_kib == 263168
    assert rows["pvguest"].flags == "--b---" and rows["Domain-0"].cpu_seconds == 73


def test_bad_rows_are_errors_with_line() -> None:
    with pytest.raises(ParseError) as err:
        parse_list_table("Name ID Mem VCPUs State Time(s)\nonly-a-name\n", "t.txt")
    assert err.value.position == "2:1"
    with pytest.raises(ParseError):
        parse_list_table("nothing like a table")


def test_detect_and_merge_state_into_json() -> None:
    assert detect("\n  [\n") == "xl-json" and detect("# xm list -l\n(domain") == "sxp" and detect("zzz") == ""
    js = parse_text(read_fixture("xl-list-long.json"))
    tb = parse_text(read_fixture("xl-list.txt"))
    assert tb.table and not js.table
    merged = {d.name: d for d in merge_run_state(list(js.domains), list(tb.domains))}
    assert merged["pvguest"].state is State.BLOCKED and merged["pvguest"].cpu_time_ns == 4_200_000_000
    assert merged["Domain-0"].vcpus == 2 and merged["hvmguest"].flags == "------"


def test_unknown_format() -> None:
    with pytest.raises(ParseError, match="a known format"):
        parse_text("hello world")
