"""Self-tests of the HTTP/2 server (servers/h2.py) and its sans-I/O core (model/h2wire.py).

Over real loopback sockets with a client of our own, whose every byte we choose: the
capture records each frame the client sent (type, flags, stream, length, SETTINGS values,
WINDOW_UPDATE increments, RST_STREAM and GOAWAY codes) and each request's field block
decoded in order and case; the raw mode sends exactly the row's bytes; floods stop at
their bounds; the urllib3-h2 column never patches the pytest process.
"""

from __future__ import annotations

import socket
import ssl
import time

import hpack
import pytest

from model import h2wire as w
from model.cell import Call
from model.h2script import Flood, H2Raw, H2Reply, H2Script, Wire
from servers import Servers

pytestmark = pytest.mark.selftest


# -- the sans-I/O core --------------------------------------------------------------


@pytest.mark.parametrize(("value", "prefix", "encoded"), [
    (10, 5, b"\x0a"), (1337, 5, b"\x1f\x9a\x0a"), (42, 8, b"\x2a"),  # RFC 7541 C.1.1-C.1.3
])
def test_hpack_integers_are_the_rfc_examples(value: int, prefix: int, encoded: bytes) -> None:
    assert w.integer(value, prefix) == encoded


def test_literals_decode_as_written_uppercase_kept() -> None:
    fields = ((":status", "200"), ("X-Upper", "a b"), ("x-dup", "1"), ("x-dup", "2"))
    assert hpack.Decoder().decode(w.block(fields), raw=True) == [(k.encode(), v.encode()) for k, v in fields]


def test_frames_parse_back_whatever_the_chunking() -> None:
    data = (w.settings(((1, 4096), (4, 1 << 20))) + w.window_update(0, 12345) + w.rst(3, 8) +
            w.goaway(5, 1, b"bye") + w.ping(b"12345678", ack=True) + w.data(1, b"abc", end=True, pad=4))
    parser = w.Parser()
    frames = [f for i in range(0, len(data), 7) for f in parser.feed(data[i:i + 7])]
    assert [(w.frame_name(f.kind), w.flag_names(f.kind, f.flags), f.stream) for f in frames] == [
        ("SETTINGS", (), 0), ("WINDOW_UPDATE", (), 0), ("RST_STREAM", (), 3), ("GOAWAY", (), 0),
        ("PING", ("ACK",), 0), ("DATA", ("END_STREAM", "PADDED"), 1)]
    assert [w.describe(f) for f in frames[:4]] == [
        {"settings": {"HEADER_TABLE_SIZE": 4096, "INITIAL_WINDOW_SIZE": 1 << 20}}, {"increment": 12345},
        {"error": "CANCEL"}, {"last_stream": 5, "error": "PROTOCOL_ERROR", "debug": "bye"}]


def test_the_parser_refuses_a_frame_over_its_limit() -> None:
    with pytest.raises(w.FrameTooLarge):
        w.Parser(limit=100).feed(w.frame(w.DATA, 0, 1, length=101))


# -- the server, with a client whose bytes are ours ------------------------------------


class RawClient:
    """A minimal HTTP/2 client over a plain socket (h2c, prior knowledge): bytes in, frames out."""

    def __init__(self, servers: Servers, origin: str = "h2c") -> None:
        server = servers.server(origin)
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=3)
        if origin != "h2c":
            ctx = ssl.create_default_context(cafile=servers.certs.ca_file if servers.certs else None)
            ctx.set_alpn_protocols(["h2"])
            self.sock = ctx.wrap_socket(self.sock, server_hostname="127.0.0.1")
        self.parser = w.Parser()
        self.frames: list[w.Parsed] = []
        self.raw = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until(self, done: object, seconds: float = 2.0) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not done(self.frames):  # type: ignore[operator]
            try:
                chunk = self.sock.recv(65536)
            except (TimeoutError, OSError):
                return
            if not chunk:
                return
            self.raw += chunk
            self.frames += self.parser.feed(chunk)

    def close(self) -> None:
        self.sock.close()


