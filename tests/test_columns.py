"""Columns in environments (issue 8): the runner protocol, runner processes that crash or
hang, an environment that cannot be built, the same client in a runner and in-process,
two versions of one library as two columns, and what a runner imports.

Runners here run real calls against the session's fixture servers. The environments the
version test needs are built once by uv into .envs/ and reused (the first run on a fresh
machine builds them, in about a second from a warm uv cache); without the registry that
test is skipped with uv's reason.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from fixtures import envs
from fixtures import runner as runner_mod
from fixtures.adapter import GRACE
from fixtures.cell import run_cell
from fixtures.columns import Columns, compared
from fixtures.runner import RemoteAdapter
from matrix.report import Matrix, glyph
from matrix.terminal import labels
from model.cell import Call, Cell, Expected, Failure, Got, Part, WsCall
from model.protocol import Result, call_from_json, call_to_json, result_from_json, result_to_json
from model.scenario import Scenario
from servers import Servers
from suites import (
    test_encoding,
    test_framing,
    test_h2,
    test_headers,
    test_methods,
    test_redirects,
    test_status,
    test_tls,
    test_ws,
)

pytestmark = pytest.mark.selftest


def scenario(sid: str) -> Scenario:
    for module in (test_status, test_redirects, test_framing, test_encoding, test_headers, test_methods, test_tls,
                   test_ws, test_h2):
        for s in module.SCENARIOS:
            if s.id == sid:
                return s
    raise LookupError(sid)


def ca(servers: Servers) -> str | None:
    return servers.certs.ca_file if servers.certs else None


# -- the protocol ---------------------------------------------------------------------


def test_protocol_round_trip_keeps_every_field() -> None:
    call = Call("POST", "/p", url="http://127.0.0.1:1/c/t1/p", headers=(("X-A", "1"), ("x-a", "2")),
                body=b"\x00\xffbin", stream=True, params={"q": ["a", "b"]}, follow_redirects=False, timeout=0.2,
                trust="ca", client_cert=("c.pem", "k.pem"), then=(Call("GET", "/next", body=b"2"),),
                origin="https", ws=WsCall(send=("t\u00e9xt", b"\x01\x02"), receive=2, subprotocols=("chat",),
                                         compression=True, max_size=10, report_defaults=True),
                cookie_store=True, trust_env=True, text=True, lookup=("Set-Cookie",), read_cap=99,
                report_timeouts=True, json={"a": [1, 2.5, None, "x"], "\0bytes": "not a tag"},
                form=(("a", "1"), ("a", "2")), files=(Part("f", b"\x00\x01", "f.bin", "application/octet-stream"),),
                auth=("user", "pass"), digest=True, header_values=(("X-Int", 5), ("X-Bytes", b"\xff"), ("X-None", None)),
                lines=True, proxy="http://127.0.0.1:1")
    assert call_from_json(json.loads(json.dumps(call_to_json(call)))) == call

    got = Got(200, "OK", (("Content-Type", "text/plain"), ("Set-Cookie", "a=1")), b"\x00\x01\xfe", (301, 302),
              "http://x/", {"ws": {"messages": [{"type": "text", "len": 2}]}, "lookup": {"a": None}},
              text="bad \udcff byte")
    result = Result(got=got, failure=Failure("invalid-chunk", "niquests.exceptions.ChunkedEncodingError", "m"),
                    bug=None, options={"verify": False}, elapsed=0.25, timed_out=False, unsupported=None)
    back = result_from_json(json.loads(json.dumps(result_to_json(result))))
    assert back == result
    assert back.got is not None and back.got.body == b"\x00\x01\xfe" and back.got.text == "bad \udcff byte"
    # a wrong answer is seen: a changed body does not compare equal
    wrong = json.loads(json.dumps(result_to_json(result)))
    wrong["got"]["body"]["b64"] = "AAAA"
    assert result_from_json(wrong) != result


# -- the same cells in a runner and in-process -------------------------------------------


ROWS = ("status.200", "status.404", "redirect.302.post", "chunked.invalid-size", "framing.cl-short",
        "encoding.gzip", "headers.duplicate", "methods.post-generator", "tls.trusted-ca", "tls.default-untrusted",
        "tls.client-cert")


def test_a_runner_gives_the_cells_of_in_process(servers: Servers) -> None:
    from fixtures.clients.requests import Adapter as Requests

    local = Requests(ca(servers))
    remote = RemoteAdapter("requests", "fixtures.clients.requests", sys.executable, ca(servers))
    try:
        remote.start()
        for sid in ROWS:
            a = run_cell(scenario(sid), "requests", local, servers).cell
            b = run_cell(scenario(sid), "requests", remote, servers).cell
            assert (b.verdict, b.summary) == (a.verdict, a.summary), sid
            assert b.observed is not None and a.observed is not None
            assert b.observed["error"] == a.observed["error"] or sid.startswith("tls."), sid  # messages hold ports
            assert b.observed["got"] is None or b.observed["got"]["body_len"] == a.observed["got"]["body_len"]
        assert remote.started == 1  # one runner served every cell
    finally:
        remote.close()
        local.close()


def test_a_websocket_transcript_crosses_the_runner(servers: Servers) -> None:
    from fixtures.clients.websockets_sync import Adapter as WsSync

    local = WsSync(ca(servers))
    remote = RemoteAdapter("websockets-sync", "fixtures.clients.websockets_sync", sys.executable, ca(servers))
    try:
        for sid in ("ws.fragmented-text", "ws.masked-server-frame", "ws.wss-trusted"):
            a = run_cell(scenario(sid), "websockets-sync", local, servers).cell
            b = run_cell(scenario(sid), "websockets-sync", remote, servers).cell
            assert (b.verdict, b.summary) == (a.verdict, a.summary), sid
            assert b.observed and a.observed and b.observed["got"]["extra"]["ws"] == a.observed["got"]["extra"]["ws"]
    finally:
        remote.close()
        local.close()


def test_an_h2_column_in_a_runner_is_the_registrys_variant(servers: Servers) -> None:
    """``httpx-h2@0.27.2`` runs httpx's module with the registry's h2 switch on, in a runner."""
    from fixtures import clients as registry

    local = registry.load("httpx-h2")(ca(servers))
    remote = RemoteAdapter("httpx-h2", "fixtures.clients.httpx", sys.executable, ca(servers))
    try:
        for sid in ("h2.alpn", "h2.preface"):
            a = run_cell(scenario(sid), "httpx-h2", local, servers).cell
            b = run_cell(scenario(sid), "httpx-h2", remote, servers).cell
            assert (b.verdict, b.summary) == (a.verdict, a.summary), sid
            assert (b.observed or {}).get("options", {}).get("http2") is True, b.observed
    finally:
        remote.close()
        local.close()


@pytest.mark.parametrize("client, module, helpers", [
    ("urllib", "urllib", set()),
    # the hand-written WebSocket client: the frame codec is the model's (model/frames.py), no server
    ("socket-ws", "socket_ws", {"fixtures.ws", "fixtures.clients.socket"}),
])
def test_a_runner_imports_the_model_and_one_adapter_only(client: str, module: str, helpers: set[str]) -> None:
    remote = RemoteAdapter(client, f"fixtures.clients.{module}", sys.executable, None)
    try:
        modules = remote.imported()
    finally:
        remote.close()
    ours = sorted(m for m in modules if m.split(".")[0] in ("model", "fixtures", "servers", "matrix", "suites",
                                                             "tests", "conftest"))
    assert not [m for m in modules if m.split(".")[0] in ("pytest", "_pytest", "xdist", "servers", "matrix", "suites",
                                                          "tests", "conftest", "trustme")], ours
    clients = [m for m in ours if m.startswith("fixtures.clients.")]
    assert set(clients) == {f"fixtures.clients.{module}"} | {h for h in helpers if h.startswith("fixtures.clients.")}
    allowed = {"fixtures", "fixtures.adapter", "fixtures.reading", "fixtures.runner", "fixtures.zygote", "fixtures.clients",
               f"fixtures.clients.{module}", *helpers}
    assert {m for m in ours if not m.startswith("model.") and m != "model"} <= allowed, ours


# -- runners that crash or hang ------------------------------------------------------------


@pytest.fixture
def steer(tmp_path: Path) -> Path:
    path = tmp_path / "mode"
    path.write_text("ok")
    return path


def test_a_runner_that_crashes_mid_cell_is_an_error_and_the_next_cell_is_fine(servers: Servers, steer: Path) -> None:
    remote = RemoteAdapter("runner-test", "tests.runner_clients", sys.executable, str(steer))
    row = scenario("status.200")
    try:
        assert run_cell(row, "runner-test", remote, servers).cell.verdict == "pass"
        steer.write_text("crash")
        cell = run_cell(row, "runner-test", remote, servers).cell
        assert cell.verdict == "error" and "exited mid-cell (exit status 3" in cell.summary, cell.summary
        steer.write_text("ok")
        assert run_cell(row, "runner-test", remote, servers).cell.verdict == "pass"
        assert remote.started == 2  # the next cell got a fresh runner
    finally:
        remote.close()


def test_a_runner_that_hangs_is_killed_at_the_deadline(servers: Servers, steer: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_mod, "HANG_SLACK", 0.3)
    remote = RemoteAdapter("runner-test", "tests.runner_clients", sys.executable, str(steer))
    row = scenario("status.200")
    deadline = 0.4
    try:
        remote.start()
        steer.write_text("hang")
        start = time.monotonic()
        cell = run_cell(row, "runner-test", remote, servers, deadline).cell
        took = time.monotonic() - start
        assert cell.verdict == "timeout" and "did not answer and was killed" in cell.summary, cell.summary
        assert took < deadline + GRACE + 0.3 + 1.0, took
        steer.write_text("ok")
        assert run_cell(row, "runner-test", remote, servers, deadline).cell.verdict == "pass"
        assert remote.started == 2
    finally:
        remote.close()


def test_a_cell_that_sets_variables_gets_a_runner_started_with_them(servers: Servers, steer: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Some libraries read the environment once per process (niquests caches getproxies()):
    a scenario's variables go to a runner started with them, used for that cell only."""
    remote = RemoteAdapter("runner-test", "tests.runner_clients", sys.executable, str(steer))
    row = scenario("status.200")

    def seen() -> tuple[str | None, str | None]:
        got = (run_cell(row, "runner-test", remote, servers).cell.observed or {})["got"]
        fields = dict(got["headers"])
        return fields.get("X-Runner-Pid"), fields.get("X-Test-Var")

    try:
        clean_pid, value = seen()
        assert value == ""
        monkeypatch.setenv("CLIENTMATRIX_TEST_VAR", "set by the cell")
        own_pid, value = seen()
        assert value == "set by the cell" and own_pid != clean_pid
        monkeypatch.delenv("CLIENTMATRIX_TEST_VAR")
        assert seen() == (clean_pid, "")  # back on the clean runner, which never saw the variable
        assert remote.started == 2
    finally:
        remote.close()


