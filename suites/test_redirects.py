"""Redirects (RFC 9110 §15.4): following, method and body on the next hop, limits, leaks.

Every row but ``redirect.default-follow`` asks the library to follow
(``Call.follow_redirects=True``, recorded in the cell where the library takes an
option); http.client and the socket baseline cannot follow: ``unsupported``.
The next hop is graded from the server's capture, so "POST became GET" is what
went on the wire, not what the library says it did.

    RFC 9110 §15.4: "If a Location header field is provided, the user agent MAY
    automatically redirect its request to the URI referenced by the Location field
    value" -- not following is allowed: the caller then sees the 3xx.
    RFC 9110 §15.4: "When automatically following a redirected request, the user
    agent SHOULD resend the original request message with the following
    modifications: ... 4. Change the request method according to the redirecting
    status code's semantics, if applicable. 5. If the request method has been
    changed to GET or HEAD, remove content-specific header fields, including (but
    not limited to) Content-Encoding, Content-Language, Content-Location,
    Content-Type, Content-Length, Digest, Last-Modified."

The security rows (``security=True``) send a credential and redirect to another
origin (another port, or https -> http); the question is whether it travels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from model.cell import Call, Capture, Level, Observation
from model.checks import outcome, status_seen, tail, wire
from model.hops import cookie_pairs, other_origin, url_tail
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Raw, Reply, Response, Script
from model.wrong import answer, raised, request

BODY = b"hello"
OK = b"ok"
FOLLOW = Call("GET", follow_redirects=True)
#: The server's own bound on endless chains and loops: after this many hops it answers 200.
BOUND = 50

Methods = Callable[[str], frozenset[str]]


def same(method: str) -> frozenset[str]:
    return frozenset({method})


def post_may_get(method: str) -> frozenset[str]:
    # RFC 9110 §15.4.2, §15.4.3: "For historical reasons, a user agent MAY change the request
    # method from POST to GET for the subsequent request." -- POST only; others are resent.
    return frozenset({method, "GET"}) if method == "POST" else same(method)


def retrieval(method: str) -> frozenset[str]:
    # RFC 9110 §15.4.4: "the user agent can perform a retrieval request targeting that URI
    # (a GET or HEAD request if using HTTP)".
    return frozenset({"GET", "HEAD"})


#: code -> (spec anchor, level, the methods the next hop may use, given the original one).
CODES: dict[int, tuple[str, Level, Methods]] = {
    301: ("RFC 9110 §15.4.2", "SHOULD", post_may_get),
    302: ("RFC 9110 §15.4.3", "SHOULD", post_may_get),
    303: ("RFC 9110 §15.4.4", "SHOULD", retrieval),
    # §15.4.8: "the user agent MUST NOT change the request method if it performs an automatic
    # redirection to that URI."
    307: ("RFC 9110 §15.4.8", "MUST", same),
    # §15.4.9: "This status code is much like 301 (Moved Permanently), except that it does not
    # allow changing the request method from POST to GET."
    308: ("RFC 9110 §15.4.9", "MUST", same),
}
METHODS = ("GET", "POST", "PUT", "HEAD")


def moved(code: int = 302, location: str = "{base}/next", *headers: tuple[str, str]) -> Script:
    """``/`` answers ``code`` to ``location``; every other path answers 200 ``ok``."""
    return Script(default=Reply(200, body=OK), routes={"/": Reply(code, headers=(("Location", location), *headers),
                                                                  body=b"moved")})


def not_followed(obs: Observation, code: int) -> Result:
    """One request: fine if the caller sees the 3xx (RFC 9110 §15.4: following is a MAY)."""
    return Result(status_seen(obs) == code and len(obs.sent) == 1, f"not followed; {outcome(obs)}")


def missing_location(obs: Observation) -> Result:
    return not_followed(obs, 302)


def hops(*methods: str, body: bytes = b"", ctype: bool = False) -> tuple[Capture, ...]:
    """Made-up requests of a redirect: the first with ``body``, the rest as given."""
    fields = (("Content-Type", "text/plain"),) if ctype else ()
    first = request(methods[0], headers=fields, body=body)
    return (first, *(request(m, "/next") for m in methods[1:]))


def content_words(first: Capture, hop: Capture) -> tuple[list[str], bool]:
    """What became of the body and Content-Type on the next hop, and whether that is right."""
    retrieval_now = hop.method in ("GET", "HEAD") and first.method not in ("GET", "HEAD")
    words = ["body kept" if hop.body == first.body else "body dropped" if not hop.body else
             f"body changed ({len(hop.body)} bytes)"]
    ctype = hop.header("Content-Type") is not None
    words.append("Content-Type kept" if ctype else "Content-Type dropped")
    if not hop.body and hop.header("Content-Length") is not None:
        words.append(f"Content-Length: {hop.header('Content-Length')} sent")
    if retrieval_now:  # §15.4 step 5: content-specific fields go with the content
        good = not hop.body and not ctype and hop.header("Content-Length") is None
    else:  # resent as it was
        good = hop.body == first.body and ctype
    return words, good


def next_hop(code: int, method: str) -> Check:
    """The method the next hop used is one the code allows; the content follows the method.
    The library was asked to follow: a 3xx handed back (or raised) measures nothing here,
    and does not pass (urllib, which follows only some methods, says so as unsupported)."""
    allowed = CODES[code][2]

    def check(obs: Observation) -> Result:
        if len(obs.sent) < 2:
            return bad(f"asked to follow, not followed; {outcome(obs)}")
        first, hop = obs.sent[0], obs.sent[1]
        method = f"{first.method} kept" if hop.method == first.method else f"{first.method} became {hop.method}"
        words, good = [method], hop.method in allowed(first.method)
        if first.body:
            content, content_ok = content_words(first, hop)
            words += content
            good = good and content_ok
        good = good and status_seen(obs) == 200 and len(obs.sent) == 2
        more = f", {len(obs.sent)} requests" if len(obs.sent) > 2 else ""
        return Result(good, f"followed: {', '.join(words)}; {outcome(obs)}{more}")

    body = BODY if method in ("POST", "PUT") else b""
    other = "PUT" if method == "POST" else "POST"
    first = request(method, headers=(("Content-Type", "text/plain"),) if body else (), body=body)
    wrong = [answer(code, sent=(first,)), raised("http-status", sent=(first,), got=answer(code).got),
             answer(200, OK, sent=(first, request(other, "/next", body=body)))]
    if body:  # the method kept, the content dropped
        wrong.append(answer(200, OK, sent=(first, request(method, "/next"))))
    if method in ("GET", "HEAD") or CODES[code][2](method) == {method}:  # resent as it was
        hop = request(method, "/next", headers=first.headers[1:], body=body)
    else:  # became GET, the content with it dropped
        hop = request("GET", "/next")
    return Checked(check, tuple(wrong), right=(answer(200, OK, sent=(first, hop)),))


def code_row(code: int, method: str) -> Scenario:
    """``redirect.<code>.<method>``: the method's request, a ``code`` to ``/next``, following on."""
    spec, level, _ = CODES[code]
    has_body = method in ("POST", "PUT")
    call = Call(method, follow_redirects=True, body=BODY if has_body else None,
                headers=(("Content-Type", "text/plain"),) if has_body else ())
    title = f"{code} after {method}: method, body and Content-Type on the next hop"
    return Scenario(f"redirect.{code}.{method.lower()}", title, spec, level, next_hop(code, method), call, moved(code))