def request(path: str, *extra: tuple[str, str]) -> bytes:
    return w.block(((":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path),
                    *extra))


def ended(frames: list[w.Parsed]) -> bool:
    return any(f.flags & w.END_STREAM and f.kind in (w.DATA, w.HEADERS) and f.stream == 1 for f in frames)


def test_every_client_frame_and_the_field_block_are_captured(servers: Servers) -> None:
    route = servers.registry.open(H2Script(default=H2Reply(body=b"ok")))
    client = RawClient(servers)
    try:
        client.send(w.PREFACE + w.settings(((2, 0), (4, 1000), (0x4A4A, 9))) + w.window_update(0, 70000))
        client.send(w.headers(1, request(route.prefix + "/x", ("X-Case", "Kept"), ("x-dup", "1"), ("x-dup", "2"))[:30],
                              end_headers=False))
        client.send(w.continuation(1, request(route.prefix + "/x", ("X-Case", "Kept"), ("x-dup", "1"),
                                              ("x-dup", "2"))[30:], end_headers=True))
        client.send(w.data(1, b"abc") + w.data(1, b"de", end=True) + w.ping(b"pingpong") + w.rst(3, 8))
        client.read_until(ended)
        client.send(w.goaway(1, 0, b"done"))
    finally:
        client.close()
        route.settle()
        servers.registry.close(route)
    captures, errors = route.snapshot()
    assert not errors and len(captures) == 1
    c = captures[0]
    assert (c.method, c.version, c.body, c.framing) == ("POST", "HTTP/2", b"abcde", "data")
    assert c.headers == ((":method", "POST"), (":scheme", "http"), (":authority", "127.0.0.1"),
                         (":path", route.prefix + "/x"), ("X-Case", "Kept"), ("x-dup", "1"), ("x-dup", "2"))
    assert c.h2 is not None and c.h2.ended == "END_STREAM" and c.h2.stream == 1 and c.h2.preface == "ok"
    seen = [(f.type, f.flags, f.stream, f.detail) for f in c.h2.frames]
    assert seen[:4] == [
        ("SETTINGS", (), 0, {"settings": {"ENABLE_PUSH": 0, "INITIAL_WINDOW_SIZE": 1000, "0x4a4a": 9}}),
        ("WINDOW_UPDATE", (), 0, {"increment": 70000}),
        ("HEADERS", (), 1, {}),
        ("CONTINUATION", ("END_HEADERS",), 1, {})]
    assert ("DATA", ("END_STREAM",), 1, {}) in seen
    assert ("PING", (), 0, {"opaque": b"pingpong".hex()}) in seen
    assert ("RST_STREAM", (), 3, {"error": "CANCEL"}) in seen
    assert ("GOAWAY", (), 0, {"last_stream": 1, "error": "NO_ERROR", "debug": "done"}) in seen
    assert [f.length for f in c.h2.frames if f.type == "DATA"] == [3, 2]
    # The server's side: its preface SETTINGS first, the PING answered, the answer on stream 1.
    kinds = [(w.frame_name(f.kind), f.flags, f.stream) for f in client.frames]
    assert kinds[0] == ("SETTINGS", 0, 0)
    assert any(f.kind == w.PING and f.flags & w.ACK and f.payload == b"pingpong" for f in client.frames)
    assert any(f.kind == w.DATA and f.stream == 1 and f.payload == b"ok" for f in client.frames)


def test_raw_mode_sends_exactly_the_rows_bytes(servers: Servers) -> None:
    bad = w.headers(1, w.block(((":status", "200"), ("X-Upper", "1"), ("connection", "close")))) + w.data(0, b"zero")
    route = servers.registry.open(H2Script(default=H2Raw((Wire(lambda s: bad),), linger=0.2)))
    client = RawClient(servers)
    try:
        client.send(w.PREFACE + w.settings() + w.headers(1, request(route.prefix + "/"), end_stream=True))
        client.read_until(lambda frames: any(f.kind == w.DATA for f in frames))
    finally:
        client.close()
        route.settle()
        servers.registry.close(route)
    assert bad in client.raw, "the row's bytes arrive as written, uppercase name and stream-0 DATA included"


def test_a_flood_stops_at_its_bound_in_octets(servers: Servers) -> None:
    piece = w.ping(b"floodfld")
    route = servers.registry.open(H2Script(default=H2Raw((Flood(lambda s: piece, count=10**6, max_bytes=17 * 100),),
                                                         linger=0.2)))
    client = RawClient(servers)
    start = time.monotonic()
    try:
        client.send(w.PREFACE + w.settings() + w.headers(1, request(route.prefix + "/"), end_stream=True))
        client.read_until(lambda frames: False, seconds=1.5)
    finally:
        client.close()
        route.settle()
        servers.registry.close(route)
    pings = [f for f in client.frames if f.kind == w.PING and f.payload == b"floodfld"]
    assert len(pings) == 100 and time.monotonic() - start < 2.0


def test_http11_on_the_h2_origin_gets_the_scripts_http1_answer(servers: Servers) -> None:
    import httpx

    route = servers.registry.open(H2Script())
    try:
        r = httpx.get(servers.server("h2c").origin + route.prefix + "/")
        route.settle()
    finally:
        servers.registry.close(route)
    assert (r.http_version, r.content) == ("HTTP/1.1", b"over HTTP/1.1")
    assert route.snapshot()[0][0].version == "HTTP/1.1"


# -- the urllib3-h2 column runs isolated --------------------------------------------


def test_urllib3_h2_never_patches_this_process(servers: Servers) -> None:
    import urllib3
    import urllib3.connection
    import urllib3.util.ssl_

    from fixtures import clients
    from fixtures.cell import run_cell
    from suites.test_h2 import NEGOTIATION

    before = (urllib3.HTTPSConnectionPool.ConnectionCls, urllib3.connection.HTTPSConnection,
              list(urllib3.util.ssl_.ALPN_PROTOCOLS))
    cls = clients.load("urllib3-h2")
    adapter = cls(servers.certs.ca_file if servers.certs else None)
    try:
        cell = run_cell(NEGOTIATION[0], "urllib3-h2", adapter, servers).cell
    finally:
        adapter.close()
    assert cell.verdict == "pass", cell.summary  # h2 was spoken: by the child process
    assert cell.observed and cell.observed["options"]["http2"].startswith("urllib3.http2.inject_into_urllib3()")
    after = (urllib3.HTTPSConnectionPool.ConnectionCls, urllib3.connection.HTTPSConnection,
             list(urllib3.util.ssl_.ALPN_PROTOCOLS))
    assert after == before == (before[0], before[1], ["http/1.1"])


def test_urllib3_h2_refuses_to_inject_outside_its_process() -> None:
    from fixtures.clients import load

    adapter = load("urllib3-h2", isolate=False)(None)
    out = adapter.run(Call("GET", url="https://127.0.0.1:1/"), 2)
    assert isinstance(out.exc, AssertionError), "the patch would reach every urllib3 cell of this process"


# -- the reports say once which clients are not h2 columns ---------------------------------


def test_absent_clients_are_said_once_in_every_report() -> None:
    import json

    from fixtures import clients
    from matrix.files import json_text
    from matrix.report import Matrix, markdown
    from matrix.terminal import render
    from model.cell import Cell

    why = "speaks HTTP/1.1 only"
    matrix = Matrix(clients=[{"id": "httpx-h2", "short": "hx2", "library": "httpx", "version": "0.28.1"}],
                    scenarios=[{"id": "h2.x", "group": "h2", "title": "t", "spec": "RFC 9113", "level": "MUST",
                                "protocol": "h2"}],
                    cells=[Cell("h2.x", "httpx-h2", "pass", "ok")], absent={"h2": {"requests": why}})
    assert Matrix.from_json(json.loads(json_text(matrix))).absent == {"h2": {"requests": why}}
    assert Matrix.from_json({**json.loads(json_text(matrix)), "absent": ["junk"]}).absent == {}
    assert f"- `requests`: {why}" in markdown(matrix)
    assert sum(why in line for line in render(matrix)) == 1
    # Where the controller's list comes from (conftest.Recorder.absent): each adapter's ``lacks``.
    assert all("h2" in clients.load(c).lacks for c in ("socket", "http.client", "urllib", "requests", "aiohttp"))
    assert not any(clients.lacks(c) for c in clients.H2)
    assert not clients.lacks("httpx") and "h2" in clients.lacks("httplib2")


def test_the_html_page_says_the_absent_clients_once_and_keeps_frames() -> None:
    from matrix.html import H2_FRAMES, Interner, page, trim
    from matrix.report import Matrix

    matrix = Matrix(absent={"h2": {"requests": "speaks <HTTP/1.1> only"}})
    text = page(matrix)
    assert text.count("speaks &lt;HTTP/1.1&gt; only") == 1
    frames = [{"type": "PING", "flags": ["ACK"], "stream": 0, "length": 8}] * (H2_FRAMES + 5)
    sent = trim({"sent": [{"method": "GET", "h2": {"frames": frames, "dropped": 2}}]}, Interner())["sent"][0]
    assert len(sent["h2"]["frames"]) == H2_FRAMES and sent["h2"]["dropped"] == 7
