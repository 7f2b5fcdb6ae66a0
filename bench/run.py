"""xentui's benchmark: the real app in a real pseudo-terminal, against its budgets.

    make bench                     # full run (about 25 minutes), writes its sections of docs/benchmarks.md
    python -m bench.run --quick    # a smoke run of every measurement (about a minute), writes nothing

Figures are medians of several runs; ratios compare xentui with baselines measured in the same run:
an idle Textual app of the same size (the floor) and `watch -n 1 virsh list --all` (what admins do today).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bench.hosts import host_xml, write_host
from bench.latency_proxy import LatencyProxy
from bench.peer import NAME as PEER
from bench.peer import VERSION as PEER_VERSION
from bench.peer import PeerUnavailable, install, installed, peer_home, peer_pty
from bench.pty_run import PtyProcess, rss_mb
from bench.report import replace_section
from lab.procs import free_port

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
XENTUI = str(Path(PY).with_name("xentui"))


@dataclass(frozen=True)
class Settings:
    runs: int
    warmup_s: float
    window_s: float
    soak_s: float
    sizes: tuple[int, int]
    fleet: tuple[int, int]  # hosts, domains each


FULL = Settings(runs=3, warmup_s=8, window_s=30, soak_s=600, sizes=(100, 1000), fleet=(10, 100))
QUICK = Settings(runs=1, warmup_s=2, window_s=2, soak_s=2, sizes=(10, 50), fleet=(2, 10))


@dataclass
class Row:
    figure: str
    workload: str
    value: float
    unit: str
    budget: str
    ok: bool | None
    note: str = ""


def median_of(runs: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(runs))


@contextlib.contextmanager
def running(proc: PtyProcess) -> Iterator[PtyProcess]:
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def xentui_pty(host: Path, marker: str) -> PtyProcess:
    return PtyProcess([XENTUI, "--demo-host", str(host), "--interval", "1"], marker=marker.encode())


def steady(proc: PtyProcess, s: Settings, children: bool = False) -> tuple[float, float]:
    with running(proc):
        proc.wait_first_frame()
        time.sleep(s.warmup_s)
        return proc.measure(s.window_s, children)


def cpu_and_bytes(host: Path, n: int, s: Settings) -> tuple[float, float]:
    runs = [steady(xentui_pty(host, f"{n} domains:"), s) for _ in range(s.runs)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def first_frame(host: Path, n: int, s: Settings) -> float:
    def once() -> float:
        with running(xentui_pty(host, f"{n} domains:")) as p:
            return p.wait_first_frame()

    return median_of(s.runs, once)


def baselines(host: Path, n: int, s: Settings, peer: Path | None) -> dict[str, tuple[float, float]]:
    idle = PtyProcess([PY, "-m", "bench.idle_app", str(n)], marker=b"idle baseline", env={"PYTHONPATH": str(ROOT)})
    out = {"idle Textual app": steady(idle, s)}
    if shutil.which("virsh") and shutil.which("watch"):
        watch = PtyProcess(["watch", "-n", "1", "virsh", "-c", f"test://{host}", "list", "--all"], marker=b"Id")
        out["watch -n 1 virsh list --all"] = steady(watch, s, children=True)
    if peer is not None:
        out.update(peer_runs(peer, host, s))
    return out


PEER_LABEL = f"{PEER} {PEER_VERSION}"


def find_peer(quick: bool) -> tuple[Path | None, str]:
    """The peer's executable, or None and why not. A quick run uses it only where already installed."""
    if quick:
        exe = installed()
        return exe, "" if exe else f"{PEER} is not installed in the benchmark's cache (a full run installs it)"
    try:
        return install(), ""
    except PeerUnavailable as exc:
        return None, str(exc)


def peer_runs(peer: Path, host: Path, s: Settings) -> dict[str, tuple[float, float]]:
    """The peer's CPU and output on a host, medians of the runs, as a baseline entry (none if it fails)."""
    home = peer_home(host)
    try:
        runs = [steady(peer_pty(peer, home), s) for _ in range(s.runs)]
    except RuntimeError as exc:  # no first frame
        print(f"{PEER}: {exc}; left out", file=sys.stderr)
        return {}
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {PEER_LABEL: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))}


def calls_per_refresh(host: Path) -> float:
    from xentui.sources.demo import DemoSource

    src = DemoSource(host_xml=str(host))
    src.snapshot()
    before = src.calls
    for _ in range(5):
        src.snapshot()
    src.close()
    return (src.calls - before) / 5


