"""xentui's cost on a real Xen dom0, next to xentop's: `python -m bench.run --dom0`.

Boots the Xen lab (lab/xen: dom0 under QEMU, eight PV, PVH and HVM guests), or uses the one already up
(`python -m lab.xen.xen_lab up`). In dom0, each program runs in a tmux window of 160x45 with a 1 s refresh:
`xentop -d 1`, `xentui --xl --interval 1` and `xentui -c xen:///system --interval 1` (xentui as the single
file, run by Debian's python3). Over a 30 s window after a warm-up, it measures from /proc in dom0 each
program's whole process tree (utime+stime of every live process, plus what they reaped: the `xl` and
`xentop` children), libvirtd's and the xenstore daemon's CPU; the daemons' extra is their CPU in that window
less in an idle window (nothing running) of the same run. Every figure is the median of 3 such rounds.
"""

from __future__ import annotations

import datetime
import json
import shlex
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.report import replace_section

HEADING = "## On a Xen dom0"
SESSION = "xentui-bench"

# Runs in dom0 (python3): CPU seconds of a process tree and of named daemons over a window.
PROBE = r"""
import json, os, sys, time
tick = os.sysconf("SC_CLK_TCK")
def procs():
    out = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as f:
                    raw = f.read()
            except OSError:
                continue
            comm = raw[raw.index("(") + 1:raw.rindex(")")]
            f = raw.rsplit(")", 1)[1].split()
            out[int(pid)] = (comm, int(f[1]), sum(int(x) for x in f[11:15]))
    return out
def sample(root, daemons):
    p = procs()
    tree, todo = set(), [root] if root in p else []
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [c for c, v in p.items() if v[1] == pid and c not in tree]
    total = sum(p[pid][2] for pid in tree)
    return total, {d: sum(v[2] for v in p.values() if v[0] == d) for d in daemons}
root, window, daemons = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
t0, d0 = sample(root, daemons)
start = time.monotonic()
time.sleep(window)
t1, d1 = sample(root, daemons)
wall = time.monotonic() - start
pct = lambda a, b: (b - a) / tick / wall * 100
print(json.dumps({"tree": pct(t0, t1), "daemons": {d: pct(d0[d], d1[d]) for d in daemons}}))
"""


@dataclass(frozen=True)
class Case:
    label: str
    command: str  # run by dom0's shell in the tmux window
    ready: str  # text on the screen once it shows its first frame


@dataclass
class Result:
    tree: list[float]
    libvirtd: list[float]
    xenstored: list[float]


def cases(xentui: str) -> list[Case]:
    return [
        Case("`xentop -d 1`", "xentop -d 1", "NAME"),
        Case("`xentui --xl --interval 1`", f"{xentui} --xl --interval 1", "domains"),
        Case("`xentui -c xen:///system --interval 1`", f"{xentui} -c xen:///system --interval 1", "domains"),
    ]


class Dom0Bench:
    def __init__(self, lab: object, window_s: float, warmup_s: float) -> None:
        from lab.xen.xen_lab import XenLab

        assert isinstance(lab, XenLab)
        self.lab = lab
        self.window_s = window_s
        self.warmup_s = warmup_s
        self.xenstored = "oxenstored" if "oxenstored" in lab.ssh("ps -e -o comm=") else "xenstored"

    def probe(self, root: int) -> tuple[float, float, float]:
        """(tree CPU %, libvirtd CPU %, xenstored CPU %) over one window; root 0: no tree."""
        out = self.lab.ssh(
            f"python3 -c {shlex.quote(PROBE)} {root} {self.window_s} libvirtd {self.xenstored}",
            timeout=self.window_s + 60,
        )
        got = json.loads(out)
        daemons = got["daemons"]
        return float(got["tree"]), float(daemons["libvirtd"]), float(daemons[self.xenstored])

    def idle(self) -> tuple[float, float]:
        _, libvirtd, xenstored = self.probe(0)
        return libvirtd, xenstored

    def run(self, case: Case) -> tuple[float, float, float]:
        """(tree CPU %, libvirtd CPU %, xenstored CPU %) over one window, the program on screen."""
        lab = self.lab
        lab.ssh(f"tmux kill-session -t {SESSION} 2>/dev/null; true")
        lab.ssh(f"tmux new-session -d -s {SESSION} -x 160 -y 45 {shlex.quote(case.command)}")
        try:
            pid = int(lab.ssh(f"tmux list-panes -t {SESSION} -F '#{{pane_pid}}'").split()[0])
            lab.ssh(
                f"for i in $(seq 120); do tmux capture-pane -p -t {SESSION} | grep -q {shlex.quote(case.ready)} "
                "&& exit 0; sleep 1; done; exit 1",
                timeout=180,
            )
            lab.ssh(f"sleep {self.warmup_s}", timeout=self.warmup_s + 30)
            return self.probe(pid)
        finally:
            lab.ssh(f"tmux kill-session -t {SESSION} 2>/dev/null; true")


