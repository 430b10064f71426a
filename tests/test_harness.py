"""Self-tests of the harness: error mapping through real calls, the cell deadline,
a missing library, the per-cell environment, and grading.

Every exception here comes from a real call through a real adapter to a real
local socket: the mapping is tested against what the libraries really raise.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from fixtures import clients
from fixtures.adapter import Adapter, header_dict
from fixtures.cell import environment, run_cell
from model.cell import ERROR_KINDS, Call, Failure, Got, Observation
from model.errors import classify
from model.scenario import Scenario, grade, ok
from model.script import Hold, Raw, Reply, Send
from servers import Servers

HTTP_CLIENTS = clients.of_family("http")




def adapter_for(client: str, servers: Servers, adapters: Any) -> Adapter:
    """A fresh in-process adapter, or for a column in its own environment the session's
    (a runner of that environment)."""
    cls = clients.load(client)
    if cls.env is None:
        if cls.missing():
            pytest.skip(f"{client}: {cls.missing()}")
        return cls(servers.certs.ca_file if servers.certs else None)
    adapter = adapters.get(client)
    if isinstance(adapter, str):
        pytest.skip(f"{client}: {adapter}")
    return adapter


@pytest.mark.waits(0.4)
@pytest.mark.parametrize("client", HTTP_CLIENTS)
def test_a_hung_client_is_recorded_as_timeout_within_the_deadline(client: str, servers: Servers, adapters: Any) -> None:
    hang = Scenario("selftest.hang", "server sends half a body, then holds", "-", "MUST", lambda o: ok("done"),
                    Call("GET"), Raw((Send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"), Hold(5.0))))
    adapter = adapter_for(client, servers, adapters)  # made (and its library imported) before the clock starts
    start = time.monotonic()
    run = run_cell(hang, client, adapter, servers, deadline=0.3)
    assert run.cell.verdict == "timeout"
    assert run.cell.summary == "no answer within the cell deadline"
    assert time.monotonic() - start < 0.3 + 1.5  # deadline + grace + settle


def test_a_missing_library_is_unsupported_not_a_crash(servers: Servers) -> None:
    base = clients.load("requests")

    class Absent(base):  # type: ignore[valid-type,misc]
        modules = ("clientmatrix_no_such_library",)

    reason = Absent.missing()
    from fixtures.pins import pinned

    assert reason == ("not installed: the module clientmatrix_no_such_library cannot be imported; install the "
                      f"pinned version with python -m pip install {pinned('requests')}.")
    assert str(pinned("requests")).startswith("requests==2.")
    scenario = Scenario("selftest.any", "t", "-", "MUST", lambda o: ok("x"))
    run = run_cell(scenario, "requests", reason, servers)
    assert (run.cell.verdict, run.skip) == ("unsupported", reason)


def test_a_library_too_new_for_this_python_says_so() -> None:
    base = clients.load("httpx2")

    class Future(base):  # type: ignore[valid-type,misc]
        python = (99, 0)

    assert Future.missing() == "the pinned httpx2 needs Python >= 99.0 (its Requires-Python): not installed here"

    class Now(base):  # type: ignore[valid-type,misc]
        python = (3, 10)
        modules = ("json",)

    assert Now.missing() is None


def test_the_curl_columns_record_their_libcurl() -> None:
    for client in ("pycurl", "curl_cffi", "curl_cffi-async", "curl_cffi-ws"):
        cls = clients.load(client)
        if cls.missing():
            continue
        assert cls.meta()["libcurl"].count("libcurl/") == 1, client


def test_unknown_exceptions_are_kind_other_and_keep_their_class() -> None:
    class Strange(Exception):
        pass

    failure = classify(Strange("odd"))
    assert failure.kind == "other" and failure.type.endswith("Strange") and failure.message == "odd"


def test_error_tables_name_only_known_kinds() -> None:
    for client in clients.CLIENTS:
        for rule in clients.load(client).errors:
            assert rule[1] in ERROR_KINDS, (client, rule)


def test_the_chain_is_searched_innermost_first() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except OSError as inner:
            raise RuntimeError("wrapper") from inner
    except RuntimeError as exc:
        assert classify(exc).kind == "connect-refused"


def test_environment_is_set_for_the_cell_and_restored(servers: Servers) -> None:
    os.environ.pop("CLIENTMATRIX_SELFTEST", None)
    with environment((("CLIENTMATRIX_SELFTEST", "{origin:http}|{ca_file}"),), servers):
        value = os.environ["CLIENTMATRIX_SELFTEST"]
        assert value.startswith(servers.server("http").origin) and value.endswith("ca.pem")
    assert "CLIENTMATRIX_SELFTEST" not in os.environ


GRADES = [
    # level, check ok?, verdict
    ("MUST", True, "pass"),
    ("MUST", False, "fail"),
    ("SHOULD", True, "pass"),
    ("SHOULD", False, "warn"),
    ("INFO", True, "info"),
    ("INFO", False, "info"),
]


@pytest.mark.parametrize("level,good,verdict", GRADES)
def test_level_turns_a_result_into_a_verdict(level: str, good: bool, verdict: str) -> None:
    from model.scenario import Result

    s = Scenario("selftest.grade", "t", "-", level, lambda o: Result(good, "s"))  # type: ignore[arg-type]
    assert grade(s, Observation(got=Got(200))) == (verdict, "s")


def test_a_check_that_raises_or_a_server_error_is_the_harness_error() -> None:
    def broken(obs: Observation) -> None:
        raise KeyError("oops")

    s = Scenario("selftest.broken", "t", "-", "MUST", broken)  # type: ignore[arg-type]
    assert grade(s, Observation(got=Got(200)))[0] == "error"
    s2 = Scenario("selftest.server", "t", "-", "MUST", lambda o: ok("fine"))
    assert grade(s2, Observation(server_errors=("server error: boom",)))[0] == "error"


def test_a_real_cell_records_both_sides(servers: Servers, adapters: Any) -> None:
    scenario = Scenario("selftest.both", "t", "-", "MUST", lambda o: ok("fine"),
                        Call("POST", path="/x", body=b"abc"), Reply(201, body=b"made"))
    run = run_cell(scenario, "requests", adapter_for("requests", servers, adapters), servers)
    observed = run.cell.observed or {}
    (sent,) = observed["sent"]
    assert (sent["method"], sent["framing"], sent["body_len"]) == ("POST", "content-length", 3)
    assert observed["got"]["status"] == 201 and observed["got"]["body_text"] == "made"
    assert run.cell.verdict == "pass"


def test_a_fixture_server_error_reaches_the_cell_as_error(servers: Servers, adapters: Any) -> None:
    from model.script import Script

    def explode(capture: object, subpath: str, seen: int) -> Reply:
        raise RuntimeError("a bug in a script")

    scenario = Scenario("selftest.server-bug", "t", "-", "MUST", lambda o: ok("fine"), Call("GET"),
                        Script(dynamic=explode))
    run = run_cell(scenario, "requests", adapter_for("requests", servers, adapters), servers, deadline=2.0)
    assert run.cell.verdict == "error"
    assert "a bug in a script" in run.cell.summary


def test_an_adapter_bug_is_the_harness_error_not_a_library_behaviour(servers: Servers) -> None:
    base = clients.load("requests")

    class Buggy(base):  # type: ignore[valid-type,misc]
        def request(self, call: Call, options: dict[str, object]) -> object:
            return header_dict(None)  # type: ignore[arg-type]  # an AttributeError inside fixtures/

    scenario = Scenario("selftest.refusal", "t", "-", "MUST", lambda o: ok("refused: fine"))
    run = run_cell(scenario, "requests", Buggy(None), servers)
    assert run.cell.verdict == "error" and "adapter error (ours" in run.cell.summary


UNOBSERVED = [
    # origin, observation, graded as error?
    ("http", Observation(), True),
    ("http", Observation(error=Failure("connect-refused", "ConnectionRefusedError", "refused")), True),
    ("closed", Observation(error=Failure("connect-refused", "ConnectionRefusedError", "refused")), False),
    ("http", Observation(error=Failure("invalid-request", "ValueError", "bad header")), False),
]


@pytest.mark.parametrize("origin,obs,is_error", UNOBSERVED)
def test_an_outcome_that_never_reached_the_library_is_not_graded(origin: str, obs: Observation,
                                                                 is_error: bool) -> None:
    s = Scenario("selftest.unobserved", "t", "-", "MUST", lambda o: ok("refused"), origin=origin)
    assert (grade(s, obs)[0] == "error") is is_error


def test_a_library_in_a_venv_inside_the_checkout_is_not_ours() -> None:
    """The README makes its venv as .venv in the checkout: urllib3's InsecureRequestWarning raised
    from there is the library's, and a cell that records warnings keeps it (.ci/run does exactly this)."""
    from fixtures.adapter import ROOT, ours

    assert ours(str(ROOT / "fixtures" / "adapter.py"))
    assert not ours(str(ROOT / ".venv" / "lib" / "python3.11" / "site-packages" / "urllib3" / "connectionpool.py"))
    assert not ours("/usr/lib/python3/dist-packages/urllib3/connectionpool.py")
