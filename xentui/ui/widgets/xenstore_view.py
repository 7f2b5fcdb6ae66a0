"""The xenstore view of the detail pane: the selected domain's `/local/domain/N` subtree as an indented
`key = "value"` list.

Read through `Source.read_xenstore` in a worker thread when the view opens or the selection changes while it is
open, never on a refresh. Every key and value is hostile (a guest writes its own subtree): rich Text only,
control characters shown as escapes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
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


def entries_lines(entries: Sequence[XenstoreEntry], root: str) -> list[Text]:
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
    lines: list[Text] = []
    stack = list(reversed(children[()]))
    while stack:
        node = stack.pop()
        line = Text("  " * (len(node) - 1), no_wrap=True, end="")
        line.append(printable(node[-1], KEY_LIMIT), style="bold")
        value = values[node]
        if value is not None and (value != "" or not children[node]):
            line.append(" = ", style="dim")
            line.append('"' + printable(value, VALUE_LIMIT) + '"', style="green")
        lines.append(line)
        stack.extend(reversed(children[node]))
    return lines


def entries_text(entries: Sequence[XenstoreEntry], root: str) -> Text:
    """`entries_lines` as one text."""
    return Text("\n").join(entries_lines(entries, root))


class KeyList(ScrollView):
    """The keys, one terminal row each, rendered only when on screen (dom0's own subtree holds every guest's
    backends: thousands of keys); a long value scrolls sideways instead of wrapping."""

    DEFAULT_CSS = "KeyList { height: 1fr; padding: 0 1; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.lines: list[Text] = []
        self._strips: dict[int, Strip] = {}

    def show(self, lines: list[Text]) -> None:
        self.lines = lines
        self._strips = {}
        self.virtual_size = Size(max((line.cell_len for line in lines), default=0), len(lines))
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(index)
        if strip is None:
            segments = Segment.apply_style(self.lines[index].render(self.app.console), self.rich_style)
            strip = self._strips[index] = Strip(list(segments))
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)


class XenstoreView(Vertical):
    DEFAULT_CSS = """
    XenstoreView { height: 1fr; }
    XenstoreView #xenstore-head { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.target: Target | None = None  # what is on screen or being read
        self.reads = 0  # reads started (tests: a refresh must not start one)
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="xenstore-head")
        yield KeyList()

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
            self._say(Text("No domain selected", style="italic"), [])
            return
        if domain.id is None:
            self.forget()
            stopped = Text(f"{printable(domain.name, 60)} is not running: no xenstore")
            self._say(self._head(domain, None), [stopped], message=True)
            return
        target: Target = (domain.host, domain.key, domain.id)
        if target == self.target:
            return
        self.target = target
        self._say(self._head(domain, None), [Text("reading…", style="italic")])
        self._stop_timer()
        self._timer = self.set_timer(SETTLE_S, lambda: self._start(target, domain, source))

    def _start(self, target: Target, domain: Domain, source: Source) -> None:
        self._timer = None
        if target == self.target:
            self.reads += 1
            self._read(target, domain, source)

    @work(thread=True, exclusive=True, group="xenstore")
    def _read(self, target: Target, domain: Domain, source: Source) -> None:
        try:
            entries = source.read_xenstore(domain)
        except (ActionError, SourceError, OSError) as exc:
            error = Text.assemble((printable(str(exc) or type(exc).__name__), "bold red"))  # a span: kept when wrapped
            self.app.call_from_thread(self._show, target, self._head(domain, None), [error], True)
            return
        # Made here, off the UI thread: dom0's own subtree holds every guest's backends (thousands of keys).
        body = entries_lines(entries, domain_root(target[2])) or [Text("no keys", style="italic")]
        self.app.call_from_thread(self._show, target, self._head(domain, len(entries)), body)

    def _show(self, target: Target, head: Text, body: list[Text], message: bool = False) -> None:
        if target == self.target:  # else the selection moved on while this was read
            self._say(head, body, message)

    def _head(self, domain: Domain, count: int | None) -> Text:
        head = Text.assemble(("xenstore ", "bold"))
        if domain.id is not None:
            head.append(domain_root(domain.id), style="bold cyan")
        head.append(f"  {printable(domain.name, 60)}")
        if count is not None:
            head.append(f"  {count} keys", style="dim")
        head.append("  (read when opened or another domain is selected; X closes)", style="dim")
        return head

    def _say(self, head: Text, body: list[Text], message: bool = False) -> None:
        width = self.query_one(KeyList).scrollable_content_region.width
        if message and width > 0:  # a sentence is wrapped; keys and values scroll sideways
            body = [line for text in body for line in text.wrap(self.app.console, width)]
        self.query_one("#xenstore-head", Static).update(head)
        self.query_one(KeyList).show(body)

    @property
    def body(self) -> Text:
        """What the list holds, as one text."""
        return Text("\n").join(self.query_one(KeyList).lines)
