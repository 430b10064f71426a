"""Placeholders in scripts and environments: ``{origin}``, ``{base}``, ``{prefix}``,
``{origin:NAME}``, ``{base:NAME}``, ``{ca_file}``; pure, then over a real socket."""

from __future__ import annotations

import pytest

from fixtures.cell import fill
from model.script import Context, Reply, Script
from servers import Servers
from tests.wire import exchange, header

pytestmark = pytest.mark.selftest

CTX = Context(origin="http://127.0.0.1:1", base="http://127.0.0.1:1/c/t9",
              origins={"http": "http://127.0.0.1:1", "http-other": "http://127.0.0.1:2"}, prefix="/c/t9")


@pytest.mark.parametrize(("text", "filled"), [
    (b"{origin}", b"http://127.0.0.1:1"),
    (b"{base}/next", b"http://127.0.0.1:1/c/t9/next"),
    (b"Path={prefix}/private", b"Path=/c/t9/private"),
    (b"{origin:http-other}", b"http://127.0.0.1:2"),
    (b"{base:http-other}/next", b"http://127.0.0.1:2/c/t9/next"),
    (b"{base:http}/a {base:http-other}/b", b"http://127.0.0.1:1/c/t9/a http://127.0.0.1:2/c/t9/b"),
    (b"caf\xc3\xa9 {base}", b"caf\xc3\xa9 http://127.0.0.1:1/c/t9"),
    (b"{origin:}", b"{origin:}"),
    (b"no placeholder", b"no placeholder"),
])
def test_context_fill(text: bytes, filled: bytes) -> None:
    assert CTX.fill(text) == filled


def test_unknown_name_is_a_loud_error() -> None:
    with pytest.raises(KeyError, match="no fixture server is called 'nope'"):
        CTX.fill(b"{origin:nope}")


@pytest.mark.parametrize("name", ["http", "https", "http-other", "http-localhost", "proxy"])
def test_environment_fill(servers: Servers, name: str) -> None:
    assert fill(f"x={{origin:{name}}};", servers) == f"x={servers.server(name).origin};"


def test_environment_ca_file(servers: Servers) -> None:
    assert servers.certs is not None
    assert fill("{ca_file}", servers) == servers.certs.ca_file


@pytest.mark.parametrize(("location", "name", "tail"), [
    ("{base:http-other}/next", "http-other", "/next"),
    ("{base:http-localhost}/x?y=1", "http-localhost", "/x?y=1"),
    ("{base:https}/secure", "https", "/secure"),
    ("{base}/same", "http", "/same"),
])
def test_location_names_another_server(servers: Servers, location: str, name: str, tail: str) -> None:
    """A real server fills a Location with another named server's origin and this cell's prefix."""
    route = servers.registry.open(Script(default=Reply(302, headers=(("Location", location),))))
    try:
        http = servers.server("http").origin
        response = exchange(http, f"GET {route.prefix}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    finally:
        servers.registry.close(route)
    assert response.startswith(b"HTTP/1.1 302")
    assert header(response, "Location") == servers.server(name).origin + route.prefix + tail


@pytest.mark.parametrize(("server", "host", "expected", "summary"), [
    ("127.0.0.7:80", "127.0.0.7", "no-port", "Host: <host>"),
    ("127.0.0.180:80", "127.0.0.180", "no-port", "Host: <host>"),        # "80" inside the address
    ("127.0.0.80:80", "127.0.0.80:80", "no-port", "Host: <host>:<port>"),
    ("127.0.0.1:8080", "127.0.0.1:8080", "with-port", "Host: <host>:<port>"),
    ("127.0.0.1:41280", "127.0.0.1:41280", "with-port", "Host: <host>:<port>"),
])
def test_host_summary_elides_host_and_port_whatever_the_address(
        server: str, host: str, expected: str, summary: str) -> None:
    from model.cell import Capture, Observation
    from suites.test_methods import host_is

    sent = Capture("GET", "/", "HTTP/1.1", (("Host", host),), b"", "none", b"", server=server)
    result = host_is(expected)(Observation(sent=(sent,)))
    assert result.summary == summary
