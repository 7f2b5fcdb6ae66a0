"""Handing the terminal to a guest console and taking it back exactly as it was.

The caller suspends the TUI first (Textual's App.suspend restores the alternate screen and cursor);
this module owns raw mode and the detach key.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import termios
import tty
from dataclasses import dataclass

from xentui.sources.base import CommandConsole, ConsoleStream
from xentui.text import printable

DEFAULT_DETACH = "ctrl-]"


def parse_detach_key(spec: str) -> int:
    """`ctrl-]` (the default, as virsh), `ctrl-a`…`ctrl-z`, `ctrl-\\`, `ctrl-^`, `ctrl-_`, or `^X`."""
    s = spec.strip().lower()
    for prefix in ("ctrl-", "ctrl+", "c-", "^"):
        if s.startswith(prefix) and len(s) == len(prefix) + 1:
            ch = s[-1].upper()
            code = ord(ch) - 64
            if 1 <= code <= 31:
                return code
    raise ValueError(f"detach key {spec!r}: expected ctrl-] or ctrl-LETTER")


def key_name(code: int) -> str:
    return "Ctrl-" + chr(code + 64)


@dataclass(frozen=True)
class ConsoleResult:
    ended_by: str  # "detach", "guest", "error"
    message: str = ""


def run_command_console(console: CommandConsole) -> ConsoleResult:
    """`xl console` owns the terminal itself (its own detach key is Ctrl-])."""
    try:
        done = subprocess.run(list(console.argv), check=False)
    except OSError as exc:
        return ConsoleResult("error", f"{console.argv[0]}: {exc.strerror or exc}")
    if done.returncode not in (0, None):
        return ConsoleResult("error", f"{' '.join(console.argv)} exited with status {done.returncode}")
    return ConsoleResult("detach")


def bridge(
    stream: ConsoleStream, name: str, detach: int, stdin_fd: int | None = None, stdout_fd: int | None = None
) -> ConsoleResult:
    """Copy between the terminal (raw mode) and the stream until the detach key or the guest's end."""
    fin = sys.stdin.fileno() if stdin_fd is None else stdin_fd
    fout = sys.stdout.fileno() if stdout_fd is None else stdout_fd
    saved = termios.tcgetattr(fin) if os.isatty(fin) else None
    banner = f"Connected to {printable(name)}. Escape character is {key_name(detach)}.\r\n"
    try:
        if saved is not None:
            tty.setraw(fin, termios.TCSANOW)  # keep what was typed ahead
        os.write(fout, banner.encode())
        while True:
            ready, _, _ = select.select([fin], [], [], 0.02)
            if ready:
                data = os.read(fin, 4096)
                if not data:
                    return ConsoleResult("detach")
                cut = data.find(bytes([detach]))
                if cut >= 0:
                    if cut:
                        stream.send(data[:cut])
                    return ConsoleResult("detach")
                stream.send(data)
            while True:
                chunk = stream.recv(65536)
                if chunk is None:
                    break
                if chunk == b"":
                    return ConsoleResult("guest", f"the console of {printable(name)} closed (guest stopped?)")
                os.write(fout, chunk)
    finally:
        if saved is not None:
            termios.tcsetattr(fin, termios.TCSADRAIN, saved)
        stream.close()
        os.write(fout, b"\r\n")