def hop_target(expected: str) -> Check:
    """The next request's target (after the route prefix) is exactly ``expected``."""

    def check(obs: Observation) -> Result:
        if len(obs.sent) < 2:
            return bad(f"not followed; {outcome(obs)}")
        target = tail(obs.sent[1])
        return Result(target == expected and status_seen(obs) == 200, f"next target {wire(target)}; {outcome(obs)}")

    hop = request("GET", target=f"/c/t1{expected}#frag")
    return Checked(check, (answer(200, OK, sent=(request(), hop)), answer(302, sent=(request(),))))


def utf8_words(obs: Observation) -> Result:
    """The Location's octets are kept: percent-encoded as they are, or the redirect refused.

    RFC 9110 §5.5: "a recipient SHOULD treat other allowed octets in field content
    (i.e., obs-text) as opaque data." RFC 9112 §3.2: the request-target is a URI: ASCII.
    """
    if len(obs.sent) < 2:
        return ok(f"not followed; {outcome(obs)}")
    target = tail(obs.sent[1])
    if not target.isascii():
        return bad(f"followed with raw bytes in the target {wire(target)}; {outcome(obs)}")
    how = "the octets percent-encoded" if target == "/caf%C3%A9" else "re-encoded"
    return Result(target == "/caf%C3%A9", f"followed to {target} ({how}); {outcome(obs)}")


