"""Command line: the dashboard, and `list`, `inspect`, `mode` for scripts and quick triage.

Exit status: 0 fine, 1 source unreachable or domain not found, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xentui import __version__, config
from xentui.model import Domain, Snapshot
from xentui.parsers.errors import ParseError
from xentui.sources.base import SourceError
from xentui.sources.factory import Opened, Options, Request, open_request
from xentui.sources.uri import UriError
from xentui.text import printable

if TYPE_CHECKING:
    from xentui.fleet import Fleet
    from xentui.ui.app import XenTUI


class UsageError(Exception):
    pass


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    d: Any = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group(
        "source (-c, else the config's hosts, else LIBVIRT_DEFAULT_URI, else the best found on this machine)"
    )
    g.add_argument(
        "-c",
        "--connect",
        action="append",
        metavar="URI",
        default=d,
        help=(
            "libvirt URI (xen:///system, qemu+ssh://host/system), xl on a dom0 without libvirtd "
            "(xl+ssh://[user@]host[:port][/?keyfile=PATH], xl:// here) or a host named in the config; "
            "repeat for a fleet"
        ),
    )
    g.add_argument("--config", metavar="FILE", default=d, help="hosts file (default ~/.config/xentui/config.toml)")
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
    p.add_argument("--interval", type=float, metavar="S", help="refresh interval (default 1 s, or the config's)")
    p.add_argument("--detach-key", metavar="KEY", help="console detach key (default ctrl-], or $XENTUI_DETACH_KEY)")
    p.add_argument("--vnc-viewer", metavar="PROGRAM", help="VNC viewer to use after $VNCVIEWER")
    p.add_argument("--console-log", metavar="DIR", help="append what each console prints to DIR/HOST/DOMAIN.log")
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
        "max_memory_unlimited": d.max_memory_unlimited,
        "vcpus": d.vcpus,
        "max_vcpus": d.max_vcpus,
        "mode": d.mode.value,
        "pv_drivers": d.pv_drivers,
        "vnc": next((g.address for g in d.graphics if g.kind == "vnc"), None),
        "graphics": [{"type": g.kind, "host": g.host, "port": g.port} for g in d.graphics],
        "console": d.has_console,
        "cpu_time_s": round(d.cpu_time_ns / 1e9, 1) if d.cpu_time_ns is not None else None,
        "hypervisor": d.hypervisor,
        "host": d.host,
        "source": d.source,
        "verdict": str(d.config.verdict) if d.config else None,
    }


LIST_COLUMNS = ("name", "id", "state", "mode", "mem", "maxmem", "vcpus", "time", "access")


def table(domains: Sequence[Domain]) -> str:
    """The dashboard's columns (xentui/columns.py) as plain text; a Host column first with several hosts."""
    from xentui.columns import plain_table

    several = len({d.host for d in domains}) > 1
    return plain_table(domains, (("host",) if several else ()) + LIST_COLUMNS)


def _emit(domains: Sequence[Domain], as_json: bool) -> None:
    if as_json:
        print(json.dumps([domain_json(d) for d in domains], indent=2))
    else:
        print(table(domains))


def _open(args: argparse.Namespace, batch: bool = False) -> Opened:
    """The sources to watch, opened by the one factory (precedence: see `factory.plan`).

    `batch`: the dashboard owns the terminal, so ssh transports may not prompt."""
    request = Request(
        connect=tuple(args.connect or ()),
        xl=args.xl,
        xm=args.xm,
        demo=args.demo,
        demo_host=args.demo_host or "",
        files=tuple(args.file),
        config=args.config or "",
    )
    return open_request(request, Options(read_only=not args.rw, batch=batch, timeout=args.timeout))


def _snapshot_domains(args: argparse.Namespace) -> tuple[list[Domain], int]:
    """Every host's domains, hosts read in parallel; exit status 1 when a host could not be read.

    With one host its error is the command's error; with several, each failure is a warning and the
    other hosts are still listed.
    """
    opened = _open(args)
    results: list[Snapshot | SourceError | None] = [None] * len(opened.sources)

    def read(i: int) -> None:
        try:
            results[i] = opened.sources[i].snapshot()
        except SourceError as exc:
            results[i] = exc

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(opened.sources))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for src in opened.sources:
            src.close()
    if len(results) == 1 and isinstance(results[0], SourceError):
        raise results[0]
    domains: list[Domain] = []
    status = 0
    for result in results:
        if isinstance(result, SourceError):
            print(f"xentui: warning: {printable(str(result))}", file=sys.stderr)
            status = 1
        elif result is not None:
            for problem in result.problems:
                print(f"xentui: warning: {printable(problem)}", file=sys.stderr)
            domains.extend(sorted(result.domains, key=lambda d: (d.id is None, d.id or 0, d.name)))
    return domains, status