def memory(host: Path, n: int, s: Settings) -> tuple[float, float]:
    with running(xentui_pty(host, f"{n} domains:")) as p:
        p.wait_first_frame()
        time.sleep(s.warmup_s)
        start = rss_mb(p.proc.pid)
        time.sleep(s.soak_s)
        end = rss_mb(p.proc.pid)
    return end, (end - start) / start * 100


def slow_link(host: Path, delay_s: float = 0.05) -> tuple[float, float, float, float]:
    """Refresh time in round trips through libvirtd over TCP with `delay_s` added each way.

    Returns (steady refresh, first refresh (the rows listed), every domain's XML read, all in round trips;
    the round trip in s).
    """
    from xentui.sources.libvirt_source import LibvirtSource

    libvirtd = shutil.which("libvirtd") or "/usr/sbin/libvirtd"
    if not os.path.exists(libvirtd):
        raise RuntimeError("libvirtd is not installed")
    work = Path(tempfile.mkdtemp(prefix="xentui-bench-"))
    port = free_port()
    (work / "libvirtd.conf").write_text(
        f'unix_sock_dir = "{work}"\nlisten_tcp = 1\nlisten_tls = 0\ntcp_port = "{port}"\n'
        'listen_addr = "127.0.0.1"\nauth_tcp = "none"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n'
    )
    daemon = subprocess.Popen(
        [libvirtd, "--listen", "--config", str(work / "libvirtd.conf"), "--pid-file", str(work / "pid")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proxy = LatencyProxy(port, delay_s)
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.closing(socket.socket()) as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("libvirtd did not listen on TCP")
            time.sleep(0.05)
        proxy_port = proxy.start()
        src = LibvirtSource(f"test+tcp://127.0.0.1:{proxy_port}{host}")
        read = threading.Event()
        src.set_change_callback(read.set)  # said when the XML read after the first refresh is done
        rtt = 2 * delay_s
        t0 = time.monotonic()
        listed = src.snapshot()
        first = time.monotonic() - t0
        if any(d.details_pending for d in listed.domains):
            read.wait(60)
        complete = time.monotonic() - t0
        times = []
        for _ in range(5):
            t0 = time.monotonic()
            src.snapshot()
            times.append(time.monotonic() - t0)
        src.close()
        return statistics.median(times) / rtt, first / rtt, complete / rtt, rtt
    finally:
        proxy.stop()
        daemon.terminate()
        daemon.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def fleet(s: Settings) -> list[Row]:
    """N real libvirtds on 127.0.0.1 (test driver over TCP), each with D domains, watched at once."""
    from lab.artifacts import LabUnavailable
    from lab.fleet_lab import FleetLab
    from xentui.sources.libvirt_source import LibvirtSource

    n_hosts, per_host = s.fleet
    total = n_hosts * per_host
    lab = FleetLab()
    try:
        try:
            uris = []
            for i in range(n_hosts):
                uris.append(lab.add_daemon(f"host{i:02d}", node=host_xml(per_host)).uri)
        except (LabUnavailable, OSError) as exc:
            return [Row("fleet", f"cannot start {n_hosts} libvirtds: {exc}", 0, "", "", None)]
        argv = [XENTUI, "--interval", "1"] + [a for u in uris for a in ("-c", u)]
        marker = f"{total} domains:"
        runs = [steady(PtyProcess(argv, marker=marker.encode()), s) for _ in range(s.runs)]
        cpu = statistics.median(r[0] for r in runs)
        out_bps = statistics.median(r[1] for r in runs)

        def once(mark: str) -> float:
            with running(PtyProcess(argv, marker=mark.encode())) as p:
                return p.wait_first_frame()

        ff = median_of(s.runs, lambda: once(marker))
        first_host = median_of(s.runs, lambda: once(f"{per_host} domains:"))
        sources = [LibvirtSource(u) for u in uris]
        read = []
        for src in sources:  # the rows, then their XML read in the background: the refresh timed is a steady one
            done = threading.Event()
            src.set_change_callback(done.set)
            if not any(d.details_pending for d in src.snapshot().domains):
                done.set()
            read.append(done)
        for done in read:
            done.wait(60)
        before = sum(src.calls for src in sources)
        t0 = time.monotonic()
        for src in sources:
            src.snapshot()
        refresh = time.monotonic() - t0
        calls = sum(src.calls for src in sources) - before
        for src in sources:
            src.close()
    finally:
        lab.down()
    work = f"{n_hosts} hosts x {per_host} domains, libvirtd over TCP each"
    return [
        Row("fleet: steady CPU, % of one core", work, cpu, "%", "≤ 4 % (as 1000 domains on one host)", cpu <= 4),
        Row("fleet: terminal output", work, out_bps / 1024, "KB/s", "≤ 3 KB/s per 100 shown", None),
        Row("fleet: time to the first host's rows", work, first_host, "s", "≤ 1.0 s", first_host <= 1.0),
        Row("fleet: time to first complete frame", work, ff, "s", "≤ 2.0 s", ff <= 2.0),
        Row(
            "fleet: libvirt calls per refresh", work, calls, "calls", "one per host", calls == n_hosts,
            f"all {n_hosts} hosts refreshed one after another in {refresh * 1000:.0f} ms",
        ),
    ]  # fmt: skip


def versions() -> str:
    import libvirt
    import textual

    qemu = subprocess.run(["virsh", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    from xentui import __version__

    return (
        f"xentui {__version__}, Python {platform.python_version()}, Textual {textual.__version__}, "
        f"libvirt-python {metadata.version('libvirt-python')}, "
        f"libvirt {libvirt.getVersion() // 1_000_000}.{libvirt.getVersion() // 1000 % 1000} (virsh {qemu or '?'})"
    )


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    mem = next((int(ln.split()[1]) // 1024 // 1024 for ln in open("/proc/meminfo") if ln.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short windows, one run, small hosts; writes nothing")
    ap.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--fleet", action="store_true", help="only the fleet figures; rewrites their section")
    ap.add_argument("--dom0", action="store_true", help="only the Xen dom0 figures (bench/dom0.py, the Xen lab)")
    args = ap.parse_args(argv)
    s = QUICK if args.quick else FULL
    if args.dom0:
        from bench.dom0 import main as dom0_main

        return dom0_main(s.runs, s.window_s, s.warmup_s, Path(args.output), write=not args.quick)
    if args.fleet:
        return fleet_only(s, Path(args.output), write=not args.quick)
    small, large = s.sizes
    hosts = Path(tempfile.mkdtemp(prefix="xentui-hosts-"))
    h_small, h_large = write_host(small, hosts), write_host(large, hosts)
    rows: list[Row] = []

    peer, no_peer = find_peer(args.quick)
    if no_peer:
        print(f"baseline {PEER} skipped: {no_peer}", file=sys.stderr)
    cpu_s, bytes_s = cpu_and_bytes(h_small, small, s)
    cpu_l, bytes_l = cpu_and_bytes(h_large, large, s)
    base = baselines(h_small, small, s, peer)
    base_large = peer_runs(peer, h_large, s) if peer is not None else {}
    rows.append(
        Row("steady CPU, % of one core", f"1 s refresh, 160x50, {small} domains", cpu_s, "%", "≤ 1 %", cpu_s <= 1)
    )
    rows.append(Row("steady CPU, % of one core", f"{large} domains", cpu_l, "%", "≤ 4 %", cpu_l <= 4))
    ff = first_frame(h_large, large, s)
    rows.append(Row("time to first complete frame", f"{large} domains", ff, "s", "≤ 0.6 s", ff <= 0.6))
    rows.append(
        Row("terminal output", f"{small} domains, CPU% changing", bytes_s / 1024, "KB/s", "≤ 1 KB/s", bytes_s <= 1024)
    )
    c_small, c_large = calls_per_refresh(h_small), calls_per_refresh(h_large)
    rows.append(
        Row(
            "libvirt calls per refresh",
            f"{small} and {large} domains",
            c_large,
            "calls",
            "constant",
            c_small == c_large,
            f"{c_small:g} at {small}, {c_large:g} at {large}",
        )
    )
    try:
        trips, first_trips, complete_trips, rtt = slow_link(h_small)
        rows.append(
            Row(
                "refresh over a slow link, round trips",
                f"libvirtd over TCP, +{rtt / 2 * 1000:.0f} ms each way, {small} domains",
                trips,
                "RTT",
                "≤ 3",
                trips <= 3,
                f"first refresh (the rows): {first_trips:.1f} RTT, every domain's XML read: {complete_trips:.1f} RTT",
            )
        )
    except RuntimeError as exc:
        rows.append(Row("refresh over a slow link", str(exc), 0, "", "≤ 3", None))
    rows += fleet(s)
    mem_end, growth = memory(h_large, large, s)
    rows.append(
        Row(
            "resident memory",
            f"{large} domains",
            mem_end,
            "MB",
            "≤ 80 MB",
            mem_end <= 80,
            f"{growth:+.1f} % over {_duration(s.soak_s)}",
        )
    )
    rows.append(Row("memory growth", f"{large} domains, {_duration(s.soak_s)}", growth, "%", "< 5 %", growth < 5))

    table = render(rows, base, cpu_s, bytes_s, small)
    table += "\n\n" + baseline_table(base_large, cpu_l, bytes_l, large)
    if no_peer:
        table += f"\n\n{PEER} was not measured: {no_peer}."
    print(table)
    if not args.quick:
        out = Path(args.output)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        replace_section(
            out,
            "main",
            f"Measured {stamp} on {machine()}.\n\n{versions()}.\n\n"
            "Reproduce with `make bench` (about 25 minutes). Each figure is the median of "
            f"{s.runs} runs; CPU over {s.window_s:g} s windows after {s.warmup_s:g} s of warm-up, in a real "
            "pseudo-terminal of 160x50, refresh every second, on demo-style hosts served by libvirt's test "
            "driver (CPU% changes every refresh). Terminal output is counted at the pty master.\n\n"
            f"{table}\n\n"
            "Notes. The slow link is a userspace proxy on 127.0.0.1 that delays every chunk by 50 ms each way "
            "(this kernel has no sch_netem for `tc qdisc ... netem`); the round trip is 100 ms. A steady refresh "
            "is one `virConnectGetAllDomainStats`; the first refresh is that call plus the connection set-up (with "
            "more than 16 domains the rows are shown before their XML, mode `…`), then each domain's XML is read, "
            f"eight at a time. {PEER} {PEER_VERSION} runs from PyPI in a venv of its own, on the same test-driver "
            "host (one server, connected at start; its cards show 12 guests per screen and refresh their "
            "figures every 5 s). `watch virsh list --all` writes almost nothing because nothing "
            "in its output changes on this host (it shows no CPU figures); its CPU includes the `virsh` it "
            "starts every second. The idle app is a Textual DataTable of the same rows that never changes.\n",
            at_top=True,
        )
        print(f"written to {out}")
    shutil.rmtree(hosts, ignore_errors=True)
    return 0


FLEET_HEADING = "## Several hosts"


def fleet_only(s: Settings, out: Path, write: bool) -> int:
    """The fleet rows alone, written as the "Several hosts" section of the report (replacing an older one)."""
    rows = fleet(s)
    lines = ["| figure | workload | measured | budget | met |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        met = "n/a" if r.ok is None else ("yes" if r.ok else "**no**")
        lines.append(f"| {r.figure} | {r.workload} | {r.value:.2f} {r.unit}{f' ({r.note})' if r.note else ''} "
                     f"| {r.budget} | {met} |")  # fmt: skip
    table = "\n".join(lines)
    print(table)
    if write:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        section = (
            f"{FLEET_HEADING}\n\nMeasured {stamp} on {machine()} with `python -m bench.run --fleet`: "
            f"{s.fleet[0]} real `libvirtd`s on 127.0.0.1 (test driver over TCP, each in its own mount namespace), "
            f"{s.fleet[1]} domains each, one xentui watching all of them (`-c` ten times), same terminal and "
            "windows as above. CPU is xentui's alone (the daemons run on the same two cores). The test driver "
            "reports no CPU time over the remote protocol, so no figure changes between refreshes: this is the "
            "cost of polling, diffing and the header, not of repainting changing cells (that is the 1000-domain "
            "row above).\n\n" + table + "\n"
        )
        replace_section(out, "fleet", section)
        print(f"written to {out}")
    return 0


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def render(rows: list[Row], base: dict[str, tuple[float, float]], cpu: float, out_bps: float, n: int) -> str:
    lines = ["| figure | workload | measured | budget | met |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        met = "n/a" if r.ok is None else ("yes" if r.ok else "**no**")
        value = f"{r.value:.2f} {r.unit}" + (f" ({r.note})" if r.note else "")
        lines.append(f"| {r.figure} | {r.workload} | {value} | {r.budget} | {met} |")
    return "\n".join(lines) + "\n\n" + baseline_table(base, cpu, out_bps, n)


def baseline_table(base: dict[str, tuple[float, float]], cpu: float, out_bps: float, n: int) -> str:
    lines = [f"Baselines, same run, {n} domains, 160x50:", ""]
    lines += ["| program | CPU % of one core | terminal KB/s | xentui CPU as a ratio | xentui output as a ratio |"]
    lines += ["| --- | --- | --- | --- | --- |"]
    lines.append(f"| xentui | {cpu:.2f} | {out_bps / 1024:.2f} | 1.0 | 1.0 |")
    for name, (bcpu, bbytes) in base.items():
        rc = f"{cpu / bcpu:.2f}x" if bcpu > 0 else "-"
        rb = f"{out_bps / bbytes:.2f}x" if bbytes > 0 else "-"
        lines.append(f"| {name} | {bcpu:.2f} | {bbytes / 1024:.2f} | {rc} | {rb} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
