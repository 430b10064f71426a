"""Connections: keep-alive reuse, connections the server ends, leftover bytes, retries.

Each row is a sequence of requests on one client (``Call.then``), so a pooled connection
can be reused; the server numbers its connections (``Capture.connection``), which shows
reuse on the wire. Reuse itself is the client's choice (RFC 9112 §9.3: "HTTP/1.1 defaults
to the use of "persistent connections""), so those rows are INFO; they still require every
response to be right. Graded rows:

    RFC 9112 §9.6: "A client that receives a "close" connection option MUST cease sending
    requests on that connection and close the connection after reading the response
    message containing the "close" connection option".
    RFC 9112 §9.3: for HTTP/1.0, unless "the "keep-alive" connection option is present ...
    the connection will close after the current response".
    RFC 9112 §9.3.2: a server "MUST send the corresponding responses in the same order that
    the requests were received": bytes that arrived before a request was sent are not its
    response (a client that reads them answers the next request with the wrong response).
    RFC 9110 §9.2.2: "A client SHOULD NOT automatically retry a request with a
    non-idempotent method unless it has some means to know that the request semantics are
    actually idempotent, regardless of the method, or some means to detect that the
    original request was never applied."

The server scripts are pure functions of the request count (``Script.dynamic``), so a
client that retries sees a 200 on its second try, and its summary says "after 2 requests".
"""

from __future__ import annotations

from dataclasses import replace

from model.cell import Call, Capture, Got, Observation
from model.checks import outcome
from model.received import returned
from model.scenario import Check, Result, Scenario, bad, ok
from model.script import Close, HalfClose, Raw, Reply, Response, Script, Sleep
from model.wrong import attach

OK = b"ok"


def first_then(first: Response) -> Script:
    """The cell's first request gets ``first``; every later one a plain 200 ``ok``."""

    def answer(c: Capture, subpath: str, seen: int) -> Response:
        return first if seen == 1 else Reply(200, body=OK)

    return Script(dynamic=answer)


def bodies(obs: Observation) -> list[tuple[int | None, bytes]]:
    """(status, body) of every response the caller got, in order."""
    if obs.got is None:
        return []
    earlier = [(g.get("status"), g.get("body_text", "").encode()) for g in obs.got.extra.get("earlier", [])]
    return [*earlier, (obs.got.status, obs.got.body)]


def conns(obs: Observation) -> str:
    ids = [c.connection for c in obs.sent]
    if len(set(ids)) == 1:
        return "one connection"
    if len(set(ids)) == len(ids):
        return "a new connection each time"
    return "connections " + "/".join(str(ids.index(i) + 1) for i in ids)


def reuse(first_body: bytes) -> Check:
    """INFO: one connection or several; both responses right either way."""

    def check(obs: Observation) -> Result:
        got = bodies(obs)
        if not returned(obs) or len(obs.sent) != 2 or len(got) != 2:
            return ok(f"{len(obs.sent)} requests; {outcome(obs)}")
        right = got[0][1] == first_body and got[1] == (200, OK)
        return ok(f"{conns(obs)}" + ("" if right else f"; responses wrong: {got}"))

    return check


def new_connection(obs: Observation) -> Result:
    """The second request goes on a connection of its own, and both responses are right."""
    got = bodies(obs)
    if len(obs.sent) < 2:
        return bad(f"{len(obs.sent)} request(s); {outcome(obs)}")
    same = obs.sent[0].connection == obs.sent[1].connection
    right = len(got) == 2 and got[1] == (200, OK)
    words = "second request on the same connection" if same else "second request on a new connection"
    return Result(not same and right, f"{words}; {outcome(obs)}")


def not_smuggled(obs: Observation) -> Result:
    """The second request's answer is the server's answer to it, never the leftover bytes."""
    got = bodies(obs)
    if any(body == b"smuggled" for _, body in got):
        return bad(f"the second request got the leftover response ('smuggled'); {conns(obs)}")
    if len(got) < 2:
        return ok(f"refused: {outcome(obs)} after {len(obs.sent)} request(s); never the leftover response")
    second = got[-1][1]
    if second == b"smuggled":
        return bad(f"the second request got the leftover response ('smuggled'); {conns(obs)}")
    return Result(second == OK, f"second request got {second[:20]!r}; {conns(obs)}")


