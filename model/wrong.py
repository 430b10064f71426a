"""Wrong answers: made-up observations that break what a row's title names.

The guard (``tests/test_wrong.py``) feeds each graded row's check the wrong
answers it carries (``model.scenario.Checked``, ``Scenario.wrong``) and asserts a
failing verdict. These builders make such observations in a few words:

    request("POST", body=b"hell")                 what a client put on the wire
    answer(200, b"hell")                          a response the library returned
    answer(200, b"ok", sent=(request(), request("GET", "/next")))
    raised("incomplete-body")                     an exception, mapped to its kind

(WebSocket checks build their transcripts with ``suites.ws_checks.transcript``.)

Nothing here runs a server or a library: the observations are plain data, so the
guard runs in milliseconds over every row of every suite.
"""

from __future__ import annotations

from typing import Any

from model.cell import Capture, Failure, Frame, Got, Headers, Observation

#: The route prefix a made-up request carries, as a real one does.
PREFIX = "/c/t1"
SERVER = "127.0.0.1:8000"


def request(method: str = "GET", path: str = "/", *, headers: Headers = (), body: bytes = b"",
            framing: str | None = None, server: str = SERVER, connection: int = 1,
            target: str | None = None, tls: dict[str, Any] | None = None,
            frames: tuple[Frame, ...] = ()) -> Capture:
    """One captured request; ``path`` goes after the route prefix (``target`` replaces both)."""
    if framing is None:
        framing = "content-length" if body else "none"
    if not any(k.lower() == "host" for k, _ in headers):
        headers = (("Host", server), *headers)
    if framing == "content-length" and not any(k.lower() == "content-length" for k, _ in headers):
        headers = (*headers, ("Content-Length", str(len(body))))
    return Capture(method, PREFIX + path if target is None else target, "HTTP/1.1", headers, body, framing,
                   b"", connection, server=server, tls=tls, frames=frames)


def answer(status: int = 200, body: bytes = b"", *, headers: Headers = (), sent: tuple[Capture, ...] | None = None,
           history: tuple[int, ...] = (), text: str | None = None, extra: dict[str, Any] | None = None,
           options: dict[str, Any] | None = None, elapsed: float = 0.01, error: Failure | None = None,
           reason: str | None = "OK") -> Observation:
    """A response the library returned (after ``sent``, one GET by default)."""
    got = Got(status, reason, headers, body, history, url=f"http://{SERVER}{PREFIX}/", extra=extra or {}, text=text)
    return Observation(sent=(request(),) if sent is None else sent, got=got, error=error,
                       options=options or {}, elapsed=elapsed)


def raised(kind: str = "protocol-error", *, sent: tuple[Capture, ...] | None = None, got: Got | None = None,
           options: dict[str, Any] | None = None, elapsed: float = 0.01) -> Observation:
    """The library raised an exception of ``kind`` (after ``sent``, one GET by default)."""
    return Observation(sent=(request(),) if sent is None else sent, got=got, error=failure(kind),
                       options=options or {}, elapsed=elapsed)


def failure(kind: str) -> Failure:
    """A made-up exception of ``kind`` (its class and message name no real library)."""
    return Failure(kind, f"made.up.{kind.title().replace('-', '')}Error", "a wrong answer")



def attach(rows: list[Any], answers: dict[str, Observation]) -> list[Any]:
    """``rows`` (Scenarios) with their wrong answers from a table keyed by row id (a module that
    declares its wrong answers beside its rows, as the depth modules do, in ``WRONG``)."""
    from dataclasses import replace

    unknown = set(answers) - {r.id for r in rows}
    if unknown:
        raise KeyError(f"wrong answers for rows that do not exist: {sorted(unknown)}")
    return [replace(r, wrong=(*r.wrong, answers[r.id])) if r.id in answers else r for r in rows]
