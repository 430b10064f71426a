"""Checks for the ``h2.*`` rows: the sent side as frames, the got side over HTTP/2 only.

A row about HTTP/2 says nothing when the client spoke HTTP/1.1 (an h2 column offers
both by ALPN, and the h2 origin serves HTTP/1.1 as a fallback), so the got-side
factories here first require every request the server captured to be HTTP/2:

    over_h2(obs)            None when every request went over HTTP/2, else why not
    h2_delivers / h2_refuses / h2_tolerates   model.received's, over HTTP/2 only
    frames(obs, type)       the client's frames of a type on the first connection
    answered(obs, type, f)  did the client send such a frame (a PING or SETTINGS ACK)?
    retried(obs)            was the request sent again, on which connection?
    h2_request / h2_answer / h2_raised / h1_answer   wrong answers for the guard
                            (tests/test_wrong.py), in model.wrong's words

Summaries stay stable: frame types, flags, error-code names and settings, never
counts that depend on timing (how many WINDOW_UPDATEs a read loop sent).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from model.cell import Capture, Got, H2Frame, H2Seen, Headers, Observation
from model.checks import outcome
from model.received import Detail, delivers, refuses, tolerates, tries
from model.scenario import Check, Result, bad, ok
from model.wrong import failure


def over_h2(obs: Observation) -> str | None:
    """Why this observation is not about HTTP/2 (a request over HTTP/1.1), or None."""
    for c in obs.sent:
        if c.version != "HTTP/2":
            if c.framing == "invalid":
                return f"the server got no HTTP/2 preface ({c.problem[:60]})"
            return f"spoke {c.version or 'something else'}, not HTTP/2"
    return None


def _h2_only(check: Check) -> Check:
    def wrapped(obs: Observation) -> Result:
        why = over_h2(obs)
        if why is not None:
            return bad(f"{why}; {outcome(obs)}")
        return check(obs)

    return wrapped


def h2_delivers(body: bytes, status: int = 200, detail: Detail | None = None) -> Check:
    return _h2_only(delivers(body, status, detail))


def h2_refuses(full: bytes | None = None, detail: Detail | None = None) -> Check:
    return _h2_only(refuses(full, detail))


def h2_tolerates(body: bytes, status: int = 200, detail: Detail | None = None) -> Check:
    return _h2_only(tolerates(body, status, detail))


def first(obs: Observation) -> Capture | None:
    return next((c for c in obs.sent if c.h2 is not None), None)


def frames(obs: Observation, kind: str | None = None) -> list[H2Frame]:
    """The client's frames on the first HTTP/2 connection (of one type, if given)."""
    c = first(obs)
    if c is None or c.h2 is None:
        return []
    return [f for f in c.h2.frames if kind is None or f.type == kind]


def answered(obs: Observation, kind: str, good: Callable[[H2Frame], bool] = lambda f: True) -> bool:
    return any(f.type == kind and good(f) for f in frames(obs))


def retried(obs: Observation) -> str:
    """``retried on a new connection`` / ``on the same connection`` / ``not retried``."""
    if len(obs.sent) < 2:
        return "not retried"
    same = obs.sent[0].connection == obs.sent[1].connection
    return "retried on the same connection" if same else "retried on a new connection"


def info_outcome(obs: Observation) -> str:
    return f"{outcome(obs)}{tries(obs)}"


# -- wrong answers (model.wrong's words, over HTTP/2): what the guard feeds the h2 rows ---------

#: The client SETTINGS a made-up connection starts with (push disabled, as httpx does).
MADE_SETTINGS = H2Frame("SETTINGS", (), 0, 36, {"settings": {"ENABLE_PUSH": 0}})
MADE_FIELDS: Headers = ((":method", "GET"), (":scheme", "https"), (":authority", "127.0.0.1:8000"), (":path", "/c/t1/"))


def h2_request(method: str = "GET", *, body: bytes = b"", connection: int = 1, headers: Headers = MADE_FIELDS,
               frames: tuple[H2Frame, ...] = (MADE_SETTINGS,), ended: str = "END_STREAM", problem: str = "",
               tls: dict[str, Any] | None = None, preface: str = "ok", server: str = "127.0.0.1:8000") -> Capture:
    """One request as the h2 server would capture it."""
    h2 = H2Seen(preface, 1, ended, frames, problem=problem)
    return Capture(method, "/c/t1/", "HTTP/2", headers, body, "data" if body else "none", b"", connection,
                   server=server, tls=tls, h2=h2)


def h2_answer(status: int = 200, body: bytes = b"", *, sent: tuple[Capture, ...] | None = None,
              headers: Headers = ()) -> Observation:
    """The library returned this response over HTTP/2 (after one GET by default)."""
    return Observation(sent=(h2_request(),) if sent is None else sent, got=Got(status, None, headers, body))


def h1_answer(body: bytes = b"ok", status: int = 200) -> Observation:
    """The same exchange over HTTP/1.1: the right body, but the row tested nothing."""
    sent = Capture("GET", "/c/t1/", "HTTP/1.1", (("Host", "127.0.0.1:8000"),), b"", "none", b"", 1)
    return Observation(sent=(sent,), got=Got(status, "OK", (), body))


def h2_raised(kind: str = "protocol-error", *, sent: tuple[Capture, ...] | None = None) -> Observation:
    return Observation(sent=(h2_request(),) if sent is None else sent, error=failure(kind))


__all__ = ["over_h2", "h2_delivers", "h2_refuses", "h2_tolerates", "frames", "answered", "ok", "bad",
           "retried", "info_outcome", "first", "h2_request", "h2_answer",
           "h1_answer", "h2_raised"]
