"""The dashboard: wires the fleet's pollers (a thread per host) to the widgets, and keys to actions."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input

from xentui.actions import vnc
from xentui.actions.console import DEFAULT_DETACH, bridge, key_name, parse_detach_key, run_command_console
from xentui.fleet import Fleet, FleetFrame, RowKey, UnknownRow
from xentui.model import Domain
from xentui.sources.base import (
    ActionError,
    CommandConsole,
    ConsoleStream,
    Lifecycle,
    Source,
    check_lifecycle,
    lifecycle_choices,
)
from xentui.text import printable
from xentui.ui import partial_output
from xentui.ui.consoles import ConsoleApp
from xentui.ui.screens.help import HelpScreen
from xentui.ui.screens.lifecycle import ConfirmScreen, LifecycleScreen
from xentui.ui.screens.vnc_hint import VncHintScreen
from xentui.ui.widgets.console_pane import ConsolePane
from xentui.ui.widgets.detail_pane import DetailPane
from xentui.ui.widgets.domain_table import DomainTable
from xentui.ui.widgets.summary_bar import SummaryBar

INTERVALS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
COALESCE_S = 0.1
TALL_ENOUGH_FOR_DETAIL = 32  # terminal lines below which the detail pane starts closed
partial_output.install()


class FrameArrived(Message):
    """A new frame from a poller thread."""

    def __init__(self, frame: FleetFrame) -> None:
        super().__init__()
        self.frame = frame


class XenTUI(ConsoleApp):
    CSS_PATH = "app.tcss"
    TITLE = "xentui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        # A priority binding runs as the key is read, so the words typed right after "/" in the same burst
        # (one SSH read) already find the box focused; check_action keeps "/" for inputs and the guest's console.
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("d", "toggle_detail", "Detail"),
        Binding("r", "toggle_raw", "Raw config"),
        Binding("X", "toggle_xenstore", "Xenstore of the domain", show=False),
        Binding("c", "console_pane", "Console"),
        Binding("C", "console", "Full-terminal console", show=False),
        Binding("v", "vnc", "VNC"),
        Binding("s", "next_sort", "Sort"),
        Binding("o", "flip_sort", "Order", show=False),
        Binding("l", "lifecycle", "Lifecycle"),
        Binding("a", "toggle_inactive", "Inactive"),
        Binding("i", "toggle_io", "I/O cols"),
        Binding("g", "toggle_group", "Group by host", show=False),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("f5", "refresh_now", "Refresh now", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        *ConsoleApp.CONSOLE_BINDINGS,
    ]

    def __init__(
        self,
        sources: Fleet | Source | Sequence[Source],
        interval: float = 1.0,
        notice: str = "",
        detach_key: str | None = None,
        vnc_viewer: str | None = None,
        console_log: str | None = None,
    ) -> None:
        super().__init__()
        # A fleet given is its owner's to close (`with Fleet(...)`); one made here from sources is closed here.
        self._owns_fleet = not isinstance(sources, Fleet)
        if isinstance(sources, Fleet):
            self.fleet = sources
        else:
            self.fleet = Fleet((sources,) if isinstance(sources, Source) else tuple(sources))
        self.fleet.on_frame = self._frame_from_thread
        self.fleet.set_interval(interval)
        self.sources: tuple[Source, ...] = self.fleet.sources
        self.interval = interval
        self.notice = notice
        self.detach = parse_detach_key(detach_key or os.environ.get("XENTUI_DETACH_KEY", DEFAULT_DETACH))
        self.vnc_viewer = vnc_viewer
        self.console_log = console_log
        self._console_init()
        self.frame: FleetFrame | None = None
        self._pending: FleetFrame | None = None  # the newest frame not yet shown (several hosts); a timer is set

    def compose(self) -> ComposeResult:
        yield SummaryBar(id="summary")
        yield DomainTable(fleet=len(self.sources) > 1, id="domains")
        yield DetailPane(id="detail")
        yield ConsolePane(self.detach, key_name(self.detach), id="consoles")
        yield Input(
            placeholder="filter: name, state (running, paused…) or mode (pv, hvm, pvh) — Enter keeps, Esc clears",
            id="filter",
        )
        yield Footer()

    def on_mount(self) -> None:
        # On a short terminal (the classic 80x24 SSH window) the table gets the height; Enter or d opens the detail.
        self.query_one(DetailPane).display = self.size.height >= TALL_ENOUGH_FOR_DETAIL
        self.query_one(SummaryBar).show(self.fleet.frame, self.interval)
        self.query_one(DomainTable).focus()
        if self.notice:
            self.say(self.notice)
        self.fleet.start()

    # -- the pollers (one thread per host, see xentui/fleet.py) ----------------------------------------------
    def _frame_from_thread(self, frame: FleetFrame) -> None:
        # post_message is thread-safe and does not wait: a poller never blocks on a closing app.
        self.post_message(FrameArrived(frame))

    def on_frame_arrived(self, message: FrameArrived) -> None:
        if not self.is_running:
            return
        if len(message.frame.hosts) == 1:
            self.apply_frame(message.frame)
            return
        # Several hosts refresh on the same tick: their frames, a few ms apart, make one repaint.
        if self._pending is None:
            self.set_timer(COALESCE_S, self._apply_pending)
        self._pending = message.frame

    def _apply_pending(self) -> None:
        frame, self._pending = self._pending, None
        if frame is not None and self.is_running:
            self.apply_frame(frame)

    def apply_frame(self, frame: FleetFrame) -> None:
        self.frame = frame
        self.query_one(SummaryBar).show(frame, self.interval)
        table = self.query_one(DomainTable)
        table.apply(frame)
        self._show_detail()

    def exit(self, *args: Any, **kwargs: Any) -> None:
        self.fleet.stop()
        self.close_consoles()
        super().exit(*args, **kwargs)

    def on_unmount(self) -> None:
        if self._owns_fleet:
            self.fleet.close()
        else:
            self.fleet.stop()
        self.close_consoles()

    def source_of(self, key: RowKey) -> Source:
        """The source of a row's host. Raises UnknownRow (never another host's source) for a key no host has."""
        return self.fleet.source_for(key)

    def _selected_row(self) -> tuple[RowKey, Domain] | None:
        table = self.query_one(DomainTable)
        key, domain = table.selected_key, table.selected
        if key is None or domain is None:
            self.say("no domain selected", "warning")
            return None
        return key, domain

    def _show_detail(self) -> None:
        pane = self.query_one(DetailPane)
        if pane.display:
            table = self.query_one(DomainTable)
            key = table.selected_key
            try:
                source = self.source_of(key) if key is not None else None
            except UnknownRow:
                source = None
            pane.show(table.selected, source)

    @on(DomainTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._show_detail()

    @on(DomainTable.RowSelected)
    def _selected(self) -> None:
        pane = self.query_one(DetailPane)
        pane.display = True
        self._show_detail()

    @on(DomainTable.ConsoleRequested)
    def _console_marker(self) -> None:
        self.action_console_pane()

    @on(DomainTable.HeaderSelected)
    def _header(self, event: DomainTable.HeaderSelected) -> None:
        self._sort(event.column)

    def say(self, message: str, severity: str = "information") -> None:
        self.notify(printable(message), severity=severity, markup=False)  # type: ignore[arg-type]

    # -- view actions ----------------------------------------------------------------------------------------
    def _sort(self, key: str, reverse: bool | None = None) -> None:
        self.query_one(DomainTable).set_sort(key, reverse)

    def action_next_sort(self) -> None:
        table = self.query_one(DomainTable)
        keys = list(table.visible_column_keys)
        self._sort(keys[(keys.index(table.sort_key) + 1) % len(keys)] if table.sort_key in keys else keys[0])

    def action_flip_sort(self) -> None:
        table = self.query_one(DomainTable)
        self._sort(table.sort_key, not table.sort_reverse)

    def action_toggle_inactive(self) -> None:
        table = self.query_one(DomainTable)
        table.show_inactive = not table.show_inactive
        self.say("showing inactive domains" if table.show_inactive else "hiding inactive domains")

    def action_toggle_group(self) -> None:
        table = self.query_one(DomainTable)
        table.group_by_host = not table.group_by_host
        self.say("rows grouped by host" if table.group_by_host else "rows sorted across hosts")

    def action_toggle_io(self) -> None:
        table = self.query_one(DomainTable)
        table.show_io = not table.show_io

    def action_toggle_detail(self) -> None:
        pane = self.query_one(DetailPane)
        pane.display = not pane.display
        self._show_detail()

    def action_toggle_raw(self) -> None:
        pane = self.query_one(DetailPane)
        pane.display = True
        self._show_detail()
        pane.toggle_raw()

    def action_toggle_xenstore(self) -> None:
        pane = self.query_one(DetailPane)
        pane.display = True
        pane.toggle_xenstore()
        self._show_detail()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter" and (len(self.screen_stack) > 1 or isinstance(self.focused, Input)):
            return None  # shown dimmed: "/" is a character there (the console's own check covers the guest's keys)
        return super().check_action(action, parameters)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        self.screen.set_focus(box)  # now, not after the keys already queued (Widget.focus defers it)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(DomainTable).filter_text = event.value.strip()
        self._show_detail()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.value:
            box.remove_class("shown")
        self.query_one(DomainTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_class("shown"):
            box.value = ""
            box.remove_class("shown")
            self.query_one(DomainTable).focus()
            self.query_one(DomainTable).filter_text = ""

    def action_faster(self) -> None:
        self._set_interval(max([i for i in INTERVALS if i < self.interval], default=INTERVALS[0]))

    def action_slower(self) -> None:
        self._set_interval(min([i for i in INTERVALS if i > self.interval], default=INTERVALS[-1]))

    def _set_interval(self, value: float) -> None:
        self.interval = value
        self.fleet.set_interval(value)
        self.query_one(SummaryBar).show(self.frame or self.fleet.frame, self.interval)
        self.say(f"refresh every {value:g} s")

    def action_refresh_now(self) -> None:
        self.fleet.wake()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.BINDINGS))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for b in self.BINDINGS:
            if isinstance(b, Binding) and b.description and b.action not in ("quit", "help"):
                yield SystemCommand(
                    b.description, f"{b.description} ({b.key_display or b.key})", self._runner(b.action)
                )

    def _runner(self, action: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            await self.run_action(action)

        return run

    # -- console and VNC -------------------------------------------------------------------------------------
    def action_console_pane(self) -> None:
        row = self._selected_row()
        if row is not None:
            self.open_console_tab(*row)

    def action_console(self) -> None:
        row = self._selected_row()
        if row is not None:
            self._open_console(*row)

    @work(thread=True, exclusive=True, group="console")
    def _open_console(self, key: RowKey, domain: Domain) -> None:
        try:
            handle = self.source_of(key).console(domain)
        except ActionError as exc:
            self.call_from_thread(self.say, str(exc), "warning")
            return
        self.call_from_thread(self._hand_over, domain.name, handle)

    def _hand_over(self, name: str, handle: CommandConsole | ConsoleStream) -> None:
        with self.suspend():
            if isinstance(handle, CommandConsole):
                result = run_command_console(handle)
            else:
                result = bridge(handle, name, self.detach)
        if result.message:
            self.say(result.message, "warning" if result.ended_by == "error" else "information")
        else:
            self.say(f"detached from {name} ({key_name(self.detach)})")
        self.action_refresh_now()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def action_lifecycle(self) -> None:
        row = self._selected_row()
        if row is None:
            return
        key, domain = row
        source = self.source_of(key)
        try:
            check_lifecycle(source)
        except ActionError as exc:
            self.say(str(exc))
            return
        choices = lifecycle_choices(domain, source.actions)
        if not choices:
            self.say(f"no lifecycle action for {domain.name} ({domain.state.value})", "warning")
            return
        host = key.host

        def chosen(action: Lifecycle | None) -> None:
            if action:
                self.push_screen(ConfirmScreen(domain, host, action), confirmed(action))

        def confirmed(action: Lifecycle):  # type: ignore[no-untyped-def]
            def done(ok: bool | None) -> None:
                if ok:
                    self._carry_out(key, domain, action)
                else:
                    self.say(f"{action} {domain.name}: cancelled")

            return done

        self.push_screen(LifecycleScreen(domain, host, choices), chosen)

    @work(thread=True, group="lifecycle")
    def _carry_out(self, key: RowKey, domain: Domain, action: Lifecycle) -> None:
        try:
            self.source_of(key).lifecycle(domain, action)
        except ActionError as exc:
            self.call_from_thread(self.say, str(exc), "error")
            return
        self.call_from_thread(self.say, f"{action}: {domain.name} — done")
        self.call_from_thread(self.action_refresh_now)

    def action_vnc(self) -> None:
        row = self._selected_row()
        if row is None:
            return
        key, domain = row
        source = self.source_of(key)
        step = vnc.plan(domain, source.display, configured=self.vnc_viewer)
        if isinstance(step, vnc.Unavailable):
            self.say(step.reason, "warning")
        elif isinstance(step, vnc.Hint):
            self.copy_to_clipboard(step.copy_text)
            self.push_screen(VncHintScreen(step, copied=True))
        else:
            try:
                vnc.launch(step)
            except OSError as exc:
                self.say(f"{step.argv[0]}: {exc.strerror or exc}", "error")
                return
            self.say(f"launched {' '.join(step.argv)}" + (f" — {step.warning}" if step.warning else ""))
