"""Saved outputs (any supported format, detected by content). Files are read again when they change."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from xentui.model import Domain, HostInfo, Snapshot, XenstoreEntry
from xentui.parsers.errors import ParseError
from xentui.parsers.sniff import Parsed, merge_configs, merge_run_state, parse_text
from xentui.sources.base import (
    ActionError,
    CommandConsole,
    ConsoleRoute,
    ConsoleStream,
    Display,
    DisplayRoute,
    Lifecycle,
    SourceError,
)

MAX_FILE_BYTES = 64 * 1024 * 1024


def read_file(path: str) -> Parsed:
    """Parse one saved file; ParseError for bad content, SourceError for unreadable files."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ParseError(path, "1:1", f"a file of at most {MAX_FILE_BYTES // 2**20} MiB", f"{size // 2**20} MiB")
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror or exc}") from None
    if b"\0" in data:
        raise ParseError(path, "1:1", "a text file", "binary data (a NUL byte)")
    return parse_text(data.decode("utf-8", "replace"), path)


def combine(parsed: Sequence[Parsed]) -> tuple[list[Domain], list[str]]:
    """Configs from every file (one domain given in several formats is one, matched by UUID, else name),
    completed with run state from any tables among them."""
    configs, disagreements = merge_configs([d for p in parsed if not p.table for d in p.domains])
    rows = [d for p in parsed if p.table for d in p.domains]
    problems = [msg for p in parsed for msg in p.problems] + disagreements
    return merge_run_state(configs, rows), problems


class FileParseError(ParseError, SourceError):
    """A saved file that cannot be read as any known output: bad input (exit status 2), and to the
    dashboard a source that cannot be read (it keeps the last good snapshot and retries)."""

    def __init__(self, err: ParseError) -> None:
        ParseError.__init__(self, err.source, err.position, err.expected, err.found)
        self.kind = "unreachable"
        self.reason = str(self)


class FilesSource:
    read_only = True
    actions: frozenset[Lifecycle] = frozenset()
    console_route = ConsoleRoute.NONE
    display = Display(DisplayRoute.NONE)
    host_name = "saved"  # as the snapshot names the domains' host

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self.label = "file:" + ",".join(os.path.basename(p) for p in self.paths)
        self._stamp: tuple[float, ...] = ()
        self._snapshot: Snapshot | None = None
        self.snapshot()  # a bad file is bad input at once, before any dashboard or listing starts

    def snapshot(self) -> Snapshot:
        try:
            stamp = tuple(os.stat(p).st_mtime for p in self.paths)
        except OSError as exc:
            raise SourceError(f"{exc.filename}: {exc.strerror}") from None
        if self._snapshot is None or stamp != self._stamp:
            try:
                domains, problems = combine([read_file(p) for p in self.paths])
            except ParseError as exc:
                raise FileParseError(exc) from None
            host = HostInfo("saved output", self.label, "files", True)
            self._snapshot = Snapshot(
                host, tuple(replace(d, host="saved") for d in domains), time.monotonic(), tuple(problems)
            )
            self._stamp = stamp
        return replace(self._snapshot, taken_at=time.monotonic())

    def set_change_callback(self, callback: Callable[[], None] | None) -> None:
        pass

    def console(self, domain: Domain) -> CommandConsole | ConsoleStream:
        raise ActionError("saved files have no live consoles")

    def lifecycle(self, domain: Domain, action: Lifecycle) -> None:
        raise ActionError("saved files are read-only")

    def set_interval(self, seconds: float) -> None:
        pass  # polled: the poller keeps the time

    def read_xenstore(self, domain: Domain) -> tuple[XenstoreEntry, ...]:
        raise ActionError("saved outputs have no live xenstore")

    def close(self) -> None:
        pass
