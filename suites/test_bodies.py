"""Request bodies as they go on the wire: none or empty, file objects, JSON, forms, uploads.

Every row is graded on the *sent* side (what the server captured) except the upload rows,
which ask what the caller saw when the server answered before reading the body.

    RFC 9110 §8.6: "A user agent SHOULD send Content-Length in a request when the method
    defines a meaning for enclosed content and it is not sending Transfer-Encoding." and
    "A user agent SHOULD NOT send a Content-Length header field when the request message
    does not contain content and the method semantics do not anticipate such data."

Families (tables, one declaration each): ``body.none.<method>`` and ``body.empty.<method>``
(no body as None and as b""), ``body.file-*`` (a file object, and what a redirect does
with it), ``json.*`` (the library's JSON API), ``form.*`` (its form API), ``multipart.*``
(its multipart API), ``upload.*`` (an early answer to a large upload, Expect).
``WRONG`` holds, for every graded row, an observation that must not pass
(``tests/test_depth_guards.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from model.cell import Call, Capture, Failure, Got, Observation, Part
from model.checks import framing, outcome, refused, status_seen, wire
from model.forms import Malformed, multipart, params, same_json, strict_json, valid_boundary
from model.scenario import Check, Result, Scenario, bad, ok
from model.script import Raw, Reply, Script, Sleep
from model.wrong import attach

BODY = b"hello file"
OK = Reply(200, body=b"ok")


def sent(obs: Observation) -> Capture | Result:
    """The first request the server captured, or the Result of a call that sent nothing."""
    if not obs.sent:
        return bad(f"nothing sent; {outcome(obs)}")
    return obs.sent[0]


def length_words(c: Capture) -> str:
    cl = c.header("Content-Length")
    te = c.header("Transfer-Encoding")
    if te is not None:
        return f"Transfer-Encoding: {wire(te)}, {len(c.body)} bytes"
    return f"Content-Length: {cl}" if cl is not None else "no Content-Length"


# -- body.none / body.empty: a table of methods -----------------------------------------

#: Methods whose semantics anticipate content (RFC 9110 §9.3.3, §9.3.4, RFC 5789).
CONTENT_METHODS = ("POST", "PUT", "PATCH")


def length_rule(method: str, body: bytes | None) -> tuple[str, Check]:
    """The level and check for a request with no content (``None`` or ``b""``)."""
    wants = method in CONTENT_METHODS

    def check(obs: Observation) -> Result:
        c = sent(obs)
        if isinstance(c, Result):
            return c
        has_length = c.header("Content-Length") is not None or c.framing == "chunked"
        summary = f"sent {wire(c.method)}, {length_words(c)}; {outcome(obs)}"
        good = c.body == b"" and (has_length == wants)
        return Result(good, summary)

    level = "SHOULD" if wants or body is None else "INFO"
    return level, check


def empty_row(method: str, body: bytes | None) -> Scenario:
    kind = "none" if body is None else "empty"
    how = "no body (None)" if body is None else "an empty body (b'')"
    want = "Content-Length: 0 sent" if method in CONTENT_METHODS else "no Content-Length"
    level, check = length_rule(method, body)
    title = f"{method} with {how}: " + (want if level != "INFO" else "Content-Length: 0 or none?")
    return Scenario(f"body.{kind}.{method.lower()}", title, "RFC 9110 §8.6", level,  # type: ignore[arg-type]
                    check, Call(method, body=body), OK)


EMPTY = [
    *(empty_row(m, None) for m in ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH")),  # DELETE: methods.delete
    *(empty_row(m, b"") for m in ("GET", "HEAD", "DELETE", "OPTIONS", "PUT", "PATCH")),  # POST: methods.post-empty
]


def capture(method: str = "POST", headers: tuple[tuple[str, str], ...] = (), body: bytes = b"",
            framing: str = "content-length", target: str = "/c/t1/", server: str = "127.0.0.1:1",
            raw: bytes = b"", connection: int = 1) -> Capture:
    """A made-up capture, for the wrong answers the guard self-test feeds the checks."""
    return Capture(method, target, "HTTP/1.1", headers, body, framing, raw, connection, server=server)


def got(status: int = 200, body: bytes = b"ok", **extra: object) -> Got:
    return Got(status, "OK", (), body, extra=dict(extra))


def seen_by(*captures: Capture, status: int = 200) -> Observation:
    return Observation(sent=captures, got=got(status))


WRONG: dict[str, Observation] = {}
for _m in ("GET", "HEAD", "OPTIONS"):  # a Content-Length: 0 where none is wanted
    WRONG[f"body.none.{_m.lower()}"] = seen_by(capture(_m, (("Content-Length", "0"),)))
for _m in CONTENT_METHODS:  # no length where one is wanted
    WRONG[f"body.none.{_m.lower()}"] = seen_by(capture(_m, framing="none"))
for _m in ("PUT", "PATCH"):
    WRONG[f"body.empty.{_m.lower()}"] = seen_by(capture(_m, framing="none"))


# -- body.file-*: a file object as the body ---------------------------------------------

def arrives(body: bytes) -> Check:
    """The body reached the server whole (how it was framed is recorded)."""

    def check(obs: Observation) -> Result:
        c = sent(obs)
        if isinstance(c, Result):
            return c
        return Result(c.body == body, f"sent {framing(c)}; {outcome(obs)}")

    return check


def resent(code: int) -> Check:
    """The next hop of a ``code`` redirect carries the same method and the whole body again.

    RFC 9110 §15.4.8 (307): "the user agent MUST NOT change the request method if it performs
    an automatic redirection to that URI"; §15.4: the user agent "SHOULD resend the original
    request message": a file body must be read again from its start, not sent empty.
    """

    def check(obs: Observation) -> Result:
        if obs.error is not None and obs.got is None and (len(obs.sent) < 2 or obs.sent[1].framing == "invalid"):
            # Whether the server read the head of an abandoned next hop before the client hung
            # up is a race of ours: one summary for both.
            return bad(f"the redirect did not complete: raised {obs.error.short}")
        if len(obs.sent) < 2:
            return Result(status_seen(obs) == code, f"not followed; {outcome(obs)}")
        first, hop = obs.sent[0], obs.sent[1]
        if hop.body == first.body:
            fate = f"body resent whole ({framing(hop)})"
        elif not hop.body:
            fate = f"body NOT resent ({framing(hop)})"
        else:
            fate = f"body changed: {len(hop.body)} of {len(first.body)} bytes"
        good = hop.method == first.method and hop.body == first.body == BODY and status_seen(obs) == 200
        return Result(good, f"followed: {hop.method}, {fate}; {outcome(obs)}")

    return check


def bodiless_hop(obs: Observation) -> Result:
    """RFC 9110 §15.4, step 5: "If the request method has been changed to GET or HEAD, remove
    content-specific header fields" -- a GET after a 303 carries no body and no framing."""
    if len(obs.sent) < 2:
        return Result(status_seen(obs) == 303, f"not followed; {outcome(obs)}")
    hop = obs.sent[1]
    framed = [f"{k}: {wire(v)}" for k, v in hop.headers if k.lower() in ("content-length", "transfer-encoding")]
    good = hop.method == "GET" and not hop.body and not framed
    words = ", ".join(framed) if framed else "no framing fields"
    return Result(good, f"followed: {hop.method}, {framing(hop)}, {words}; {outcome(obs)}")


