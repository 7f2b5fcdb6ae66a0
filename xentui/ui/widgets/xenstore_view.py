"""The xenstore view of the detail pane: the selected domain's `/local/domain/N` subtree as an indented
`key = "value"` list.

Read through `Source.read_xenstore` in a worker thread when the view opens or the selection changes while it is
open, never on a refresh. Every key and value is hostile (a guest writes its own subtree): rich Text only,
control characters shown as escapes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from xentui.model import Domain, XenstoreEntry
from xentui.sources.base import ActionError, Source, SourceError
from xentui.text import printable

SETTLE_S = 0.15  # the selection rests this long before a read: arrowing through rows reads only where it stops
KEY_LIMIT = 120  # characters of one path component kept
VALUE_LIMIT = 2000  # characters of one value kept (a guest may write up to 4 KiB)

Target = tuple[str, str, int]  # (host, domain key, domid): another domid is another subtree


def domain_root(domid: int) -> str:
    return f"/local/domain/{domid}"


def _parts(path: str, root: str) -> tuple[str, ...]:
    if path == root:
        return ()
    if path.startswith(root + "/"):
        path = path[len(root) + 1 :]
    return tuple(p for p in path.split("/") if p)


def entries_text(entries: Sequence[XenstoreEntry], root: str) -> Text:
    """The subtree below `root`, one key a line, indented by depth, in the order read; parents a listing left out
    are shown bare. Keys and values are made printable: nothing in them is markup or reaches the terminal."""
    values: dict[tuple[str, ...], str | None] = {(): None}
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
    for entry in entries:
        parts = _parts(entry.path, root)
        for i in range(1, len(parts) + 1):
            node = parts[:i]
            if node not in values:
                values[node] = None
                children[node] = []
                children[node[:-1]].append(node)
        if parts:
            values[parts] = entry.value
    text = Text()
    stack = list(reversed(children[()]))
    while stack:
        node = stack.pop()
        if len(text):
            text.append("\n")
        text.append("  " * (len(node) - 1))
        text.append(printable(node[-1], KEY_LIMIT), style="bold")
        value = values[node]
        if value is not None and (value != "" or not children[node]):
            text.append(" = ", style="dim")
            text.append('"' + printable(value, VALUE_LIMIT) + '"', style="green")
        stack.extend(reversed(children[node]))
    return text


class XenstoreView(Vertical):
    DEFAULT_CSS = """
    XenstoreView { height: 1fr; }
    XenstoreView #xenstore-head { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    XenstoreView VerticalScroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.target: Target | None = None  # what is on screen or being read
        self.reads = 0  # reads started (tests: a refresh must not start one)
        self.body = Text()  # what the list shows
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="xenstore-head")
        with VerticalScroll():
            yield Static(id="xenstore-body")

    def forget(self) -> None:
        """Closed: the next opening reads again."""
        self.target = None
        self._stop_timer()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def want(self, domain: Domain | None, source: Source | None) -> None:
        """Show this domain's subtree: read it unless it is the one on screen (or being read)."""
        if domain is None or source is None:
            self.forget()
            self._say(Text("No domain selected", style="italic"), Text())
            return
        if domain.id is None:
            self.forget()
            self._say(self._head(domain, None), Text(f"{printable(domain.name, 60)} is not running: no xenstore"))
            return
        target: Target = (domain.host, domain.key, domain.id)
        if target == self.target:
            return
        self.target = target
        self._say(self._head(domain, None), Text("reading…", style="italic"))
        self._stop_timer()
        self._timer = self.set_timer(SETTLE_S, lambda: self._start(target, domain, source))

    def _start(self, target: Target, domain: Domain, source: Source) -> None:
        self._timer = None
        if target == self.target:
            self.reads += 1
            self._read(target, domain, source)

    @work(thread=True, exclusive=True, group="xenstore")
    def _read(self, target: Target, domain: Domain, source: Source) -> None:
        result: tuple[XenstoreEntry, ...] | str
        try:
            result = source.read_xenstore(domain)
        except (ActionError, SourceError, OSError) as exc:
            result = str(exc) or type(exc).__name__
        self.app.call_from_thread(self._show, target, domain, result)

    def _show(self, target: Target, domain: Domain, result: tuple[XenstoreEntry, ...] | str) -> None:
        if target != self.target:
            return  # the selection moved on while this was read
        if isinstance(result, str):
            self._say(self._head(domain, None), Text(printable(result), style="bold red"))
            return
        body = entries_text(result, domain_root(target[2]))
        self._say(self._head(domain, len(result)), body if len(body) else Text("no keys", style="italic"))

    def _head(self, domain: Domain, count: int | None) -> Text:
        head = Text.assemble(("xenstore ", "bold"))
        if domain.id is not None:
            head.append(domain_root(domain.id), style="bold cyan")
        head.append(f"  {printable(domain.name, 60)}")
        if count is not None:
            head.append(f"  {count} keys", style="dim")
        head.append("  (read when opened or another domain is selected; X closes)", style="dim")
        return head

    def _say(self, head: Text, body: Text) -> None:
        self.body = body
        self.query_one("#xenstore-head", Static).update(head)
        self.query_one("#xenstore-body", Static).update(body)
