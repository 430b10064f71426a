"""The lazily made bodies, the Stream action, the closed-port origin and the capped read.

A decompression bomb must never be held whole: these tests check the generator makes a
valid gzip member of exactly the announced size, that the server writes a Stream as it
is produced, that a client hanging up mid-stream is not a server error, and that a
capped read stops at its cap.
"""

from __future__ import annotations

import gzip
import http.client
import socket
import zlib
from urllib.parse import urlsplit

import pytest

from fixtures.reading import describe, drain
from model.script import Raw, Script, Stream
from servers import Servers
from servers.bodies import MiB, chunked, gzip_zeros, gzip_zeros_length

pytestmark = pytest.mark.selftest


@pytest.mark.parametrize("mib", [1, 3])
def test_gzip_zeros_is_a_valid_member(mib: int) -> None:
    """gzip.decompress checks the CRC-32 and the size in the trailer."""
    data = b"".join(gzip_zeros(mib * MiB))
    assert gzip.decompress(data) == bytes(mib * MiB)
    assert len(data) == gzip_zeros_length(mib * MiB)


def test_gzip_zeros_streams_without_holding_the_content() -> None:
    """64 MiB inflated piece by piece, bounded: every piece small, the sum exact, the end seen."""
    inflater, total, largest_piece = zlib.decompressobj(31), 0, 0
    for piece in gzip_zeros(64 * MiB):
        largest_piece = max(largest_piece, len(piece))
        data = piece
        while data:
            out = inflater.decompress(data, MiB)
            assert not out.strip(b"\0")
            total += len(out)
            data = inflater.unconsumed_tail
    assert inflater.eof and total == 64 * MiB
    assert largest_piece <= 64 * 1024


def test_gzip_zeros_refuses_partial_mib() -> None:
    with pytest.raises(ValueError):
        next(gzip_zeros(MiB + 1))


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_chunked_decodes_back(size: int) -> None:
    body = bytes(range(256)) * 4
    encoded = b"".join(chunked(body, size))
    assert encoded.endswith(b"0\r\n\r\n")
    out, rest = b"", encoded
    while True:
        line, rest = rest.split(b"\r\n", 1)
        n = int(line, 16)
        if n == 0:
            break
        out, rest = out + rest[:n], rest[n + 2:]
    assert out == body


def fetch(servers: Servers, response: Raw, read: int | None = None) -> tuple[bytes, tuple[str, ...]]:
    """One request to a route answering ``response``; the body (or ``read`` bytes of it), and
    the route's server errors after the client hung up."""
    route = servers.registry.open(Script(default=response))
    try:
        url = urlsplit(servers.url("http", route, "/"))
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=5)
        conn.request("GET", url.path)
        r = conn.getresponse()
        body = r.read(read) if read is not None else r.read()
        conn.close()
        route.settle(2.0)
        return body, route.snapshot()[1]
    finally:
        servers.registry.close(route)


def test_stream_action_writes_what_the_generator_yields(servers: Servers) -> None:
    body = bytes(range(256)) * 1024
    pieces = [body[i:i + 4096] for i in range(0, len(body), 4096)]
    got, errors = fetch(servers, Raw((b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body),
                                      Stream(lambda: iter(pieces)))))
    assert got == body and errors == ()


def test_client_hanging_up_mid_stream_is_not_a_server_error(servers: Servers) -> None:
    size = 8 * MiB
    response = Raw((b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size,
                    Stream(lambda: (bytes(64 * 1024) for _ in range(size // (64 * 1024))))))
    got, errors = fetch(servers, response, read=1000)
    assert len(got) == 1000 and errors == ()


def test_closed_origin_refuses_connections(servers: Servers) -> None:
    url = urlsplit(servers.server("closed").origin)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((url.hostname, url.port), timeout=2).close()


def test_drain_stops_at_the_cap_and_keeps_nothing() -> None:
    produced: list[int] = []

    def endless():  # type: ignore[no-untyped-def]
        while len(produced) < 10_000:
            produced.append(1)
            yield b"x" * 1000

    assert drain(endless(), 10_500) == {"bytes": 11_000, "cap": 10_500, "capped": True}
    assert len(produced) == 11
    assert drain([b"ab", b"c"], 10) == {"bytes": 3, "cap": 10, "capped": False}


def test_describe_timeouts() -> None:
    assert describe({"connect": 5.0, "read": None}) == "connect 5 s, read none"
    assert describe({"timeout": socket._GLOBAL_DEFAULT_TIMEOUT}) == "timeout socket default (none)"  # type: ignore[attr-defined]