def redirected(code: int, to: str = "{base}/next") -> Script:
    return Script(default=Reply(200, body=b"ok"), routes={"/": Reply(code, headers=(("Location", to),))})


def file_call(**kw: object) -> Call:
    return Call("POST", body=BODY, file_body=True, follow_redirects=True, **kw)  # type: ignore[arg-type]


FILES = [
    Scenario("body.file", "A file object as the body: sent whole (Content-Length or chunked?)", "RFC 9112 §6.2",
             "MUST", arrives(BODY), Call("POST", body=BODY, file_body=True), OK),
    Scenario("body.file-307", "A file body answered by 307: the next hop sends the whole body again",
             "RFC 9110 §15.4.8", "MUST", resent(307), file_call(), redirected(307)),
    Scenario("body.file-308", "A file body answered by 308: the next hop sends the whole body again",
             "RFC 9110 §15.4.9", "MUST", resent(308), file_call(), redirected(308)),
    Scenario("body.file-307-other-origin", "A file body, 307 to another origin: the body sent whole again",
             "RFC 9110 §15.4.8", "MUST", resent(307), file_call(), redirected(307, "{base:http-other}/next")),
    Scenario("body.generator-307", "A generator body (cannot be rewound) answered by 307: what happens?",
             "RFC 9110 §15.4.8", "INFO", resent(307), Call("POST", body=BODY, stream=True, follow_redirects=True),
             redirected(307)),
    Scenario("body.generator-303", "A streamed (chunked) POST answered by 303: the GET carries no body, no framing",
             "RFC 9110 §15.4", "SHOULD", bodiless_hop, Call("POST", body=BODY, stream=True, follow_redirects=True),
             redirected(303)),
    Scenario("body.file-303", "A file-body POST answered by 303: the GET carries no body, no framing",
             "RFC 9110 §15.4", "SHOULD", bodiless_hop, file_call(), redirected(303),
             # curl_cffi resends POST with the Content-Length and never the body: both sides
             # wait. A second is ample for every other client (they answer in milliseconds).
             deadline=1.0, waits=True),
]
WRONG["body.file"] = seen_by(capture(body=BODY[:4]))
for _code in (307, 308):
    WRONG[f"body.file-{_code}"] = seen_by(capture(body=BODY), capture(body=b"", framing="chunked"))
