"""Self-test: no fixture server of ours adds latency a real server would not.

A server that waits on something of its own (a missing ``TCP_NODELAY`` left responses
behind TLS 1.3 session tickets for the client's delayed ACK: about 40 ms a request on
every TLS-kind cell) slows every cell through it and can hide or cause a timeout. Each
origin is timed against the plain server of its scheme: a fresh connection and one
request, TRIES times with one client context (as a client reuses it), keeping the lower
quartile. The stall of a delayed ACK is at least
40 ms and hits most requests (not all: Linux acknowledges the first segments of a
connection at once), so it shows in the quartile, while a busy machine's noise, which
slows the plain server as much, does not.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from urllib.parse import urlsplit

import pytest

from model.script import Reply, script
from servers import Servers, ServerUnavailable
from servers.frames import WsScript

pytestmark = pytest.mark.selftest

#: Fresh connections timed per origin; their lower quartile counts.
TRIES = 12
#: How much slower than the plain server of its scheme an origin may be (a stall is >= 40 ms).
SLACK = 0.020


def quartile(times: list[float]) -> float:
    return sorted(times)[len(times) // 4]

#: Origins served over TLS to a verifying client (the kinds that must be refused are not timed).
TLS = ("https-hello", "https-localhost", "https-full-chain", "https-ip-only", "https-tls13")
PLAIN = ("http-other", "http-localhost")


def fastest(servers: Servers, origin: str, path: str = "/", head: bytes = b"") -> float:
    """The lower quartile of TRIES requests to ``origin``, each on a fresh connection, in seconds."""
    assert servers.certs is not None
    route = servers.registry.open(script(Reply(200, body=b"ok")))
    try:
        url = urlsplit(servers.url(origin, route, path))
        times: list[float] = []
        ctx = ssl.create_default_context(cafile=servers.certs.ca_file)
        for _ in range(TRIES):
            conn: http.client.HTTPConnection
            if url.scheme in ("https", "wss"):
                conn = http.client.HTTPSConnection(url.hostname or "", url.port, context=ctx, timeout=5)
            else:
                conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=5)
            start = time.perf_counter()
            conn.request("GET", url.path, headers=dict(h.split(": ", 1) for h in head.decode().splitlines() if h))
            response = conn.getresponse()
            response.read() if response.status != 101 else None
            times.append(time.perf_counter() - start)
            conn.close()
        return quartile(times)
    finally:
        servers.registry.close(route)


@pytest.mark.parametrize("origin", TLS)
def test_tls_kind_adds_no_latency(servers: Servers, origin: str) -> None:
    try:
        servers.server(origin)
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    plain = fastest(servers, "https")
    kind = fastest(servers, origin)
    assert kind < plain + SLACK, f"{origin}: {kind * 1000:.1f} ms against https's {plain * 1000:.1f} ms"


@pytest.mark.parametrize("origin", PLAIN)
def test_plain_origin_adds_no_latency(servers: Servers, origin: str) -> None:
    plain = fastest(servers, "http")
    other = fastest(servers, origin)
    assert other < plain + SLACK, f"{origin}: {other * 1000:.1f} ms against http's {plain * 1000:.1f} ms"


def test_proxy_adds_no_latency(servers: Servers) -> None:
    """A request in absolute form through the forward proxy: one hop more, no stall."""
    route = servers.registry.open(script(Reply(200, body=b"ok")))
    try:
        target = servers.url("http", route, "/")
        proxy = urlsplit(servers.registry.origins["proxy"])
        times: list[float] = []
        for _ in range(TRIES):
            conn = http.client.HTTPConnection(proxy.hostname or "", proxy.port, timeout=5)
            start = time.perf_counter()
            conn.request("GET", target)
            conn.getresponse().read()
            times.append(time.perf_counter() - start)
            conn.close()
    finally:
        servers.registry.close(route)
    plain = fastest(servers, "http")
    best = quartile(times)
    assert best < plain + SLACK, f"proxy: {best * 1000:.1f} ms against http's {plain * 1000:.1f} ms"


@pytest.mark.parametrize("origin", ["ws", "ws-raw"])
def test_ws_handshake_adds_no_latency(servers: Servers, origin: str) -> None:
    """The WebSocket servers answer a handshake as fast as the plain server answers a GET."""
    route = servers.registry.open(WsScript())
    try:
        url = urlsplit(servers.url(origin, route, "/"))
        times: list[float] = []
        request = (f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        for _ in range(TRIES):
            with socket.create_connection((url.hostname or "", url.port or 80), timeout=5) as sock:
                start = time.perf_counter()
                sock.sendall(request)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                times.append(time.perf_counter() - start)
            assert head.startswith(b"HTTP/1.1 101"), head[:80]
    finally:
        servers.registry.close(route)
    plain = fastest(servers, "http")
    best = quartile(times)
    assert best < plain + SLACK, f"{origin}: {best * 1000:.1f} ms against http's {plain * 1000:.1f} ms"
