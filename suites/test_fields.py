"""The caller's request fields, methods and targets as they reach the wire, valid or not.

    RFC 9110 §5.1: field-name = token. RFC 9110 §5.5: "Field values containing CR, LF, or
    NUL characters are invalid and dangerous, due to the varying ways that implementations
    might parse and interpret those characters". RFC 9110 §2.2: "a sender MUST NOT generate
    protocol elements that do not match the grammar defined by the corresponding ABNF rules".

So a name or value outside the grammar is graded MUST: refused, or sent only in a form the
grammar allows; a name or value that makes a field line of its own (``X-Injected``) is a
security row. Values outside the grammar but common in practice (non-ASCII, a value that is
not a string) are INFO: the cell records what the library did (refused, latin-1, UTF-8,
``str()``-ed, dropped). Families are tables: ``request.name-*``, ``request.value-*``,
``request.method-*``, ``request.target-*``, ``request.value-type-*``.
"""

from __future__ import annotations

import re

from model.cell import Call, Capture, Got, Observation
from model.checks import outcome, refused, tail, wire
from model.scenario import Check, Result, Scenario, bad, ok
from model.script import Reply
from model.wrong import attach

OK = Reply(200, body=b"ok")
TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
INJECTED = b"X-Injected"


def head_lines(c: Capture) -> list[bytes]:
    head = c.raw.split(b"\r\n\r\n", 1)[0]
    return head.split(b"\r\n")


def injected(c: Capture) -> bool:
    """A field line the caller's string created: ``X-Injected`` at the start of a line, or a
    request line the server had to refuse."""
    return any(line.startswith(INJECTED) for line in re.split(rb"\r\n|\r|\n", c.raw.split(b"\r\n\r\n", 1)[0]))


def unrouted(text: str) -> str:
    """A request line or server note for a summary: the cell's route prefix left out."""
    return re.sub(r"/c/t[0-9]+", "", text)


def grammatical(c: Capture) -> str | None:
    """What in the request head breaks RFC 9112's grammar, or None."""
    lines = head_lines(c)
    request_line = lines[0].split(b" ")
    if len(request_line) != 3 or not TOKEN.match(request_line[0]):
        return f"request line {wire(unrouted(lines[0].decode('latin-1')))!r}"
    if any(b < 0x21 or b > 0x7e for b in request_line[1]):
        return f"request target {wire(unrouted(request_line[1].decode('latin-1')))!r}"
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not TOKEN.match(name):
            return f"field line {wire(line.decode('latin-1'))!r}"
        if any(ch in value for ch in b"\r\n\0"):
            return f"field value of {wire(name.decode('latin-1'))}"
    return None


def stays_valid(name: bytes = b"", forbid: bytes | None = None) -> Check:
    """Refused, or sent only as a request the grammar allows, with nothing injected.

    ``name``: the start of the field the caller asked for; when sent, how it appears is shown.
    ``forbid``: a field name outside the grammar; a head line that starts with it and a colon
    sent it as given (``X-A:B: 1`` reads as field ``X-A`` with the value ``B: 1``).
    """

    def check(obs: Observation) -> Result:
        if refused(obs):
            return ok(f"refused: {outcome(obs)}")
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        c = obs.sent[0]
        if injected(c):
            return bad(f"sent: a field line was injected ({INJECTED.decode()}); {outcome(obs)}")
        if c.framing == "invalid":
            return bad(f"sent a request the server could not parse ({unrouted(c.problem)}); {outcome(obs)}")
        if forbid is not None and any(line.startswith(forbid + b":") for line in head_lines(c)[1:]):
            return bad(f"sent the field name as given: {wire(forbid.decode('latin-1'))!r}; {outcome(obs)}")
        broken = grammatical(c)
        if broken is not None:
            return bad(f"sent an invalid {broken}; {outcome(obs)}")
        if not name:
            return ok(f"sent {wire(c.method)} {wire(tail(c))!r}; {outcome(obs)}")
        shown = [line.decode("latin-1") for line in head_lines(c)[1:] if line.startswith(name)]
        how = f"sent as {wire(shown[0])!r}" if shown else "sent without it"
        return ok(f"{how}; {outcome(obs)}")

    return check


