"""Reproducers (matrix.reproduce): the right scheme, the TLS trust spelled out, and
WebSocket snippets that send the scenario's messages and read with a bound; the last
are run against the live echo server."""

from __future__ import annotations

import ast
import random
from typing import Any

import pytest

from fixtures import clients
from matrix.reproduce import TEMPLATES, message_source, row_meta, scheme_of, snippet
from model.cell import Call, WsCall
from model.scenario import Scenario, ok
from servers.frames import WsScript
from suites import test_tls, test_ws

pytestmark = pytest.mark.selftest

WS_CLIENTS = [c for c in TEMPLATES if clients.load(c).family == "ws"]


def meta(scenario: Scenario) -> dict[str, Any]:
    return row_meta(scenario, f"suites/test_x.py::test_scenario[{scenario.id}-x]")


@pytest.mark.parametrize(("origin", "protocol", "scheme"), [
    ("http", "http", "http"), ("http-localhost", "http", "http"), ("https", "http", "https"),
    ("https-expired", "http", "https"), ("https-hello", "http", "https"), ("https-client-cert", "http", "https"),
    ("ws", "ws", "ws"), ("ws-raw", "ws", "ws"), ("wss", "ws", "wss"), ("wss-raw", "ws", "wss"),
])
def test_scheme_follows_the_origin(origin: str, protocol: str, scheme: str) -> None:
    row = {"id": "x.y", "protocol": protocol, "request": {"method": "GET", "path": "/", "origin": origin}}
    assert scheme_of(row) == scheme
    assert f"'{scheme}://" in snippet(row, "websockets" if protocol == "ws" else "requests")


def test_scheme_follows_the_url_the_library_reported() -> None:
    row = {"id": "x.y", "request": {"origin": "http-other"}}
    got = {"url": "https://127.0.0.1:1/x", "history": []}
    assert scheme_of(row, {"observed": {"got": got}}) == "https"
    assert scheme_of(row, {"observed": {"got": {**got, "history": [302]}}}) == "http"  # after a redirect: not the first


@pytest.mark.parametrize("data", [
    "hello", "", b"x" * 125, b"x" * 65536, b"m" * (1 << 20), bytes(range(256)) * 4, "ab" * 100 + "a",
    "κόσμε ☕ 𝄞 ✓" * 30, bytes(range(200)) * 3 + b"!",
], ids=lambda d: f"{type(d).__name__}{len(d)}")
def test_message_source_makes_the_message_again(data: str | bytes) -> None:
    source, whole = message_source(data)
    assert whole and eval(source) == data  # noqa: S307 -- our own expression
    assert len(source) < 3000  # a 1 MiB message too


def test_a_long_irregular_message_is_cut_and_says_so() -> None:
    data = random.Random(1).randbytes(10000)
    source, whole = message_source(data)
    assert not whole and eval(source) == data[:64]  # noqa: S307
    row = meta(Scenario("ws.long", "t", "-", "INFO", lambda o: ok("x"), Call(ws=WsCall(send=(data,))),
                        WsScript(), origin="ws", protocol="ws"))
    assert row["request"]["ws"]["cut"] == [[0, 10000]]
    assert "# cut: the first 64 of 10000" in snippet(row, "websockets")


def messages_of(code: str) -> list[Any]:
    """The MESSAGES a snippet sends, evaluated."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MESSAGES":
            return eval(compile(ast.Expression(node.value), "MESSAGES", "eval"))  # type: ignore[no-any-return]  # noqa: S307
    raise AssertionError("no MESSAGES in the snippet")


@pytest.mark.parametrize("client", WS_CLIENTS)
def test_ws_snippets_send_the_scenarios_messages(client: str) -> None:
    for scenario in test_ws.SCENARIOS:
        code = snippet(meta(scenario), client)
        compile(code, f"{scenario.id}-{client}", "exec")
        assert scenario.request.ws is not None
        assert messages_of(code) == list(scenario.request.ws.send), scenario.id
        assert f"range({scenario.request.ws.receive})" in code
        assert "timeout" in code or "wait_for" in code  # every read is bounded


@pytest.mark.parametrize("client", TEMPLATES)
def test_tls_snippets_name_the_ca_and_client_cert(client: str) -> None:
    for scenario in [*test_tls.SCENARIOS, *test_ws.SCENARIOS]:
        if not scenario.origin.startswith(("https", "wss")) or client not in clients.of_family(scenario.protocol):
            continue
        code = snippet(meta(scenario), client)
        compile(code, f"{scenario.id}-{client}", "exec")
        assert any(tls in code for tls in ("'https://", "'wss://", "wrap_socket", "HTTPSConnection")), scenario.id
        if scenario.request.trust == "ca":
            assert "'ca.pem'" in code and "# ca.pem: " in code, scenario.id
        if scenario.request.client_cert:
            assert "'client.pem'" in code and "'client.key'" in code, scenario.id


def test_a_long_repeated_body_is_described_not_copied() -> None:
    """An 8 MiB upload row: the report holds (byte, count), and every snippet that sends it
    compiles and stays short."""
    row = meta(Scenario("upload.x", "t", "RFC", "INFO", lambda obs: ok(""), Call("POST", body=b"u" * (8 << 20))))
    assert row["request"]["body_repeat"] == ["u", 8 << 20] and "body" not in row["request"]
    for client in [c for c in TEMPLATES if clients.load(c).family == "http"]:
        source = snippet(row, client)
        ast.parse(source)
        assert len(source) < 100_000, client


@pytest.mark.parametrize("client", ["httpx-h2", "httpx-async-h2", "urllib3-h2"])
def test_h2_snippets_turn_http2_on_the_documented_way(client: str) -> None:
    from matrix.reproduce import H2_CLIENTS, SERVE_PORTS
    from suites.test_h2 import NEGOTIATION

    rows = {s.id: row_meta(s, f"suites/test_h2.py::test_scenario[{s.id}-{client}]") for s in NEGOTIATION}
    code = snippet(rows["h2.alpn"], client)
    compile(code, client, "exec")
    assert f"https://127.0.0.1:{SERVE_PORTS['h2']}/" in code and "ca.pem" in code
    if client.startswith("httpx"):
        assert "http2=True" in code and "http1=False" not in code
        prior = snippet(rows["h2.prior-knowledge"], client)
        compile(prior, client, "exec")
        assert "http2=True" in prior and "http1=False" in prior and f"http://127.0.0.1:{SERVE_PORTS['h2c']}/" in prior
    else:
        assert "urllib3.http2.inject_into_urllib3()" in code
    assert H2_CLIENTS[client] in TEMPLATES