def cmd_inspect(args: argparse.Namespace) -> int:
    from xentui.sources.files import combine, read_file

    domains, problems = combine([read_file(f) for f in args.files])
    for problem in problems:
        print(f"xentui: warning: {printable(problem)}", file=sys.stderr)
    _emit(domains, args.json)
    if not args.json:
        for d in domains:
            if d.config:
                print(f"{printable(d.name)}: {printable(str(d.config.verdict))}")
    return 0


def cmd_mode(args: argparse.Namespace) -> int:
    domains, status = _snapshot_domains(args)
    want = args.domain
    for d in domains:
        if want in (d.name, d.uuid, str(d.id) if d.id is not None else None):
            print(d.mode.value)
            return 0
    where = " on the hosts that answered" if status else ""
    print(f"xentui: error: no domain named {printable(want)!r}{where}", file=sys.stderr)
    return 1


def _config_console_log(args: argparse.Namespace) -> str | None:
    path = Path(args.config) if args.config else config.default_path()
    return config.load(path, required=bool(args.config)).console_log


def run_dashboard(args: argparse.Namespace) -> int:
    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be a positive number of seconds")
    from xentui.actions.console import parse_detach_key
    from xentui.fleet import Fleet
    from xentui.ui.app import XenTUI

    detach = args.detach_key or os.environ.get("XENTUI_DETACH_KEY")
    if detach:
        try:
            parse_detach_key(detach)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    opened = _open(args, batch=True)
    interval = args.interval if args.interval is not None else (opened.interval or 1.0)
    with Fleet(opened.sources, interval=interval) as fleet:  # closes the sources and joins the pollers
        app = XenTUI(
            fleet,
            interval=interval,
            notice=opened.notice,
            detach_key=args.detach_key,
            vnc_viewer=args.vnc_viewer,
            console_log=args.console_log or _config_console_log(args),
        )
        with _exit_on_signals(app, fleet):
            app.run()
    return app.return_code or 0


SIGNAL_GRACE_S = 30.0


@contextlib.contextmanager
def _exit_on_signals(app: XenTUI, fleet: Fleet) -> Iterator[None]:
    """A hung-up terminal (SIGHUP: the admin's ssh session dropped) or SIGTERM ends the app as `q` does, so
    that the fleet closes its sources: no ssh master, xentop or xenstore-watch outlives xentui. Should the
    app not be gone `SIGNAL_GRACE_S` later (with no terminal left, a thread may never end), the sources are
    closed here and the process ends."""

    def shut_down(signum: int) -> None:
        with contextlib.suppress(RuntimeError):  # not running (yet, or any more)
            app.call_from_thread(app.exit, None, 128 + signum)

    def watchdog(signum: int) -> None:
        time.sleep(SIGNAL_GRACE_S)  # a daemon thread: a process that ended by then takes it along
        fleet.close()  # idempotent: nothing more when the app closed it already
        os._exit(128 + signum)

    def handler(signum: int, _frame: object) -> None:
        # The loop runs on this thread, interrupted here: ask it from another, which wakes it.
        threading.Thread(target=shut_down, args=(signum,), daemon=True).start()
        threading.Thread(target=watchdog, args=(signum,), daemon=True).start()

    main = threading.current_thread() is threading.main_thread()  # only its handlers can be set
    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGHUP, signal.SIGTERM)} if main else {}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "inspect":
            return cmd_inspect(args)
        if args.command == "list":
            domains, status = _snapshot_domains(args)
            _emit(domains, args.json)
            return status
        if args.command == "mode":
            return cmd_mode(args)
        return run_dashboard(args)
    except ParseError as exc:
        print(f"xentui: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except (UsageError, config.ConfigError, UriError) as exc:
        print(f"xentui: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except SourceError as exc:
        print(f"xentui: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