def value_sent(name: str) -> Check:
    """INFO: what became of a value: refused, or its octets on the wire."""

    def check(obs: Observation) -> Result:
        if refused(obs):
            return ok(f"refused: {outcome(obs)}")
        if not obs.sent:
            return ok(f"nothing sent; {outcome(obs)}")
        c = obs.sent[0]
        lines = [line for line in head_lines(c)[1:] if line.lower().startswith(name.lower().encode() + b":")]
        if not lines:
            return ok(f"field not sent; {outcome(obs)}")
        value = lines[0].partition(b":")[2].strip(b" \t")
        return ok(f"sent {octets(value)}; {outcome(obs)}")

    return check


def octets(value: bytes) -> str:
    """A field value's octets, and what they are (ASCII, UTF-8, ISO-8859-1)."""
    shown = value.decode("latin-1").encode("unicode_escape").decode("ascii")
    if value.isascii():
        return f"{shown!r}"
    try:
        text = value.decode("utf-8")
        return f"{shown!r} (UTF-8 of {text!r})"
    except UnicodeDecodeError:
        return f"{shown!r} (ISO-8859-1 of {value.decode('latin-1')!r})"


def field_row(id: str, title: str, name: str, value: str, *, level: str = "MUST", security: bool = False,
              spec: str = "RFC 9110 §5.1") -> Scenario:
    raw = name.encode("utf-8")
    forbid = raw if not TOKEN.match(raw) else None
    check = stays_valid(raw[:3], forbid) if level == "MUST" else value_sent(name)
    return Scenario(f"request.{id}", title, spec, level, check, Call("GET", headers=((name, value),)), OK,  # type: ignore[arg-type]
                    security=security)


NAMES = [
    field_row("name-crlf", "A field name with CR LF ('X-A\\r\\nX-Injected: yes'): refused, never a new line",
              "X-A\r\nX-Injected: yes", "1", security=True),
    field_row("name-colon", "A field name with a colon ('X-A:B'): refused, never 'X-A' with value 'B: 1'",
              "X-A:B", "1", security=True),
    field_row("name-space", "A field name with a space ('X A'): refused", "X A", "1"),
    field_row("name-trailing-space", "A field name ending in a space ('X-A '): refused, never 'X-A : 1'",
              "X-A ", "1", security=True),
    field_row("name-empty", "An empty field name: refused", "", "1"),
    field_row("name-non-ascii", "A non-ASCII field name ('X-Café'): refused", "X-Café", "1"),
    field_row("name-nul", "A field name with NUL: refused", "X-A\x00", "1"),
    field_row("value-lf", "A value with a bare LF ('a\\nX-Injected: yes'): refused, never a new line",
              "X-Note", "a\nX-Injected: yes", security=True, spec="RFC 9110 §5.5"),
    field_row("value-cr", "A value with a bare CR ('a\\rX-Injected: yes'): refused, never a new line",
              "X-Note", "a\rX-Injected: yes", security=True, spec="RFC 9110 §5.5"),
    field_row("value-nul", "A value with NUL ('a\\x00b'): refused, never sent raw", "X-Note", "a\x00b",
              spec="RFC 9110 §5.5"),
    field_row("value-crlf-space", "A value with CR LF then a space (an obs-fold): refused, never folded",
              "X-Note", "a\r\n b", spec="RFC 9110 §5.5"),
    field_row("value-latin1", "A value with 'é' (ISO-8859-1 can say it): refused, latin-1 or UTF-8?", "X-Note", "café",
              level="INFO", spec="RFC 9110 §5.5"),
    field_row("value-non-latin1", "A value with '☕' (ISO-8859-1 cannot say it): refused, or which octets?",
              "X-Note", "tea ☕", level="INFO", spec="RFC 9110 §5.5"),
    field_row("value-leading-space", "A value with leading and trailing spaces: trimmed or sent?", "X-Note",
              "  padded  ", level="INFO", spec="RFC 9110 §5.5"),
]


def value_type_row(id: str, title: str, value: object) -> Scenario:
    return Scenario(f"request.value-type-{id}", f"A field value that is {title}: refused, str()-ed or dropped?",
                    "RFC 9110 §5.5", "INFO", value_sent("X-Value"), Call("GET", header_values=(("X-Value", value),)), OK)