WRONG["body.file-307-other-origin"] = seen_by(capture(body=BODY), capture(body=b"", server="127.0.0.1:2"))
WRONG["body.generator-303"] = seen_by(capture(body=BODY, framing="chunked"),
                                      capture("GET", (("Transfer-Encoding", "chunked"),), framing="chunked"))
WRONG["body.file-303"] = seen_by(capture(body=BODY), capture("GET", (("Content-Length", str(len(BODY))),),
                                                             body=BODY))


# -- json.*: the library's JSON API -------------------------------------------------------

def json_sent(value: object, *, strict: bool = True) -> Check:
    """RFC 8259 §8.1: "JSON text exchanged between systems that are not part of a closed
    ecosystem MUST be encoded using UTF-8"; the body parses back to the caller's value, and
    is labelled application/json (RFC 8259 §11). The bytes themselves are recorded."""

    def check(obs: Observation) -> Result:
        if strict and refused(obs):
            return bad(f"refused: {outcome(obs)}")
        c = sent(obs)
        if isinstance(c, Result):
            return c
        ctype = c.header("Content-Type")
        words = f"sent {shown(c.body.decode('utf-8', 'backslashreplace'))!r}, Content-Type: {ctype}"
        try:
            good = same_json(strict_json(c.body), value) and (ctype or "").split(";")[0].strip() == "application/json"
        except Malformed as exc:
            return bad(f"{words}: {exc}; {outcome(obs)}")
        return Result(good, f"{words}; {outcome(obs)}")

    return check


def not_json_constant(obs: Observation) -> Result:
    """RFC 8259 §6: "Numeric values that cannot be represented in the grammar below (such as
    Infinity and NaN) are not permitted." Refused before sending, or sent as valid JSON."""
    if refused(obs):
        return ok(f"refused: {outcome(obs)}")
    c = sent(obs)
    if isinstance(c, Result):
        return c
    words = f"sent {shown(c.body.decode('utf-8', 'backslashreplace'))!r}"
    try:
        strict_json(c.body)
    except Malformed as exc:
        return bad(f"{words}: {exc}; {outcome(obs)}")
    return ok(f"{words}; {outcome(obs)}")