# -- environments --------------------------------------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Environments built into a private folder, not the checkout's .envs/."""
    monkeypatch.setattr(envs, "BUILT", tmp_path / "envs")
    return tmp_path / "envs"


def test_an_environment_that_cannot_be_built_makes_its_columns_unsupported(servers: Servers, scratch: Path) -> None:
    columns = Columns(["urllib@3.99", "requests@file:///nonexistent/clientmatrix-no-such-checkout"])
    said: list[str] = []
    columns.prepare(said.append)
    for client, why in (("urllib@3.99", "no interpreter python3.99"), ("requests@file:///nonexistent/", "")):
        client = next(c for c in columns.clients if c.startswith(client))
        adapter = columns.adapter(client, None)
        assert isinstance(adapter, str) and "cannot be built" in adapter and why in adapter, adapter
        run = run_cell(scenario("status.200"), client, adapter, servers)
        assert run.cell.verdict == "unsupported" and run.skip == adapter
        assert columns.meta(client)["version"] == "not built"
    assert any(line.startswith("clientmatrix: building 2 environment(s)") and "python@3.99" in line for line in said)
    assert len(list(scratch.glob("*.failed"))) == 2  # a worker reads the reason; the next run tries again


def test_a_bad_column_spec_is_a_clear_error() -> None:
    with pytest.raises(envs.EnvError, match="neither a version, a URL nor an existing path"):
        Columns(["requests@no such thing"])
    with pytest.raises(envs.EnvError, match="name a Python version"):
        Columns(["urllib@latest"])