def measure(lab: object, runs: int, window_s: float, warmup_s: float) -> tuple[dict[str, Result], Result, str]:
    from lab.xen.xen_lab import XENTUI

    bench = Dom0Bench(lab, window_s, warmup_s)
    all_cases = cases(XENTUI)
    results = {c.label: Result([], [], []) for c in all_cases}
    idle = Result([], [], [])
    for r in range(runs):
        lv, xs = bench.idle()
        idle.tree.append(0.0)
        idle.libvirtd.append(lv)
        idle.xenstored.append(xs)
        for case in all_cases:
            tree, lv_c, xs_c = bench.run(case)
            res = results[case.label]
            res.tree.append(tree)
            res.libvirtd.append(lv_c - lv)
            res.xenstored.append(xs_c - xs)
            print(f"round {r + 1}: {case.label}: {tree:.2f} %, libvirtd +{lv_c - lv:.2f}, "
                  f"{bench.xenstored} +{xs_c - xs:.2f} (idle {lv:.2f}, {xs:.2f})", flush=True)  # fmt: skip
    return results, idle, bench.xenstored


def render(results: dict[str, Result], idle: Result, xenstored: str) -> str:
    med = statistics.median
    xentop = med(results["`xentop -d 1`"].tree)
    lines = [
        f"| program in dom0 | CPU, % of one dom0 core | with libvirtd's extra | vs xentop | {xenstored}'s extra "
        "| budget | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    budgets = {"`xentui --xl --interval 1`": 1.5, "`xentui -c xen:///system --interval 1`": 2.5}
    for label, res in results.items():
        own = med(res.tree)
        libvirt = "libvirt" in label or "xen:///" in label
        total = own + (med(res.libvirtd) if libvirt else 0.0)
        ratio = total / xentop if xentop > 0 else float("nan")
        budget = budgets.get(label)
        spread = f"{min(res.tree):.2f} – {max(res.tree):.2f}"
        with_libvirtd = f"{total:.2f} (libvirtd +{med(res.libvirtd):.2f})" if libvirt else "-"
        lines.append(
            f"| {label} | {own:.2f} ({spread}) | {with_libvirtd} "
            f"| {ratio:.2f}x | {med(res.xenstored):+.2f} "
            f"| {f'≤ {budget}x xentop' if budget else 'the reference'} "
            f"| {('yes' if ratio <= budget else '**no**') if budget else '-'} |"
        )
    lines += [
        "",
        f"Idle window (nothing running), same rounds: libvirtd {med(idle.libvirtd):.2f} %, "
        f"{xenstored} {med(idle.xenstored):.2f} %.",
    ]
    return "\n".join(lines)


def write_section(out: Path, body: str) -> None:
    """Replace this section between its markers (or add it at the end); the rest of the file is left alone."""
    replace_section(out, "dom0", f"{HEADING}\n\n{body}")


def main(runs: int, window_s: float, warmup_s: float, out: Path, write: bool) -> int:
    from lab.artifacts import LabUnavailable
    from lab.xen.xen_lab import LAB_GUESTS, STATE, XenLab, attach

    booted = not STATE.exists()
    try:
        if booted:
            lab = XenLab()
            print(f"bench --dom0: booting the Xen lab ({lab.flavour}, {len(LAB_GUESTS)} guests)", flush=True)
            lab.up()
        else:
            lab = attach()
            print(f"bench --dom0: using the Xen lab already up ({lab.workdir})", flush=True)
            _ship_single_file(lab)
    except (LabUnavailable, OSError) as exc:
        print(f"bench --dom0: skipped, the Xen lab cannot run here: {exc}", file=sys.stderr)
        if booted:
            lab.down()
        return 0
    try:
        xen = lab.ssh("xl info | awk '/^xen_version/ {print $3}'").strip()
        n = len(lab.ssh("xl list").splitlines()) - 2
        cpus = lab.ssh("nproc").strip()
        results, idle, xenstored = measure(lab, runs, window_s, warmup_s)
        commit = _commit()
    finally:
        if booted:
            lab.down()
    table = render(results, idle, xenstored)
    print(table)
    if write:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        body = (
            f"Measured {stamp} with `python -m bench.run --dom0` (commit {commit}) in the project's Xen lab: "
            f"{lab.flavour}, dom0 under QEMU's software emulation with {cpus} VCPUs, {n} guests (PV, PVH, HVM; "
            "on a bridge, some with a disk), idle. Each program runs in dom0 in a tmux window of 160x45 with a "
            f"1 s refresh; its CPU is its whole process tree's (reaped children included) over {window_s:g} s "
            f"windows after {warmup_s:g} s of warm-up, median of {runs} rounds (lowest – highest in brackets), "
            "all in the same run. The daemons' extra is their CPU during the window less in an idle window of "
            "the same round. Under emulation every figure is several times what it is on hardware; the ratios "
            "are what the budgets are about. tmux's own CPU (drawing what each program writes) is not "
            f"counted. Xen {xen}.\n\n{table}\n"
        )
        write_section(out, body)
        print(f"written to {out}")
    return 0


def _ship_single_file(lab: object) -> None:
    """The checkout's single file into dom0 (a lab booted earlier has the one made then)."""
    import subprocess

    from lab.xen.image import PYZ_IN_DOM0, single_file
    from lab.xen.xen_lab import XenLab

    assert isinstance(lab, XenLab)
    with single_file().open("rb") as f:
        subprocess.run(lab.ssh_argv(f"cat > {PYZ_IN_DOM0}"), stdin=f, check=True, timeout=120)


def _commit() -> str:
    import subprocess

    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "?"
