"""The SOCKS5 fixture (servers.socks), spoken by hand over a real socket: the CONNECT it
records (address type, username), the tunnel to the origin, and what it refuses."""

from __future__ import annotations

import socket

import pytest

from model.script import Reply, Script
from servers import Servers
from servers.proxy import destination

pytestmark = pytest.mark.selftest


def socks_connect(servers: Servers, host: bytes, port: int, user: bytes = b"") -> tuple[socket.socket, bytes]:
    """Greet, authenticate if ``user``, CONNECT to (domain ``host``, ``port``); the socket and the reply."""
    proxy = servers.server("socks")
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=3)
    s.sendall(b"\x05\x01" + (b"\x02" if user else b"\x00"))
    assert s.recv(2) == (b"\x05\x02" if user else b"\x05\x00")
    if user:
        s.sendall(b"\x01" + bytes([len(user)]) + user + b"\x02pw")
        assert s.recv(2) == b"\x01\x00"
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + port.to_bytes(2, "big"))
    return s, s.recv(10)


def test_a_connect_by_name_is_recorded_before_the_request_it_carried(servers: Servers) -> None:
    route = servers.registry.open(Script(default=Reply(200, body=b"ok")))
    try:
        origin = servers.server("http")
        s, answer = socks_connect(servers, b"a.localhost", origin.port, user=b"alice")
        assert answer[:2] == b"\x05\x00"
        with s:
            s.sendall(f"GET {route.prefix}/x HTTP/1.1\r\nHost: a.localhost\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"ok")
        route.settle()
        sent, _ = route.snapshot()
        assert [(c.method, c.version) for c in sent] == [("CONNECT", "SOCKS5"), ("GET", "HTTP/1.1")]
        assert sent[0].target == f"a.localhost:{origin.port}"
        assert sent[0].header("ATYP") == "domain" and sent[0].header("Username") == "alice"
    finally:
        servers.registry.close(route)


def test_a_destination_off_loopback_is_refused_without_a_resolver(servers: Servers) -> None:
    s, answer = socks_connect(servers, b"example.com", 80)
    s.close()
    assert answer[:2] == b"\x05\x02"  # connection not allowed by ruleset
    assert destination("example.com") is None and destination("b\u00fccher.localhost") == "127.0.0.1"
    assert destination("LOCALHOST.") == "127.0.0.1" and destination("[::1]") == "::1"