utf8_location = Checked(utf8_words, (
    answer(200, OK, sent=(request(), request(path="/caf\xc3\xa9"))),   # the octets raw
    answer(200, OK, sent=(request(), request(path="/caf%C3%83%C2%A9"))),  # taken as latin-1, re-encoded
))


def stops(obs: Observation) -> str:
    """How an endless chain ended, in words."""
    n = len(obs.sent)
    if obs.error is not None:
        return f"{n} requests, then {outcome(obs)}"
    if status_seen(obs) == 200:
        return f"followed to the server's bound: {n} requests, {outcome(obs)}"
    return f"{n} requests, then returned the last 3xx: {outcome(obs)}"


def chain(capture: Capture, subpath: str, seen: int) -> Response:
    """``/`` -> ``/hop/1`` -> ``/hop/2`` ... until the server's bound, then 200."""
    n = int(subpath.rsplit("/", 1)[1]) if subpath.startswith("/hop/") else 0
    if n >= BOUND:
        return Reply(200, body=b"end of chain")
    return Reply(302, headers=(("Location", f"{{base}}/hop/{n + 1}"),))


def self_loop(capture: Capture, subpath: str, seen: int) -> Response:
    """A 302 to the very same URL, until the cell has made ``BOUND`` requests; then 200.
    Bounded on our side too, whatever the client does."""
    if seen >= BOUND:
        return Reply(200, body=b"loop bounded by the server")
    return Reply(302, headers=(("Location", "{base}/"),))


def loop_detection(obs: Observation) -> Result:
    """RFC 9110 §15.4: "A client SHOULD detect and intervene in cyclical redirections".
    A library's general cap on redirects stops any chain, looping or not: the loop counts
    as detected only when the library stopped before its own cap, which the adapter reads
    from the library (``options["redirect_limit"]``, ``Call.report_redirect_limit``)."""
    limit = obs.options.get("redirect_limit")
    # Every request got a 302: the library saw len(sent) redirects. A library at its limit
    # has seen ``limit`` of them (aiohttp stops at the 10th) or one more (requests: 31 of 30).
    seen = len(obs.sent)
    if status_seen(obs) == 200 and obs.error is None:
        return bad(stops(obs))
    if not isinstance(limit, int):
        return bad(f"{stops(obs)}; its redirect limit is unknown, so a detection cannot be told from it")
    if seen < limit:
        return ok(f"{stops(obs)}: before its limit of {limit} redirects, so the loop was detected")
    return bad(f"{stops(obs)}: at its limit of {limit} redirects, not by detecting the loop")


def looping(n: int) -> tuple[Capture, ...]:
    return tuple(request() for _ in range(n))


loop_stopped = Checked(loop_detection, (
    raised("too-many-redirects", sent=looping(11), options={"redirect_limit": 10}),  # a generic cap
    raised("too-many-redirects", sent=looping(10), options={"redirect_limit": 10}),  # the same, counted as aiohttp does
    answer(200, b"loop bounded by the server", sent=looping(BOUND)),                  # followed on and on
    raised("too-many-redirects", sent=looping(3)),                                     # a limit nobody knows
))


def history(obs: Observation) -> Result:
    if obs.got is None:
        return ok(outcome(obs))
    shown = ", ".join(map(str, obs.got.history)) if obs.got.history else "not exposed"
    return ok(f"history: {shown}; final URL {url_tail(obs.got.url)}; {outcome(obs)}, {len(obs.sent)} requests")


def default_follow(obs: Observation) -> Result:
    if len(obs.sent) > 1:
        return ok(f"follows by default: {len(obs.sent)} requests; {outcome(obs)}")
    return ok(f"does not follow by default; {outcome(obs)}")