TYPES = [
    value_type_row("int", "an int (42)", 42),
    value_type_row("float", "a float (1.5)", 1.5),
    value_type_row("bool", "a bool (True)", True),
    value_type_row("none", "None", None),
    value_type_row("bytes", "bytes (b'v1')", b"v1"),
    value_type_row("bytes-utf8", "bytes in UTF-8 (b'caf\\xc3\\xa9')", "café".encode()),
]


def method_row(id: str, title: str, method: str, security: bool = False) -> Scenario:
    return Scenario(f"request.method-{id}", title, "RFC 9110 §9.1", "MUST", stays_valid(),
                    Call(method), OK, security=security)


def target_row(id: str, title: str, path: str, security: bool = False) -> Scenario:
    return Scenario(f"request.target-{id}", title, "RFC 9112 §3.2", "MUST", stays_valid(),
                    Call("GET", path=path), OK, security=security)


INJECTIONS = [
    method_row("crlf", "A method with CR LF ('GET /x HTTP/1.1\\r\\nX-Injected: yes\\r\\n\\r\\nGET'): refused",
               "GET /x HTTP/1.1\r\nX-Injected: yes\r\n\r\nGET", security=True),
    method_row("space", "A method with a space ('GE T'): refused", "GE T"),
    method_row("empty", "An empty method: refused", ""),
    target_row("crlf", "A path with CR LF and a field ('/a\\r\\nX-Injected: yes'): encoded or refused",
               "/a\r\nX-Injected: yes", security=True),
    target_row("tab", "A path with a tab: encoded or refused, never raw", "/a\tb"),
    target_row("nul", "A path with NUL: encoded or refused, never raw", "/a\x00b"),
]


def capture(head: bytes, framing: str = "none") -> Capture:
    """A made-up capture from a request head, for the guard self-test's wrong answers."""
    lines = head.split(b"\r\n")
    method, target, version = (lines[0].decode("latin-1").split(" ") + ["", "", ""])[:3]
    return Capture(method, target, version, (), b"", framing, head + b"\r\n\r\n", 1, server="127.0.0.1:1")


def sent_raw(head: bytes) -> Observation:
    return Observation(sent=(capture(head),), got=Got(200, "OK", (), b"ok"))


GET = b"GET /c/t1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"
WRONG: dict[str, Observation] = {
    "request.name-crlf": sent_raw(GET + b"X-A\r\nX-Injected: yes: 1"),
    "request.name-colon": sent_raw(GET + b"X-A:B: 1"),
    "request.name-space": sent_raw(GET + b"X A: 1"),
    "request.name-trailing-space": sent_raw(GET + b"X-A : 1"),
    "request.name-empty": sent_raw(GET + b": 1"),
    "request.name-non-ascii": sent_raw(GET + b"X-Caf\xe9: 1"),
    "request.name-nul": sent_raw(GET + b"X-A\x00: 1"),
    "request.value-lf": sent_raw(GET + b"X-Note: a\nX-Injected: yes"),
    "request.value-cr": sent_raw(GET + b"X-Note: a\rX-Injected: yes"),
    "request.value-nul": sent_raw(GET + b"X-Note: a\x00b"),
    "request.value-crlf-space": sent_raw(GET + b"X-Note: a\r\n b"),
    "request.method-crlf": sent_raw(b"GET /x HTTP/1.1\r\nX-Injected: yes\r\n\r\nGET /c/t1/ HTTP/1.1"),
    "request.method-space": sent_raw(b"GE T /c/t1/ HTTP/1.1\r\nHost: a"),
    "request.method-empty": sent_raw(b" /c/t1/ HTTP/1.1\r\nHost: a"),
    "request.target-crlf": sent_raw(b"GET /c/t1/a\r\nX-Injected: yes HTTP/1.1\r\nHost: a"),
    "request.target-tab": sent_raw(b"GET /c/t1/a\tb HTTP/1.1\r\nHost: a"),
    "request.target-nul": sent_raw(b"GET /c/t1/a\x00b HTTP/1.1\r\nHost: a"),
}
DEPTH = [*NAMES, *TYPES, *INJECTIONS]
DEPTH = attach(DEPTH, WRONG)  # the guard (tests/test_wrong.py) feeds each its wrong answer
SCENARIOS = DEPTH


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