def test_an_environment_is_reused_while_its_lock_is_unchanged() -> None:
    a = envs.Env("x", "/usr/bin/python3", ("niquests==3.21.2",), "test")
    assert a.folder() == envs.Env("x", "/usr/bin/python3", ("niquests==3.21.2",), "test").folder()
    assert a.folder() != envs.Env("x", "/usr/bin/python3", ("niquests==3.21.1",), "test").folder()
    assert a.folder() != envs.Env("x", "/usr/bin/python3.12", ("niquests==3.21.2",), "test").folder()


def test_the_versioned_column_takes_the_pinned_rest() -> None:
    env = envs.for_client("requests@2.31.0", "requests", None)
    assert env is not None and env.requirements[0] == "requests==2.31.0"
    assert {envs.requirement_name(r) for r in env.requirements} == {"requests", "brotli", "zstandard", "h2"}
    assert "urllib3==2.8.0" in env.constraints and not any(r.startswith("requests==") for r in env.constraints)
    assert not any(r.lower().startswith(("pytest", "playwright")) for r in env.constraints)
    url = envs.for_client("httpx@git+https://example.invalid/httpx", "httpx", None)
    assert url is not None and url.requirements[0] == "httpx @ git+https://example.invalid/httpx"
    assert envs.for_client("requests", "requests", None) is None  # pytest's own environment
    sync, asyn = (envs.for_client(f"{c}@0.27.2", "httpx", None) for c in ("httpx", "httpx-async"))
    assert sync is not None and asyn is not None and sync.folder() == asyn.folder()  # one build for both
    niq = envs.for_client("niquests", "niquests", "niquests")
    assert niq is not None and "urllib3-future==2.25.904" in niq.requirements