def json_row(id: str, title: str, value: object, level: str = "MUST", check: Check | None = None,
             headers: tuple[tuple[str, str], ...] = ()) -> Scenario:
    return Scenario(f"json.{id}", title, "RFC 8259 §8.1" if check is None else "RFC 8259 §6", level,  # type: ignore[arg-type]
                    check or json_sent(value), Call("POST", json=value, headers=headers), OK)


NAN, INF = float("nan"), float("inf")
JSON = [
    json_row("object", "A JSON object: UTF-8, application/json, the caller's value (separators recorded)",
             {"a": 1, "b": [1, 2], "c": None}),
    json_row("non-ascii", "Non-ASCII strings: UTF-8 or \\u escapes, the same value either way",
             {"k": "cześć ☕"}),
    json_row("big-int", "An integer beyond 64 bits (2**70): sent exactly", {"n": 2 ** 70}),
    json_row("nan", "NaN: refused, or sent as valid JSON (never the bare NaN token)", {"x": NAN},
             check=not_json_constant),
    json_row("infinity", "Infinity: refused, or sent as valid JSON (never the bare Infinity token)", {"x": INF},
             check=not_json_constant),
    Scenario("json.lone-surrogate", "A lone surrogate (\\ud800) in a string: refused, escaped or replaced?",
             "RFC 8259 §8.2", "INFO", not_json_constant, Call("POST", json={"s": "\ud800"}), OK),
    Scenario("json.caller-content-type", "json= with the caller's own Content-Type: which one is sent?",
             "RFC 9110 §8.3", "INFO", json_sent({"a": 1}, strict=False),
             Call("POST", json={"a": 1}, headers=(("Content-Type", "application/vnd.api+json"),)), OK),
]
WRONG["json.object"] = seen_by(capture(headers=(("Content-Type", "text/plain"),), body=b'{"a": 1, "b": [1, 2], "c": null}'))
WRONG["json.non-ascii"] = seen_by(capture(headers=(("Content-Type", "application/json"),),
                                          body='{"k": "cześć ☕"}'.encode("utf-16")))
WRONG["json.big-int"] = seen_by(capture(headers=(("Content-Type", "application/json"),),
                                        body=b'{"n": 1180591620717411303425}'))
WRONG["json.nan"] = seen_by(capture(headers=(("Content-Type", "application/json"),), body=b'{"x": NaN}'))
WRONG["json.infinity"] = seen_by(capture(headers=(("Content-Type", "application/json"),), body=b'{"x": Infinity}'))


# -- form.*: the library's form API -------------------------------------------------------

FORM_TYPE = "application/x-www-form-urlencoded"
#: What the urlencoded serializer writes: its safe set, '+' for space, '%XX', '=' and '&'.
FORM_CHARS = re.compile(r"^(?:[A-Za-z0-9*\-._+=&]|%[0-9A-Fa-f]{2})*$")


def form_sent(pairs: tuple[tuple[str, str], ...]) -> Check:
    """WHATWG URL, application/x-www-form-urlencoded serializing: UTF-8, percent-encoded, in
    order; the body parses back to the caller's pairs and is labelled with that type."""

    def check(obs: Observation) -> Result:
        c = sent(obs)
        if isinstance(c, Result):
            return c
        ctype = (c.header("Content-Type") or "").split(";")[0].strip()
        text = c.body.decode("latin-1")
        words = f"sent {wire(text)!r}, Content-Type: {ctype or 'none'}; {outcome(obs)}"
        clean = FORM_CHARS.match(text) is not None
        try:
            decoded = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict") if clean else None
        except UnicodeDecodeError:
            decoded = None
        return Result(clean and decoded == list(pairs) and ctype == FORM_TYPE, words)

    return check


