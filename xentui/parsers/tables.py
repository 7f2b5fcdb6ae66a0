"""Plain tables: `xl list` / `xm list`, and `xentop -b`.

`xl list` pads with spaces but separates its last header columns with tabs; `xm list` shows
xend-managed domains that are not running with no ID and no state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xentui.model import State, state_from_flags
from xentui.parsers.errors import ParseError
from xentui.parsers.tree import to_float

_FLAGS = re.compile(r"[rbpscd-]{6}")
_INT = re.compile(r"\d+")
_NUM = re.compile(r"\d+(\.\d+)?")


@dataclass(frozen=True)
class ListRow:
    name: str
    id: int | None
    memory_mib: int
    vcpus: int
    flags: str
    state: State
    cpu_seconds: float | None


@dataclass(frozen=True)
class TopRow:
    """One xentop row: cumulative counters (xentop prints KiB for network)."""

    name: str
    flags: str
    cpu_seconds: float
    memory_kib: int
    max_memory_kib: int | None
    max_memory_unlimited: bool
    vcpus: int | None
    net_tx_kib: int
    net_rx_kib: int
    vbd_read: int
    vbd_write: int
    cpu_pct: float | None = None  # CPU(%) over xentop's own window (0.0 in its first iteration)


def _header_index(lines: list[str], first: str, source: str) -> int:
    for i, line in enumerate(lines):
        if line.split() and line.split()[0] == first:
            return i
    found = next((repr(ln.strip()[:24]) for ln in lines if ln.strip()), "nothing")
    raise ParseError(source, "1:1", f"a table header starting with '{first}'", found)


def parse_list_table(text: str, source: str = "<input>") -> tuple[ListRow, ...]:
    """Rows of `xl list` or `xm list` (also `-v`, whose extra columns follow Time(s), and `--label`).

    Xen 3.x's xm heads the memory column `Mem(MiB)` and shows a managed domain that is not running
    with ID -1 (later versions leave the ID empty).
    """
    lines = text.splitlines()
    start = _header_index(lines, "Name", source)
    header = lines[start].split()
    if not ({"Mem", "Mem(MiB)"} & set(header)) or "VCPUs" not in header:
        raise ParseError(
            source, f"{start + 1}:1", "an 'xl list' header: Name ID Mem VCPUs State Time(s)", repr(lines[start][:40])
        )
    rows: list[ListRow] = []
    for n, line in enumerate(lines[start + 1 :], start + 2):
        if not line.strip():
            continue
        rows.append(_list_row(line, f"{n}:1", source))
    return tuple(rows)


def _list_row(line: str, where: str, source: str) -> ListRow:
    tokens = line.split()
    # Everything up to the time column; -v adds UUID, reason and security label after it, --label a label.
    flag_at = next((i for i, t in enumerate(tokens) if i >= 2 and _FLAGS.fullmatch(t)), None)
    if flag_at is not None:
        head, flags = tokens[:flag_at], tokens[flag_at]
        cpu = to_float(tokens[flag_at + 1]) if flag_at + 1 < len(tokens) else None
    else:  # xm's inactive managed domain: "name  mem  vcpus  time"
        head, flags = tokens[:-1], ""
        cpu = to_float(tokens[-1]) if tokens else None
        if cpu is None:
            head = tokens
    if len(head) < 3 or not _INT.fullmatch(head[-1]) or not _INT.fullmatch(head[-2]):
        found = repr(line.strip()[:40])
        raise ParseError(source, where, "a row: name, ID, memory (MiB), VCPUs, state flags, time", found)
    vcpus, mem = int(head[-1]), int(head[-2])
    rest = head[:-2]
    domid: int | None = None
    if len(rest) >= 2 and rest[-1] == "-1":  # xm (Xen 3.x): a managed domain that is not running
        rest = rest[:-1]
    elif flags and len(rest) >= 2 and _INT.fullmatch(rest[-1]):
        domid, rest = int(rest[-1]), rest[:-1]
    name = " ".join(rest)
    state = state_from_flags(flags) if domid is not None else State.SHUTOFF
    return ListRow(name, domid, mem, vcpus, flags or "------", state, cpu)


_TOP_LETTERS = "dsbcpr"  # xentop's flag order differs from xl's
_TOP_STATES = (State.DYING, State.SHUTDOWN, State.BLOCKED, State.CRASHED, State.PAUSED, State.RUNNING)
_NO_LIMIT = re.compile(r"\bno limit\b")  # xentop's MAXMEM(k) of an uncapped domain: two words in one column


def xentop_state(flags: str) -> State:
    for letter, state in zip(_TOP_LETTERS, _TOP_STATES):
        if letter in flags:
            return state
    return State.RUNNING


def _is_header(line: str) -> bool:
    return line.split()[:2] == ["NAME", "STATE"]


def parse_xentop(text: str, source: str = "<input>") -> tuple[TopRow, ...]:
    """Every domain of the last complete frame of `xentop -b`.

    Batch mode prints a header and the domains once per iteration (`-i N`); with `-r` the header is
    repeated before each domain. A frame ends where a domain shows up again; a last frame with fewer
    domains than the one before was cut short, so the one before is read.
    """
    lines = text.splitlines()
    if not any(_is_header(line) for line in lines):
        found = next((repr(ln.strip()[:24]) for ln in lines if ln.strip()), "nothing")
        raise ParseError(source, "1:1", "an 'xentop -b' header: NAME STATE CPU(sec) ...", found)
    frames: list[dict[str, TopRow]] = []
    frame: dict[str, TopRow] = {}
    header: list[str] = []
    for n, line in enumerate(lines, 1):
        if _is_header(line):
            header = line.split()
            continue
        if not line.strip() or not header:
            continue
        try:
            row = _top_row(_NO_LIMIT.sub("no-limit", line), header, f"{n}:1", source)
        except ParseError:
            if (frames or frame) and not any(ln.strip() for ln in lines[n:]):
                break  # the paste ends inside this row: the frames before it are whole
            raise
        if row.name in frame:
            frames.append(frame)
            frame = {}
        frame[row.name] = row
    if frame:
        frames.append(frame)
    if not frames:
        return ()
    last = frames[-1]
    if len(frames) > 1 and len(last) < len(frames[-2]):
        last = frames[-2]
    return tuple(last.values())


def _top_row(line: str, header: list[str], where: str, source: str) -> TopRow:
    tokens = line.split()
    # Names may hold spaces: anchor on the state flags column.
    at = next((i for i, t in enumerate(tokens) if i >= 1 and _FLAGS.fullmatch(t)), None)
    if at is None or len(tokens) - at < len(header) - 1:
        found = repr(line.strip()[:40])
        raise ParseError(source, where, "an xentop row with a state column and all counters", found)
    cols = dict(zip(header[1:], tokens[at:]))
    try:
        maxmem = cols.get("MAXMEM(k)", "")
        vcpus = cols.get("VCPUS")
        return TopRow(
            name=" ".join(tokens[:at]),
            flags=cols["STATE"],
            cpu_seconds=float(cols["CPU(sec)"]),
            memory_kib=int(cols["MEM(k)"]),
            max_memory_kib=int(maxmem) if _INT.fullmatch(maxmem) else None,
            max_memory_unlimited=maxmem == "no-limit",
            vcpus=int(vcpus) if vcpus is not None else None,
            net_tx_kib=int(cols.get("NETTX(k)", "0")),
            net_rx_kib=int(cols.get("NETRX(k)", "0")),
            vbd_read=int(cols.get("VBD_RSECT", "0")) * 512,
            vbd_write=int(cols.get("VBD_WSECT", "0")) * 512,
            cpu_pct=float(cols["CPU(%)"]) if _NUM.fullmatch(cols.get("CPU(%)", "")) else None,
        )
    except (KeyError, ValueError):
        found = repr(line.strip()[:40])
        raise ParseError(source, where, "numbers in xentop's counter columns", found) from None
