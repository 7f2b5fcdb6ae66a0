"""A guest's console through libvirt's stream API (what `virsh console` uses), as a ConsoleStream."""

from __future__ import annotations

from typing import Any

from xentui.sources.base import ActionError
from xentui.sources.libvirt_binding import libvirt

_WOULD_BLOCK = -2


class LibvirtConsole:
    def __init__(self, conn: Any, stream: Any) -> None:
        self._conn = conn
        self._stream = stream
        self._closed = False

    def recv(self, size: int) -> bytes | None:
        try:
            data = self._stream.recv(size)
        except libvirt.libvirtError:
            return b""  # the guest or the connection went away
        if isinstance(data, int):
            return None if data == _WOULD_BLOCK else b""
        return bytes(data)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        for _ in range(1000):  # the stream is non-blocking: retry briefly when its buffer is full
            if not view:
                return
            try:
                n = self._stream.send(bytes(view))
            except libvirt.libvirtError:
                return
            if n > 0:
                view = view[n:]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for step in (self._stream.abort, self._conn.close):
            try:
                step()
            except libvirt.libvirtError:
                pass


def open_console(conn: Any, dom: Any, name: str) -> LibvirtConsole:
    stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    try:
        # SAFE: refuse rather than steal a console another client holds.
        dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_SAFE)
    except libvirt.libvirtError as exc:
        msg = str(exc.get_error_message() or exc)
        try:
            conn.close()
        except libvirt.libvirtError:
            pass
        if "ctive console" in msg or "already" in msg:
            raise ActionError(f"the console of {name} is in use by another client ({msg})") from None
        raise ActionError(f"console of {name}: {msg}") from None
    return LibvirtConsole(conn, stream)
