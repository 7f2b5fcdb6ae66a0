"""Soak run: xentui against the real libvirt lab while guests are started and destroyed every few seconds.

    make soak                       # 30 minutes; writes docs/soak.md
    python -m bench.soak --minutes 1 --no-write

Samples the xentui process's resident memory, threads and open file descriptors; at the end it must
still be alive, and quit cleanly on `q`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
from pathlib import Path

import libvirt

from bench.pty_run import PtyProcess, rss_mb
from bench.run import XENTUI, machine, versions
from lab.qemu_lab import QemuLab
from xentui.sources.libvirt_source import ensure_event_loop

ROOT = Path(__file__).resolve().parent.parent


def threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--every", type=float, default=3, help="seconds between lifecycle changes")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    lab = QemuLab()
    lab.up()
    ensure_event_loop()
    admin = libvirt.open(lab.uri)
    names = lab.names()
    app = PtyProcess([XENTUI, "-c", lab.uri, "--interval", "1"], marker=b"domains:")
    samples: list[tuple[float, float, int, int]] = []
    changes = 0
    try:
        app.start()
        app.wait_first_frame()
        time.sleep(5)
        start = time.monotonic()
        end = start + args.minutes * 60
        next_sample = start
        while time.monotonic() < end:
            if app.proc.poll() is not None:
                raise SystemExit(f"xentui exited during the soak with status {app.proc.returncode}")
            off = admin.lookupByName(names["off"])
            (off.destroy if off.isActive() else off.create)()
            paused = admin.lookupByName(names["paused"])
            (paused.resume if paused.info()[0] == libvirt.VIR_DOMAIN_PAUSED else paused.suspend)()
            changes += 2
            if time.monotonic() >= next_sample:
                pid = app.proc.pid
                samples.append((time.monotonic() - start, rss_mb(pid), threads(pid), fds(pid)))
                next_sample += 30
            time.sleep(args.every)
        pid = app.proc.pid
        samples.append((time.monotonic() - start, rss_mb(pid), threads(pid), fds(pid)))
        os.write(app.master, b"q")
        exit_status = app.proc.wait(15)
    finally:
        app.stop()
        admin.close()
        lab.down()
    first, last = samples[0], samples[-1]
    lines = [
        "| after | RSS MB | threads | open fds |",
        "| --- | --- | --- | --- |",
        *(f"| {t / 60:.1f} min | {r:.1f} | {th} | {fd} |" for t, r, th, fd in samples[:: max(1, len(samples) // 12)]),
        f"| {last[0] / 60:.1f} min (end) | {last[1]:.1f} | {last[2]} | {last[3]} |",
        "",
        f"{changes} lifecycle changes ({args.every:g} s apart); RSS {first[1]:.1f} → {last[1]:.1f} MB "
        f"({(last[1] - first[1]) / first[1] * 100:+.1f} %), threads {first[2]} → {last[2]}, "
        f"fds {first[3]} → {last[3]}; "
        f"quit on q with exit status {exit_status}.",
    ]
    report = "\n".join(lines)
    print(report)
    if not args.no_write:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        out = ROOT / "docs" / "soak.md"
        out.write_text(
            f"# Soak run\n\nMeasured {stamp} on {machine()}.\n\n{versions()}.\n\n"
            f"`make soak`: xentui (1 s refresh, in a 160x50 pseudo-terminal) on the real libvirt lab for "
            f"{args.minutes:g} minutes while `{names['off']}` is started and destroyed and `{names['paused']}` "
            f"paused and resumed every {args.every:g} s through a second connection.\n\n{report}\n"
        )
        print(f"written to {out}")
    return 0 if exit_status == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
