"""Every graded ``h2.*`` row's check, fed a wrong answer, does not pass.

``WRONG`` names, for each graded row, an observation the row must not accept: an
accepted malformed response, a refused valid one, a request that went over HTTP/1.1,
a frame the client should have sent and did not. A test checks that every graded row
of suites/test_h2.py has one, so a new row cannot land without its wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from model.cell import Capture, Failure, Got, H2Frame, H2Seen, Observation
from model.scenario import grade
from suites import test_h2

pytestmark = pytest.mark.selftest

OK = b"ok"
SETTINGS = H2Frame("SETTINGS", (), 0, 36, {"settings": {"ENABLE_PUSH": 0}})


def cap(*, method: str = "GET", version: str = "HTTP/2", body: bytes = b"", conn: int = 1,
        headers: tuple[tuple[str, str], ...] = ((":method", "GET"), (":scheme", "https"), (":path", "/")),
        frames: tuple[H2Frame, ...] = (SETTINGS,), ended: str = "END_STREAM", problem: str = "",
        tls: dict[str, object] | None = None, preface: str = "ok") -> Capture:
    h2 = H2Seen(preface, 1, ended, frames, problem=problem) if version == "HTTP/2" else None
    return Capture(method, "/", version, headers, body, "data" if body else "none", b"", conn, h2=h2, tls=tls)


def accepted(body: bytes = OK, status: int = 200, **kw: object) -> Observation:
    return Observation(sent=(cap(**kw),), got=Got(status, body=body))  # type: ignore[arg-type]


def raised(kind: str = "protocol-error", **kw: object) -> Observation:
    return Observation(sent=(cap(**kw),), error=Failure(kind, "x.Error", "boom"))  # type: ignore[arg-type]


def over_h1(body: bytes = OK) -> Observation:
    return Observation(sent=(cap(version="HTTP/1.1"),), got=Got(200, body=body))


W = Callable[[], Observation]

#: Rows whose right answer is an error: accepting the response is wrong.
REFUSE = [
    "h2.malformed.uppercase-name", "h2.malformed.connection", "h2.malformed.keep-alive",
    "h2.malformed.transfer-encoding", "h2.malformed.upgrade", "h2.malformed.te-gzip",
    "h2.malformed.pseudo-after-regular", "h2.malformed.unknown-pseudo", "h2.malformed.request-pseudo",
    "h2.malformed.missing-status", "h2.malformed.two-status", "h2.malformed.status-text",
    "h2.malformed.status-2-digits", "h2.malformed.content-length-short", "h2.malformed.content-length-long",
    "h2.malformed.value-crlf", "h2.rst.cancel-mid-body", "h2.rst.internal-error", "h2.goaway.protocol-error",
    "h2.window-update.zero-stream", "h2.window-update.zero-connection", "h2.window-update.overflow",
    "h2.push-promise", "h2.frame-too-large", "h2.settings.enable-push-1", "h2.settings.window-too-large",
    "h2.settings.frame-size-too-small", "h2.settings.bad-length", "h2.data-on-stream-0", "h2.ping-on-stream",
    "h2.continuation-interrupted", "h2.hpack.bad-index", "h2.hpack-table-size-over",
    "h2.continuation-flood", "h2.huge-field-list", "h2.hpack-bomb",
]
#: Rows whose right answer is the exact response: an error, or the same over HTTP/1.1, is wrong.
DELIVER = {
    "h2.status.103": OK, "h2.status.100-twice": OK, "h2.status.204": b"", "h2.status.304": b"",
    "h2.status.299": OK, "h2.status.599": OK, "h2.status.404": OK, "h2.encoding.gzip": test_h2.BODY,
    "h2.encoding.deflate": test_h2.BODY, "h2.trailers": test_h2.BODY, "h2.data-frames": test_h2.BODY,
    "h2.data-padded": test_h2.BODY, "h2.download.4mib": test_h2.BIG, "h2.unknown-frame": OK,
    "h2.unknown-setting": OK, "h2.continuation": OK, "h2.settings-flood": OK, "h2.ping-flood": OK,
    "h2.empty-data-flood": OK, "h2.priority-flood": OK,
}

WRONG: dict[str, list[W]] = {
    **{rid: [lambda: accepted()] for rid in REFUSE},
    **{rid: [lambda: raised(), lambda b=body: over_h1(b)] for rid, body in DELIVER.items()},  # type: ignore[misc]
    "h2.alpn": [lambda: accepted(tls={"alpn_offered": ["http/1.1"], "alpn": "http/1.1"}), lambda: over_h1()],
    "h2.alpn-http11-fallback": [lambda: raised("connection-reset", version="HTTP/1.1"),
                                lambda: Observation(sent=(cap(),), got=Got(200, body=b"over HTTP/1.1"))],
    "h2.prior-knowledge": [lambda: over_h1(), lambda: raised()],
    "h2.preface": [lambda: accepted(preface="b'GET / HTTP/1.1'"),
                   lambda: accepted(frames=(H2Frame("WINDOW_UPDATE", (), 0, 4, {"increment": 1}), SETTINGS))],
    "h2.settings-ack": [lambda: accepted()],
    "h2.ping": [lambda: accepted(frames=(SETTINGS, H2Frame("PING", ("ACK",), 0, 8, {"opaque": "00"})))],
    "h2.pseudo-headers": [lambda: accepted(headers=(("accept", "*/*"), (":method", "GET"), (":scheme", "https"),
                                                    (":path", "/")))],
    "h2.authority": [lambda: accepted(), lambda: accepted(headers=((":authority", "a:1"), ("host", "b:2")))],
    "h2.lowercase-names": [lambda: accepted(headers=((":method", "GET"), ("X-Mixed-Case", "1")))],
    "h2.no-connection-fields": [lambda: accepted(headers=((":method", "GET"), ("connection", "keep-alive")))],
    **{f"h2.method.{m.lower()}": [lambda m=m: accepted(method="PUT" if m != "PUT" else "GET"),  # type: ignore[misc]
                                   lambda m=m: accepted(method=m, ended="RST_STREAM CANCEL")]
       for m, _ in test_h2.METHODS},
    "h2.redirect.302": [lambda: accepted()],
    "h2.redirect.307-post": [lambda: Observation(sent=(cap(method="POST", body=b"x=1"), cap(conn=1)),
                                                 got=Got(200, body=OK))],
    "h2.redirect.cross-origin-authorization": [
        lambda: Observation(sent=(Capture("GET", "/", "HTTP/2", (("authorization", "x"),), b"", "none", b"",
                                          server="127.0.0.1:1"),
                                  Capture("GET", "/next", "HTTP/2", (("authorization", "x"),), b"", "none", b"",
                                          server="127.0.0.1:2")), got=Got(200, body=OK))],
    "h2.set-cookie-twice": [lambda: Observation(sent=(cap(),), got=Got(200, headers=(("set-cookie", "b=2"),)))],
    "h2.duplicate-fields": [lambda: Observation(sent=(cap(),), got=Got(200, headers=(("x-dup", "b=2"),)))],
    "h2.upload.small-window": [lambda: raised("flow-control", method="POST", body=b"x" * 100),
                               lambda: accepted(method="POST", body=test_h2.UPLOAD, problem="FlowControlError: x")],
    "h2.data-after-end-stream": [lambda: accepted(OK + b"EXTRA")],
    "h2.headers-on-closed-stream": [lambda: accepted(status=500)],
    "h2.goaway.before-end": [lambda: Observation(sent=(cap(conn=1), cap(conn=1)), got=Got(200, body=OK)),
                             lambda: raised("goaway")],
    "h2.max-concurrent-1": [lambda: Observation(sent=(cap(), cap(), cap(problem="TooManyStreamsError: x")),
                                                got=Got(200, body=OK)),
                            lambda: raised("stream-reset")],
}


def graded() -> list[str]:
    return [s.id for s in test_h2.SCENARIOS if s.level != "INFO"]


def test_every_graded_row_has_a_wrong_answer() -> None:
    missing = [rid for rid in graded() if rid not in WRONG]
    assert not missing, f"graded h2 rows without a wrong answer in WRONG: {missing}"
    unknown = [rid for rid in WRONG if rid not in {s.id for s in test_h2.SCENARIOS}]
    assert not unknown


@pytest.mark.parametrize("row", graded())
def test_a_wrong_answer_does_not_pass(row: str) -> None:
    scenario = next(s for s in test_h2.SCENARIOS if s.id == row)
    for wrong in WRONG.get(row, []):
        obs = wrong()
        verdict, summary = grade(scenario, obs)
        assert verdict in ("fail", "warn"), f"{row} passed a wrong answer ({verdict}: {summary})"
