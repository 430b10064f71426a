"""The terminal summary: 100 columns with 14 clients (8 HTTP + 6 WebSocket), security apart."""

from __future__ import annotations

import pytest

from matrix.report import Matrix
from matrix.terminal import labels, render
from model.cell import Cell

pytestmark = pytest.mark.selftest

HTTP = ["socket", "http.client", "urllib", "requests", "httpx", "httpx-async", "aiohttp", "urllib3"]
WS = ["websockets", "websockets-sync", "aiohttp-ws", "websocket-client", "wsproto", "socket-ws"]

SHORT = dict(zip(HTTP + WS, "sock hcli urll reqs htpx hxas aioh ulb3 wsks wsky aiow wscl wspr skws".split(), strict=True))


def synthetic(http: list[str] = HTTP, ws: list[str] = WS) -> Matrix:
    """A writer-test matrix: made-up cells, real shapes."""
    clients = [{"id": c, "short": SHORT.get(c, c[:4]), "library": c, "version": "1.2.3", "mode": "sync"}
               for c in http + ws]
    scenarios = [
        {"id": "status.200", "group": "status", "title": "t", "spec": "RFC", "level": "MUST", "protocol": "http"},
        {"id": "request.crlf-injection-in-a-rather-long-scenario-identifier-that-needs-cutting", "group": "request",
         "title": "t", "spec": "RFC", "level": "MUST", "protocol": "http", "security": True},
        {"id": "ws.close.4000-reason", "group": "ws", "title": "t", "spec": "RFC", "level": "MUST", "protocol": "ws"},
        {"id": "ws.mask.server-masked", "group": "ws", "title": "t", "spec": "RFC", "level": "MUST", "protocol": "ws",
         "security": True},
    ]
    verdicts = ["pass", "fail", "warn", "info", "unsupported", "timeout", "error"]
    cells = []
    for s in scenarios:
        family = http if s["protocol"] == "http" else ws
        for i, c in enumerate(family):
            cells.append(Cell(s["id"], c, verdicts[i % 7], "x", outcome="failed" if i == 2 else "passed"))  # type: ignore[arg-type]
    return Matrix(run={}, clients=clients, scenarios=scenarios, cells=cells)


def test_fourteen_clients_fit_in_100_columns() -> None:
    lines = render(synthetic(), width=100)
    assert max(len(line) for line in lines) <= 100
    text = "\n".join(lines)
    assert "HTTP clients" in text and "WS clients" in text
    http_head = next(line for line in lines if line.startswith("HTTP clients"))
    ws_head = next(line for line in lines if line.startswith("WS clients"))
    assert "sock" in http_head and "ulb3" in http_head and "wsks" not in http_head
    assert "skws" in ws_head and "aiow" in ws_head and "reqs" not in ws_head
    assert "§" in text and "legend:" in text and "ws.close.4000-reason" in text


def test_security_rows_come_first_in_each_family() -> None:
    lines = render(synthetic(), width=100)
    first = lines.index("security")
    assert "§request.crlf" in lines[first + 1] and lines[first + 2] == "status"


def test_many_columns_wrap() -> None:
    many = [f"client{i}" for i in range(30)]
    lines = render(synthetic(http=many, ws=WS), width=100)
    assert max(len(line) for line in lines) <= 100
    heads = [line for line in lines if line.startswith("HTTP clients")]
    assert len(heads) == 3 and "(1-14 of 30)" in heads[0]


def test_narrow_terminal() -> None:
    lines = render(synthetic(), width=60)
    assert max(len(line) for line in lines) <= 60


def test_labels_are_unique() -> None:
    clients = [{"id": f"requests@2.{i}", "short": "reqs"} for i in range(3)] + [{"id": "httpx", "short": "htpx"}]
    names = labels(clients)
    assert len(set(names.values())) == 4 and all(len(n) <= 4 for n in names.values())
