"""HTTP/2 on the wire, sans I/O: frame names, a frame builder and parser, HPACK literals.

The h2 server (``servers/h2.py``) speaks well-formed HTTP/2 through the ``h2``
library, which refuses to produce an invalid frame. The rows that break the
protocol on purpose write their frames with this module instead: every byte is
ours. The server also parses what the client sends with ``parse``, so the capture
is the wire as it arrived, not what a library made of it.

    frame(type, flags, stream, payload)    one frame's bytes (RFC 9113 §4.1)
    settings(pairs) window_update(...) rst(...) goaway(...) ping(...) data(...)
    literal(name, value)                   one HPACK field line, literal without
                                           indexing, new name, no Huffman (RFC 7541 §6.2.2)
    block(fields)                          a field block of such literals
    Parser                                 frames out of a byte stream, bounded

RFC 9113 §4.1: "All frames begin with a fixed 9-octet header followed by a
variable-length frame payload" (24-bit length, 8-bit type, 8-bit flags, 1 reserved
bit and a 31-bit stream identifier).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: RFC 9113 §3.4: "the client connection preface starts with a sequence of 24 octets".
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FRAME_NAMES = {DATA: "DATA", HEADERS: "HEADERS", PRIORITY: "PRIORITY", RST_STREAM: "RST_STREAM",
               SETTINGS: "SETTINGS", PUSH_PROMISE: "PUSH_PROMISE", PING: "PING", GOAWAY: "GOAWAY",
               WINDOW_UPDATE: "WINDOW_UPDATE", CONTINUATION: "CONTINUATION"}

END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
#: Flag names by frame type (RFC 9113 §6): the same bit means different things.
FLAG_NAMES: dict[int, dict[int, str]] = {
    DATA: {END_STREAM: "END_STREAM", PADDED: "PADDED"},
    HEADERS: {END_STREAM: "END_STREAM", END_HEADERS: "END_HEADERS", PADDED: "PADDED", PRIORITY_FLAG: "PRIORITY"},
    SETTINGS: {ACK: "ACK"},
    PING: {ACK: "ACK"},
    PUSH_PROMISE: {END_HEADERS: "END_HEADERS", PADDED: "PADDED"},
    CONTINUATION: {END_HEADERS: "END_HEADERS"},
}

SETTING_NAMES = {1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS",
                 4: "INITIAL_WINDOW_SIZE", 5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE",
                 8: "ENABLE_CONNECT_PROTOCOL", 9: "NO_RFC7540_PRIORITIES"}
SETTING_IDS = {name: ident for ident, name in SETTING_NAMES.items()}

ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
               4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM",
               8: "CANCEL", 9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM",
               12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED"}
ERROR_CODES = {name: code for code, name in ERROR_NAMES.items()}

#: RFC 9113 §6.5.2: the initial SETTINGS_MAX_FRAME_SIZE, and the largest window.
DEFAULT_MAX_FRAME = 16384
MAX_WINDOW = 2**31 - 1


def frame_name(kind: int) -> str:
    return FRAME_NAMES.get(kind, f"0x{kind:02x}")


def error_name(code: int) -> str:
    return ERROR_NAMES.get(code, f"0x{code:x}")


def setting_name(ident: int) -> str:
    return SETTING_NAMES.get(ident, f"0x{ident:x}")


def frame(kind: int, flags: int, stream: int, payload: bytes = b"", *, length: int | None = None) -> bytes:
    """One frame, any type, flags and stream; ``length`` overrides the header's length field."""
    n = len(payload) if length is None else length
    return struct.pack("!I", n)[1:] + struct.pack("!BBI", kind, flags, stream & 0xFFFFFFFF) + payload


def settings(pairs: tuple[tuple[int, int], ...] = (), ack: bool = False) -> bytes:
    return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack("!HI", k, v) for k, v in pairs))


def window_update(stream: int, increment: int) -> bytes:
    return frame(WINDOW_UPDATE, 0, stream, struct.pack("!I", increment))


def rst(stream: int, code: int) -> bytes:
    return frame(RST_STREAM, 0, stream, struct.pack("!I", code))


def goaway(last_stream: int, code: int, debug: bytes = b"") -> bytes:
    return frame(GOAWAY, 0, 0, struct.pack("!II", last_stream, code) + debug)


def ping(opaque: bytes = b"cmping!!", ack: bool = False) -> bytes:
    return frame(PING, ACK if ack else 0, 0, opaque[:8].ljust(8, b"\0"))


