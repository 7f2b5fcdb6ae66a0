"""`xenstore-ls -f` parsing: the exact quoting of Xen's xenstore_client.c, hostile values and names as text."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from conftest import FIXTURES

from xentui.model import Frontend, XenbusState, XenstoreEntry
from xentui.parsers.errors import ParseError
from xentui.parsers.xenstore import frontends_of, parse_xenstore_ls, unescape
from xentui.sources.xenstore import backend_domid


def sanitise(value: bytes) -> str:
    """xenstore_client.c's sanitise_value(), as xenstore-ls prints a value (Xen 4.x to 4.20)."""
    out = []
    for c in value:
        if 0x20 <= c <= 0x7E and c != 0x5C:
            out.append(chr(c))
        elif c in (0x09, 0x0A, 0x0D, 0x5C):
            out.append({0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x5C: "\\\\"}[c])
        elif c < 0o10:
            out.append(f"\\{c:03o}")
        else:
            out.append(f"\\x{c:02x}")
    return "".join(out)


def test_keys_values_and_unreadable_keys() -> None:
    text = (
        '/local/domain/3 = ""\n'
        '/local/domain/3/name = "hvmguest"\n'
        '/local/domain/3/device/vif/0/mac = "00:16:3e:5f:4a:01"\n'
        "/local/domain/3/secret:\n"
        '/local/domain/3/vm = "/vm/54a90ec9-816e-4ae8-b1ad-8fb46f726eab"\n'
    )
    assert parse_xenstore_ls(text) == (
        XenstoreEntry("/local/domain/3", ""),
        XenstoreEntry("/local/domain/3/name", "hvmguest"),
        XenstoreEntry("/local/domain/3/device/vif/0/mac", "00:16:3e:5f:4a:01"),
        XenstoreEntry("/local/domain/3/secret", ""),
        XenstoreEntry("/local/domain/3/vm", "/vm/54a90ec9-816e-4ae8-b1ad-8fb46f726eab"),
    )


def test_escapes_are_decoded_and_quotes_are_not_escaped() -> None:
    # A guest wrote: ESC ] 0;title BEL, markup, a quote, a shell substitution, a newline, a backslash, é.
    raw = '\x1b]0;pwned\x07[bold red]x[/] "quoted" = "y" $(id)\n\\é'.encode()
    line = f'/local/domain/7/data/evil = "{sanitise(raw)}"'
    assert line == (
        '/local/domain/7/data/evil = "\\x1b]0;pwned\\007[bold red]x[/] "quoted" = "y" $(id)\\n\\\\\\xc3\\xa9"'
    )
    (entry,) = parse_xenstore_ls(line + "\n")
    assert entry == XenstoreEntry("/local/domain/7/data/evil", raw.decode())


def test_every_byte_comes_back() -> None:
    rng = random.Random(15)
    for _ in range(300):
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        (entry,) = parse_xenstore_ls(f'/k = "{sanitise(raw)}"\n')
        assert entry.value == raw.decode("utf-8", "replace")
    for n in range(256):
        assert unescape(sanitise(bytes([n]) + b"7")) == (bytes([n]) + b"7").decode("utf-8", "replace")


def test_a_value_cut_to_the_terminal_is_marked() -> None:
    # What xenstore-ls prints on a narrow terminal (never through a pipe): `\...` before the closing quote.
    (entry,) = parse_xenstore_ls('/local/domain/3/description = "a long val\\..."\n')
    assert entry.value == "a long val…"
    (entry,) = parse_xenstore_ls('/k = "ends with a backslash\\\\..."\n')  # an escaped backslash, then "..."
    assert entry.value == "ends with a backslash\\..."


def test_lines_xenstore_ls_never_prints_are_errors() -> None:
    with pytest.raises(ParseError, match=r"2:1: expected a key"):
        parse_xenstore_ls('/a = "1"\nxenstore-ls: could not access permissions\n')
    with pytest.raises(ParseError):
        parse_xenstore_ls('/a = "unterminated\n')


def test_frontends_from_a_device_subtree() -> None:
    entries = parse_xenstore_ls(
        '/local/domain/3/device = ""\n'
        '/local/domain/3/device/vbd/768/state = "4"\n'
        '/local/domain/3/device/vbd/5632/state = "1"\n'
        '/local/domain/3/device/vif/0/state = "4"\n'
        '/local/domain/3/device/vif/0/mac = "00:16:3e:00:00:01"\n'
        '/local/domain/3/device/vkbd/0/state = "\\x1b[31m"\n'  # a guest may write anything there
        '/local/domain/3/device/vif/1/state = "6"\n'
        '/local/domain/30/device/vif/0/state = "4"\n'  # another domain's, never this one's
    )
    fronts = frontends_of(entries, 3)
    assert fronts == (
        Frontend("vbd", "768", 4),
        Frontend("vbd", "5632", 1),
        Frontend("vif", "0", 4),
        Frontend("vif", "1", XenbusState.CLOSED),
        Frontend("vkbd", "0", 0),
    )
    assert [f.connected for f in fronts] == [True, False, True, False, False]