FORMS = {
    "basic": ("Two fields, in order", (("b", "2"), ("a", "1"))),
    "space": ("A space in a value: + or %20, never raw", (("q", "a b"),)),
    "reserved": ("& = + % # in a value: percent-encoded", (("q", "a&b=c+d%e#f"),)),
    "non-ascii": ("Non-ASCII values: percent-encoded UTF-8", (("q", "café ☕"),)),
    "empty-value": ("An empty value: 'k='", (("k", ""), ("z", "1"))),
    "newline": ("A CR LF in a value: percent-encoded (%0D%0A)", (("q", "a\r\nb"),)),
}
FORM = [Scenario(f"form.{key}", f"Form fields: {title}", "WHATWG URL §5.2", "MUST", form_sent(pairs),
                 Call("POST", form=pairs), OK) for key, (title, pairs) in FORMS.items()]
WRONG["form.basic"] = seen_by(capture(headers=(("Content-Type", "application/json"),), body=b'{"b": "2", "a": "1"}'))
WRONG["form.space"] = seen_by(capture(headers=(("Content-Type", FORM_TYPE),), body=b"q=a b"))
WRONG["form.reserved"] = seen_by(capture(headers=(("Content-Type", FORM_TYPE),), body=b"q=a&b=c+d%e#f"))
WRONG["form.non-ascii"] = seen_by(capture(headers=(("Content-Type", FORM_TYPE),), body=b"q=caf%E9+%3F"))
WRONG["form.empty-value"] = seen_by(capture(headers=(("Content-Type", FORM_TYPE),), body=b"z=1"))
WRONG["form.newline"] = seen_by(capture(headers=(("Content-Type", FORM_TYPE),), body=b"q=a\r\nb"))


# -- multipart.*: the library's multipart API (RFC 7578) ---------------------------------

def parts_of(obs: Observation) -> list[tuple[Capture, list]] | Result:  # type: ignore[type-arg]
    c = sent(obs)
    if isinstance(c, Result):
        return c
    try:
        return [(c, multipart(c.header("Content-Type"), c.body))]
    except Malformed as exc:
        return bad(f"not multipart/form-data: {exc}; {outcome(obs)}")


def upload(*expected: Part, detail: Callable[[list], str] | None = None) -> Check:  # type: ignore[type-arg]
    """RFC 7578 §4.2: every part has Content-Disposition: form-data with its name (and the
    file's filename); the contents arrive byte for byte, in order; a part's declared
    Content-Type is sent (§4.4)."""

    def check(obs: Observation) -> Result:
        found = parts_of(obs)
        if isinstance(found, Result):
            return found
        _, parts = found[0]
        good = len(parts) == len(expected)
        for want, part in zip(expected, parts, strict=False):
            good = good and part.disposition.split(";")[0].strip().lower() == "form-data" \
                and part.param("name") == want.name and part.body == want.content \
                and part.param("filename") == want.filename
            if want.content_type is not None:
                good = good and part.header("Content-Type") == want.content_type
        words = "; ".join(part_words(p) for p in parts)
        more = f"; {detail(parts)}" if detail is not None else ""
        return Result(good, f"{len(parts)} part(s): {words}{more}; {outcome(obs)}")

    return check


def shown(text: str, limit: int = 160) -> str:
    """A wire value for a summary: control and non-ASCII characters escaped, bounded."""
    out = text.encode("unicode_escape").decode("ascii")
    return out if len(out) <= limit else f"{out[:limit]}... ({len(text)} characters)"


def part_words(part: object) -> str:
    from model.forms import Part as Seen

    assert isinstance(part, Seen)
    ctype = part.header("Content-Type")
    return f"{shown(part.disposition)} [{len(part.body)} bytes{', ' + ctype if ctype else ''}]"


