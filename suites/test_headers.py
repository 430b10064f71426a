"""Response fields and text: what the caller's API makes of the server's header section and charset.

Two views of the fields are recorded: every field as the library lists them (``Got.headers``,
repeats kept where the API keeps them) and, for the rows that ask, the library's one-value
accessor (``r.headers[name]``, ``getheader(name)``), which is what most callers use.
"""

from __future__ import annotations

from model.cell import Call, Got, Observation
from model.checks import outcome
from model.received import framed, kept, returned, tries, wire_safe
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Reply
from model.wrong import answer, raised

UTF8 = "café ☕".encode()
LATIN1 = "café naïve".encode("latin-1")
#: A cookie whose Expires holds a comma: joined with ", ", two cookies cannot be told apart.
COOKIES = ("a=1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "b=2; Path=/")


def values(got: Got, name: str) -> list[str]:
    return [v for k, v in got.headers if k.lower() == name.lower()]


def relative(found: list[str], first: str, second: str) -> str:
    """Values of a repeated field, in words relative to the two the server sent."""
    known = {(first, second): "both, apart", (f"{first}, {second}",): "both, joined with ', '",
             (first,): "the first only", (second,): "the last only", (): "none"}
    return known.get(tuple(found), ", ".join(repr(wire_safe(v)) for v in found))


def lookup_words(got: Got, name: str, first: str, second: str) -> str:
    """What the one-value accessor returned for ``name``."""
    if "lookup" not in got.extra:
        return "no one-value accessor"
    value = got.extra["lookup"].get(name)
    return f"[{name!r}] gives {relative([] if value is None else [value], first, second)}"


def seen(obs: Observation) -> Got | Result:
    """The response, or the Result of a library that did not return one."""
    if not returned(obs):
        return bad(f"refused a valid response: {outcome(obs)}{tries(obs)}")
    assert obs.got is not None
    return obs.got


def both_values(name: str, first: str, second: str, *, joined_ok: bool) -> Check:
    """Two fields ``name``: both values reach the caller, in order.

    RFC 9110 §5.3: "A recipient MAY combine multiple field lines within a field section that
    have the same field name into one field line, without changing the semantics of the
    message, by appending each subsequent field line value to the combined field line value
    in order, separated by a comma". ``joined_ok=False`` for Set-Cookie: "Since it cannot be
    combined into a single field value, recipients ought to handle "Set-Cookie" as a special
    case while processing fields."
    """

    def check(obs: Observation) -> Result:
        got = seen(obs)
        if isinstance(got, Result):
            return got
        found = values(got, name)
        summary = f"listed: {relative(found, first, second)}; {lookup_words(got, name, first, second)}"
        if found == [first, second]:
            return ok(summary)
        return Result(joined_ok and found == [f"{first}, {second}"], summary)

    return Checked(check, (answer(200, b"ok", headers=((name, second),)), answer(200, b"ok", headers=((name, first),))))


def name_case(obs: Observation) -> Result:
    """INFO: RFC 9110 §5.1: "Field names are case-insensitive"; is the server's case kept?"""
    got = seen(obs)
    if isinstance(got, Result):
        return got
    names = [k for k, _ in got.headers if k.lower() == "x-mixed-case"]
    if not names:
        return ok("field not listed")
    return ok("field name case kept" if names[0] == "X-MiXeD-CaSe" else f"listed as {names[0]!r}")


def value_words(value: str, raw: bytes) -> tuple[bool, str]:
    """Whether a field value's octets can be had back, and how the library decoded them.

    RFC 9110 §5.5: "A recipient SHOULD treat other allowed octets in field content (i.e.,
    obs-text) as opaque data."
    """
    shown = repr(wire_safe(value))
    if value == raw.decode("latin-1"):
        return True, f"{shown}: decoded as ISO-8859-1 (octets recoverable)"
    try:
        if value == raw.decode("utf-8"):
            return True, f"{shown}: decoded as UTF-8"
    except UnicodeDecodeError:
        pass
    if value == raw.decode("utf-8", "surrogateescape"):
        return True, f"{shown}: UTF-8 with the other octets as surrogate escapes (recoverable)"
    if "\ufffd" in value:
        return False, f"{shown}: lossy, octets replaced by U+FFFD"
    return False, f"{shown}: changed"


def opaque(name: str, raw: bytes) -> Check:
    """A field value with non-ASCII octets: the response accepted, the octets recoverable."""

    def check(obs: Observation) -> Result:
        got = seen(obs)
        if isinstance(got, Result):
            return got
        found = values(got, name)
        if not found:
            return bad(f"{outcome(obs)}; {name} not listed")
        good, words = value_words(found[0], raw)
        return Result(good, f"{outcome(obs)}; {words}")

    lossy = raw.decode("ascii", "replace")  # the non-ASCII octets replaced by U+FFFD
    return Checked(check, (answer(200, b"ok", headers=((name, lossy),)), raised("invalid-header")))


def empty_words(obs: Observation) -> Result:
    """RFC 9110 §5.5: field-value = *field-content: an empty value is a valid field."""
    got = seen(obs)
    if isinstance(got, Result):
        return got
    found = values(got, "X-Empty")
    if not found:
        return bad(f"{outcome(obs)}; the empty field is not listed")
    return Result(found == [""], f"{outcome(obs)}; X-Empty: {wire_safe(found[0])!r}")


empty_value = Checked(empty_words, (answer(200, b"ok"), raised("invalid-header")))


def decoding_of(text: str, body: bytes) -> str:
    """Which charset a text accessor used, in words."""
    for charset in ("utf-8", "iso-8859-1", "cp1252", "ascii"):
        if text == body.decode(charset, "replace"):
            return f"decoded as {charset.upper()}"
    return "decoded some other way"


def text_is(body: bytes, expected: str | None) -> Check:
    """What the library's text accessor decodes ``body`` to; ``expected`` None: recorded only.

    RFC 9110 §8.3: "The indicated media type defines both the data format and how that data
    is intended to be processed by a recipient"; for text/*, the charset parameter says how.
    """

    def check(obs: Observation) -> Result:
        got = seen(obs)
        if isinstance(got, Result):
            return got
        if got.text is None:  # adapters say unsupported when the library has none
            return Result(expected is None, "no text read through the library")
        summary = f"text {wire_safe(got.text)!r}: {decoding_of(got.text, body)}"
        return Result(expected is None or got.text == expected, summary)

    return Checked(check, (answer(200, body, text=body.decode("utf-8", "replace")), answer(200, body)))


SCENARIOS = [
    Scenario("headers.duplicate", "Two X-Dup fields: what the caller's API returns (both values, in order?)",
             "RFC 9110 §5.3", "INFO", both_values("X-Dup", "a", "b", joined_ok=True), Call("GET", lookup=("X-Dup",)),
             Reply(200, headers=(("X-Dup", "a"), ("X-Dup", "b")), body=b"ok")),
    # RFC 9110 §5.3: recipients "ought to handle "Set-Cookie" as a special case": advice, no
    # requirement (RFC 6265 §3's SHOULD NOT fold binds servers): recorded.
    Scenario("headers.set-cookie-multiple", "Two Set-Cookie fields: kept apart, or joined with a comma?",
             "RFC 9110 §5.3", "INFO", both_values("Set-Cookie", *COOKIES, joined_ok=False),
             Call("GET", lookup=("Set-Cookie",)),
             Reply(200, headers=tuple(("Set-Cookie", c) for c in COOKIES), body=b"ok")),
    Scenario("headers.case", "Is the server's field-name case kept (X-MiXeD-CaSe)?", "RFC 9110 §5.1", "INFO",
             name_case, Call("GET"), Reply(200, headers=(("X-MiXeD-CaSe", "1"),), body=b"ok")),
    Scenario("headers.utf8-value", "A field value in raw UTF-8: accepted, octets recoverable", "RFC 9110 §5.5",
             "SHOULD", opaque("X-Utf8", UTF8), Call("GET"),
             Reply(200, headers=(("X-Utf8", UTF8.decode("latin-1")),), body=b"ok")),
    Scenario("headers.latin1-value", "A field value in ISO-8859-1 (byte E9): accepted, octets recoverable",
             "RFC 9110 §5.5", "SHOULD", opaque("X-Latin1", LATIN1), Call("GET"),
             Reply(200, headers=(("X-Latin1", LATIN1.decode("latin-1")),), body=b"ok")),
    Scenario("headers.empty-value", "An empty field value ('X-Empty:'): listed, empty", "RFC 9110 §5.5",
             "SHOULD", framed(empty_value, b"ok"), Call("GET"),
             kept(b"HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 2\r\n\r\nok")),
    Scenario("text.charset-missing", "text/plain without charset, UTF-8 body: what the text accessor gives",
             "RFC 9110 §8.3", "INFO", text_is(UTF8, None), Call("GET", text=True),
             Reply(200, headers=(("Content-Type", "text/plain"),), body=UTF8)),
    Scenario("text.charset-declared", "text/plain; charset=iso-8859-1: the text accessor decodes by it",
             "RFC 9110 §8.3.2", "SHOULD", text_is(LATIN1, LATIN1.decode("latin-1")), Call("GET", text=True),
             Reply(200, headers=(("Content-Type", "text/plain; charset=iso-8859-1"),), body=LATIN1)),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
