"""The WebSocket frame codec, sans I/O (RFC 6455 §5): plain functions over bytes.

    frame(opcode, payload, fin=, rsv=, mask=)   any frame, as bytes (RFC 6455 §5.2)
    text() binary() cont() ping() pong() close()  the usual ones, one call each
    parse_frame()                                a generator parser: yields how many bytes it
                                                 needs, is sent them, returns a ``Frame``
    accept_for(key)                              the Sec-WebSocket-Accept of a key (§4.2.2)

Shared by the raw frame server (``servers/frames.py``, which drives the parser on an
asyncio stream) and the ``socket-ws`` client (on a socket), so a runner process in
another environment can import the client without any server.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Generator

from model.cell import Frame

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: The largest client frame the server reads (clients here send small ones).
MAX_FRAME = 16 * 1024 * 1024

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_for(key: str) -> str:
    """RFC 6455 §4.2.2: base64(SHA-1(key + GUID)), the key taken as sent (trimmed)."""
    return base64.b64encode(hashlib.sha1(key.strip().encode("latin-1") + GUID).digest()).decode()


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bytes | None = None) -> bytes:
    """One frame's bytes (RFC 6455 §5.2): any opcode, RSV bits, length form and mask."""
    head = bytes([(0x80 if fin else 0) | (rsv & 0x7) << 4 | (opcode & 0xF)])
    masked = 0x80 if mask is not None else 0
    n = len(payload)
    if n < 126:
        head += bytes([masked | n])
    elif n < 1 << 16:
        head += bytes([masked | 126]) + struct.pack("!H", n)
    else:
        head += bytes([masked | 127]) + struct.pack("!Q", n)
    if mask is None:
        return head + payload
    return head + mask + apply_mask(payload, mask)


def apply_mask(data: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte masking key (RFC 6455 §5.3), fast for megabytes."""
    if not data:
        return b""
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


def utf8(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def text(data: str | bytes, **kw: object) -> bytes:
    return frame(TEXT, utf8(data), **kw)  # type: ignore[arg-type]


def binary(data: bytes, **kw: object) -> bytes:
    return frame(BINARY, data, **kw)  # type: ignore[arg-type]


def cont(data: str | bytes, **kw: object) -> bytes:
    return frame(CONT, utf8(data), **kw)  # type: ignore[arg-type]


def ping(data: bytes = b"", **kw: object) -> bytes:
    return frame(PING, data, **kw)  # type: ignore[arg-type]


def pong(data: bytes = b"", **kw: object) -> bytes:
    return frame(PONG, data, **kw)  # type: ignore[arg-type]


def close(code: int | None = None, reason: str = "") -> bytes:
    """A Close frame: no payload when ``code`` is None (RFC 6455 §5.5.1)."""
    return frame(CLOSE, b"" if code is None else close_payload(code, reason))


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode("utf-8")


def parse_close(payload: bytes) -> tuple[int | None, str]:
    if len(payload) < 2:
        return None, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", "backslashreplace")


class FrameError(Exception):
    """A frame the server cannot read (too big, or the stream ended inside it)."""


def parse_frame(max_size: int = MAX_FRAME) -> Generator[int, bytes, Frame]:
    """Parse one frame, sans I/O: yields how many bytes it needs next, is sent them.

    The mask is removed, and recorded as a flag. ``read_frame`` drives it on an
    asyncio stream (the server); the ``socket-ws`` client drives it on a socket.
    """
    b0, b1 = yield 2
    n = b1 & 0x7F
    form = 7
    if n == 126:
        n, form = struct.unpack("!H", (yield 2))[0], 16
    elif n == 127:
        n, form = struct.unpack("!Q", (yield 8))[0], 64
    if n > max_size:
        raise FrameError(f"frame of {n} bytes over the limit of {max_size}")
    mask = (yield 4) if b1 & 0x80 else None
    payload = (yield n) if n else b""
    if mask is not None:
        payload = apply_mask(payload, mask)
    opcode = b0 & 0xF
    code, reason = parse_close(payload) if opcode == CLOSE else (None, "")
    return Frame(opcode, bool(b0 & 0x80), (b0 >> 4) & 0x7, mask is not None, payload, code, reason,
                 length_form=form, wire_len=n)
