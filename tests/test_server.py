"""Self-tests of the scripted fixture server, driven by a raw socket.

The server is the witness of every cell, so these tests check what it records
(byte-exact), what it sends (exactly the script), and that it survives input no
client should send.
"""

from __future__ import annotations

import socket
import time

import pytest

from model.script import AFTER_END, Close, Hold, Linger, Raw, Reply, Script, Send, Sleep
from servers import Servers
from servers.routes import Route

TIMEOUT = 3.0




def exchange(servers: Servers, data: bytes, name: str = "http") -> bytes:
    """Send raw bytes, read until the server closes (or TIMEOUT)."""
    server = servers.server(name)
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def route(servers: Servers, response: Reply | Raw | Script | None = None) -> Route:
    script = response if isinstance(response, Script) else Script(default=response or Reply(body=b"ok"))
    return servers.registry.open(script)


CAPTURE_CASES = [
    # (id, request bytes after the request line's target, expected method, framing, body, headers)
    ("content-length", b"POST {t} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
     "POST", "content-length", b"abc", [("Host", "x"), ("Content-Length", "3")]),
    ("chunked", b"PUT {t} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;ext=1\r\nc\r\n0\r\n\r\n",
     "PUT", "chunked", b"abc", [("Host", "x"), ("Transfer-Encoding", "chunked")]),
    ("no body, case and order kept", b"get {t} HTTP/1.1\r\nhOsT: x\r\nX-B: 2\r\nx-a: 1\r\n\r\n",
     "get", "none", b"", [("hOsT", "x"), ("X-B", "2"), ("x-a", "1")]),
    ("latin-1 value kept", b"GET {t} HTTP/1.1\r\nHost: x\r\nX-L: caf\xe9\r\n\r\n",
     "GET", "none", b"", [("Host", "x"), ("X-L", "caf\xe9")]),
]


@pytest.mark.parametrize("data,method,framing,body,headers", [c[1:] for c in CAPTURE_CASES],
                         ids=[c[0] for c in CAPTURE_CASES])
def test_capture_is_byte_exact(servers: Servers, data: bytes, method: str, framing: str, body: bytes,
                               headers: list[tuple[str, str]]) -> None:
    r = route(servers)
    raw = data.replace(b"{t}", r.prefix.encode() + b"/p?q=1")
    exchange(servers, raw.replace(b"HTTP/1.1\r\nHost", b"HTTP/1.1\r\nConnection: close\r\nHost", 1))
    r.settle()
    (cap,) = r.captures
    assert (cap.method, cap.framing, cap.body) == (method, framing, body)
    assert cap.target == r.prefix + "/p?q=1"
    assert [h for h in cap.headers if h[0] != "Connection"] == headers
    assert cap.raw.startswith(raw.split(b"\r\n", 1)[0])


def test_keep_alive_serves_several_requests_on_one_connection(servers: Servers) -> None:
    r = route(servers)
    one = f"GET {r.prefix}/a HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    last = f"GET {r.prefix}/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    out = exchange(servers, one + one + last)
    assert out.count(b"HTTP/1.1 200 OK") == 3
    r.settle()
    assert len({c.connection for c in r.captures}) == 1
    assert [c.target[-2:] for c in r.captures] == ["/a", "/a", "/b"]