def disposition(obs: Observation) -> Result:
    """INFO: the Content-Disposition of the first part, exactly as sent."""
    found = parts_of(obs)
    if isinstance(found, Result):
        return found if not refused(obs) else ok(f"refused: {outcome(obs)}")
    _, parts = found[0]
    first = parts[0] if parts else None
    return ok(f"{shown(first.disposition) if first else 'no part'}; {outcome(obs)}")


def param_safe(param: str, allowed: tuple[str, ...], injected: str = "X-Injected") -> Check:
    """A name or filename with a quote or CR LF: refused, or escaped so that the part's
    header section still parses to one field with that parameter intact (RFC 7578 §4.2:
    HTML5 percent-encodes '"' CR LF; RFC 2183 quoted-string escapes '\\"'). A part header
    line the caller's string created is an injection."""

    def check(obs: Observation) -> Result:
        if refused(obs):
            return ok(f"refused: {outcome(obs)}")
        c = sent(obs)
        if isinstance(c, Result):
            return c
        if f"\r\n{injected}".encode() in c.body:
            return bad(f"part header injected: {injected} on a line of its own; {outcome(obs)}")
        found = parts_of(obs)
        if isinstance(found, Result):
            return found
        _, parts = found[0]
        value = parts[0].param(param) if parts else None
        seen = shown(parts[0].disposition) if parts else "no part"
        return Result(value in allowed, f"{seen}; {outcome(obs)}")

    return check


def boundary_ok(obs: Observation) -> Result:
    """RFC 2046 §5.1.1: 1 to 70 characters from bchars, not ending with a space, and "the
    boundary delimiter MUST NOT appear inside any of the encapsulated parts"."""
    c = sent(obs)
    if isinstance(c, Result):
        return c
    try:
        value = params(c.header("Content-Type") or "").get("boundary", "")
        parts = multipart(c.header("Content-Type"), c.body)
    except Malformed as exc:
        return bad(f"{exc}; {outcome(obs)}")
    inside = any(value.encode() in p.body for p in parts)
    kind = "hex" if all(ch in "0123456789abcdef" for ch in value.lower()) else "mixed characters"
    good = valid_boundary(value) and not inside
    return Result(good, f"boundary of {len(value)} characters ({kind}); {outcome(obs)}")


TXT = Part("upload", b"hello", "a.txt", "text/plain")
FIELD = Part("note", b"plain value")
BINARY = Part("blob", b"\r\n--\r\n--x\x00\xff\r\n", "b.bin", "application/octet-stream")
QUOTE_OK = ('a"b.txt', "a%22b.txt")


def mp_row(id: str, title: str, level: str, check: Check, *parts: Part, security: bool = False,
           spec: str = "RFC 7578 §4.2") -> Scenario:
    return Scenario(f"multipart.{id}", title, spec, level, check, Call("POST", files=parts), OK,  # type: ignore[arg-type]
                    security=security)


