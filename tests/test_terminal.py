"""The terminal: 100 columns with 14 clients (8 HTTP + 6 WebSocket), security rows once and first,
the scorecard and the notable rows by default, and ``python -m matrix show`` with its filters."""

from __future__ import annotations

import subprocess
from pathlib import Path

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


def test_security_rows_are_printed_once() -> None:
    lines = render(synthetic(), width=100)
    assert sum("request.crlf-injection" in line for line in lines) == 1
    assert sum("ws.mask.server-masked" in line for line in lines) == 1


def graded() -> Matrix:
    """Three rows: all pass alike, one warn, verdicts differ (pass vs unsupported does not count)."""
    clients = [{"id": c, "library": c, "version": "1"} for c in ("a", "b", "c")]
    rows = [{"id": f"g.{n}", "group": "g", "title": n, "spec": "RFC 1", "level": "MUST" if n != "w" else "SHOULD",
             "protocol": "http", "security": n == "w"} for n in ("same", "w", "unsup", "exp")]
    cells = [Cell("g.same", c, "pass", "x") for c in ("a", "b", "c")]
    cells += [Cell("g.w", "a", "pass", "x"), Cell("g.w", "b", "warn", "y"), Cell("g.w", "c", "pass", "x")]
    cells += [Cell("g.unsup", "a", "pass", "x"), Cell("g.unsup", "b", "unsupported", "no"),
              Cell("g.unsup", "c", "pass", "x")]
    cells += [Cell("g.exp", c, "pass", "x", outcome="failed" if c == "c" else "passed") for c in ("a", "b", "c")]
    return Matrix(run={}, clients=clients, scenarios=rows, cells=cells)  # type: ignore[arg-type]


def test_by_default_the_scorecard_and_the_notable_rows() -> None:
    lines = render(graded(), width=80, full=False)
    text = "\n".join(lines)
    assert lines[0].startswith("scorecard") and "MUST" in lines[0] and "SHOULD" in lines[0]
    b = next(line for line in lines if line.startswith("b "))
    assert b.split()[1:] == ["0", "1", "1", "1", "0", "4"]  # MUST, SHOULD, security, unsupported, timeouts, cells
    assert "g.w" in text and "g.exp" in text, "a warn, and a cell that differs from its expectation"
    assert "g.same" not in text and "g.unsup" not in text
    assert "2 more rows" in text and "--full-table" in text
    assert max(len(line) for line in lines) <= 80
    assert "g.same" in "\n".join(render(graded(), width=80, full=True))


def test_keyword_expressions() -> None:
    from matrix.terminal import keyword_match

    assert keyword_match("redirect and not 303", "redirect.302.post")
    assert not keyword_match("redirect and not 303", "redirect.303.post")
    assert keyword_match("(status or ws) and 10", "status.103")
    with pytest.raises(ValueError, match="parenthesis"):
        keyword_match("(status", "status.103")


def show(capsys: pytest.CaptureFixture[str], *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    """``python -m matrix show ARGS`` through ``main(argv)`` in this process (a new interpreter is
    tests/test_cli.py's end-to-end run); stdout is captured, so not a terminal, as in a pipe."""
    from matrix.__main__ import main

    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        code = main(["show", *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["show", *args], code, out, err)


@pytest.fixture(scope="module")
def matrix_file(real_matrix: Matrix, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from matrix.files import write

    folder = tmp_path_factory.mktemp("show")
    write(real_matrix, folder)
    return folder / "matrix.json"


def test_show_filters_width_and_colour(matrix_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = show(capsys, str(matrix_file), "-k", "103 or 404", "--clients", "requests,urllib", "--width", "60",
             "--color", "never")
    assert r.returncode == 0, r.stderr
    rows = [line.split()[0] for line in r.stdout.splitlines() if line.startswith("  status.")]
    assert rows == ["status.404", "status.103-early-hints"] or sorted(rows) == ["status.103-early-hints", "status.404"]
    head = next(line for line in r.stdout.splitlines() if line.startswith("HTTP clients"))
    assert head.split()[2:] == ["urll", "reqs"]
    assert max(len(line) for line in r.stdout.splitlines()) <= 60 and "\x1b[" not in r.stdout
    coloured = show(capsys, str(matrix_file), "-k", "103", "--color", "always")
    assert "\x1b[1;31m" in coloured.stdout  # a fail, in red
    auto = show(capsys, str(matrix_file), "-k", "103", env={"NO_COLOR": "1"})
    assert "\x1b[" not in auto.stdout  # not a terminal (and NO_COLOR): plain
    failing = show(capsys, str(matrix_file), "--verdict", "fail", "--clients", "requests")
    assert "status.103-early-hints" in failing.stdout and "status.200 " not in failing.stdout
    bad = show(capsys, str(matrix_file), "--clients", "reqeusts")
    assert bad.returncode == 2 and "reqeusts" in bad.stderr


def test_show_one_cell_prints_both_sides(matrix_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = show(capsys, str(matrix_file), "status.103-early-hints", "requests", "--color", "never")
    assert r.returncode == 0, r.stderr
    for words in ("client sent (1 request)", "Host: 127.0.0.1:", "server sent", "HTTP/1.1 103 Early Hints\\r\\n",
                  "got: 103 Early Hints", "verdict: ✗ fail: got 103", "serve this row: python -m matrix serve",
                  "import requests"):
        assert words in r.stdout, words
    missing = show(capsys, str(matrix_file), "status.103-early-hints", "nope")
    assert missing.returncode == 2 and "no cell" in missing.stderr


def test_control_characters_in_a_matrix_stay_inert() -> None:
    """A stranger's matrix.json cannot move the cursor or retitle the terminal through show."""
    from matrix.terminal import cell_lines

    evil = "x\x1b]0;pwned\x07\x1b[2J\r\x9b"
    clients = [{"id": "c" + evil, "short": evil, "library": evil, "version": evil}]
    rows = [{"id": "g.r" + evil, "group": "g" + evil, "title": evil, "spec": evil, "level": "MUST", "protocol": "http",
             "response": [{"when": evil, "steps": [{"send": evil}, {evil: evil}]}]}]
    obs = {"sent": [{"method": evil, "target": evil, "headers": [[evil, evil]], "framing": evil, "body_len": 1,
                     "server": evil}], "got": {"status": 200, "reason": evil, "headers": [[evil, evil]], "body_len": 0},
           "error": {"kind": evil, "type": evil, "message": evil}, "options": {evil: evil}}
    matrix = Matrix(clients=clients, scenarios=rows,
                    cells=[Cell("g.r" + evil, "c" + evil, "fail", evil, obs)])  # type: ignore[arg-type]
    for lines in (render(matrix, width=100, full=True), render(matrix, width=100, full=False),
                  cell_lines(matrix, "g.r" + evil, "c" + evil)):
        text = "\n".join(lines)
        assert not any(ch in text for ch in "\x1b\x07\r\x9b"), [line for line in lines if "\x1b" in line]
        assert "\\x1b]0;pwned" in text
