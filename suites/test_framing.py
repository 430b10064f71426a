"""Body framing and chunked bodies: how a library delimits the response it is given.

Most rows are byte-exact responses (``Raw``). Where the framing (a length, the last
chunk) decides where the message ends, the server keeps the connection open after
it (``kept``: ``Linger``), so a client that missed the end and reads on to the close
only finishes when the server gives up waiting for its next request, after
``LINGER`` seconds, and the row says so (``framed``): our close never makes a body
look intact. Where extra bytes follow a complete response, the client also sends a
second request (``then_next``): the extra bytes must not become its response.
Rows about an incomplete message close the connection on purpose (``raw``).
A malformed response is graded on whether the library refuses it (and with which
error kind) or silently accepts something wrong; an accepted truncation reads
"truncated silently" in the matrix.

    RFC 9112 §8: "A client that receives an incomplete response message, which can
    occur when a connection is closed prematurely or when decoding a supposedly
    chunked transfer coding fails, MUST record the message as incomplete."
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from model.cell import Call, Got, Level, Observation
from model.checks import outcome
from model.received import body_words, delivers, field_words, framed, kept, refuses, returned, tolerates, tries, wire_safe
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Raw, Reply, Script, Stream
from model.wrong import answer, raised, request
from servers.bodies import MiB, chunked

HELLO = b"hello world"
#: RFC 9112 §7.1: "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
CHUNKED_HELLO = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
ALPHABET = b"abcdefghijklmnopqrstuvwxyz"
LARGE = hashlib.sha256(b"clientmatrix").digest() * (4 * MiB // 32)
MANY = 1000
GET = Call("GET")


def response(*fields: str, status: str = "200 OK", eol: bytes = b"\r\n") -> bytes:
    """A status line and header section, byte-exact, ending with the empty line."""
    lines = [f"HTTP/1.1 {status}".encode(), *(f.encode("latin-1") for f in fields)]
    return eol.join(lines) + eol + eol


TE = "Transfer-Encoding: chunked"


def raw(*steps: bytes) -> Raw:
    """Exact bytes, then the server closes: for rows where the close is the point."""
    return Raw(steps)


NEXT = b"next"


def then_next(*steps: bytes) -> Script:
    """``kept`` for the first request; ``/next`` (the second request) answers 200 ``next``."""
    return Script(default=kept(*steps), routes={"/next": Reply(200, body=NEXT)})


def earlier(obs: Observation) -> dict[str, Any]:
    """The first response of a two-call row, as ``Got.to_json`` wrote it."""
    assert obs.got is not None
    return (obs.got.extra.get("earlier") or [{}])[0]


def junk_then_next(body: bytes, status: int = 200) -> Checked:
    """Bytes beyond the response's framing, then a second request on the same client.

    RFC 9112 §6.3: "If the final response to the last request on a connection has been
    completely received and there remains additional data to read, a user agent MAY
    discard the remaining data or attempt to determine if that data belongs as part of
    the prior message body ... A client MUST NOT process, cache, or forward such extra
    data as a separate response". One rule for the rows of this kind: the caller gets the
    response as framed (``body``), or an error for it (refused); the extra bytes never
    join the body, and the next request gets its own response, not the extra bytes.
    """

    def check(obs: Observation) -> Result:
        if obs.options.get("completed_calls"):
            return bad(f"got {status}; the next request failed: {outcome(obs)}: the extra bytes were read as its "
                       "response")
        if not returned(obs):
            return ok(f"refused: {outcome(obs)}{tries(obs)}")
        assert obs.got is not None
        if "earlier" not in obs.got.extra:  # the first call raised for its status (urllib and 304)
            return Result(obs.got.status == status and obs.got.body == body,
                          f"{outcome(obs)}, {body_words(obs.got.body, body)}; no next request (it raised)")
        first = earlier(obs)
        shown = first.get("body_text", "").encode("utf-8", "backslashreplace")
        same_len = first.get("body_len") == len(body)
        body_ok = same_len and shown == body
        words = f"got {first.get('status')}, " + (f"body intact ({len(body)} bytes)" if body_ok else
                                                 f"body {first.get('body_len')} bytes, {body_words(shown, body)}")
        same = len(obs.sent) == 2 and obs.sent[0].connection == obs.sent[1].connection
        nxt = f"next request ({'same' if same else 'new'} connection): {outcome(obs)}, {body_words(obs.got.body, NEXT)}"
        good = first.get("status") == status and body_ok and obs.got.status == 200 and obs.got.body == NEXT
        return Result(good, f"{words}; {nxt}")

    two = (request(), request("GET", "/next"))
    kept_junk = answer(200, NEXT, sent=two, extra={"earlier": [Got(status, None, (), body + b"junk").to_json()]})
    junk_as_next = raised("invalid-status-line", sent=two, options={"completed_calls": 1})
    return Checked(check, (kept_junk, junk_as_next))


def trailer_not_merged(obs: Observation) -> Result:
    """RFC 9112 §7.1.2: "A recipient MUST NOT merge a received trailer field into the
    header section unless its corresponding header field definition explicitly permits
    and instructs how the trailer field value can be safely merged." """
    if not returned(obs):
        return bad(f"refused a valid response: {outcome(obs)}")
    assert obs.got is not None
    merged = obs.got.header("X-Trailer") is not None
    fate = "trailer merged into the header fields" if merged else "trailer field not among the header fields"
    return Result(obs.got.body == HELLO and not merged, f"{outcome(obs)}, {body_words(obs.got.body, HELLO)}; {fate}")