MULTIPART = [
    mp_row("file", "One file part: name, filename, Content-Type and content intact", "MUST", upload(TXT), TXT),
    mp_row("field-and-file", "A plain field and a file: both parts, in order, intact", "MUST",
           upload(FIELD, TXT), FIELD, TXT),
    mp_row("binary", "File content with CR LF, '--' and NUL: byte for byte", "MUST", upload(BINARY), BINARY),
    mp_row("empty-file", "An empty file: the part is sent, with 0 bytes", "MUST",
           upload(Part("upload", b"", "empty.txt", "text/plain")), Part("upload", b"", "empty.txt", "text/plain")),
    mp_row("boundary", "The boundary: valid bchars, at most 70, never inside a part", "MUST", boundary_ok,
           BINARY, spec="RFC 2046 §5.1.1"),
    mp_row("default-part-type", "A file part without a Content-Type: which one is sent (from the filename?)",
           "INFO", upload(Part("img", b"\x89PNG", "pic.png")), Part("img", b"\x89PNG", "pic.png"),
           spec="RFC 7578 §4.4"),
    mp_row("filename-non-ascii", "A non-ASCII filename (東京.png): filename*, raw UTF-8 or percent-encoded?",
           "INFO", disposition, Part("upload", b"x", "東京.png", "image/png"), spec="RFC 7578 §4.2"),
    mp_row("filename-quote", "A filename with '\"': escaped or percent-encoded, never breaking the quoting",
           "MUST", param_safe("filename", QUOTE_OK), Part("upload", b"x", 'a"b.txt', "text/plain")),
    mp_row("filename-crlf", "A filename with CR LF: never a new part header line", "MUST",
           param_safe("filename", ("a\r\nX-Injected: yes.txt", "a%0D%0AX-Injected: yes.txt",
                                   "a%0D%0AX-Injected%3A yes.txt")),
           Part("upload", b"x", "a\r\nX-Injected: yes.txt", "text/plain"), security=True),
    mp_row("name-brackets", "A field named 'files[]': sent as is, or percent-encoded?", "INFO", disposition,
           Part("files[]", b"x", "a.txt", "text/plain")),
    mp_row("name-quote", "A field name with '\"': escaped or percent-encoded, never breaking the quoting", "MUST",
           param_safe("name", ('a"b', "a%22b")), Part('a"b', b"x", "a.txt", "text/plain")),
    mp_row("name-crlf", "A field name with CR LF: never a new part header line", "MUST",
           param_safe("name", ("a\r\nX-Injected: yes", "a%0D%0AX-Injected: yes", "a%0D%0AX-Injected%3A yes")),
           Part("a\r\nX-Injected: yes", b"x", "a.txt", "text/plain"), security=True),
]


def mp_body(*parts: tuple[bytes, bytes]) -> Capture:
    """A multipart capture from (header section, content) pairs."""
    b = b"b0undary"
    body = b"".join(b"--" + b + b"\r\n" + head + b"\r\n\r\n" + content + b"\r\n" for head, content in parts)
    return capture(headers=(("Content-Type", "multipart/form-data; boundary=b0undary"),), body=body + b"--" + b + b"--\r\n")


TXT_HEAD = b'Content-Disposition: form-data; name="upload"; filename="a.txt"\r\nContent-Type: text/plain'
WRONG["multipart.file"] = seen_by(mp_body((TXT_HEAD, b"hell")))
WRONG["multipart.field-and-file"] = seen_by(mp_body((TXT_HEAD, b"hello")))
WRONG["multipart.binary"] = seen_by(mp_body((b'Content-Disposition: form-data; name="blob"; filename="b.bin"\r\n'
                                             b"Content-Type: application/octet-stream", b"\n--\n--x")))
WRONG["multipart.empty-file"] = seen_by(mp_body((b'Content-Disposition: form-data; name="note"', b"x")))
WRONG["multipart.boundary"] = seen_by(capture(headers=(("Content-Type", "multipart/form-data; boundary=--x"),),
                                              body=b"----x\r\nContent-Disposition: form-data; name=\"blob\"\r\n\r\n"
                                                   b"\r\n----x\r\n----x--\r\n"))
WRONG["multipart.filename-quote"] = seen_by(mp_body((b'Content-Disposition: form-data; name="upload"; '
                                                     b'filename="a"b.txt"', b"x")))
WRONG["multipart.filename-crlf"] = seen_by(mp_body((b'Content-Disposition: form-data; name="upload"; '
                                                    b'filename="a\r\nX-Injected: yes.txt"', b"x")))
WRONG["multipart.name-quote"] = seen_by(mp_body((b'Content-Disposition: form-data; name="a"b"; filename="a.txt"',
                                                 b"x")))
WRONG["multipart.name-crlf"] = seen_by(mp_body((b'Content-Disposition: form-data; name="a\r\nX-Injected: yes"; '
                                                b'filename="a.txt"', b"x")))


# -- upload.*: a server that answers before reading the body -----------------------------

#: Large enough that no client finishes writing it before the server's answer and close.
LARGE = b"u" * (8 * 1024 * 1024)


