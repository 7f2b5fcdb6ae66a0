"""The selected domain: its verdict (and the live PV frontends where xenstore was read), a summary card of plain
facts, then the parsed configuration as a tree (the mode-deciding fields marked), the raw text, or its xenstore."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from xentui.model import ConfigNode, Domain
from xentui.sources.base import Source
from xentui.summary import LivePv, live_pv_text, summarize
from xentui.text import printable
from xentui.ui.widgets.summary_card import SummaryCard
from xentui.ui.widgets.xenstore_view import XenstoreView

LEXERS = {"xl-json": "json", "libvirt-xml": "xml", "xm-sxp": "scheme", "xl-sxp": "scheme"}
# Sections opened by default: the ones an admin reads to triage the mode.
OPEN = {"image", "hvm", "linux", "pvh", "config", "c_info", "b_info", "os", "domain", "type.hvm", "type.pv", "type.pvh"}


def _printable_block(text: str) -> str:
    return "\n".join(printable(line.replace("\t", "    ")) for line in text.splitlines())


def node_label(node: ConfigNode) -> Text:
    label = Text(printable(node.key, 60), style="bold yellow" if node.decisive else "bold")
    if node.value is not None and node.value != "":
        label.append(" ")
        label.append(printable(node.value, 200), style="reverse yellow" if node.decisive and not node.children else "")
    if node.decisive:
        label.append("  ◀ mode", style="yellow")
    return label


class DetailPane(Vertical):
    DEFAULT_CSS = """
    DetailPane { height: 45%; border-top: solid $primary; }
    DetailPane #verdict { height: auto; padding: 0 1; }
    DetailPane #live-pv { height: auto; padding: 0 1; display: none; }
    DetailPane Tree { height: 1fr; }
    DetailPane #raw { height: 1fr; display: none; }
    DetailPane XenstoreView { display: none; }
    DetailPane.raw Tree { display: none; }
    DetailPane.raw #raw { display: block; }
    DetailPane.xenstore Tree { display: none; }
    DetailPane.xenstore #raw { display: none; }
    DetailPane.xenstore XenstoreView { display: block; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: tuple[str, int] | None = None  # (domain key, id of its config) on screen
        self._live: LivePv | None = None  # the live PV line on screen

    def compose(self) -> ComposeResult:
        yield Static(id="verdict")
        yield Static(id="live-pv")
        yield SummaryCard(id="card")
        tree: Tree[None] = Tree(Text("configuration"), id="config-tree")
        tree.show_root = False
        yield tree
        with VerticalScroll(id="raw"):
            yield Static(id="raw-text")
        yield XenstoreView(id="xenstore")

    def show(self, domain: Domain | None, source: Source | None = None) -> None:
        # The card and the live PV line follow every refresh (memory balloons, frontends connect with the same
        # configuration); the tree is rebuilt only for another domain or configuration; xenstore is read only
        # for another domain (`source` is the selected row's, to read it through).
        summary = summarize(domain) if domain is not None else None
        xenstore = self.has_class("xenstore")
        self.query_one(SummaryCard).show(None if xenstore else summary)  # the view takes the card's room too
        self._show_live(summary.live_pv if summary is not None else None)
        if xenstore:
            self.query_one(XenstoreView).want(domain, source)
        key = (domain.key, id(domain.config)) if domain else None
        if key == self._shown:
            return
        self._shown = key
        verdict = self.query_one("#verdict", Static)
        tree = self.query_one("#config-tree", Tree)
        raw = self.query_one("#raw-text", Static)
        tree.clear()
        if domain is None:
            verdict.update(Text("No domain selected", style="italic"))
            raw.update("")
            return
        head = Text(printable(domain.name, 60), style="bold")
        if domain.config is None:
            head.append("  no configuration from this source (a table row only)", style="italic")
            verdict.update(head)
            raw.update("")
            return
        head.append(f"  [{domain.config.format}]  ", style="dim")
        head.append(printable(str(domain.config.verdict)), style="bold yellow")
        verdict.update(head)
        self._fill(tree.root, domain.config.tree.children)
        raw.update(
            Syntax(_printable_block(domain.config.raw), LEXERS.get(domain.config.format, "text"), word_wrap=False)
        )

    def _fill(self, parent: TreeNode[None], nodes: tuple[ConfigNode, ...]) -> None:
        for node in nodes:
            if node.children:
                branch = parent.add(node_label(node), expand=node.key in OPEN or node.decisive)
                self._fill(branch, node.children)
            else:
                parent.add_leaf(node_label(node))

    def _show_live(self, live: LivePv | None) -> None:
        line = self.query_one("#live-pv", Static)
        line.display = live is not None
        if live is None or live == self._live:
            return
        self._live = live
        line.update(live_pv_line(live))

    def toggle_raw(self) -> bool:
        self._close_xenstore()
        self.toggle_class("raw")
        return self.has_class("raw")

    def toggle_xenstore(self) -> bool:
        """Open or close the xenstore view in place of the configuration; the caller then calls `show`."""
        if self.has_class("xenstore"):
            self._close_xenstore()
            return False
        self.remove_class("raw")
        self.add_class("xenstore")
        return True

    def _close_xenstore(self) -> None:
        self.remove_class("xenstore")
        self.query_one(XenstoreView).forget()


def live_pv_line(live: LivePv) -> Text:
    """ "xenstore: PV drivers live: vif, vbd connected · configured: xen disk, netfront net"."""
    style = "green" if live.connected else "bold yellow" if live.emulated_only else ""
    line = Text.assemble(("xenstore: ", "dim"), (printable(live_pv_text(live), 300), style))
    if live.evidence:
        line.append(" · configured: ", style="dim")
        line.append(printable(", ".join(live.evidence), 200))
    return line