def folded(got: Got) -> bool:
    """RFC 9112 §5.2: "A user agent that receives an obs-fold in a response message ...
    MUST replace each received obs-fold with one or more SP octets prior to interpreting
    the field value." """
    value = got.header("X-Folded")
    return value is not None and re.fullmatch(r"first +second", value) is not None


def space_before_colon(got: Got) -> str:
    """How 'X-Space : yes' surfaced, and whether the field after it survived."""
    names = [k for k, _ in got.headers if k.strip().lower() == "x-space"]
    field = f"field named {wire_safe(names[0])!r}" if names else "field not visible"
    after = "X-After kept" if got.header("X-After") is not None else "X-After (the next field) lost too"
    return f"{field}; {after}"


def large_value(got: Got) -> str:
    value = got.header("X-Large")
    if value is None:
        return "X-Large not visible"
    return "X-Large intact" if value == "a" * 65536 else f"X-Large truncated to {len(value)} characters"


def fields_seen(got: Got) -> str:
    seen = sum(1 for k, _ in got.headers if k.lower().startswith("x-f-"))
    return f"all {MANY} fields visible" if seen == MANY else f"{seen} of {MANY} fields visible"


def head_then_get(obs: Observation) -> Result:
    """RFC 9112 §6.3: "Any response to a HEAD request ... is always terminated by the first
    empty line after the header fields, regardless of the header fields present"; the
    GET's response must not be taken for the HEAD's body. Whether the GET went on the
    HEAD's connection (the case that tests the boundary) is in the summary."""
    if not returned(obs):
        return bad(f"{outcome(obs)}")
    assert obs.got is not None
    head = earlier(obs)
    length = next((v for k, v in head.get("headers", []) if k.lower() == "content-length"), None)
    head_words = f"HEAD: got {head.get('status')}, body {head.get('body_len')} bytes, Content-Length {length}"
    same = len(obs.sent) == 2 and obs.sent[0].connection == obs.sent[1].connection
    good = head.get("status") == 200 and head.get("body_len") == 0 and obs.got.body == HELLO
    return Result(good, f"{head_words}; then GET ({'same' if same else 'new'} connection): {outcome(obs)}, "
                        f"{body_words(obs.got.body, HELLO)}")


def connections(obs: Observation) -> Result:
    """INFO: RFC 9112 §9.3 makes HTTP/1.1 connections persistent by default; reuse is the
    client's choice. Both answers must be right either way."""
    if not returned(obs) or len(obs.sent) != 2:
        return bad(f"{outcome(obs)} after {len(obs.sent)} request(s)")
    assert obs.got is not None
    ids = {c.connection for c in obs.sent}
    how = "one connection for both requests" if len(ids) == 1 else "a new connection for each request"
    right = earlier(obs).get("body_len") == 2 and obs.got.body == b"ok"
    return ok(how if right else f"{how}; a response was wrong")


def row(id: str, title: str, spec: str, level: Level, check: Check, response: Raw | Reply | Script,
        call: Call = GET, **kw: Any) -> Scenario:
    return Scenario(id, title, spec, level, check, call, response, **kw)


def framed_row(id: str, title: str, spec: str, check: Check, body: bytes, *steps: bytes | Stream,
               level: Level = "MUST", **kw: Any) -> Scenario:
    """A row whose message ends by its framing: the connection stays open after it (``kept``)."""
    return row(id, title, spec, level, framed(check, body), kept(*steps), **kw)


def junk_row(id: str, title: str, spec: str, head: bytes, body: bytes, junk: bytes, status: int = 200) -> Scenario:
    """A complete response, extra bytes after it, then a second request on the same client."""
    return row(id, title, spec, "MUST", framed(junk_then_next(body, status), body, status), then_next(head + body + junk),
               Call("GET", then=(Call("GET", "/next"),)))


OBS_FOLD_LOST = answer(200, b"hello", headers=(("X-Folded", "first"),))

# -- the rows -------------------------------------------------------------------------

