"""Response parsing at the edges: status lines, interim chains, header counts, bodies that
must not be waited for, and line iteration across chunk boundaries.

    RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ];
    status-code = 3DIGIT. RFC 9110 §15: "Values outside the range 100..599 are invalid.
    ... a client that receives a response with an invalid status code SHOULD process the
    response as if it had a 5xx (Server Error) status code."
    RFC 9110 §2.5: "A recipient that receives a message with a major version number that it
    implements and a minor version number higher than what it implements SHOULD process the
    message as if it were in the highest minor version within that major version to which
    the recipient is conformant."
    RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received prior
    to a final response".
    RFC 9112 §6.3: a 204 or 304 "is always terminated by the first empty line after the
    header fields, regardless of the header fields present" -- Transfer-Encoding included.

Malformed answers are graded with ``model.received`` (refuses / tolerates / delivers); the
out-of-range codes and odd versions are INFO. ``lines.*`` read the body through the
library's line iterator (``Call.lines``): INFO, since no RFC defines iter_lines, but a CR LF
split over two chunks is still one line end (RFC 9112 §2.2: "the line terminator for
message-body ... is CRLF").
"""

from __future__ import annotations

from model.cell import Call, Got, Observation
from model.checks import outcome, status_seen
from model.received import delivers, refuses, returned, tolerates
from model.scenario import Check, Result, Scenario, bad, ok
from model.script import Raw, Reply, Sleep
from model.wrong import attach

OK = b"ok"


def raw(*steps: bytes) -> Raw:
    return Raw(steps)


def surfaces(status: int, body: bytes) -> Check:
    def check(obs: Observation) -> Result:
        good = status_seen(obs) == status and obs.got is not None and obs.got.body == body
        more = f", after {len(obs.sent)} requests" if len(obs.sent) > 1 else ""
        return Result(good, f"{outcome(obs)}{more}")

    return check


def records(obs: Observation) -> Result:
    """INFO: what the caller got, and the reason it could see."""
    if obs.got is not None and (obs.error is None or obs.error.kind == "http-status"):
        return ok(f"{outcome(obs)}, reason {obs.got.reason!r}, body {obs.got.body[:10]!r}")
    return ok(outcome(obs))


def fields_seen(count: int) -> Check:
    def check(obs: Observation) -> Result:
        if not returned(obs):
            return ok(f"refused: {outcome(obs)}")
        assert obs.got is not None
        seen = sum(1 for k, _ in obs.got.headers if k.lower().startswith("x-f-"))
        return ok(f"{outcome(obs)}, {seen} of {count} fields visible")

    return check


#: How long the server waits, connection open, before it sends the chunks a 204 or 304 never has.
HOLD = 0.3
LATE = b"5\r\nlate!\r\n0\r\n\r\n"


def not_waited(status: int) -> Check:
    """The response ends at its header section: the caller gets it with no body. A client
    that waits for a chunked body gets the chunks the server sends ``HOLD`` later ('late!')
    as the body, or an error: no timing is measured, the body tells."""
    base = delivers(b"", status)

    def check(obs: Observation) -> Result:
        result = base(obs)
        if obs.got is not None and obs.got.body == b"late!":
            return bad(f"{outcome(obs)}: waited for a chunked body and took the later chunks ('late!') as it")
        return result

    return check


def many(n: int) -> Reply:
    return Reply(200, headers=tuple((f"X-F-{i}", str(i)) for i in range(n)), body=b"hello")


def status_row(id: str, title: str, spec: str, level: str, check: Check, head: bytes) -> Scenario:
    return Scenario(f"status.{id}", title, spec, level, check, Call("GET"), raw(head + b"Content-Length: 2\r\n\r\nok"))  # type: ignore[arg-type]


STATUS = [
    status_row("four-digit", "A four-digit status ('HTTP/1.1 2000 OK'): refused", "RFC 9112 §4", "MUST", refuses(),
               b"HTTP/1.1 2000 OK\r\n"),
    status_row("no-reason-no-space", "A status line with no reason and no space ('HTTP/1.1 200'): accepted or "
               "refused, never misread", "RFC 9112 §4", "MUST", tolerates(OK), b"HTTP/1.1 200\r\n"),
    status_row("099", "Status 099 (below 100): refused, or handled as a 5xx?", "RFC 9110 §15", "INFO", records,
               b"HTTP/1.1 099 Low\r\n"),
    status_row("600", "Status 600 (above 599): refused, or handled as a 5xx?", "RFC 9110 §15", "INFO", records,
               b"HTTP/1.1 600 High\r\n"),
    status_row("999", "Status 999: refused, or handled as a 5xx?", "RFC 9110 §15", "INFO", records,
               b"HTTP/1.1 999 Max\r\n"),
    status_row("http-1.2", "'HTTP/1.2 200 OK' (a higher minor version): processed as HTTP/1.1", "RFC 9110 §2.5",
               "SHOULD", surfaces(200, OK), b"HTTP/1.2 200 OK\r\n"),
    status_row("http-2.0", "'HTTP/2.0 200 OK' on an HTTP/1.1 connection: refused or accepted?", "RFC 9110 §2.5",
               "INFO", records, b"HTTP/2.0 200 OK\r\n"),
    status_row("lowercase-version", "'http/1.1 200 OK' (HTTP-name is case-sensitive): refused or accepted?",
               "RFC 9112 §2.3", "INFO", records, b"http/1.1 200 OK\r\n"),
    Scenario("status.interim-chain", "102, then 103, then 200: the 200 is the final response", "RFC 9110 §15.2",
             "MUST", surfaces(200, OK), Call("GET"), Reply(200, body=OK, interim=((102, ()), (103, (("Link", "</a>"),))))),
    Scenario("status.empty-response", "The server closes without sending a byte: an error, never a response",
             "RFC 9112 §8", "MUST", refuses(), Call("GET"), Raw(())),
    Scenario("status.garbage", "Garbage instead of a status line: refused", "RFC 9112 §4", "MUST", refuses(),
             Call("GET"), raw(b"HELLO WORLD\r\n\r\nhello")),
    Scenario("status.http09", "A bare body, no status line (HTTP/0.9 style): refused", "RFC 9112 §2.3", "MUST",
             refuses(), Call("GET"), raw(b"hello world")),
]

