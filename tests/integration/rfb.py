"""Just enough of the RFB (VNC) protocol to prove a server is a live guest display: one raw frame."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    name: str
    pixels: bytes


def _exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("VNC server closed the connection")
        buf += chunk
    return buf


def grab_frame(host: str, port: int, timeout: float = 10.0) -> Frame:
    with socket.create_connection((host, port), timeout=timeout) as s:
        version = _exact(s, 12)
        if not version.startswith(b"RFB "):
            raise ConnectionError(f"not an RFB server: {version!r}")
        s.sendall(b"RFB 003.008\n")
        count = _exact(s, 1)[0]
        types = _exact(s, count)
        if 1 not in types:
            raise ConnectionError(f"server wants authentication: {list(types)}")
        s.sendall(b"\x01")
        if struct.unpack(">I", _exact(s, 4))[0] != 0:
            raise ConnectionError("security handshake failed")
        s.sendall(b"\x01")  # ClientInit: shared
        width, height = struct.unpack(">HH", _exact(s, 4))
        _pixel_format = _exact(s, 16)
        name = _exact(s, struct.unpack(">I", _exact(s, 4))[0]).decode("utf-8", "replace")
        # 32 bpp true colour, raw encoding only, then ask for the whole screen.
        s.sendall(struct.pack(">BxxxBBBBHHHBBBxxx", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        s.sendall(struct.pack(">BxHi", 2, 1, 0))
        s.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
        pixels = b""
        while True:
            kind = _exact(s, 1)[0]
            if kind != 0:  # not a FramebufferUpdate (e.g. a bell or colour map): skip what we know
                if kind == 2:
                    continue
                raise ConnectionError(f"unexpected server message {kind}")
            _pad, rects = struct.unpack(">BH", _exact(s, 3))
            for _ in range(rects):
                _x, _y, w, h, enc = struct.unpack(">HHHHi", _exact(s, 12))
                if enc != 0:
                    raise ConnectionError(f"unexpected encoding {enc}")
                pixels += _exact(s, w * h * 4)
            return Frame(width, height, name, pixels)
