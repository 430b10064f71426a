"""Checks on the *got* side: what a library made of the response the server sent.

Most rows of the framing, header, coding and timeout groups ask one of three
questions about a response:

    delivers(body)    a well-formed response: the caller gets exactly this body
    refuses(full)     a malformed or incomplete response: the caller must get an
                      error; accepting it is graded by what was accepted
                      ("truncated silently: 5 of 10 bytes" stays visible)
    tolerates(body)   either is right: the exact body, or an error; a wrong body
                      (misframed, extra bytes kept) is what fails

Where the framing decides where a message ends, the row's script is ``kept(...)``: the
server keeps the connection open after the response (``Linger``), and its check is
``framed(check, body)``: a response the caller only got when the server finally closed
the connection is a missed message end, whatever its body looks like.

Summaries name the outcome in stable words: ``refused: raised IncompleteRead
(incomplete-body)``, ``got 200, body intact (11 bytes)``, ``accepted: got 200,
truncated silently: 5 of 10 bytes``. Byte counts appear only where the server's
script fixes them.
"""

from __future__ import annotations

from collections.abc import Callable

from model.cell import Got, Observation, excerpt
from model.checks import outcome
from model.scenario import Check, Checked, Result, bad, ok, wrong_of
from model.script import Linger, Raw, Stream
from model.wrong import answer, raised

#: How much of an unexpected body a summary shows.
SHOWN = 40

#: A detail added to the summary of a delivered response (a header's fate, ...): words, or "".
Detail = Callable[[Got], str]


def body_words(body: bytes, expected: bytes | None) -> str:
    """What a delivered body is, relative to what the server meant to send."""
    if expected is not None:
        if body == expected:
            return f"body intact ({len(body)} bytes)"
        if len(body) < len(expected) and expected.startswith(body):
            return f"truncated silently: {len(body)} of {len(expected)} bytes"
        if body.startswith(expected):
            return f"{len(body) - len(expected)} extra bytes kept after the body"
    if not body:
        return "no body"
    if len(body) > SHOWN:
        return f"body {len(body)} bytes, starting {excerpt(body, SHOWN)!r}"
    return f"body {excerpt(body)!r}"


def tries(obs: Observation) -> str:
    """``, after 4 requests`` when the library sent the request again by itself."""
    return f", after {len(obs.sent)} requests" if len(obs.sent) > 1 else ""


def delivered(obs: Observation, expected: bytes | None, detail: Detail | None = None) -> str:
    """``got 200, body intact (11 bytes)``, and the row's detail, for a returned response."""
    assert obs.got is not None
    words = f"{outcome(obs)}{tries(obs)}, {body_words(obs.got.body, expected)}"
    more = detail(obs.got) if detail is not None else ""
    return f"{words}; {more}" if more else words


def returned(obs: Observation) -> bool:
    """The library returned a response (an http-status error carrying one counts)."""
    return obs.got is not None and (obs.error is None or obs.error.kind == "http-status")


def delivers(body: bytes, status: int = 200, detail: Detail | None = None,
             good: Callable[[Got], bool] | None = None) -> Check:
    """A well-formed response: the caller must get ``status`` and exactly ``body``."""

    def check(obs: Observation) -> Result:
        if not returned(obs):
            return bad(f"refused a valid response: {outcome(obs)}{tries(obs)}")
        assert obs.got is not None
        right = obs.got.status == status and obs.got.body == body and (good is None or good(obs.got))
        return Result(right, delivered(obs, body, detail))

    return Checked(check, lambda: (answer(status, misframed(body)), raised("incomplete-body")),
                   right=() if good is not None else (answer(status, body),))


def misframed(body: bytes) -> bytes:
    """A wrong body for a wrong answer: cut short, or (an empty one) with bytes kept after it."""
    return body[:-1] if body else b"hello"


def refuses(full: bytes | None = None, detail: Detail | None = None) -> Check:
    """A malformed or incomplete response: the caller must get an error, not a body.

    ``full`` is the body the response announced, so that an accepted one reads as
    "truncated silently: 5 of 10 bytes"; None shows what was accepted as is.
    """

    def check(obs: Observation) -> Result:
        if not returned(obs):
            return ok(f"refused: {outcome(obs)}{tries(obs)}")
        return bad(f"accepted: {delivered(obs, full, detail)}")

    return Checked(check, (answer(200, full[: len(full) // 2] if full else b"hello"),),
                   right=(raised("incomplete-body"),))


def tolerates(body: bytes, status: int = 200, detail: Detail | None = None) -> Check:
    """Either is right: exactly ``body`` (and ``status``), or an error; a wrong body fails."""

    def check(obs: Observation) -> Result:
        if not returned(obs):
            return ok(f"refused: {outcome(obs)}{tries(obs)}")
        assert obs.got is not None
        return Result(obs.got.status == status and obs.got.body == body, delivered(obs, body, detail))

    return Checked(check, (answer(status, body + b" world"), answer(status, misframed(body))),
                   right=(answer(status, body), raised("invalid-framing")))


#: How long the server keeps a connection open after a framed response, waiting for the
#: client's next request. A client still reading finishes only when it closes.
LINGER = 1.5
#: A response that took this long came with the server's close, not with its framing.
AT_CLOSE = LINGER * 0.9


def kept(*steps: bytes | Stream) -> Raw:
    """Exact bytes, then the connection stays open (``Linger``): the framing must end the message."""
    return Raw((*steps, Linger(LINGER)), close=False)


def framed(check: Check, body: bytes, status: int = 200) -> Checked:
    """``check``, and the message ended by its framing: a response the caller got only when
    the server closed the connection (after ``LINGER`` s of waiting for the next request)
    is a missed message end, whatever its body looks like."""

    def run(obs: Observation) -> Result:
        result = check(obs)
        if returned(obs) and obs.elapsed >= AT_CLOSE:
            return bad(f"{result.summary}; only when the server closed the connection: the message end was missed")
        return result

    right = check.right if isinstance(check, Checked) else ()
    return Checked(run, lambda: (*wrong_of(check), answer(status, body, elapsed=LINGER)), right=right)


def field_words(name: str) -> Detail:
    """A detail: how one response field reached the caller (``X-Dup: 'a, b'``, or absent)."""

    def words(got: Got) -> str:
        values = [v for k, v in got.headers if k.lower() == name.lower()]
        if not values:
            return f"{name} not visible"
        return f"{name}: " + ", ".join(repr(wire_safe(v)) for v in values)

    return words


def wire_safe(text: str) -> str:
    """A value for a summary: control and non-ASCII characters escaped, bounded."""
    shown = text.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= SHOWN else f"{shown[:SHOWN]}... ({len(text)} characters)"