def head_of(status: str, *fields: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *fields]) + "\r\n\r\n").encode()


LEFTOVER = head_of("200 OK", "Content-Length: 5") + b"hello" + head_of("200 OK", "Content-Length: 8") + b"smuggled"
#: A HEAD answer, then (as if it were the HEAD's "body") a whole response the GET must never get.
HEAD_BODY = head_of("200 OK", "Content-Length: 2") + head_of("200 OK", "Content-Length: 8") + b"smuggled"


def twice(first: Call, second: Call | None = None) -> Call:
    return replace(first, then=(second or Call("GET"),))


def reuse_row(id: str, title: str, first: Call, reply: Response, first_body: bytes = OK) -> Scenario:
    return Scenario(f"conn.reuse-after-{id}", f"{title}, then a GET: same connection or a new one?", "RFC 9112 §9.3",
                    "INFO", reuse(first_body), twice(first), first_then(reply))


REUSE = [
    reuse_row("head", "A HEAD (Content-Length: 2, no body)", Call("HEAD"), Reply(200, body=OK), b""),
    reuse_row("204", "A 204", Call("GET"), Reply(204), b""),
    reuse_row("304", "A 304", Call("GET"), Reply(304, headers=(("ETag", '"v"'),)), b""),
    reuse_row("404", "A 404 with a body", Call("GET"), Reply(404, body=b"missing"), b"missing"),
    reuse_row("chunked", "A chunked response", Call("GET"),
              Raw((head_of("200 OK", "Transfer-Encoding: chunked") + b"2\r\nok\r\n0\r\n\r\n",), close=False)),
    reuse_row("post", "A POST with a body", Call("POST", body=b"data"), Reply(200, body=OK)),
]