def early(status: int, *headers: str) -> Script:
    """The server answers ``status`` from the request head, never reads the body, waits a
    moment (so the answer is in the client's receive buffer), then closes."""
    head = "\r\n".join([f"HTTP/1.1 {status} Early", *headers, "Content-Length: 5", "Connection: close"])
    return Script(default=Raw(((head + "\r\n\r\nearly").encode(), Sleep(0.05))), early=True)


def sees(status: int) -> Check:
    """RFC 9112 §9.5: "A client sending a message body SHOULD monitor the network connection
    for an error response while it is transmitting the request. If the client sees a
    response that indicates the server does not wish to receive the message body and is
    closing the connection, the client SHOULD immediately cease transmitting the body and
    close its side of the connection." The caller gets that response, not a broken pipe."""

    def check(obs: Observation) -> Result:
        more = f", after {len(obs.sent)} requests" if len(obs.sent) > 1 else ""
        # The error's kind only: whether the write fails with EPIPE or ECONNRESET, or the read
        # does, depends on when the server's close lands; the kind does not.
        seen = f"raised ({obs.error.kind})" if obs.error is not None and obs.got is None else outcome(obs)
        return Result(status_seen(obs) == status, f"{seen}{more}")

    return check


def continued(obs: Observation) -> Result:
    """RFC 9110 §10.1.1: "A client that will wait for a 100 (Continue) response before sending
    the request content MUST send an Expect header field containing a 100-continue
    expectation." The body then arrives whole."""
    c = sent(obs)
    if isinstance(c, Result):
        return c
    expect = c.header("Expect")
    good = (expect or "").lower() == "100-continue" and c.body == BODY and status_seen(obs) == 200
    return Result(good, f"Expect: {expect or 'not sent'}, {framing(c)}; {outcome(obs)}")


EXPECT = (("Expect", "100-continue"),)
UPLOAD = [
    Scenario("upload.413-early", "An 8 MiB upload answered 413 and closed before the body is read: "
             "the caller sees the 413", "RFC 9112 §9.5", "SHOULD", sees(413), Call("POST", body=LARGE),
             early(413)),
    Scenario("upload.401-early", "An 8 MiB upload answered 401 and closed before the body is read: "
             "the caller sees the 401", "RFC 9112 §9.5", "SHOULD", sees(401), Call("POST", body=LARGE),
             early(401, 'WWW-Authenticate: Basic realm="cm"')),
    Scenario("upload.expect-header-417", "The caller's own 'Expect: 100-continue' on an 8 MiB upload, answered "
             "417 early: what the caller sees", "RFC 9110 §10.1.1", "INFO", sees(417),
             Call("POST", body=LARGE, headers=EXPECT), early(417)),
    Scenario("upload.expect-option", "The library's 100-continue option: Expect sent, the body sent after the 100",
             "RFC 9110 §10.1.1", "MUST", continued, Call("POST", body=BODY, expect_continue=True), OK),
    Scenario("upload.expect-option-401", "The library's 100-continue option, answered 401 without a 100: "
             "the caller sees the 401", "RFC 9110 §10.1.1", "SHOULD", sees(401),
             Call("POST", body=LARGE, expect_continue=True), early(401, 'WWW-Authenticate: Basic realm="cm"')),
]
_broken = Failure("connection-reset", "BrokenPipeError", "[Errno 32] Broken pipe")
for _id in ("upload.413-early", "upload.401-early", "upload.expect-option-401"):
    WRONG[_id] = Observation(sent=(capture(),), error=_broken)
WRONG["upload.expect-option"] = seen_by(capture(body=BODY))

DEPTH = [*EMPTY, *FILES, *JSON, *FORM, *MULTIPART, *UPLOAD]
DEPTH = attach(DEPTH, WRONG)  # the guard (tests/test_wrong.py) feeds each its wrong answer
SCENARIOS = DEPTH


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