def test_reply_keeps_header_order_and_case_and_adds_length(servers: Servers) -> None:
    r = route(servers, Reply(201, reason="Made", headers=(("x-Low", "1"), ("X-UP", "2")), body=b"hey"))
    out = exchange(servers, f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert out == b"HTTP/1.1 201 Made\r\nx-Low: 1\r\nX-UP: 2\r\nContent-Length: 3\r\n\r\nhey"


def test_reply_interim_responses_come_first_and_head_has_no_body(servers: Servers) -> None:
    r = route(servers, Reply(200, body=b"body", interim=((103, (("Link", "</a>"),)),)))
    out = exchange(servers, f"HEAD {r.prefix}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert out == b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"


def test_raw_sends_exact_bytes_with_actions_and_closes(servers: Servers) -> None:
    r = route(servers, Raw((b"HTTP/1.1 200 X\r\n", Sleep(0.05), b"Content-Length: 9\r\n\r\nabc", Close())))
    start = time.monotonic()
    out = exchange(servers, f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert out == b"HTTP/1.1 200 X\r\nContent-Length: 9\r\n\r\nabc"
    assert time.monotonic() - start >= 0.05


@pytest.mark.waits(0.6)
def test_linger_keeps_the_connection_for_the_next_request_then_closes(servers: Servers) -> None:
    """``Linger``: the response stays framed by its own length; the connection stays open
    for a next request; with none, the server closes after the linger (never at once)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"
    r = route(servers, Script(default=Raw((head, Linger(0.5)), close=False), routes={"/next": Reply(body=b"n")}))
    server = servers.server("http")
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.1)
        sock.sendall(f"GET {r.prefix}/next HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.1)
        assert sock.recv(65536).endswith(b"\r\n\r\nn")  # both answered on one connection
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        start = time.monotonic()
        sock.sendall(f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
        assert out == head and time.monotonic() - start >= 0.4


def test_linger_sends_bytes_after_the_end_to_a_client_that_closes(servers: Servers) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"
    r = route(servers, Raw((head, Linger(5.0)), close=False))
    out = exchange(servers, f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert out == head + AFTER_END


def test_placeholders_point_back_at_the_cell(servers: Servers) -> None:
    r = route(servers, Reply(302, headers=(("Location", "{base}/next"),)))
    out = exchange(servers, f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert f"Location: {servers.server('http').origin}{r.prefix}/next".encode() in out


def test_routes_by_sub_path(servers: Servers) -> None:
    r = route(servers, Script(default=Reply(body=b"default"), routes={"/next": Reply(body=b"next")}))
    out = exchange(servers, f"GET {r.prefix}/next?x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert out.endswith(b"next")


def test_hold_is_bounded_and_abort_cuts_the_connection(servers: Servers) -> None:
    r = route(servers, Raw((Send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), Hold(5.0))))
    server = servers.server("http")
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.1)
        start = time.monotonic()
        r.abort()
        out = b""
        try:
            while chunk := sock.recv(1024):
                out += chunk
        except ConnectionResetError:
            pass
        assert time.monotonic() - start < 1.0
    assert out.endswith(b"ab")


GARBAGE = [
    ("not http", b"\x16\x03\x01\x00\xa5garbage\r\n\r\n"),
    ("half a request", b"GET /c/t999999/ HTTP/1.1\r\nHost:"),
    ("bad content-length", b"POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
    ("bad chunk size", b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
    ("header without colon", b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n"),
    ("nothing at all", b""),
]


@pytest.mark.parametrize("data", [g[1] for g in GARBAGE], ids=[g[0] for g in GARBAGE])
def test_server_survives_garbage(servers: Servers, data: bytes) -> None:
    out = exchange(servers, data)
    assert out in (b"",) or out.startswith(b"HTTP/1.1 400")
    # ... and still serves the next client normally
    r = route(servers)
    ok = exchange(servers, f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert ok.endswith(b"\r\n\r\nok")


def test_unparseable_request_is_captured_on_its_cell(servers: Servers) -> None:
    r = route(servers)
    exchange(servers, f"POST {r.prefix}/ HTTP/1.1\r\nContent-Length: zz\r\n\r\n".encode())
    r.settle()
    (cap,) = r.captures
    assert cap.framing == "invalid" and "content-length" in cap.problem


def test_expect_100_continue_is_answered_before_the_body(servers: Servers) -> None:
    r = route(servers)
    server = servers.server("http")
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(f"POST {r.prefix}/ HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     "Content-Length: 2\r\nConnection: close\r\n\r\n".encode())
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"hi")
        assert sock.recv(1000).endswith(b"ok")


def test_https_server_speaks_tls_with_the_run_ca(servers: Servers) -> None:
    import ssl

    assert servers.certs is not None
    ctx = ssl.create_default_context(cafile=servers.certs.ca_file)
    r = route(servers)
    server = servers.server("https")
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            sock.sendall(f"GET {r.prefix}/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            out = b""
            while chunk := sock.recv(4096):
                out += chunk
    assert out.endswith(b"ok")
