"""Command line: the dashboard, and `list`, `inspect`, `mode` for scripts and quick triage.

Exit status: 0 fine, 1 source unreachable or domain not found, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from xentui import __version__
from xentui.model import Domain
from xentui.parsers.errors import ParseError
from xentui.sources.base import SourceError
from xentui.text import printable


class UsageError(Exception):
    pass


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    d: Any = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("source (like virsh: -c, else LIBVIRT_DEFAULT_URI, else the best found)")
    g.add_argument(
        "-c", "--connect", metavar="URI", default=d, help="libvirt URI, e.g. xen:///system, qemu+ssh://host/system"
    )
    g.add_argument("--xl", action="store_true", default=d if suppress else False, help="use xl on this Xen dom0")
    g.add_argument("--xm", action="store_true", default=d if suppress else False, help="use xm on an old xend host")
    g.add_argument("--demo", action="store_true", default=d if suppress else False, help="the built-in demo host")
    g.add_argument(
        "--demo-host", metavar="XML", default=d, help="--demo on another node XML of the same form (benchmarks)"
    )
    g.add_argument(
        "-f",
        "--file",
        action="append",
        metavar="FILE",
        default=d if suppress else [],
        help="saved outputs instead of a live host (repeatable; re-read when they change)",
    )
    g.add_argument(
        "--rw", action="store_true", default=d if suppress else False, help="read-write: allow lifecycle actions"
    )
    g.add_argument(
        "--timeout", type=float, default=d if suppress else 10.0, metavar="S", help="timeout for xl/xm calls"
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xentui", description="Terminal dashboard for Xen and libvirt hosts.")
    p.add_argument("--version", action="version", version=f"xentui {__version__}")
    p.add_argument("--interval", type=float, default=1.0, metavar="S", help="refresh interval (default 1 s)")
    p.add_argument("--detach-key", metavar="KEY", help="console detach key (default ctrl-], or $XENTUI_DETACH_KEY)")
    p.add_argument("--vnc-viewer", metavar="PROGRAM", help="VNC viewer to use after $VNCVIEWER")
    _common(p, suppress=False)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    ls = sub.add_parser("list", help="one-shot table of domains, like xl list plus a MODE column")
    ls.add_argument("--json", action="store_true", help="one JSON array")
    _common(ls, suppress=True)
    ins = sub.add_parser("inspect", help="parse saved outputs (xm/xl list [-l], virsh dumpxml, xentop -b)")
    ins.add_argument("files", nargs="+", metavar="FILE")
    ins.add_argument("--json", action="store_true", help="one JSON array")
    md = sub.add_parser("mode", help="print PV, HVM or PVH for one domain")
    md.add_argument("domain", metavar="DOMAIN", help="name, ID or UUID")
    _common(md, suppress=True)
    return p


def domain_json(d: Domain) -> dict[str, Any]:
    return {
        "name": d.name,
        "id": d.id,
        "uuid": d.uuid,
        "state": d.state.value,
        "flags": d.flags,
        "memory_mib": d.memory_mib,
        "max_memory_mib": d.max_memory_mib,
        "vcpus": d.vcpus,
        "max_vcpus": d.max_vcpus,
        "mode": d.mode.value,
        "pv_drivers": d.pv_drivers,
        "vnc": d.vnc.address if d.vnc else None,
        "graphics": [{"type": g.kind, "host": g.host, "port": g.port} for g in d.graphics],
        "console": d.has_console,
        "cpu_time_s": round(d.cpu_time_ns / 1e9, 1) if d.cpu_time_ns is not None else None,
        "hypervisor": d.hypervisor,
        "host": d.host,
        "source": d.source,
        "verdict": d.config.verdict if d.config else None,
    }


def table(domains: Sequence[Domain]) -> str:
    width = max([40, *(len(printable(d.name)) for d in domains)])
    lines = [f"{'Name':<{width}} {'ID':>5} {'Mem':>6} {'VCPUs':>5} {'State':>8} {'Time(s)':>10}  Mode"]
    for d in domains:
        cpu = f"{d.cpu_time_ns / 1e9:10.1f}" if d.cpu_time_ns is not None else f"{'-':>10}"
        mode = d.mode.value + ("+PVdrv" if d.pv_drivers else "")
        did = str(d.id) if d.id is not None else "-"
        lines.append(f"{printable(d.name):<{width}} {did:>5} {d.memory_mib:>6} {d.vcpus:>5} {d.flags:>8} {cpu}  {mode}")
    return "\n".join(lines)


def _emit(domains: Sequence[Domain], as_json: bool) -> None:
    if as_json:
        print(json.dumps([domain_json(d) for d in domains], indent=2))
    else:
        print(table(domains))


def _open(args: argparse.Namespace) -> Any:
    from xentui.sources.select import choose, open_source

    choice = choose(args.connect, args.xl, args.xm, args.demo or bool(args.demo_host), tuple(args.file))
    if args.demo_host:
        from xentui.sources.demo import DemoSource

        return DemoSource(read_only=not args.rw, host_xml=os.path.abspath(args.demo_host)), choice
    return open_source(choice, read_only=not args.rw, timeout=args.timeout), choice


def _snapshot_domains(args: argparse.Namespace) -> list[Domain]:
    source, _ = _open(args)
    try:
        snap = source.snapshot()
    finally:
        source.close()
    for problem in snap.problems:
        print(f"xentui: warning: {printable(problem)}", file=sys.stderr)
    return sorted(snap.domains, key=lambda d: (d.id is None, d.id if d.id is not None else 0, d.name))


def cmd_inspect(args: argparse.Namespace) -> int:
    from xentui.sources.files import combine, read_file

    domains, problems = combine([read_file(f) for f in args.files])
    for problem in problems:
        print(f"xentui: warning: {printable(problem)}", file=sys.stderr)
    _emit(domains, args.json)
    if not args.json:
        for d in domains:
            if d.config:
                print(f"{printable(d.name)}: {printable(d.config.verdict)}")
    return 0


def cmd_mode(args: argparse.Namespace) -> int:
    domains = _snapshot_domains(args)
    want = args.domain
    for d in domains:
        if want in (d.name, d.uuid, str(d.id) if d.id is not None else None):
            print(d.mode.value)
            return 0
    print(f"xentui: error: no domain named {printable(want)!r}", file=sys.stderr)
    return 1


def run_dashboard(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        raise UsageError("--interval must be a positive number of seconds")
    from xentui.actions.console import parse_detach_key
    from xentui.ui.app import XenTUI

    detach = args.detach_key or os.environ.get("XENTUI_DETACH_KEY")
    if detach:
        try:
            parse_detach_key(detach)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    source, choice = _open(args)
    app = XenTUI(
        source, interval=args.interval, notice=choice.why, detach_key=args.detach_key, vnc_viewer=args.vnc_viewer
    )
    app.run()
    source.close()
    return app.return_code or 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "inspect":
            return cmd_inspect(args)
        if args.command == "list":
            _emit(_snapshot_domains(args), args.json)
            return 0
        if args.command == "mode":
            return cmd_mode(args)
        return run_dashboard(args)
    except ParseError as exc:
        print(f"xentui: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"xentui: error: {exc}", file=sys.stderr)
        return 2
    except SourceError as exc:
        print(f"xentui: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
