"""Self-tests: the ClientHello parser of servers.tls, fed real ClientHellos.

Each row builds a client context, lets OpenSSL write its ClientHello into a memory BIO
(no network), and checks what ``parse_hello`` reads from it: the SNI, the offered ALPN
protocols, the offered versions.
"""

from __future__ import annotations

import ssl
import struct
import warnings

import pytest

from servers.tls import Hello, NotHello, hello_body, parse_hello

pytestmark = pytest.mark.selftest

TLS12, TLS13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


def client_hello(server_hostname: str | None, alpn: list[str], high: ssl.TLSVersion = TLS13) -> bytes:
    """The bytes OpenSSL sends first as a client with these settings."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = server_hostname is not None
    if server_hostname is None:
        ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.maximum_version = high
    if alpn:
        ctx.set_alpn_protocols(alpn)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_hostname)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def split_records(data: bytes, at: int) -> bytes:
    """The same handshake message, fragmented into two records at ``at`` bytes."""
    _, version, length = struct.unpack_from("!BHH", data)
    body = data[5:5 + length]
    return (struct.pack("!BHH", 22, version, at) + body[:at]
            + struct.pack("!BHH", 22, version, length - at) + body[at:])


ROWS = [
    # (server_hostname, ALPN set, highest version, expected); listed: from supported_versions
    ("localhost", ["h2", "http/1.1"], TLS13, Hello("localhost", ("h2", "http/1.1"), ("TLSv1.3", "TLSv1.2"), listed=True)),
    ("example.org", ["http/1.1"], TLS13, Hello("example.org", ("http/1.1",), ("TLSv1.3", "TLSv1.2"), listed=True)),
    ("127.0.0.1", [], TLS13, Hello(None, (), ("TLSv1.3", "TLSv1.2"), listed=True)),
    ("::1", ["http/1.1"], TLS13, Hello(None, ("http/1.1",), ("TLSv1.3", "TLSv1.2"), listed=True)),
    (None, [], TLS13, Hello(None, (), ("TLSv1.3", "TLSv1.2"), listed=True)),
    ("localhost", [], TLS12, Hello("localhost", (), ("TLSv1.2",))),
]


IDS = [f"{r[0]}-{','.join(r[1])}-{r[2].name}" for r in ROWS]


@pytest.mark.parametrize(("hostname", "alpn", "high", "expected"), ROWS, ids=IDS)
def test_parse_real_client_hello(hostname: str | None, alpn: list[str], high: ssl.TLSVersion, expected: Hello) -> None:
    data = client_hello(hostname, alpn, high)
    body = hello_body(data)
    assert body is not None
    assert parse_hello(body) == expected


def test_fragmented_hello_is_reassembled() -> None:
    data = client_hello("localhost", ["http/1.1"])
    body = hello_body(split_records(data, 40))
    assert body is not None and parse_hello(body).sni == "localhost"


@pytest.mark.parametrize("cut", [0, 3, 5, 60])
def test_incomplete_hello_asks_for_more(cut: int) -> None:
    assert hello_body(client_hello("localhost", [])[:cut]) is None


@pytest.mark.parametrize("data", [b"GET / HTTP/1.1\r\n\r\n", b"\x17\x03\x03\x00\x05hello",
                                  b"\x16\x03\x01\x00\x04\x02\x00\x00\x00"])
def test_not_a_client_hello(data: bytes) -> None:
    with pytest.raises(NotHello):
        hello_body(data)


def test_truncated_body_is_refused() -> None:
    body = hello_body(client_hello("localhost", []))
    assert body is not None
    with pytest.raises(NotHello):
        parse_hello(body[:50])