def field_across(name: str, *, to_other: bool) -> Check:
    """The caller's field ``name`` on the next hops.

    ``to_other``: the chain goes to ``/mid`` on the same origin first, then to another
    origin. The hop to another origin must not carry the field (RFC 9110 §15.4: "Consider
    removing header fields that were not automatically generated by the implementation
    (i.e., those present in the request because they were added by the calling context)
    where there are security implications; this includes but is not limited to
    Authorization and Cookie."); not following at all is safe too. The same-origin hop
    shows whether that is an origin check or a field dropped on every redirect: the
    summary says which, and only the first is credited as one.
    Otherwise (same origin only) the field is resent with the rest of the request
    (§15.4: "the user agent SHOULD resend the original request message").
    """

    def check(obs: Observation) -> Result:
        hop = other_origin(obs) if to_other else (obs.sent[1] if len(obs.sent) > 1 else None)
        if hop is None:
            return Result(to_other, f"not followed; {outcome(obs)}")
        sent = hop.header(name) is not None
        if not to_other:
            return Result(sent, f"followed to the same origin: {name} {'sent' if sent else 'removed'}; {outcome(obs)}")
        mid = obs.sent[1] if len(obs.sent) > 2 and obs.sent[1].server == obs.sent[0].server else None
        kept = mid is not None and mid.header(name) is not None
        if sent:
            how = f"{name} sent to another origin"
        elif kept:
            how = f"{name} kept on the same-origin hop, removed on the hop to another origin"
        else:
            how = f"{name} removed on every redirect, the same-origin hop too (no origin check)"
        return Result(not sent, f"followed: {how}; {outcome(obs)}")

    field = ((name, "secret"),)
    if to_other:
        other = request("GET", "/next", headers=field, server="127.0.0.1:9000")
        wrong = (answer(200, OK, sent=(request(headers=field), request("GET", "/mid", headers=field), other)),)
        clean = request("GET", "/next", server="127.0.0.1:9000")
        right = (answer(200, OK, sent=(request(headers=field), request("GET", "/mid", headers=field), clean)),)
    else:
        wrong = (answer(200, OK, sent=(request(headers=field), request("GET", "/next"))),)
        right = (answer(200, OK, sent=(request(headers=field), request("GET", "/next", headers=field))),)
    return Checked(check, wrong, right=right)


def cookie_on_next(obs: Observation) -> Result:
    """RFC 6265 §5.4: a stored cookie whose domain and path match goes on the next request."""
    if len(obs.sent) < 2:
        return bad(f"not followed; {outcome(obs)}")
    pairs = cookie_pairs(obs.sent[1])
    return Result("hop=1" in pairs, f"next hop: {'; '.join(pairs) or 'no Cookie'}; {outcome(obs)}")


cookie_on_hop = Checked(cookie_on_next, (answer(200, OK, sent=(request(), request("GET", "/next"))),))


def leak_row(id: str, title: str, header: tuple[str, str], to: str = "{base:http-other}/next",
             origin: str = "http", to_other: bool = True) -> Scenario:
    """A security row: the caller sends ``header``; the server redirects (302) to ``/mid`` on
    the same origin, and from there to ``to`` (or, same-origin rows, straight to ``to``).

    Graded as RFC 9110 §15.4 words it, SHOULD: its list of what a user agent "SHOULD"
    change when resending includes "Consider removing header fields ... (i.e., those
    present in the request because they were added by the calling context) where there
    are security implications; this includes but is not limited to Authorization and
    Cookie." The MUST of Fetch's HTTP-redirect fetch binds browsers, not these libraries:
    the security mark (§) carries the weight.
    """
    call = replace(FOLLOW, headers=(header,), trust="ca" if origin == "https" else "default")
    script = (Script(default=Reply(200, body=OK), routes={
        "/": Reply(302, headers=(("Location", "{base}/mid"),), body=b"moved"),
        "/mid": Reply(302, headers=(("Location", to),), body=b"moved")}) if to_other else moved(302, to))
    return Scenario(id, title, "RFC 9110 §15.4", "SHOULD", field_across(header[0], to_other=to_other), call,
                    script, origin=origin, security=True)


AUTH = ("Authorization", "Bearer secret-token")
COOKIE = ("Cookie", "session=secret")
API_KEY = ("X-Api-Key", "secret-key")
UTF8_LOCATION = b"HTTP/1.1 302 Found\r\nLocation: {base}/caf\xc3\xa9\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