SCENARIOS = [
    # RFC 9112 §7.1: chunked, the body as a series of chunks ending with a zero-size chunk.
    framed_row("chunked.basic", "A chunked body: decoded", "RFC 9112 §7.1", delivers(HELLO), HELLO,
               response(TE) + CHUNKED_HELLO),
    framed_row("chunked.many-small", "A chunked body in 1-byte chunks", "RFC 9112 §7.1", delivers(ALPHABET * 4),
               ALPHABET * 4, response(TE), *chunked(ALPHABET * 4, 1)),
    framed_row("chunked.large", "A 4 MiB chunked body in 64 KiB chunks", "RFC 9112 §7.1", delivers(LARGE), LARGE,
               response(TE), Stream(lambda: chunked(LARGE, 64 * 1024))),
    # RFC 9112 §7.1: chunk-size = 1*HEXDIG (RFC 5234: HEXDIG is case-insensitive).
    framed_row("chunked.uppercase-hex", "Chunk sizes in uppercase hex (1A)", "RFC 9112 §7.1", delivers(ALPHABET),
               ALPHABET, response(TE) + b"1A\r\n" + ALPHABET + b"\r\n0\r\n\r\n"),
    # RFC 9112 §7.1.1: "A recipient MUST ignore unrecognized chunk extensions."
    framed_row("chunked.extensions", "Chunk extensions (;name=value, quoted): ignored", "RFC 9112 §7.1.1",
               delivers(HELLO), HELLO,
               response(TE) + b'5;ext=1\r\nhello\r\n6;name="quoted value"\r\n world\r\n0;last\r\n\r\n'),
    framed_row("chunked.trailers", "A trailer field after the last chunk: body intact, trailer not merged into "
               "the header fields", "RFC 9112 §7.1.2", Checked(trailer_not_merged, (
                   answer(200, HELLO, headers=(("Trailer", "X-Trailer"), ("X-Trailer", "yes"))),)), HELLO,
               response(TE, "Trailer: X-Trailer") + b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"),
    row("chunked.invalid-size", "A chunk size that is not hex ('zz'): refused", "RFC 9112 §8", "MUST",
        refuses(), raw(response(TE) + b"zz\r\nhello\r\n0\r\n\r\n")),
    row("chunked.missing-last-chunk", "The connection closes before the last chunk (0 CRLF CRLF)",
        "RFC 9112 §8", "MUST", refuses(), raw(response(TE) + b"5\r\nhello\r\n6\r\n world\r\n")),
    # RFC 9112 §7.1: "Recipients MUST anticipate potentially large hexadecimal numerals and
    # prevent parsing errors due to integer conversion overflows or precision loss due to
    # integer representation." 2**64 + 5: a parser that wraps at 64 bits reads 5.
    row("chunked.size-overflow", "A chunk size of 2**64 + 5 (wraps to 5 in 64 bits)", "RFC 9112 §7.1",
        "MUST", refuses(), raw(response(TE) + b"10000000000000005\r\nhello\r\n0\r\n\r\n")),
    row("framing.cl-short", "Fewer bytes than Content-Length, then close: incomplete", "RFC 9112 §8",
        "MUST", refuses(b"helloworld"), raw(response("Content-Length: 10") + b"hello")),
    # RFC 9112 §6.3: "its decimal value defines the expected message body length in octets".
    junk_row("framing.cl-long", "More bytes than Content-Length: the body ends at the length, the rest is "
             "never the next response", "RFC 9112 §6.3", response("Content-Length: 5"), b"hello", b" world"),
    # RFC 9112 §6.3: "If a message is received without Transfer-Encoding and with an invalid
    # Content-Length header field, then the message framing is invalid and the recipient MUST
    # treat it as an unrecoverable error ... the user agent MUST close the connection to the
    # server and discard the received response."
    row("framing.cl-invalid", "Content-Length: abc: refused", "RFC 9112 §6.3", "MUST",
        refuses(), raw(response("Content-Length: abc") + HELLO)),
    # RFC 9110 §8.6: the same value repeated: a recipient "MAY either reject the message as
    # invalid or replace that invalid field value with a single instance of the decimal value".
    framed_row("framing.cl-duplicate-same", "Content-Length: 5 twice: one length, or refused", "RFC 9110 §8.6",
               tolerates(b"hello"), b"hello", response("Content-Length: 5", "Content-Length: 5") + b"hello"),
    row("framing.cl-duplicate-conflict", "Content-Length: 5 and 11: refused", "RFC 9112 §6.3", "MUST",
        refuses(), raw(response("Content-Length: 5", "Content-Length: 11") + HELLO), security=True),
    # RFC 9112 §6.3: "If a message is received with both a Transfer-Encoding and a
    # Content-Length header field, the Transfer-Encoding overrides the Content-Length. Such
    # a message might indicate an attempt to perform request smuggling ... and ought to be
    # handled as an error."
    framed_row("framing.cl-and-te", "Content-Length and chunked together: chunked wins, or refused",
               "RFC 9112 §6.3", tolerates(b"hello"), b"hello",
               response("Content-Length: 3", TE) + b"5\r\nhello\r\n0\r\n\r\n", security=True),
    # RFC 9112 §6.3: "Otherwise, this is a response message without a declared message body
    # length, so the message body length is determined by the number of octets received
    # prior to the server closing the connection."
    row("framing.close-delimited", "No length, no chunking: the body ends at close", "RFC 9112 §6.3",
        "MUST", delivers(HELLO), raw(response() + HELLO)),
    row("framing.head-with-cl", "HEAD answered with Content-Length: no body read; a GET after it intact "
        "(same connection or a new one: recorded)", "RFC 9112 §6.3", "MUST",
        Checked(head_then_get, (answer(200, b"", sent=(request("HEAD"), request()),
                                       extra={"earlier": [Got(200, None, (), HELLO).to_json()]}),)),
        Reply(200, body=HELLO), Call("HEAD", then=(Call("GET"),))),
    # RFC 9112 §6.3: "Any response to a HEAD request and any response with a 1xx (Informational),
    # 204 (No Content), or 304 (Not Modified) status code is always terminated by the first
    # empty line after the header fields, regardless of the header fields present".
    junk_row("framing.204-with-body", "A 204 with Content-Length: 5 and 5 bytes: no body, the 5 bytes never "
             "the next response", "RFC 9112 §6.3", response("Content-Length: 5", status="204 No Content"), b"",
             b"hello", 204),
    junk_row("framing.304-with-body", "A 304 with Content-Length: 5 and 5 bytes: no body, the 5 bytes never "
             "the next response", "RFC 9112 §6.3",
             response("Content-Length: 5", 'ETag: "v1"', status="304 Not Modified"), b"", b"hello", 304),
    # RFC 9112 §2.2: "a recipient MAY recognize a single LF as a line terminator and ignore
    # any preceding CR": accept it whole, or refuse it; never misparse it.
    framed_row("framing.bare-lf", "Status line and fields ended by LF alone", "RFC 9112 §2.2",
               tolerates(b"hello"), b"hello", response("Content-Length: 5", eol=b"\n") + b"hello"),
    framed_row("framing.obs-fold", "A folded field value (obs-fold): unfolded with spaces", "RFC 9112 §5.2",
               delivers(b"hello", detail=field_words("X-Folded"), good=folded), b"hello",
               response("X-Folded: first", "  second", "Content-Length: 5") + b"hello", wrong=(OBS_FOLD_LOST,)),
    # RFC 9112 §5.1: "No whitespace is allowed between the field name and colon." A server
    # MUST reject such a request, a proxy MUST remove the space; a user agent: recorded.
    framed_row("framing.space-before-colon", "'X-Space : yes' (space before the colon): what the caller sees",
               "RFC 9112 §5.1", tolerates(b"hello", detail=space_before_colon), b"hello",
               response("X-Space : yes", "X-After: 1", "Content-Length: 5") + b"hello", level="INFO",
               waits=True),  # three clients wait out the linger: side by side
    row("framing.http10-response", "An HTTP/1.0 response without length: body to close", "RFC 9112 §6.3",
        "MUST", delivers(HELLO), raw(b"HTTP/1.0 200 OK\r\n\r\n" + HELLO)),
    row("framing.early-close", "The connection closes in the middle of a chunk: incomplete",
        "RFC 9112 §8", "MUST", refuses(b"hello, wonderful"), raw(response(TE) + b"10\r\nhello")),
    row("framing.keepalive-reuse", "Two requests on one client: one connection or two?", "RFC 9112 §9.3",
        "INFO", connections, Reply(200, body=b"ok"), Call("GET", then=(Call("GET"),))),
    # RFC 9110 §5.4: "A client MAY discard or truncate received field lines that are larger
    # than the client wishes to process if the field semantics are such that the dropped
    # value(s) can be safely ignored without changing the message framing".
    row("framing.large-header", "A 64 KiB field line: accepted or refused, never misframed",
        "RFC 9110 §5.4", "MUST", tolerates(b"hello", detail=large_value),
        Reply(200, headers=(("X-Large", "a" * 65536),), body=b"hello")),
    row("framing.many-headers", f"{MANY} header fields: accepted or refused, never misframed",
        "RFC 9110 §5.4", "MUST", tolerates(b"hello", detail=fields_seen),
        Reply(200, headers=tuple((f"X-F-{i}", str(i)) for i in range(MANY)), body=b"hello")),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
