"""Status codes: what the caller sees for each class, for interim responses, odd reasons.

RFC 9110 §15: "A client MUST understand the class of any status code, as
indicated by the first digit, and treat an unrecognized status code as being
equivalent to the x00 status code of that class."
RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses
received prior to a final response, even if the client does not expect one."

Which clients raise for 4xx/5xx by default is part of the observation: an
``http-status`` error that carries the response still shows the status, and passes.
"""

from __future__ import annotations

from model.cell import Call, Observation
from model.checks import outcome, status_seen
from model.received import framed, kept
from model.scenario import Check, Checked, Result, Scenario
from model.script import Reply
from model.wrong import answer, raised, request

OK = b"ok"


def surfaces(status: int, body: bytes | None = None) -> Check:
    """The caller sees ``status`` (returned or carried by an http-status error), and the body
    (``b""`` for a status that has none: RFC 9110 §15.3.5, §15.4.5); ``body`` None: any body."""

    def check(obs: Observation) -> Result:
        seen = status_seen(obs)
        summary = outcome(obs)
        if obs.got is not None and obs.got.body and seen is not None:
            summary += f", body {len(obs.got.body)} bytes"
        if len(obs.sent) > 1:
            summary += f", after {len(obs.sent)} requests"
        good = seen == status and (body is None or (obs.got is not None and obs.got.body == body))
        return Result(good, summary)

    other = status + 1 if status % 100 == 0 else status // 100 * 100
    wrong = [answer(other, body or b""), raised("invalid-status-line")]
    if body is not None:
        wrong.append(answer(status, body[:-1] if body else b"hello"))
    return Checked(check, tuple(wrong), right=(answer(status, body or b""),))


def reason_words(obs: Observation) -> Result:
    """RFC 9112 §4: "A client SHOULD ignore the reason-phrase content": the response is
    parsed whatever the phrase (which one the caller sees is recorded)."""
    seen = status_seen(obs)
    reason = obs.got.reason if obs.got is not None else None
    good = seen == 200 and obs.got is not None and obs.got.body == OK
    return Result(good, f"{outcome(obs)}, reason {reason!r}")


reason_kept = Checked(reason_words, (raised("invalid-status-line"), answer(200, b"o")))


def not_followed(obs: Observation) -> Result:
    location = obs.got.header("Location") if obs.got is not None else None
    summary = f"{outcome(obs)}, {len(obs.sent)} request(s)" + (", Location visible" if location else "")
    return Result(status_seen(obs) == 301 and len(obs.sent) == 1 and location is not None, summary)


no_redirect = Checked(not_followed, (answer(200, b"ok", sent=(request(), request("GET", "/moved"))),))


def status_row(code: int, title: str, spec: str, body: bytes = OK, suffix: str = "", **reply: object) -> Scenario:
    """One plain ``status.<code>[-suffix]`` row: the server answers ``code``; the caller must see it."""
    expect = b"" if code in (204, 304, 205) else body
    sent = b"" if code in (204, 304) else body
    return Scenario(f"status.{code}{suffix}", title, spec, "MUST", surfaces(code, expect), Call("GET"),
                    Reply(code, body=sent, **reply))  # type: ignore[arg-type]


SCENARIOS = [
    Scenario("status.100-continue-unsolicited", "An unsolicited 100 Continue before the 200",
             "RFC 9110 §15.2", "MUST", surfaces(200, OK), Call("GET"), Reply(200, body=OK, interim=((100, ()),)),
             wrong=(answer(100),)),
    Scenario("status.103-early-hints", "A 103 Early Hints before the 200: not the final response",
             "RFC 8297 §2", "MUST", surfaces(200, OK), Call("GET"),
             Reply(200, body=OK, interim=((103, (("Link", "</style.css>; rel=preload; as=style"),)),)),
             wrong=(answer(103),)),
    status_row(200, "200 OK with a body", "RFC 9110 §15.3.1"),
    status_row(201, "201 Created", "RFC 9110 §15.3.2", headers=(("Location", "/new"),)),
    status_row(202, "202 Accepted", "RFC 9110 §15.3.3"),
    status_row(204, "204 No Content: the caller sees no body", "RFC 9110 §15.3.5"),
    status_row(205, "205 Reset Content: the caller sees no content", "RFC 9110 §15.3.6", body=b""),
    status_row(206, "206 Partial Content with Content-Range", "RFC 9110 §15.3.7", body=b"01234",
               headers=(("Content-Range", "bytes 0-4/10"),)),
    status_row(299, "299, an unknown 2xx: treated as 200, status kept", "RFC 9110 §15", suffix="-unknown"),
    Scenario("status.301-not-followed", "301 with following turned off: the caller sees the 301",
             "RFC 9110 §15.4.2", "MUST", no_redirect, Call("GET", follow_redirects=False),
             Reply(301, headers=(("Location", "{base}/moved"),), body=b"moved")),
    status_row(304, "304 Not Modified: the caller sees no body", "RFC 9110 §15.4.5", headers=(("ETag", '"v1"'),)),
    status_row(400, "400 Bad Request", "RFC 9110 §15.5.1"),
    status_row(401, "401 Unauthorized with a challenge", "RFC 9110 §15.5.2",
               headers=(("WWW-Authenticate", 'Basic realm="cm"'),)),
    status_row(404, "404 Not Found", "RFC 9110 §15.5.5"),
    status_row(418, "418 (unused) I'm a teapot", "RFC 9110 §15.5.19"),
    status_row(500, "500 Internal Server Error", "RFC 9110 §15.6.1"),
    # Retry-After: 0, so a client that retries on its own shows it in the request count, not in time.
    status_row(503, "503 Service Unavailable with Retry-After (does the client retry by itself?)",
               "RFC 9110 §15.6.4", headers=(("Retry-After", "0"),)),
    status_row(599, "599, an unknown 5xx: treated as 500, status kept", "RFC 9110 §15", suffix="-unknown"),
    Scenario("status.empty-reason", "An empty reason phrase ('HTTP/1.1 200 ')", "RFC 9112 §4", "MUST",
             framed(reason_kept, OK), Call("GET"), kept(b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok")),
    Scenario("status.custom-reason", "A custom reason phrase: parsed, and which reason the caller sees",
             "RFC 9112 §4", "MUST", reason_kept, Call("GET"), Reply(200, reason="Totally Fine", body=OK)),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