SCENARIOS = [
    *(code_row(code, method) for code in CODES for method in METHODS),
    Scenario("redirect.default-follow", "A 302 with the library's defaults: followed or returned?",
             "RFC 9110 §15.4", "INFO", default_follow, Call("GET"), moved()),
    # RFC 9110 §10.2.2: "When it has the form of a relative reference, the final value is
    # computed by resolving it against the target URI ([URI], Section 5)."
    Scenario("redirect.relative-location", "A relative Location ('next?x=1') resolved against the target URI",
             "RFC 9110 §10.2.2", "MUST", hop_target("/dir/next?x=1"), replace(FOLLOW, path="/dir/start"),
             Script(default=Reply(200, body=OK), routes={"/dir/start": Reply(302, headers=(("Location", "next?x=1"),))})),
    # RFC 9112 §3.2.1: "origin-form = absolute-path [ "?" query ]": a fragment is never sent.
    Scenario("redirect.fragment", "A Location with a #fragment: the fragment is not sent on the next request",
             "RFC 9112 §3.2.1", "MUST", hop_target("/next"), FOLLOW, moved(302, "{base}/next#frag")),
    Scenario("redirect.location-utf8", "Raw UTF-8 bytes in Location: percent-encoded as they are, or refused",
             "RFC 9110 §5.5", "SHOULD", utf8_location, FOLLOW,
             Script(default=Reply(200, body=OK), routes={"/": Raw((UTF8_LOCATION,))})),
    # RFC 9110 §15.4: "Note: An earlier version of this specification recommended a maximum of
    # five redirections ([RFC2068], Section 10.3)." -- no limit is required: recorded.
    Scenario("redirect.limit", f"An endless chain of 302s (the server stops at {BOUND}): how many requests, "
             "then what?", "RFC 9110 §15.4", "INFO", lambda obs: ok(stops(obs)), FOLLOW, Script(dynamic=chain)),
    Scenario("redirect.self-loop", "A 302 to the same URL, again and again: detected (stopped before the "
             "library's general redirect limit)?", "RFC 9110 §15.4", "SHOULD", loop_stopped,
             replace(FOLLOW, report_redirect_limit=True), Script(dynamic=self_loop)),
    # RFC 9110 §15.4: "If a Location header field is provided, the user agent MAY automatically
    # redirect": without one there is nothing to follow; the 302 is the answer.
    Scenario("redirect.missing-location", "A 302 without Location: the caller gets the 302", "RFC 9110 §15.4",
             "MUST", Checked(missing_location, (answer(200, OK, sent=(request(), request())), raised("other"))),
             FOLLOW, Reply(302, body=b"no location")),
    Scenario("redirect.history", "301 then 302 then 200: what the caller can see of the hops", "RFC 9110 §15.4",
             "INFO", history, FOLLOW,
             Script(default=Reply(200, body=OK), routes={"/": Reply(301, headers=(("Location", "{base}/a"),)),
                                                         "/a": Reply(302, headers=(("Location", "{base}/b"),))})),
    leak_row("redirect.cross-origin-authorization", "Authorization is not sent to another origin (another port)",
             AUTH),
    leak_row("redirect.cross-origin-cookie-header", "A caller's Cookie field is not sent to another origin",
             COOKIE),
    leak_row("redirect.cross-origin-custom-header", "A caller's X-Api-Key is not sent to another origin",
             API_KEY),
    leak_row("redirect.https-to-http-authorization", "Authorization is not sent over a downgrade to http",
             AUTH, to="{base:http}/next", origin="https"),
    leak_row("redirect.same-origin-authorization", "Authorization is kept on a same-origin redirect", AUTH,
             to="{base}/next", to_other=False),
    leak_row("redirect.same-origin-cookie-header", "A caller's Cookie field is kept on a same-origin redirect",
             COOKIE, to="{base}/next", to_other=False),
    leak_row("redirect.same-origin-custom-header", "A caller's X-Api-Key is kept on a same-origin redirect",
             API_KEY, to="{base}/next", to_other=False),
    Scenario("redirect.set-cookie-on-hop", "A cookie set by the 302 is sent on the next request",
             "RFC 6265 §5.4", "SHOULD", cookie_on_hop, replace(FOLLOW, cookie_store=True),
             moved(302, "{base}/next", ("Set-Cookie", "hop=1; Path=/")), origin="http-localhost", security=True),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
