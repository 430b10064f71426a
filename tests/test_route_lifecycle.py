"""Every fixture server ends on a cell's route what it began there, and refuses a cell
the runner gave up on (``Route.abort``), over real sockets.

``Route.settle`` waits (bounded) for what a route began to end: a server that forgets to
end it costs every such cell the whole settle time, and its capture may come too late.
"""

from __future__ import annotations

import base64
import os
import socket
import time

import pytest

from model.script import Reply, Script
from servers import Servers
from servers.frames import CLOSE, WsScript, frame
from servers.routes import Route
from tests.wire import TIMEOUT, authority, read_all

pytestmark = pytest.mark.selftest

#: Well under ``routes.SETTLE`` (0.5 s): a route whose work ended settles at once.
QUICK = 0.3




def upgrade(route: Route, host: str, *, key: bool = True, version: str = "13") -> bytes:
    lines = [f"GET {route.prefix}/x HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Version: {version}"]
    if key:
        lines.append("Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode())
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def http_get(route: Route, host: str) -> bytes:
    return f"GET {route.prefix}/x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


def proxied_get(servers: Servers, route: Route) -> tuple[str, bytes]:
    origin = servers.server("http").origin
    return "proxy", f"GET {origin}{route.prefix}/x HTTP/1.1\r\nHost: {origin[7:]}\r\n\r\n".encode()


def send(servers: Servers, name: str, request: bytes) -> tuple[bytes, float]:
    """Send ``request`` to server ``name``; what came back until it closed, and how long that took."""
    start = time.monotonic()
    with socket.create_connection(authority(servers.server(name).origin), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        try:
            out = read_all(sock)
        except ConnectionResetError:
            out = b""
    return out, time.monotonic() - start


def settled(route: Route) -> float:
    start = time.monotonic()
    route.settle(2.0)
    return time.monotonic() - start


# (server name, script, request for a route on that server's host)
ABORTED = [
    ("http", Script(default=Reply(body=b"ok")), http_get),
    ("ws", WsScript(), upgrade),
    ("ws-raw", WsScript(), upgrade),
]


@pytest.mark.parametrize(("name", "script", "request_for"), ABORTED + [("proxy", Script(default=Reply(body=b"ok")),
                                                                       None)],
                         ids=[a[0] for a in ABORTED] + ["proxy"])
def test_an_aborted_route_is_refused_at_once(servers: Servers, name: str, script: Script, request_for: object) -> None:
    """A cell that timed out: a new connection for it is closed at once, nothing is recorded."""
    route = servers.registry.open(script)
    try:
        route.abort()
        if request_for is None:
            name, request = proxied_get(servers, route)
        else:
            host = servers.server(name).authority
            request = request_for(route, host)  # type: ignore[operator]
        out, took = send(servers, name, request)
        captures, errors = route.snapshot()
        assert (out, captures, errors) == (b"", (), ())
        assert took < 1.0
        assert settled(route) < QUICK
    finally:
        servers.registry.close(route)


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"key": False}, b"400"),                  # no Sec-WebSocket-Key: websockets refuses after process_request
    ({"version": "8"}, b"400"),                # a version it does not speak
], ids=["no key", "version 8"])
def test_echo_handshake_refused_after_routing_still_ends_and_records(
        servers: Servers, kwargs: dict[str, object], status: bytes) -> None:
    route = servers.registry.open(WsScript())
    try:
        out, _ = send(servers, "ws", upgrade(route, servers.server("ws").authority, **kwargs))  # type: ignore[arg-type]
        assert out.split(b" ", 2)[1] == status
        assert settled(route) < QUICK
        (capture,), errors = route.snapshot()
    finally:
        servers.registry.close(route)
    assert not errors
    assert capture.target == f"{route.prefix}/x" and capture.frames == ()
    assert capture.problem.startswith("handshake refused: ")


def test_echo_connection_dropped_without_close_still_ends_and_records(servers: Servers) -> None:
    """The client vanishes after one frame, no Close: the route ends, the frame is on the capture."""
    route = servers.registry.open(WsScript())
    try:
        server = servers.server("ws")
        with socket.create_connection(authority(server.origin), timeout=TIMEOUT) as sock:
            sock.sendall(upgrade(route, server.authority))
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(1)
            assert head.startswith(b"HTTP/1.1 101")
            sock.sendall(frame(1, b"hi", mask=b"abcd"))
            assert sock.recv(64)  # the echo
        assert settled(route) < QUICK
        (capture,), errors = route.snapshot()
    finally:
        servers.registry.close(route)
    assert not errors and not capture.problem
    assert [(f.opcode, f.payload) for f in capture.frames] == [(1, b"hi")]
    assert CLOSE not in [f.opcode for f in capture.frames]
