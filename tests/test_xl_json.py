from __future__ import annotations

import json

import pytest
from conftest import read_fixture

from xentui.model import Mode, State
from xentui.parsers import ParseError
from xentui.parsers.xl_json import parse_xl_json


def test_real_xen_417_output() -> None:
    r = parse_xl_json(read_fixture("xl-list-long.json"))
    assert r.problems == ()
    by = {d.name: d for d in r.domains}
    assert {n: d.mode for n, d in by.items()} == {
        "Domain-0": Mode.PV, "pvguest": Mode.PV, "pvhguest": Mode.PVH, "hvmguest": Mode.HVM,
    }  # fmt: skip
    assert all(d.state is State.UNKNOWN for d in r.domains)  # xl list -l carries no run state
    pv, hvm = by["pvguest"], by["hvmguest"]
    assert (pv.id, pv.memory_mib, pv.vcpus, pv.uuid) == (1, 128, 1, "b797afb0-e888-11f1-b773-2957ae74a75c")
    assert (hvm.id, hvm.memory_mib, hvm.max_memory_mib, hvm.vcpus) == (3, 256, 256, 1)
    assert [(g.kind, g.host, g.port) for g in hvm.graphics] == [("vnc", "127.0.0.1", None)]  # port is in xenstore
    assert hvm.has_console and pv.has_console and not by["Domain-0"].has_console
    assert hvm.pv_drivers and "xen_platform_pci default" in str(hvm.config.verdict)  # type: ignore[union-attr]
    tree = hvm.config.tree  # type: ignore[union-attr]
    assert tree.find("config", "c_info", "type").decisive  # type: ignore[union-attr]
    assert tree.find("config", "b_info", "type.hvm").decisive  # type: ignore[union-attr]
    assert tree.find("config", "b_info", "type.hvm", "serial").value == "pty"  # type: ignore[union-attr]
    assert json.loads(hvm.config.raw)["domid"] == 3  # type: ignore[union-attr]
    assert by["Domain-0"].memory_kib == 2097151


def _one(config: dict[str, object], domid: int = 7) -> str:
    return json.dumps([{"domid": domid, "config": config}])


def test_pvh_v1_is_pv_with_pvh_true() -> None:
    (d,) = parse_xl_json(_one({"c_info": {"type": "pv", "name": "old", "pvh": "True"}, "b_info": {}})).domains
    assert d.mode is Mode.PVH and "PVHv1" in str(d.config.verdict)  # type: ignore[union-attr]


def test_mode_from_keyed_union_when_type_missing() -> None:
    (d,) = parse_xl_json(_one({"c_info": {"name": "u"}, "b_info": {"type.pvh": {}}})).domains
    assert d.mode is Mode.PVH


def test_vnc_display_spice_and_platform_off() -> None:
    hvm = {
        "vnc": {"enable": "True", "listen": "0.0.0.0", "display": 2, "findunused": "False"},
        "spice": {"enable": "True", "port": 6000, "host": "10.0.0.1"},
        "xen_platform_pci": "False",
    }
    (d,) = parse_xl_json(_one({"c_info": {"type": "hvm", "name": "h"}, "b_info": {"type.hvm": hvm}})).domains
    assert [g.address for g in d.graphics] == ["0.0.0.0:5902", "10.0.0.1:6000"]
    assert not d.pv_drivers and "emulated devices only" in str(d.config.verdict)  # type: ignore[union-attr]


def test_pv_vfb() -> None:
    cfg = {"c_info": {"type": "pv", "name": "p"}, "b_info": {}, "vfbs": [{"vnc": {"enable": "True", "display": 1}}]}
    (d,) = parse_xl_json(_one(cfg)).domains
    assert [g.address for g in d.graphics] == ["127.0.0.1:5901"]


def test_seed_with_elisions() -> None:
    r = parse_xl_json(read_fixture("seed-xl-list-l.json"), "seed.json")
    (d,) = r.domains
    assert (d.name, d.id, d.mode) == ("My-Virtual-Machine", 6, Mode.PV)
    assert "elided" in r.problems[0]


def test_cut_short_keeps_complete_records() -> None:
    text = read_fixture("xl-list-long.json")
    cut = text[: text.index('"name": "hvmguest"')]
    r = parse_xl_json(cut, "cut.json")
    assert [d.name for d in r.domains] == ["Domain-0", "pvguest", "pvhguest"]
    assert "cut short" in r.problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "found nothing"),
        ("hello", "'['"),
        ('[{"domid": 1}]', '"domid" and "config"'),
        ('[{"domid": 1, "config": {"c_info": {}}}]', "c_info.name"),
        ('[{"domid": 1, "config": {}} x]', "valid JSON"),
        ("[" * 5000, "nested at most"),
    ],
)
def test_errors(text: str, expected: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_xl_json(text, "x.json")
    assert expected in str(err.value) and err.value.source == "x.json"
