"""Methods and what is sent: request line, body framing, default fields, targets.

Every row is graded on the *sent* side: what the fixture server captured.
The checks are built by a few small factories, so that each scenario is one
declaration: id, title, spec anchor, level, the call, and what is checked.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from model.cell import Call, Observation
from model.checks import fields, framing, outcome, query, refused, tail, wire, with_decoders
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Reply
from model.wrong import answer, raised, request

BODY = b"hello"


def sends(method: str, body: bytes = b"", *, no_length: bool = False) -> Check:
    """The request reached the server with this method and body, and the caller got 200.

    ``no_length``: also require that no Content-Length was sent (RFC 9110 §8.6,
    "A user agent SHOULD NOT send a Content-Length header field when the request
    message does not contain content and the method semantics do not anticipate
    such data").
    """

    def check(obs: Observation) -> Result:
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        c = obs.sent[0]
        good = c.method == method and c.body == body and obs.got is not None and obs.error is None
        if no_length and c.header("Content-Length") is not None:
            good = False
        return Result(good, sent_words(obs))

    wrong = [answer(sent=(request(method, body=body[:-1] if body else b"x"),)),
             answer(sent=(request("GET" if method != "GET" else "POST", body=body),))]
    if no_length:
        wrong.append(answer(sent=(request(method, headers=(("Content-Length", "0"),), framing="none"),)))
    return Checked(check, tuple(wrong), right=(answer(sent=(request(method, body=body),)),))


def sent_words(obs: Observation) -> str:
    """What the first request carried, in words: method, body framing, a bodiless Content-Length."""
    c = obs.sent[0]
    cl = c.header("Content-Length")
    length = f", Content-Length: {cl}" if cl is not None and c.framing == "none" else ""
    return f"sent {wire(c.method)}, {framing(c)}{length}; {outcome(obs)}"


def records(obs: Observation) -> Result:
    """INFO rows: what was sent, in words."""
    return ok(sent_words(obs)) if obs.sent else bad(f"nothing sent; {outcome(obs)}")


def default_headers(obs: Observation) -> Result:
    """Every field sent unasked, in order, with its value (Host's value left out)."""
    if not obs.sent:
        return bad(f"nothing sent; {outcome(obs)}")
    return ok(fields(obs.sent[0]) + with_decoders(obs))


def host_is(expected: str) -> Check:
    """RFC 9112 §3.2: Host carries the target URI's authority (port omitted when default)."""

    def check(obs: Observation) -> Result:
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        c = obs.sent[0]
        hosts = c.header_all("Host")
        server_host, _, port = c.server.rpartition(":")
        want = server_host if expected == "no-port" else c.server
        if len(hosts) != 1:
            return bad(f"{len(hosts)} Host fields sent")
        # The host first, then ":<port>": the port-80 server's address is random, and in
        # 127.0.0.180 a bare "80" would be taken for the port.
        shown = hosts[0].replace(server_host, "<host>")
        shown = shown.replace(f":{port}", ":<port>") if port else shown
        return Result(hosts[0] == want, f"Host: {shown}")

    port80 = "127.0.0.80:80"
    wrong = (answer(sent=(request(headers=(("Host", port80),), server=port80),)) if expected == "no-port" else
             answer(sent=(request(headers=(("Host", "127.0.0.1"),), server="127.0.0.1:8000"),)))
    return Checked(check, (wrong, answer(sent=(request(headers=(("Host", "a"), ("Host", "a"))),))))


def header_case(obs: Observation) -> Result:
    if not obs.sent:
        return bad(f"nothing sent; {outcome(obs)}")
    names = [k for k, _ in obs.sent[0].headers if k.lower() == "x-mixed-case"]
    if not names:
        return bad("the field was not sent")
    how = "kept as given" if names[0] == "x-MiXeD-CaSe" else f"sent as {names[0]!r}"
    return ok(f"field name case {how}")


def crlf_words(obs: Observation) -> Result:
    """Security: a CR LF in a caller's field value must not start a new field on the wire."""
    injected = [c for c in obs.sent if c.header("X-Injected") is not None or b"\r\nX-Injected" in c.raw]
    if injected:
        return bad(f"sent: the injected field reached the server; {outcome(obs)}")
    if refused(obs):
        return ok(f"refused: {outcome(obs)}")
    value = obs.sent[0].header("X-Note") if obs.sent else None
    return ok(f"sent sanitised value {wire(value or '')!r}; {outcome(obs)}")


crlf_refused = Checked(crlf_words, (answer(sent=(request(headers=(("X-Note", "a"), ("X-Injected", "yes"))),)),))


def query_is(decoded: list[tuple[str, str]]) -> Check:
    """The target's query is ASCII, has no raw space, and decodes to the caller's pairs."""

    def check(obs: Observation) -> Result:
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        q = query(obs.sent[0])
        summary = f"query {wire(q)!r}; {outcome(obs)}"
        clean = q.isascii() and " " not in q
        return Result(clean and parse_qsl(q, keep_blank_values=True) == decoded, summary)

    raw_pairs = "&".join(f"{k}={v} x" for k, v in decoded)
    short = "&".join(f"{k}={v}" for k, v in decoded[:-1])
    return Checked(check, tuple(answer(sent=(request(path="/?" + q),)) for q in (raw_pairs, short)))


def records_query(obs: Observation) -> Result:
    if not obs.sent:
        return bad(f"nothing sent; {outcome(obs)}")
    return ok(f"query {wire(query(obs.sent[0]))!r}; {outcome(obs)}")


def path_sent(expected: str, *, refusal_ok: bool) -> Check:
    """The path reached the server as ``expected``; raw spaces or non-ASCII bytes fail.

    RFC 9112 §3.2: the request-target is a URI component (RFC 3986: ASCII only);
    RFC 3986 §6.2.2.2: percent-encodings of reserved characters (%2F) must not be decoded.
    """

    def check(obs: Observation) -> Result:
        if refusal_ok and refused(obs):
            return ok(f"refused: {outcome(obs)}")
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        path = tail(obs.sent[0]).split("?", 1)[0]
        summary = f"sent path {wire(path)!r}; {outcome(obs)}"
        if path == expected:
            return ok(summary)
        valid = path.isascii() and " " not in path and unquote(path) == unquote(expected)
        return Result(valid and refusal_ok, summary)

    wrong = [answer(sent=(request(path=unquote(expected)),))]
    if not refusal_ok:
        wrong.append(raised("invalid-request", sent=()))
    return Checked(check, tuple(wrong))


def unquotes_to(expected: str) -> Check:
    return query_is([("q", expected)])


def head_ends(obs: Observation) -> Result:
    """RFC 9112 §6.3: the response to a HEAD ends after its header section."""
    body = f", body {len(obs.got.body)} bytes" if obs.got is not None else ""
    return Result(obs.got is not None and obs.got.status == 200 and obs.got.body == b"" and obs.error is None,
                  f"{outcome(obs)}{body}")


def empty_post_framed(obs: Observation) -> Result:
    """RFC 9110 §8.6: Content-Length: 0 (or a chunked empty body) on an empty POST."""
    return Result(bool(obs.sent) and (obs.sent[0].header("Content-Length") == "0" or obs.sent[0].framing == "chunked"),
                  records(obs).summary)


SCENARIOS = [
    Scenario("methods.get", "GET: method sent, no body", "RFC 9110 §9.3.1", "MUST",
             sends("GET"), Call("GET")),
    Scenario("methods.head", "HEAD: the response ends after its header section", "RFC 9112 §6.3", "MUST",
             Checked(head_ends, (answer(200, b"0123456789", sent=(request("HEAD"),)), raised("read-timeout"))),
             Call("HEAD"), Reply(200, body=b"0123456789")),
    Scenario("methods.post-bytes", "POST with a bytes body: sent whole, with Content-Length",
             "RFC 9112 §6.2", "MUST", sends("POST", BODY), Call("POST", body=BODY)),
    # RFC 9110 §8.6: "A user agent SHOULD send Content-Length in a request when the method
    # defines a meaning for enclosed content and it is not sending Transfer-Encoding."
    Scenario("methods.post-empty", "POST with an empty body: Content-Length: 0 (or chunked) sent",
             "RFC 9110 §8.6", "SHOULD",
             Checked(empty_post_framed, (answer(sent=(request("POST"),)),)), Call("POST", body=b"")),
    Scenario("methods.post-generator", "POST with a generator body: arrives whole (chunked or not?)",
             "RFC 9112 §7.1", "MUST", sends("POST", b"streamed body"), Call("POST", body=b"streamed body", stream=True)),
    Scenario("methods.put", "PUT with a body", "RFC 9110 §9.3.4", "MUST", sends("PUT", BODY), Call("PUT", body=BODY)),
    Scenario("methods.patch", "PATCH with a body", "RFC 5789 §2", "MUST", sends("PATCH", BODY), Call("PATCH", body=BODY)),
    Scenario("methods.delete", "DELETE without a body: no Content-Length sent", "RFC 9110 §8.6", "SHOULD",
             sends("DELETE", no_length=True), Call("DELETE")),
    Scenario("methods.delete-with-body", "DELETE with a body: sent, and how", "RFC 9110 §9.3.5", "INFO",
             records, Call("DELETE", body=BODY)),
    Scenario("methods.options", "OPTIONS to a path", "RFC 9110 §9.3.7", "MUST",
             sends("OPTIONS"), Call("OPTIONS")),
    Scenario("methods.custom", "A custom method (PURGE) sent as given", "RFC 9110 §9.1", "MUST",
             sends("PURGE"), Call("PURGE")),
    Scenario("methods.lowercase", "The caller passes 'get': what goes on the wire (methods are case-sensitive)",
             "RFC 9110 §9.1", "INFO", records, Call("get")),
    Scenario("methods.get-with-body", "GET with a body: sent, and how", "RFC 9110 §9.3.1", "INFO",
             records, Call("GET", body=BODY)),
    Scenario("request.default-headers", "The fields each library sends unasked", "RFC 9110 §10.1", "INFO",
             default_headers, Call("GET", report_decoders=True)),
    Scenario("request.host-default-port", "Host for the scheme's default port (':80' in the URL): the port "
             "is omitted", "RFC 9110 §4.2.3", "SHOULD", host_is("no-port"), Call("GET"), origin="http-80"),
    # The URL as users write it, without a port: the Host field is the URL's authority.
    Scenario("request.host-implicit-port", "Host for a URL with no port (the default, 80, implicit): "
             "no port sent", "RFC 9110 §4.2.3", "SHOULD", host_is("no-port"), Call("GET"), origin="http-80-implicit"),
    Scenario("request.host-non-default-port", "Host for a non-default port: the port is included",
             "RFC 9112 §3.2", "MUST", host_is("with-port"), Call("GET")),
    Scenario("request.header-case", "Is the caller's field-name case kept on the wire?", "RFC 9110 §5.1",
             "INFO", header_case, Call("GET", headers=(("x-MiXeD-CaSe", "1"),))),
    Scenario("request.crlf-injection", "A field value with CR LF: refused, sanitised, or sent?",
             "RFC 9110 §5.5", "MUST", crlf_refused,
             Call("GET", headers=(("X-Note", "a\r\nX-Injected: yes"),)), security=True),
    Scenario("query.params-dict", "Query parameters from a dict", "RFC 3986 §3.4", "MUST",
             query_is([("a", "1"), ("b", "2")]), Call("GET", params={"a": "1", "b": "2"})),
    Scenario("query.list-values", "A dict value that is a list: how is it encoded?", "RFC 3986 §3.4", "INFO",
             records_query, Call("GET", params={"tag": ["x", "y"]})),
    Scenario("query.unicode", "Non-ASCII parameters are percent-encoded UTF-8", "RFC 3986 §2.5", "MUST",
             unquotes_to("café ☕"), Call("GET", params={"q": "café ☕"})),
    Scenario("query.space", "A space in a parameter is encoded (+ or %20), never raw", "RFC 3986 §2.1", "MUST",
             unquotes_to("a b"), Call("GET", params={"q": "a b"})),
    Scenario("path.percent-encoded", "Percent-encodings in the path are kept (%2F not decoded)",
             "RFC 3986 §6.2.2.2", "MUST", path_sent("/a%2Fb%20c", refusal_ok=False), Call("GET", path="/a%2Fb%20c")),
    Scenario("path.space", "A space in the URL path: encoded or refused, never sent raw", "RFC 9112 §3.2",
             "MUST", path_sent("/a%20b", refusal_ok=True), Call("GET", path="/a b")),
    Scenario("path.unicode", "Non-ASCII in the URL path: percent-encoded UTF-8 or refused, never raw",
             "RFC 3986 §2.5", "MUST", path_sent("/caf%C3%A9", refusal_ok=True), Call("GET", path="/café")),
]

def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