def test_backend_paths_name_the_frontend_domain() -> None:
    assert backend_domid("/local/domain/0/backend/vif/3/0/state") == 3
    assert backend_domid("/local/domain/0/backend/vbd/12") == 12
    assert backend_domid("/local/domain/0/backend") is None
    assert backend_domid("/local/domain/0/backend/vif") is None
    assert backend_domid("@introduceDomain") is None


def test_libvirt_on_this_dom0_reads_xenstore_with_its_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xentui.model import Domain, Mode, State
    from xentui.sources.base import ActionError
    from xentui.sources.libvirt_source import LibvirtSource

    tool = tmp_path / "xenstore-ls"
    tool.write_text(
        "#!/bin/sh\n"
        '[ "$1 $2" = "-f /local/domain/3" ] || exit 1\n'
        "printf '%s\\n' '/local/domain/3/name = \"hvmguest\"' '/local/domain/3/data/x = \"\\x1b[1m\"'\n"
    )
    tool.chmod(0o755)
    guest = Domain("hvmguest", 3, None, State.RUNNING, 1, 1, 1, 1, Mode.HVM)
    with pytest.raises(ActionError, match="readable only on a Xen dom0"):
        LibvirtSource("xen:///system").read_xenstore(guest)  # no xenstore-ls here yet
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert LibvirtSource("xen:///system").read_xenstore(guest) == (
        XenstoreEntry("/local/domain/3/name", "hvmguest"),
        XenstoreEntry("/local/domain/3/data/x", "\x1b[1m"),
    )
    for elsewhere in ("xen+ssh://root@dom0-b/system", "qemu:///system", "test:///default"):
        with pytest.raises(ActionError, match="readable only on a Xen dom0"):
            LibvirtSource(elsewhere).read_xenstore(guest)
    with pytest.raises(ActionError, match="not running"):
        LibvirtSource("xen:///system").read_xenstore(Domain("off", None, None, State.SHUTOFF, 1, 1, 1, 1, Mode.PV))


def test_paths_are_kept_as_printed() -> None:
    # xenstored allows only [A-Za-z0-9_/@-] in names; whatever a path holds is kept as text, never read as markup.
    (entry,) = parse_xenstore_ls('/local/domain/3/[bold]x[/bold] = "1"\n')
    assert entry == XenstoreEntry("/local/domain/3/[bold]x[/bold]", "1")
    (entry,) = parse_xenstore_ls('/local/domain/3/a = "b" = "c"\n')  # a value holding ` = "`
    assert entry == XenstoreEntry("/local/domain/3/a", 'b" = "c')


REAL = sorted(FIXTURES.glob("xen-*-xenstore-ls-*.txt"))


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_real_xenstore_ls_outputs_parse_whole(path: Path) -> None:
    text = path.read_text()
    entries = parse_xenstore_ls(text, path.name)
    assert len(entries) == len([ln for ln in text.splitlines() if ln.strip()])
    assert all(e.path.startswith("/local/domain/") for e in entries)


def test_real_frontends_with_and_without_pv_drivers() -> None:
    def fronts(name: str, domid: int) -> dict[str, int]:
        entries = parse_xenstore_ls((FIXTURES / f"xen-4.17-xenstore-ls-{name}.txt").read_text())
        return {f"{f.kind}/{f.devid}": f.state for f in frontends_of(entries, domid)}

    # Xen 4.17 lab: the HVM guest with its PV drivers, then with them unbound, and the guest that never had
    # them (its kernel's built-in keyboard frontend connects all the same).
    assert fronts("hvmguest", 18) == {"vbd/51712": 4, "vif/0": 4, "vkbd/0": 4}
    assert fronts("hvmguest-pv-unloaded", 18) == {"vbd/51712": 6, "vif/0": 6, "vkbd/0": 4}
    assert fronts("hvmnopv", 19) == {"vbd/51712": 1, "vif/0": 1, "vkbd/0": 4}
    assert fronts("pvguest", 1) == {"vbd/51712": 4, "vif/0": 4}


def test_real_watch_output_fires_once_when_set_up() -> None:
    # What Watches relies on: each xenstore-watch prints its own path once when the watch is set, then one
    # line an event (here: one xl destroy, one virsh start).
    sections: dict[str, list[str]] = {}
    for line in (FIXTURES / "xen-4.17-xenstore-watch-introduce-release.txt").read_text().splitlines():
        if line.startswith("== xenstore-watch "):
            sections[line.split()[-1]] = cur = []
        elif line.strip():
            cur.append(line)
    assert sections == {"@introduceDomain": ["@introduceDomain"] * 2, "@releaseDomain": ["@releaseDomain"] * 2}
    backend = parse_xenstore_ls((FIXTURES / "xen-4.17-xenstore-ls-dom0-backend.txt").read_text())
    assert {backend_domid(e.path) for e in backend} - {None} == {1, 7, 9, 13, 15, 16, 18, 19}