def data(stream: int, payload: bytes, end: bool = False, pad: int | None = None) -> bytes:
    """A DATA frame; ``pad`` adds a Pad Length octet and that many zero octets (RFC 9113 §6.1)."""
    if pad is None:
        return frame(DATA, END_STREAM if end else 0, stream, payload)
    return frame(DATA, (END_STREAM if end else 0) | PADDED, stream, bytes([pad]) + payload + b"\0" * pad)


def headers(stream: int, block_: bytes, *, end_stream: bool = False, end_headers: bool = True) -> bytes:
    flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
    return frame(HEADERS, flags, stream, block_)


def continuation(stream: int, block_: bytes, end_headers: bool = False) -> bytes:
    return frame(CONTINUATION, END_HEADERS if end_headers else 0, stream, block_)


def integer(value: int, prefix: int, first: int = 0) -> bytes:
    """RFC 7541 §5.1: an integer with an N-bit prefix; ``first`` holds the bits above it."""
    limit = (1 << prefix) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def string(text: bytes) -> bytes:
    """RFC 7541 §5.2: a string literal, H bit 0 (no Huffman coding)."""
    return integer(len(text), 7) + text


def literal(name: str | bytes, value: str | bytes, indexed: bool = False) -> bytes:
    """RFC 7541 §6.2.2 (literal without indexing, new name), or §6.2.1 (with incremental
    indexing) when ``indexed``: the name is sent exactly as given, uppercase or not."""
    n = name.encode("latin-1") if isinstance(name, str) else name
    v = value.encode("latin-1") if isinstance(value, str) else value
    return (b"\x40" if indexed else b"\x00") + string(n) + string(v)


def indexed(index: int) -> bytes:
    """RFC 7541 §6.1: an indexed field line (static table 1-61, dynamic from 62)."""
    return integer(index, 7, 0x80)


def table_size(size: int) -> bytes:
    """RFC 7541 §6.3: a dynamic table size update."""
    return integer(size, 5, 0x20)


def block(fields: tuple[tuple[str, str], ...]) -> bytes:
    """A field block of literals (never indexed, so no peer's dynamic table changes)."""
    return b"".join(literal(k, v) for k, v in fields)


@dataclass(frozen=True)
class Parsed:
    """One frame as read off the wire."""

    kind: int
    flags: int
    stream: int
    payload: bytes
    #: The length field as sent (the payload kept may be shorter: see ``Parser.keep``).
    length: int


class FrameTooLarge(ValueError):
    """A frame longer than the parser accepts."""


class Parser:
    """Frames out of a byte stream: ``feed(bytes)`` returns the frames now complete.

    Bounded: a frame whose length field exceeds ``limit`` raises ``FrameTooLarge``.
    Only the first ``keep`` octets of a DATA payload are kept (the rest is counted).
    """

    def __init__(self, limit: int = 1 << 24, keep: int = 1 << 24) -> None:
        self.buf = bytearray()
        self.limit = limit
        self.keep = keep

    def feed(self, chunk: bytes) -> list[Parsed]:
        self.buf += chunk
        out: list[Parsed] = []
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[:3], "big")
            if length > self.limit:
                raise FrameTooLarge(f"a frame of {length} octets (over {self.limit})")
            if len(self.buf) < 9 + length:
                break
            kind, flags, stream = self.buf[3], self.buf[4], int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload = bytes(self.buf[9:9 + length])
            del self.buf[:9 + length]
            out.append(Parsed(kind, flags, stream, payload, length))
        return out


def describe(f: Parsed) -> dict[str, object]:
    """What a frame says besides its header, in words for a capture (RFC 9113 §6)."""
    p = f.payload
    out: dict[str, object] = {}
    if f.kind == SETTINGS and not f.flags & ACK:
        out["settings"] = {setting_name(k): v for k, v in
                           (struct.unpack_from("!HI", p, i) for i in range(0, len(p) - len(p) % 6, 6))}
    elif f.kind == WINDOW_UPDATE and len(p) >= 4:
        out["increment"] = int.from_bytes(p[:4], "big") & 0x7FFFFFFF
    elif f.kind == RST_STREAM and len(p) >= 4:
        out["error"] = error_name(int.from_bytes(p[:4], "big"))
    elif f.kind == GOAWAY and len(p) >= 8:
        out["last_stream"] = int.from_bytes(p[:4], "big") & 0x7FFFFFFF
        out["error"] = error_name(int.from_bytes(p[4:8], "big"))
        if p[8:]:
            out["debug"] = p[8:72].decode("latin-1")
    elif f.kind == PING:
        out["opaque"] = p[:8].hex()
    return out


def flag_names(kind: int, flags: int) -> tuple[str, ...]:
    names = FLAG_NAMES.get(kind, {})
    return tuple(names.get(bit, f"0x{bit:02x}") for bit in (1, 2, 4, 8, 16, 32, 64, 128) if flags & bit)
