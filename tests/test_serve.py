"""``python -m matrix serve ROW``: a reproducer copied from a report runs against it as printed.

The snippets are the report's own (``matrix.reproduce.snippet`` on a real cell, as the
HTML page and ``show ROW CLIENT`` print them); the server is the command a user runs, in
a subprocess, on its fixed loopback ports. Consecutive tests of one row share its serve
process (``served``): one serve per row, not per client, and still one serve at a time.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from fixtures import clients
from matrix.report import Matrix
from matrix.reproduce import TEMPLATES, row_meta, snippet
from suites import test_tls, test_ws

pytestmark = pytest.mark.selftest
#: What a test with a reproducer costs (a new interpreter, and a serve when the row changes).
SLOW = pytest.mark.cost(0.4)

ROOT = Path(__file__).resolve().parent.parent
#: Bounds: the server lives at most this long; a reproducer gets this long.
SERVE_SECONDS, RUN_SECONDS = 60, 30


@contextmanager
def ports_held() -> Iterator[None]:
    """The serve ports are fixed: one serve at a time on this machine (xdist workers, other checkouts)."""
    with open(Path(tempfile.gettempdir()) / "clientmatrix-serve-test.lock", "a+") as lock:
        deadline = time.monotonic() + 120
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def serve(row: str) -> Iterator[dict[str, str]]:
    """Start the serve command; yield what it printed before "ready" (url, trust folder)."""
    with ports_held(), _serve(row) as printed:
        yield printed


@contextmanager
def _serve(row: str) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "matrix", "serve", row, "--seconds", str(SERVE_SECONDS)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        for line in proc.stdout:
            key, _, value = line.strip().partition(":")
            if key in ("url", "trust"):
                printed[key] = value.strip()
            if line.startswith("ready") or time.monotonic() > deadline:
                break
        assert "url" in printed, proc.stderr.read() if proc.stderr else ""
        yield printed
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        printed["after"] = out
    assert "stopped" in printed["after"], f"serve {row} did not say it stopped: {printed['after'][-500:]!r}"


class Served:
    """The serve process of the row the last test asked for, kept open for the next test of that
    row (starting one costs an interpreter and the row's servers). Opening another row stops it
    first: the ports are fixed, so one serve at a time."""

    def __init__(self) -> None:
        self.row: str | None = None
        self.printed: dict[str, str] = {}
        self.stack = ExitStack()

    def at(self, row: str) -> dict[str, str]:
        if row != self.row:
            self.close()
            self.printed = self.stack.enter_context(serve(row))
            self.row = row
        return self.printed

    def close(self) -> None:
        """Stop the serve process (checks that it said it stopped)."""
        self.row = None
        self.stack.close()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    shared = Served()
    yield shared
    shared.close()


def run(code: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=RUN_SECONDS, env={**os.environ, "NO_PROXY": "*"})


@SLOW
@pytest.mark.parametrize(("client", "shows"), [("requests", "103 Early Hints"), ("httpx", "200 OK"),
                                               ("socket", "HTTP/1.1 103")])
def test_a_reports_reproducer_runs_against_serve(real_matrix: Matrix, served: Served, client: str,
                                                shows: str) -> None:
    row = next(s for s in real_matrix.scenarios if s["id"] == "status.103-early-hints")
    cell = real_matrix.cell(row["id"], client)
    assert cell is not None
    code = snippet(row, client, cell.to_json())
    printed = served.at(row["id"])
    assert printed["url"].startswith("http://127.0.0.1:")
    done = run(code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert shows in done.stdout, done.stdout


@SLOW
def test_a_tls_reproducer_runs_from_the_trust_folder(served: Served) -> None:
    """A serve of its own: it checks what stopping removes."""
    served.close()
    scenario = next(s for s in test_tls.SCENARIOS if s.id == "tls.trusted-ca")
    row = row_meta(scenario, "suites/test_tls.py::test_scenario[tls.trusted-ca-requests]")
    code = snippet(row, "requests")
    assert "verify='ca.pem'" in code
    with serve(scenario.id) as printed:
        folder = printed["trust"].split(" ")[0]
        assert (Path(folder) / "ca.pem").exists() and (Path(folder) / "client.key").exists()
        done = run(code, cwd=folder)
        elsewhere = run(code, cwd=str(ROOT))  # without our CA file: a clear failure, not a pass
    assert done.returncode == 0 and "200 OK" in done.stdout, done.stderr[-2000:]
    assert elsewhere.returncode != 0
    assert not Path(folder).exists(), "the trust folder is removed when serve stops"


def test_an_unknown_row_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    """Through ``main(argv)`` in this process: the error comes before any server or port (a new
    interpreter for ``python -m matrix`` is tests/test_cli.py's end-to-end run)."""
    from matrix.__main__ import main

    code = main(["serve", "status.2000"])
    err = capsys.readouterr().err
    assert code == 2 and "no row 'status.2000'" in err and "status.200" in err


WS_CLIENTS = [c for c in TEMPLATES if clients.load(c).family == "ws"]


@SLOW
@pytest.mark.parametrize("client", WS_CLIENTS)
@pytest.mark.parametrize("row_id", ["ws.echo.text", "ws.wss-trusted"])
def test_a_websocket_reproducer_echoes_on_serve(served: Served, client: str, row_id: str) -> None:
    """The snippet, run as a user would (TLS: from the trust folder), echoes on the served row."""
    if clients.load(client).missing():
        pytest.skip(f"{client}: {clients.load(client).missing()}")
    scenario = next(s for s in test_ws.SCENARIOS if s.id == row_id)
    code = snippet(row_meta(scenario, f"suites/test_ws.py::test_scenario[{row_id}-{client}]"), client)
    done = run(code, cwd=served.at(row_id)["trust"].split(" ")[0])
    assert done.returncode == 0, done.stderr[-800:]
    assert "hello" in done.stdout, done.stdout


@SLOW
@pytest.mark.parametrize("client", ["httpx-h2", "urllib3-h2"])
def test_an_h2_reproducer_speaks_http2_to_serve(served: Served, client: str) -> None:
    """The h2 rows' server on its fixed port; the snippet turns HTTP/2 on as printed."""
    from suites import test_h2

    scenario = next(s for s in test_h2.SCENARIOS if s.id == "h2.alpn")
    row = row_meta(scenario, f"suites/test_h2.py::test_scenario[h2.alpn-{client}]")
    code = snippet(row, client) + "\nprint('version', getattr(r, 'http_version', None) or r.version_string)\n"
    done = run(code, cwd=served.at(scenario.id)["trust"].split(" ")[0])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "200" in done.stdout and "version HTTP/2" in done.stdout, done.stdout
