"""Reading xenstore on a dom0 through its own tools, here or over ssh: watches, subtrees, frontends.

Watches are long-running `xenstore-watch PATH` children, one a path, each printing the path of every change.
Chosen over a client library (pyxs, or a socket client of our own) for cost and reach: a watcher is started
once and sleeps in a read until xenstored fires (no fork and no wake-up in steady state; the whole xl source,
watchers included, measured 0.03 % of a core at a 10 s interval here); a library would cost the same idle
but needs xenstored's socket or /dev/xen/xenbus on this machine, so it could not reach a dom0 over the ssh
connection the other commands use, and pyxs is one more dependency for the dom0's Python. Reads
(`xenstore-ls -f`) happen only when a domain is selected, the set of domains changes or a backend does,
never per refresh.

A domain being created is in xenstore before `xl list -l` can list it: `read_introduced` makes its row from
there. In the Xen 4.20 lab, libxl wrote its `name` and `vm` some 3 s before @introduceDomain, its memory
target and `cpu/N/availability` by then; `xl create` returned 0.5 s after the event, and the first `xl list -l`
to list the domain ended 0.6 to 2.7 s after that (each took 1.5 to 3.3 s meanwhile).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence

from xentui.model import Domain, Frontend, Mode, State, XenstoreEntry
from xentui.parsers.errors import ParseError
from xentui.parsers.xenstore import frontends_of, parse_xenstore_ls
from xentui.sources.base import ActionError, SourceError
from xentui.sources.child import Child
from xentui.sources.runner import Runner

INTRODUCED, RELEASED = "@introduceDomain", "@releaseDomain"
DOMAINS_CHANGED = (INTRODUCED, RELEASED)
BACKENDS = "/local/domain/0/backend"
_BACKEND_DEVICE = re.compile(r"/local/domain/0/backend/[^/]+/(\d+)(/|$)")
_VM_UUID = re.compile(r"/vm/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_CPU = re.compile(r"cpu/([0-9]{1,4})(/availability)?")
_KIB = re.compile(r"[0-9]{1,15}")


def backend_domid(path: str) -> int | None:
    """The frontend's domain a backend path belongs to: `/local/domain/0/backend/vif/3/0/state` → 3."""
    m = _BACKEND_DEVICE.match(path)
    return int(m.group(1)) if m else None


def read_tree(runner: Runner, path: str, timeout: float) -> tuple[XenstoreEntry, ...]:
    """Every key below `path`. SourceError when xenstore-ls fails or prints what it never prints."""
    text = runner.run(["xenstore-ls", "-f", path], timeout)
    try:
        return parse_xenstore_ls(text, f"xenstore-ls -f {path}")
    except ParseError as exc:
        raise SourceError(f"unexpected output from xenstore-ls: {exc}") from None


def read_domain(runner: Runner, domid: int | None, name: str, timeout: float) -> tuple[XenstoreEntry, ...]:
    """A running domain's `/local/domain/N` subtree, for the xenstore view. ActionError saying why not."""
    if domid is None:
        raise ActionError(f"{name} is not running: xenstore holds running domains only")
    try:
        return read_tree(runner, f"/local/domain/{domid}", timeout)
    except SourceError as exc:
        raise ActionError(f"xenstore of {name}: {exc}") from None


def live_domids(runner: Runner, timeout: float) -> set[int] | None:
    """The domains xenstore holds now (`xenstore-list /local/domain`); None when it could not be read."""
    try:
        listed = runner.run(["xenstore-list", "/local/domain"], timeout).split()
    except SourceError:
        return None
    return {int(w) for w in listed if w.isdigit()}


def introduced_domain(entries: tuple[XenstoreEntry, ...], domid: int) -> Domain | None:
    """The row of a domain xenstore holds but the toolstack does not list yet: its name, ID, UUID (from its
    `vm` path), memory target and VCPUs; state and mode not known yet. None without a name (not made yet).
    Every value is hostile text: the name is shown as text only, numbers and the UUID are taken when well formed."""
    base = f"/local/domain/{domid}/"
    keys = {e.path[len(base) :]: e.value for e in entries if e.path.startswith(base)}
    name = keys.get("name", "")
    if not name:
        return None
    vm = _VM_UUID.fullmatch(keys.get("vm", ""))
    target = keys.get("memory/target", "")
    cpus: dict[str, bool] = {}
    for key, value in keys.items():
        m = _CPU.fullmatch(key)
        if m is not None:
            cpus.setdefault(m.group(1), True)
            if m.group(2):
                cpus[m.group(1)] = value == "online"
    return Domain(
        name=name,
        id=domid,
        uuid=vm.group(1) if vm else None,
        state=State.UNKNOWN,
        memory_kib=int(target) if _KIB.fullmatch(target) else None,
        max_memory_kib=None,
        vcpus=sum(cpus.values()) if cpus else None,
        max_vcpus=len(cpus) or None,
        mode=Mode.UNKNOWN,
        hypervisor="xen",
        details_pending=True,
    )


def read_introduced(runner: Runner, domid: int, timeout: float) -> Domain | None:
    """`introduced_domain` from one `xenstore-ls -f /local/domain/N`; None when it could not be read."""
    try:
        return introduced_domain(read_tree(runner, f"/local/domain/{domid}", timeout), domid)
    except SourceError:
        return None


def read_frontends(runner: Runner, domid: int, timeout: float) -> tuple[Frontend, ...] | None:
    """The guest's PV frontends as xenstore shows them now; None when xenstore could not be read."""
    try:
        return frontends_of(read_tree(runner, f"/local/domain/{domid}/device", timeout), domid)
    except SourceError:
        return None


class Watches:
    """One `xenstore-watch` child a path; `on_event(path)` (on a watcher's thread) for every change.

    xenstored fires a watch once when it is set up: each child's first line only says it is live, and is not
    an event. A watcher that dies is restarted with the children's backoff; `problems` says so meanwhile.
    """

    def __init__(self, runner: Runner, paths: Sequence[str], on_event: Callable[[str], None]) -> None:
        self._on_event = on_event
        self._lock = threading.Lock()
        self._problems: dict[str, str] = {}
        self._live: dict[str, bool] = {}
        self._tails: dict[str, bytes] = {}
        self._children = [self._child(runner, p) for p in paths]

    def _child(self, runner: Runner, path: str) -> Child:
        def start() -> None:
            self._live[path], self._tails[path] = False, b""

        def output(data: bytes) -> None:
            lines = (self._tails[path] + data).split(b"\n")
            self._tails[path] = lines.pop()
            for raw in lines:
                if not self._live[path]:
                    self._live[path] = True  # the watch's first firing: set up, nothing changed
                    with self._lock:
                        had = self._problems.pop(path, "")
                    child.healthy()
                    if had:
                        self._on_event(path)  # events may have been missed while it was down
                    continue
                self._on_event(raw.decode("utf-8", "replace").strip())

        def trouble(line: str) -> None:
            with self._lock:
                if child.missing:  # one line for all the watchers
                    self._problems["missing"] = f"{line}: changes made elsewhere show at the next frame"
                else:
                    self._problems[path] = f"{line} (watching {path})"
            self._on_event("")

        child = Child("xenstore-watch", lambda: runner.argv(["xenstore-watch", path]), output, trouble, start)
        return child

    @property
    def problems(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._problems.values())

    @property
    def pids(self) -> tuple[int | None, ...]:
        return tuple(c.pid for c in self._children)

    def start(self) -> None:
        for c in self._children:
            c.start()

    def close(self) -> None:
        for c in self._children:
            c.close()
