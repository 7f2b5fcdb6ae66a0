"""The dashboard's console tabs: keys and messages between the console pane and the console sessions.

Each tab is a `ConsoleSession` (xentui/actions/console_session.py): its thread opens the console through
the guest's source and feeds the tab's terminal; this module only routes keys, focus and repaints.
"""

from __future__ import annotations

import itertools
import threading
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, Tabs

from xentui.actions.console_log import ConsoleLog, log_path
from xentui.actions.console_session import ConsoleSession, State
from xentui.fleet import Fleet, RowKey
from xentui.model import Domain
from xentui.sources.base import ActionError, CommandConsole, ConsoleRoute, Source
from xentui.text import printable
from xentui.ui.widgets.console_pane import ConsolePane, ConsoleView, FindBox
from xentui.ui.widgets.domain_table import DomainTable

SIZES = ("console-third", "console-half", "console-most")
# Actions that stay available while the console has the keys (the rest would steal the guest's keys).
_KEEP = frozenset({"console_detach"})


class ConsoleChanged(Message):
    """A session's thread saw output or a change of state (coalesced: one until the UI has shown it)."""

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.session = session


class ConsoleApp(App[int]):
    """The console half of XenTUI: `c` opens or focuses a guest's tab, the detach key gives the keys back."""

    CONSOLE_BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "console_prev", "Prev console", show=False, key_display="["),
        Binding("right_square_bracket", "console_next", "Next console", show=False, key_display="]"),
        Binding("x", "console_close", "Close console", show=False),
        Binding("f", "console_find", "Find in console", show=False),
        Binding("z", "console_size", "Console size", show=False),
        Binding("R", "console_retry", "Retry console", show=False),
    ]
    fleet: Fleet
    detach: int
    console_log: str | None = None

    def source_of(self, key: RowKey) -> Source:  # XenTUI's: the source of the row's host
        raise NotImplementedError

    def say(self, message: str, severity: str = "information") -> None:  # XenTUI's notification helper
        raise NotImplementedError

    def _console_init(self) -> None:
        self.consoles: dict[str, ConsoleSession] = {}  # tab id → session
        self._tab_ids = (f"console-{n}" for n in itertools.count(1))
        self._console_height = 1

    # -- opening, switching, closing -------------------------------------------------------------------------
    @property
    def console_pane(self) -> ConsolePane:
        return self.query_one(ConsolePane)

    def active_console(self) -> ConsoleSession | None:
        tab = self.console_pane.tabs.active
        return self.consoles.get(tab) if tab else None

    def open_console_tab(self, key: RowKey, domain: Domain) -> None:
        source = self.source_of(key)
        host = key.host
        if source.console_route is ConsoleRoute.NONE:
            self._no_console(source, domain)
            return
        if not domain.has_console:
            self.say(f"{domain.name} has no serial or PV console", "warning")
            return
        title = f"{printable(host)}:{printable(domain.name)}"
        for tab_id, existing in self.consoles.items():
            if existing.title == title:
                self._activate(tab_id, focus=True)
                return
        log = None
        if self.console_log:
            try:
                log = ConsoleLog(log_path(self.console_log, host, domain.name))
            except OSError as exc:
                self.say(f"console log for {title}: {exc.strerror or exc}", "warning")
        session = ConsoleSession(
            domain, title, source.console, self._lookup(host, domain.name), self._from_thread, log=log
        )
        tab_id = next(self._tab_ids)
        self.consoles[tab_id] = session
        pane = self.console_pane
        pane.display = True
        self.screen.add_class("with-consoles")
        pane.add_tab(tab_id, title)
        self._activate(tab_id, focus=True)
        session.start()

    @work(thread=True, group="console")
    def _no_console(self, source: Source, domain: Domain) -> None:
        """A source without live consoles (saved files, the demo) says why in its own words."""
        try:
            handle = source.console(domain)
        except ActionError as exc:
            self.call_from_thread(self.say, str(exc), "warning")
            return
        if not isinstance(handle, CommandConsole):
            handle.close()

    def _lookup(self, host: str, name: str):  # type: ignore[no-untyped-def]
        def current() -> Domain | None:  # called from the session's thread: the fleet's frame has a lock
            rows = self.fleet.frame.rows.items()
            return next((d for k, d in rows if k.host == host and d.name == name), None)

        return current

    def _activate(self, tab_id: str, focus: bool) -> None:
        pane = self.console_pane
        if pane.tabs.active != tab_id:
            pane.tabs.active = tab_id
        session = self.consoles.get(tab_id)
        pane.view.show(session.terminal if session else None)
        if focus:
            pane.view.focus()
        self._console_status()

    @on(Tabs.TabActivated, "#console-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id in self.consoles:
            self._activate(event.tab.id, focus=False)

    def _console_status(self) -> None:
        session = self.active_console()
        if session is not None:
            self.console_pane.status(session.title, session.status, self.console_pane.view.has_focus)

    def action_console_next(self) -> None:
        if self.consoles:
            self.console_pane.tabs.action_next_tab()

    def action_console_prev(self) -> None:
        if self.consoles:
            self.console_pane.tabs.action_previous_tab()

    def action_console_close(self) -> None:
        pane = self.console_pane
        tab_id = pane.tabs.active
        session = self.consoles.pop(tab_id, None) if tab_id else None
        if session is None:
            return
        # Closing waits for the reader to write what is left to the log: not on the UI thread.
        threading.Thread(target=session.close, name="console-close", daemon=False).start()
        pane.tabs.remove_tab(tab_id)
        if not self.consoles:
            pane.view.show(None)
            pane.display = False
            self.screen.remove_class("with-consoles")
            self.query_one(DomainTable).focus()
        self.say(f"console of {session.title} closed")

    def action_console_retry(self) -> None:
        session = self.active_console()
        if session is not None:
            session.retry()

    def action_console_size(self) -> None:
        pane = self.console_pane
        pane.remove_class(SIZES[self._console_height])
        self._console_height = (self._console_height + 1) % len(SIZES)
        pane.add_class(SIZES[self._console_height])

    def action_console_find(self) -> None:
        if self.active_console() is None:
            return
        box = self.query_one("#console-find", Input)
        box.add_class("shown")
        box.focus()

    def action_console_detach(self) -> None:
        self.query_one(DomainTable).focus()

    def close_consoles(self) -> None:
        """At exit: every reader writes what it still has to its log and stops."""
        sessions = list(self.consoles.values())
        self.consoles.clear()
        for s in sessions:
            s.close(timeout=0)
        for s in sessions:
            s.close(timeout=2.0)

    # -- messages --------------------------------------------------------------------------------------------
    def _from_thread(self, session: ConsoleSession) -> None:
        self.post_message(ConsoleChanged(session))

    def on_console_changed(self, message: ConsoleChanged) -> None:
        session = message.session
        if not self.is_running or session is not self.active_console():
            session.seen()
            return
        self.console_pane.view.changed(session.seen)
        self._console_status()
        if session.state is State.HELD:
            self.say(session.status, "warning")

    @on(ConsoleView.Typed)
    def _typed(self, event: ConsoleView.Typed) -> None:
        session = self.active_console()
        if session is None:
            return
        if session.state is State.HELD:
            if event.data in (b"\r", b"R", b"r"):
                session.retry()
            return
        if session.state in (State.WAITING, State.CLOSED):
            return  # no guest to type to: nothing is kept for later
        session.send(event.data)

    @on(ConsoleView.Detach)
    def _detach(self) -> None:
        self.action_console_detach()

    @on(ConsoleView.KeysMoved)
    def _keys_moved(self) -> None:
        self._console_status()
        self.refresh_bindings()

    @on(Input.Submitted, "#console-find")
    def _find(self, event: Input.Submitted) -> None:
        session = self.active_console()
        view = self.console_pane.view
        if session is None:
            return
        before = view.match.row if view.match is not None and view.match_text == event.value else None
        match = session.terminal.search(event.value, before)
        if match is None:
            self.say(f"not found: {printable(event.value)}" + (" (no older match)" if before is not None else ""))
            return
        view.match_text = event.value
        view.reveal(match)

    @on(FindBox.Closed)
    def _close_find(self) -> None:
        self.query_one(FindBox).remove_class("shown")
        self.query_one(DomainTable).focus()  # the match stays marked until the guest has the keys again

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the console has the keys, no app binding (not even Ctrl-Q or Ctrl-P) takes one from the guest.
        if isinstance(self.focused, ConsoleView) and action not in _KEEP:
            return False
        return True
