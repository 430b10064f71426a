"""The forward proxy fixture (servers.proxy), over real sockets: what it relays, what it
captures on the cell's route, and what it refuses."""

from __future__ import annotations

import pytest

from model.script import Reply, Script
from servers import Servers
from servers.proxy import closing, upstream_head
from tests.wire import authority, exchange, header, tunnel

pytestmark = pytest.mark.selftest

OK = Script(default=Reply(200, body=b"ok"))


@pytest.mark.parametrize(("method", "target", "headers", "body_len", "expected"), [
    ("GET", "http://h:1/c/t1/x?q=1", (("Host", "h:1"), ("Proxy-Connection", "keep-alive")), 0,
     b"GET /c/t1/x?q=1 HTTP/1.1\r\nHost: h:1\r\nVia: 1.1 clientmatrix-proxy\r\nConnection: close\r\n\r\n"),
    ("POST", "http://h:1", (("Host", "h:1"), ("Transfer-Encoding", "chunked")), 5,
     b"POST / HTTP/1.1\r\nHost: h:1\r\nContent-Length: 5\r\nVia: 1.1 clientmatrix-proxy\r\nConnection: close\r\n\r\n"),
    ("PUT", "http://h:1/p", (("Host", "h:1"), ("Content-Length", "0"), ("Proxy-Authorization", "Basic x")), 0,
     b"PUT /p HTTP/1.1\r\nHost: h:1\r\nContent-Length: 0\r\nVia: 1.1 clientmatrix-proxy\r\nConnection: close\r\n\r\n"),
])
def test_upstream_head(method: str, target: str, headers: tuple[tuple[str, str], ...], body_len: int,
                       expected: bytes) -> None:
    assert upstream_head(method, target, headers, body_len) == expected


@pytest.mark.parametrize(("head", "expected"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"),
    (b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX: 1\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nX: 1\r\nConnection: close\r\n\r\n"),
])
def test_closing(head: bytes, expected: bytes) -> None:
    assert closing(head) == expected


@pytest.mark.parametrize(("method", "extra", "body"), [
    ("GET", b"", b""),
    ("POST", b"Content-Length: 5\r\n", b"hello"),
    ("POST", b"Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n0\r\n\r\n"),
])
def test_absolute_form_is_forwarded_and_captured(servers: Servers, method: str, extra: bytes, body: bytes) -> None:
    route = servers.registry.open(OK)
    try:
        origin = servers.server("http").origin
        target = f"{origin}{route.prefix}/x?q=1"
        request = f"{method} {target} HTTP/1.1\r\nHost: {origin[7:]}\r\n".encode() + extra + b"\r\n" + body
        response = exchange(servers.server("proxy").origin, request)
        route.settle()
        sent, errors = route.snapshot()
    finally:
        servers.registry.close(route)
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"ok")
    assert header(response, "Connection") == "close"
    assert not errors
    at_proxy, at_origin = sent
    assert (at_proxy.server, at_proxy.target, at_proxy.method) == (servers.server("proxy").authority, target, method)
    assert (at_origin.server, at_origin.target) == (servers.server("http").authority, f"{route.prefix}/x?q=1")
    assert at_origin.header("Via") == "1.1 clientmatrix-proxy"
    assert at_proxy.body == at_origin.body == (b"hello" if body else b"")


def test_connect_tunnel_is_tied_to_its_cell(servers: Servers) -> None:
    """The tunnel is opaque TLS; the CONNECT still lands on the route of the request inside it."""
    assert servers.certs is not None
    route = servers.registry.open(OK)
    try:
        host, port = authority(servers.server("https").origin)
        request = f"GET {route.prefix}/in HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
        head, response = tunnel(servers.server("proxy").origin, f"{host}:{port}", request, servers.certs.ca_file)
        route.settle()
        sent, _ = route.snapshot()
    finally:
        servers.registry.close(route)
    assert head.startswith(b"HTTP/1.1 200 Connection Established")
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"ok")
    assert [(c.method, c.server) for c in sent] == [  # in wire order: the CONNECT first
        ("CONNECT", servers.server("proxy").authority), ("GET", servers.server("https").authority)]
    assert sent[0].target == f"{host}:{port}"


@pytest.mark.parametrize(("request_line", "status"), [
    (b"CONNECT example.com:443 HTTP/1.1", b"403"),   # only loopback is reachable
    (b"GET http://example.com/ HTTP/1.1", b"403"),
    (b"GET https://127.0.0.1:1/ HTTP/1.1", b"400"),  # absolute-form https is not for a plain proxy
    (b"GET http://127.0.0.1:1/ HTTP/1.1", b"502"),   # nothing listens on port 1
    (b"CONNECT 127.0.0.1:1 HTTP/1.1", b"502"),
    (b"NONSENSE", b"400"),
])
def test_refusals(servers: Servers, request_line: bytes, status: bytes) -> None:
    response = exchange(servers.server("proxy").origin, request_line + b"\r\nHost: x\r\n\r\n")
    assert response.split(b" ", 2)[1] == status