HEADERS = [
    Scenario("headers.count-101", "101 header fields (http.client's limit is 100): accepted or refused?",
             "RFC 9110 §5.4", "INFO", fields_seen(101), Call("GET"), many(101)),
    Scenario("headers.count-150", "150 header fields: accepted or refused?", "RFC 9110 §5.4", "INFO",
             fields_seen(150), Call("GET"), many(150)),
]

TE = b"Transfer-Encoding: chunked\r\n"
NO_WAIT = [
    Scenario("framing.204-te-chunked", "A 204 with Transfer-Encoding: chunked, chunks sent later: no body "
             "waited for", "RFC 9112 §6.3", "MUST", not_waited(204), Call("GET"),
             Raw((b"HTTP/1.1 204 No Content\r\n" + TE + b"\r\n", Sleep(HOLD), LATE)), waits=True),
    Scenario("framing.304-te-chunked", "A 304 with Transfer-Encoding: chunked, chunks sent later: no body "
             "waited for", "RFC 9112 §6.3", "MUST", not_waited(304), Call("GET"),
             Raw((b'HTTP/1.1 304 Not Modified\r\nETag: "v"\r\n' + TE + b"\r\n", Sleep(HOLD), LATE)), waits=True),
]


# -- lines.*: the library's line iterator -----------------------------------------------------

def chunks(*pieces: bytes) -> Raw:
    """A chunked body, one chunk per piece (the boundaries are the point)."""
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    return Raw((b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + TE + b"\r\n" + body,))


def lines_of(expected: list[str]) -> Check:
    """INFO: the lines the iterator gave, line ends stripped (iterators differ in keeping them)."""

    def check(obs: Observation) -> Result:
        if obs.got is None or "lines" not in obs.got.extra:
            return ok(f"no lines: {outcome(obs)}")
        found = [line.rstrip("\r\n") for line in obs.got.extra["lines"]]
        same = "as sent" if found == expected else f"{len(found)} lines, not {len(expected)}"
        return ok(f"{found!r} ({same})")

    return check


LINES = [
    Scenario("lines.crlf-split", "Line iteration where CR ends one chunk and LF starts the next: one line end?",
             "RFC 9112 §2.2", "INFO", lines_of(["one", "two", "three"]), Call("GET", lines=True),
             chunks(b"one\r", b"\ntwo\r\n", b"three\r\n")),
    Scenario("lines.lf-only", "Lines ended by LF alone, split across chunks", "RFC 9112 §2.2", "INFO",
             lines_of(["one", "two", "three"]), Call("GET", lines=True), chunks(b"on", b"e\ntwo\nth", b"ree\n")),
    Scenario("lines.cr-only", "Lines ended by CR alone: one line, or three?", "RFC 9112 §2.2", "INFO",
             lines_of(["one", "two", "three"]), Call("GET", lines=True), chunks(b"one\rtwo\rthree\r")),
    Scenario("lines.no-final-newline", "A last line without a line end: kept?", "RFC 9112 §2.2", "INFO",
             lines_of(["one", "two"]), Call("GET", lines=True), chunks(b"one\n", b"two")),
    Scenario("lines.blank-lines", "Empty lines between lines (an event stream's separators): kept?",
             "RFC 9112 §2.2", "INFO", lines_of(["a", "", "b"]), Call("GET", lines=True), chunks(b"a\r\n\r\nb\r\n")),
]


def got(status: int, body: bytes) -> Observation:
    return Observation(got=Got(status, "OK", (), body))


WRONG: dict[str, Observation] = {
    "status.four-digit": got(200, OK),
    "status.no-reason-no-space": got(200, b"o"),
    "status.http-1.2": Observation(error=None, got=Got(505, "", (), b"")),
    "status.interim-chain": got(102, b""),
    "status.empty-response": got(200, b""),
    "status.garbage": got(200, b"hello"),
    "status.http09": got(200, b"hello world"),
    "framing.204-te-chunked": Observation(got=Got(204, "", (), b"late!")),
    "framing.304-te-chunked": Observation(got=Got(304, "", (), b"0\r\n\r\n")),
}

DEPTH = [*STATUS, *HEADERS, *NO_WAIT, *LINES]
DEPTH = attach(DEPTH, WRONG)  # the guard (tests/test_wrong.py) feeds each its wrong answer
SCENARIOS = DEPTH


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