def test_two_versions_of_one_library_are_two_columns(servers: Servers) -> None:
    columns = Columns(["requests", "requests@2.31.0"])
    columns.prepare(lambda line: None)
    found = columns.status("requests@2.31.0")
    if isinstance(found, envs.Failed):
        pytest.skip(f"cannot build the environment here: {found.reason}")
    metas = [columns.meta(c) for c in columns.clients]
    assert [m["version"] for m in metas] == ["2.34.2", "2.31.0"]
    assert metas[1]["base"] == "requests" and metas[1]["env"] == "requests@2.31.0"
    assert len(set(labels(metas).values())) == 2
    provenance = columns.provenance("requests@2.31.0")
    assert provenance and provenance["distributions"]["requests"] == "2.31.0"
    assert not compared("requests@2.31.0") and compared("requests")
    cells = {}
    for client in columns.clients:
        adapter = columns.adapter(client, ca(servers))
        assert not isinstance(adapter, str), adapter
        try:
            assert run_cell(scenario("redirect.302.post"), client, adapter, servers).cell.verdict == "pass"
            cells[client] = run_cell(scenario("request.default-headers"), client, adapter, servers).cell
        finally:
            adapter.close()
    # each column measured its own version: the User-Agent each one sent says so
    assert "python-requests/2.34.2" in cells["requests"].summary
    assert "python-requests/2.31.0" in cells["requests@2.31.0"].summary


def test_another_versions_difference_is_shown_not_failed() -> None:
    same = Cell("status.200", "requests@2.31.0", "pass", "got 200", expected=Expected("pass", "got 200"))
    changed = Cell("status.200", "requests@2.31.0", "fail", "got 103", expected=Expected("pass", "got 200"))
    assert glyph(same) == "✓" and glyph(changed) == "✗*"
    matrix = Matrix(run={}, clients=[{"id": "requests@2.31.0", "library": "requests", "version": "2.31.0"}],
                    scenarios=[], cells=[same])
    assert matrix.clients[0]["id"] == "requests@2.31.0"


