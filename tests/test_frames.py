"""Self-tests of the raw frame server's frame encoding and parsing (servers/frames.py).

Table-driven, over real loopback sockets: the RFC 6455 §5.7 examples byte for
byte, every length form and flag through ``read_frame`` on an asyncio stream, and
the frame server itself end to end (handshake, scripted frames, recorded frames).
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket

import pytest

from model.cell import Frame
from servers import Servers
from servers.frames import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    WsScript,
    accept_for,
    close,
    frame,
    parse_frame,
    read_frame,
    text,
)

pytestmark = pytest.mark.selftest

#: RFC 6455 §5.7 examples: (frame, the exact bytes).
RFC_EXAMPLES = [
    (frame(TEXT, b"Hello"), bytes.fromhex("810548656c6c6f")),
    (frame(TEXT, b"Hello", mask=bytes.fromhex("37fa213d")), bytes.fromhex("818537fa213d7f9f4d5158")),
    (frame(TEXT, b"Hel", fin=False), bytes.fromhex("010348656c")),
    (frame(0x0, b"lo"), bytes.fromhex("80026c6f")),
    (frame(PING, b"Hello"), bytes.fromhex("890548656c6c6f")),
    (frame(PONG, b"Hello", mask=bytes.fromhex("37fa213d")), bytes.fromhex("8a8537fa213d7f9f4d5158")),
    (frame(BINARY, b"\0" * 256)[:4], bytes.fromhex("827e0100")),
    (frame(BINARY, b"\0" * 65536)[:10], bytes.fromhex("827f0000000000010000")),
]

#: (opcode, payload length, fin, rsv, masked): each length form, flags, and odd opcodes.
ROWS = [
    (TEXT, 0, True, 0, False),
    (TEXT, 5, True, 0, True),
    (BINARY, 125, True, 0, True),
    (BINARY, 126, True, 0, False),
    (BINARY, 65535, True, 0, True),
    (BINARY, 65536, True, 0, True),
    (BINARY, 1 << 20, False, 0, True),
    (TEXT, 3, True, 4, False),
    (TEXT, 3, True, 7, True),
    (0x3, 4, True, 0, False),
    (PING, 126, False, 0, False),
    (CLOSE, 2, True, 0, True),
]


@pytest.mark.parametrize(("encoded", "expected"), RFC_EXAMPLES)
def test_rfc_examples(encoded: bytes, expected: bytes) -> None:
    assert encoded == expected


def test_read_frame_over_a_socket() -> None:
    """Every row encoded, written to a real TCP connection, parsed back by the server's reader."""
    payloads = [os.urandom(n) for _, n, *_ in ROWS]
    wire = b"".join(frame(op, p, fin=fin, rsv=rsv, mask=os.urandom(4) if masked else None)
                    for (op, _, fin, rsv, masked), p in zip(ROWS, payloads, strict=True))

    async def main() -> list[Frame]:
        parsed: list[Frame] = []
        done = asyncio.Event()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for _ in ROWS:
                parsed.append(await read_frame(reader))
            writer.close()
            done.set()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(wire)
        await writer.drain()
        await asyncio.wait_for(done.wait(), 10)
        writer.close()
        server.close()
        return parsed

    parsed = asyncio.run(main())
    for (op, n, fin, rsv, masked), payload, f in zip(ROWS, payloads, parsed, strict=True):
        assert (f.opcode, len(f.payload), f.fin, f.rsv, f.masked) == (op, n, fin, rsv, masked)
        assert f.payload == payload
    assert parsed[-1].close_code == int.from_bytes(payloads[-1], "big")


def test_parse_frame_limit() -> None:
    parser = parse_frame(max_size=10)
    next(parser)
    with pytest.raises(Exception, match="over the limit"):
        parser.send(bytes([0x82, 11]))


def test_accept_matches_rfc_example() -> None:
    """RFC 6455 §1.3: the example key and its Sec-WebSocket-Accept."""
    assert accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="




def read_one(sock: socket.socket, buf: bytearray) -> Frame:
    parser = parse_frame()
    need = next(parser)
    while True:
        while len(buf) < need:
            data = sock.recv(65536)
            assert data, "the server closed the connection early"
            buf += data
        chunk, buf[:] = bytes(buf[:need]), buf[need:]
        try:
            need = parser.send(chunk)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def test_frame_server_end_to_end(servers: Servers) -> None:
    """The frame server: right handshake, the scripted frames byte-exact, client frames recorded."""
    script = WsScript(steps=(text("hi", rsv=4), frame(0x3, b"odd"), close(4000, "bye")))
    route = servers.registry.open(script)
    try:
        url = servers.url("ws-raw", route, "/x")
        host, port = url.split("/")[2].split(":")
        key = base64.b64encode(os.urandom(16)).decode()
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall((f"GET {route.prefix}/x HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                          ).encode())
            buf = bytearray()
            while b"\r\n\r\n" not in buf:
                buf += sock.recv(4096)
            head, _, rest = bytes(buf).partition(b"\r\n\r\n")
            buf = bytearray(rest)
            assert head.startswith(b"HTTP/1.1 101 ")
            assert f"Sec-WebSocket-Accept: {accept_for(key)}".encode() in head
            got = [read_one(sock, buf) for _ in range(3)]
            assert [(f.opcode, f.rsv, f.payload, f.masked) for f in got] == [
                (TEXT, 4, b"hi", False), (0x3, 0, b"odd", False), (CLOSE, 0, b"\x0f\xa0bye", False)]
            sock.sendall(frame(PONG, b"p", mask=b"abcd") + frame(CLOSE, b"\x03\xe8", mask=b"wxyz"))
            assert sock.recv(1) == b""  # it already sent its Close: it ends the connection
        route.settle(2.0)
        captures, errors = route.snapshot()
    finally:
        servers.registry.close(route)
    assert not errors
    assert [(f.opcode, f.masked, f.payload, f.close_code) for f in captures[0].frames] == [
        (PONG, True, b"p", None), (CLOSE, True, b"\x03\xe8", 1000)]
    assert captures[0].header("Sec-WebSocket-Key") == key
