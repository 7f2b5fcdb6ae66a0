"""The console pane's cost, against a real QEMU guest of the lab (lab/qemu_lab.py).

    python -m bench.console            # writes the "Console pane" section of docs/benchmarks.md
    python -m bench.console --quick    # short windows, writes nothing

xentui runs in a real pseudo-terminal of 160x50 watching the lab (table refreshing every second). Measured
from outside (/proc/<pid>/stat): the table alone; the same with the console pane open on an idle guest; and
with the guest printing about 100 KB/s into the pane (a shell loop in the guest writing 10 KB blocks). The
rate the guest really reached is read from the console log that xentui writes (--console-log).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.pty_run import PtyProcess
from bench.report import replace_section
from bench.run import ROOT, XENTUI, machine, versions
from lab.qemu_lab import QemuLab

HEADING = "## Console pane"
LINE = "xentui console benchmark line: the quick brown fox jumps over the lazy dog 0123456789"
# ~9.6 KB per block, a block every 0.1 s: about 100 KB/s when the guest keeps up.
LOAD = (
    f"yes '{LINE}' | head -n 110 > /tmp/blk; "
    'end=$(($(date +%s)+{n})); while [ $(date +%s) -lt $end ]; do cat /tmp/blk; usleep 100000; done; echo BENCH-""DONE'
)


def wait_in_log(log: Path, text: bytes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"never saw {text!r} in {log}")


def type_(proc: PtyProcess, text: str) -> None:
    for ch in text:
        os.write(proc.master, ch.encode())
        time.sleep(0.005)


def measure(uri: str, guest: str, window: float, warmup: float) -> dict[str, float]:
    logs = Path(tempfile.mkdtemp(prefix="xentui-bench-console-"))
    proc = PtyProcess([XENTUI, "-c", uri, "--interval", "1", "--console-log", str(logs)], marker=b"domains:")
    proc.start()
    try:
        proc.wait_first_frame()
        time.sleep(warmup)
        table, _ = proc.measure(window)
        type_(proc, "/" + guest + "\r")
        time.sleep(0.5)
        type_(proc, "c")
        time.sleep(2)
        type_(proc, "\r")
        log = next(iter(logs.glob(f"*/{guest}.log")), None)
        deadline = time.monotonic() + 30
        while log is None and time.monotonic() < deadline:
            time.sleep(0.2)
            log = next(iter(logs.glob(f"*/{guest}.log")), None)
        if log is None:
            raise RuntimeError("the console pane did not open (no log)")
        wait_in_log(log, b"lab#")
        time.sleep(warmup)
        idle, _ = proc.measure(window)
        type_(proc, LOAD.replace("{n}", str(int(window + warmup + 5))) + "\r")
        time.sleep(warmup)
        size0, t0 = log.stat().st_size, time.monotonic()
        busy, out_bps = proc.measure(window)
        rate = (log.stat().st_size - size0) / (time.monotonic() - t0)
        wait_in_log(log, b"BENCH-DONE", timeout=window + 60)  # quiet again before the next run
        return {"table": table, "idle": idle, "busy": busy, "rate": rate, "out": out_bps}
    finally:
        proc.stop()


FIXTURES = ROOT / "tests" / "fixtures"
# `xl console` of a fake xl: 10 KB of text every 0.1 s, for as long as it runs.
PRINTER = f"""import sys, time
line = ("{LINE}" + "\\r\\n").encode()
block = line * (10240 // len(line))
out = sys.stdout.buffer
out.write(b"FAKE-CONSOLE-START\\r\\n"); out.flush()
t = time.monotonic()
while True:
    out.write(block); out.flush()
    t += 0.1
    time.sleep(max(0.0, t - time.monotonic()))
"""


def fake_xl(tmp: Path) -> Path:
    (tmp / "printer.py").write_text(PRINTER)
    xl = tmp / "xl"
    xl.write_text(
        "#!/bin/sh\n"
        'case "$1 $2" in\n'
        f'  "list ") cat {FIXTURES}/xl-list.txt ;;\n'
        f'  "list -l") cat {FIXTURES}/xl-list-long.json ;;\n'
        '  "info "*) echo "xen_version : 4.17.7" ;;\n'
        f'  "console "*) exec {sys.executable} {tmp}/printer.py ;;\n'
        "  *) exit 0 ;;\n"
        "esac\n"
    )
    xl.chmod(0o755)
    return tmp


def measure_fake(window: float, warmup: float) -> dict[str, float]:
    """`xentui --xl` with a fake xl whose `xl console` (in xentui's pty) prints 100 KB/s."""
    tmp = fake_xl(Path(tempfile.mkdtemp(prefix="xentui-bench-xl-")))
    logs = tmp / "logs"
    env = {"PATH": f"{tmp}:{os.environ['PATH']}"}
    proc = PtyProcess([XENTUI, "--xl", "--interval", "1", "--console-log", str(logs)], marker=b"domains:", env=env)
    proc.start()
    try:
        proc.wait_first_frame()
        time.sleep(1)
        type_(proc, "/pvguest\r")
        time.sleep(0.5)
        type_(proc, "c")
        deadline = time.monotonic() + 30
        log = None
        while log is None and time.monotonic() < deadline:
            time.sleep(0.2)
            log = next(iter(logs.glob("*/pvguest.log")), None)
        if log is None:
            raise RuntimeError("the console pane did not open (no log)")
        wait_in_log(log, b"FAKE-CONSOLE-START")
        time.sleep(warmup)
        size0, t0 = log.stat().st_size, time.monotonic()
        busy, out_bps = proc.measure(window)
        rate = (log.stat().st_size - size0) / (time.monotonic() - t0)
        return {"busy": busy, "rate": rate, "out": out_bps}
    finally:
        proc.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = ap.parse_args(argv)
    runs, window, warmup = (1, 5.0, 2.0) if args.quick else (3, 30.0, 8.0)
    lab = QemuLab()
    try:
        lab.up()
        guest = lab.names()["run"]
        results = [measure(lab.uri, guest, window, warmup) for _ in range(runs)]
    finally:
        lab.down()
    fakes = [measure_fake(window, warmup) for _ in range(runs)]
    fake = {k: statistics.median(r[k] for r in fakes) for k in fakes[0]}
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    added = [round(r["idle"] - r["table"], 2) + 0.0 for r in results]
    for r in [*results, *fakes]:
        print({k: round(v, 3) for k, v in r.items()}, file=sys.stderr)
    rows = [
        ("table alone, % of one core", "1 s refresh, 160x50, the QEMU lab (3 guests)", f"{med['table']:.2f} %", "-"),
        (
            "idle console pane, added CPU",
            "pane open on an idle guest, same table",
            f"{statistics.median(added):+.2f} % (runs: {', '.join(f'{a:+.2f}' for a in added)})",
            "≤ 0.2 %",
        ),
        (
            "guest printing into the pane, % of one core",
            f"guest writing {med['rate'] / 1024:.0f} KB/s (measured in the log), table refreshing",
            f"{med['busy']:.2f} %",
            "≤ 25 %",
        ),
        ("terminal output while printing", "same", f"{med['out'] / 1024:.1f} KB/s", "-"),
        (
            "fake console printing into the pane, % of one core",
            f"`xl console` of a fake xl in xentui's pty writing {fake['rate'] / 1024:.0f} KB/s, table refreshing",
            f"{fake['busy']:.2f} %",
            "≤ 25 %",
        ),
        ("terminal output while printing", "fake console", f"{fake['out'] / 1024:.1f} KB/s", "-"),
    ]
    ok = {
        "idle console pane, added CPU": statistics.median(added) <= 0.2,
        "guest printing into the pane, % of one core": med["busy"] <= 25,
        "fake console printing into the pane, % of one core": fake["busy"] <= 25,
    }
    table = "| figure | workload | measured | budget | met |\n| --- | --- | --- | --- | --- |\n" + "".join(
        f"| {f} | {w} | {m} | {b} | {('yes' if ok[f] else '**no**') if f in ok else 'n/a'} |\n" for f, w, m, b in rows
    )
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"{HEADING}\n\nMeasured {stamp} on {machine()} with `python -m bench.console`; {versions()}. "
        f"Median of {runs} runs, CPU of the xentui process over {window:.0f} s windows after {warmup:.0f} s of "
        "warm-up, in a real pseudo-terminal of 160x50. The guest is the QEMU lab's running guest (TCG), "
        "printing through its serial console and libvirt's stream: a busybox loop writing a 9.6 KB block of "
        "text lines every 0.1 s; the rate it reached is what the console log (--console-log) grew by. QEMU's "
        "own CPU for the guest is not counted. Under TCG the lab guest's serial port does not reach 100 KB/s, "
        "so the last rows are the same pane fed by a fake `xl` (a shell script whose `xl console` runs a "
        "Python loop writing 10 KB every 0.1 s) through the `xl console` route: a pty of xentui's own; its "
        "table is the saved `xl list` of tests/fixtures, refreshed every second.\n\n" + table
    )
    print(section)
    if not args.quick:
        replace_section(Path(args.output), "console", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