GRADED = [
    Scenario("conn.close-option", "A response with 'Connection: close' on a connection the server leaves open: "
             "the next request on a new connection", "RFC 9112 §9.6", "MUST", new_connection, twice(Call("GET")),
             first_then(Raw((head_of("200 OK", "Content-Length: 2", "Connection: close") + OK,), close=False))),
    Scenario("conn.http10-response", "An HTTP/1.0 response without keep-alive, connection left open: the next "
             "request on a new connection", "RFC 9112 §9.3", "MUST", new_connection, twice(Call("GET")),
             first_then(Raw((b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",), close=False))),
    Scenario("conn.http10-keep-alive", "An HTTP/1.0 response with 'Connection: keep-alive': reused?",
             "RFC 9112 §9.3", "INFO", reuse(OK), twice(Call("GET")),
             first_then(Raw((b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",),
                            close=False))),
    Scenario("conn.leftover-response", "A complete extra response after the body, then a second request: "
             "never answered by the leftover bytes", "RFC 9112 §9.3.2", "MUST", not_smuggled, twice(Call("GET")),
             first_then(Raw((LEFTOVER,), close=False)), security=True),
    Scenario("conn.head-with-body", "A HEAD answered with a whole response as its 'body', then a GET: never "
             "answered by those bytes", "RFC 9112 §6.3", "MUST", not_smuggled, twice(Call("HEAD")),
             first_then(Raw((HEAD_BODY,), close=False)), security=True),
]


# -- the server ends the connection --------------------------------------------------------

def settled(obs: Observation) -> str:
    """``outcome`` with the error's kind only: which class a library raises when the server
    ends a connection depends on when the FIN or RST lands (BrokenPipeError on the write,
    RemoteDisconnected on the read ...); the kind does not."""
    if obs.error is not None and obs.got is None:
        return f"raised ({obs.error.kind})"
    return outcome(obs)


def attempts(method: str) -> Check:
    """How many times the request reached the server, and what the caller got."""
    retried_ok = method not in ("POST", "PATCH")

    def check(obs: Observation) -> Result:
        n = sum(1 for c in obs.sent if c.method == method)
        words = f"{n} {method} request(s) reached the server; {settled(obs)}"
        return Result(retried_ok or n <= 1, words)

    return check


def stale(obs: Observation) -> Result:
    """INFO: the server closed the kept-alive connection after the first response; the
    second request: on a new connection, or an error?"""
    if len(obs.sent) < 2:
        return ok(f"second request never reached the server; {settled(obs)}")
    return ok(f"second request on {'the same' if obs.sent[0].connection == obs.sent[1].connection else 'a new'} "
              f"connection, {len(obs.sent)} requests in all; {settled(obs)}")


DROP = Raw(())  # read the request, answer nothing, close (FIN)
RESET = Raw((Close(reset=True),), close=False)  # read the request, answer nothing, reset (RST)
#: A keep-alive response and the FIN behind it; the connection stays open, unread, for 0.2 s, so
#: a client that sends again there reads the end of the stream (not a reset) whenever it looks.
CLOSING = Raw((head_of("200 OK", "Content-Length: 2") + OK, HalfClose(), Sleep(0.2)))


def drop_row(id: str, method: str, how: Raw, level: str) -> Scenario:
    word = "closes" if how is DROP else "resets"
    body = b"data" if method in ("POST", "PUT", "PATCH") else None
    return Scenario(f"retry.{id}", f"{method}: the server reads it, then {word} without an answer: retried?",
                    "RFC 9110 §9.2.2", level, attempts(method), Call(method, body=body),  # type: ignore[arg-type]
                    first_then(how))


def stale_row(id: str, method: str) -> Scenario:
    body = b"data" if method == "POST" else None
    return Scenario(f"retry.{id}", f"The server closes a kept-alive connection after a response; then a {method}",
                    "RFC 9112 §9.3.1", "INFO", stale, twice(Call("GET"), Call(method, body=body)),
                    first_then(CLOSING))


RETRIES = [
    drop_row("dropped-get", "GET", DROP, "INFO"),
    drop_row("dropped-put", "PUT", DROP, "INFO"),
    drop_row("dropped-post", "POST", DROP, "SHOULD"),
    drop_row("dropped-patch", "PATCH", DROP, "SHOULD"),
    drop_row("reset-get", "GET", RESET, "INFO"),
    drop_row("reset-post", "POST", RESET, "SHOULD"),
    stale_row("stale-get", "GET"),
    stale_row("stale-post", "POST"),
    Scenario("retry.429-retry-after", "429 with Retry-After: 0: retried by the client, or returned?",
             "RFC 6585 §4", "INFO", attempts("GET"), Call("GET"),
             first_then(Reply(429, headers=(("Retry-After", "0"),), body=b"slow down"))),
    Scenario("retry.503-post", "A POST answered 503 with Retry-After: 0: not retried", "RFC 9110 §9.2.2", "SHOULD",
             attempts("POST"), Call("POST", body=b"data"),
             first_then(Reply(503, headers=(("Retry-After", "0"),), body=b"busy"))),
]


def capture(method: str = "GET", connection: int = 1) -> Capture:
    return Capture(method, "/c/t1/", "HTTP/1.1", (), b"", "none", b"", connection, server="127.0.0.1:1")


def two(first: bytes, second: bytes, same: bool = True) -> Observation:
    earlier = [{"status": 200, "body_text": first.decode()}]
    return Observation(sent=(capture(), capture(connection=1 if same else 2)),
                       got=Got(200, "OK", (), second, extra={"earlier": earlier}))


WRONG: dict[str, Observation] = {
    "conn.close-option": two(b"ok", b"ok"),
    "conn.http10-response": two(b"ok", b"ok"),
    "conn.leftover-response": two(b"hello", b"smuggled"),
    "conn.head-with-body": two(b"", b"smuggled"),
    "retry.dropped-post": Observation(sent=(capture("POST"), capture("POST", 2)), got=Got(200, "OK", (), OK)),
    "retry.dropped-patch": Observation(sent=(capture("PATCH"), capture("PATCH", 2)), got=Got(200, "OK", (), OK)),
    "retry.reset-post": Observation(sent=(capture("POST"), capture("POST", 2)), got=Got(200, "OK", (), OK)),
    "retry.503-post": Observation(sent=(capture("POST"), capture("POST", 2)), got=Got(200, "OK", (), OK)),
}

DEPTH = [*REUSE, *GRADED, *RETRIES]
DEPTH = attach(DEPTH, WRONG)  # the guard (tests/test_wrong.py) feeds each its wrong answer
SCENARIOS = DEPTH


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
