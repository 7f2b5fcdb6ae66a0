"""`--console-log DIR`: everything a console printed, appended to DIR/<host>/<domain>.log as it arrives.

The guest's bytes are written as they came (like xenconsoled's logs), unbuffered, so a closing pane or an
exiting xentui loses nothing; our own lines (opened, closed, reconnected) carry a UTC time.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._:@+-]")


def safe_part(name: str) -> str:
    """A host or domain name as one path component: no separators, no leading dot, never empty."""
    part = _UNSAFE.sub("_", name).lstrip(".")
    return part[:120] or "_"


def log_path(directory: str | os.PathLike[str], host: str, domain: str) -> Path:
    return Path(directory) / safe_part(host or "localhost") / f"{safe_part(domain)}.log"


def stamp() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class ConsoleLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(path, "ab", buffering=0)  # held for the console's life

    def write(self, data: bytes) -> None:
        if data and not self._f.closed:
            self._f.write(data)

    def note(self, text: str) -> None:
        self.write(f"\r\n[xentui {stamp()}] {text}\r\n".encode())

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()
