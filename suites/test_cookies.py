"""Cookies (RFC 6265): a client-level store, set by one response and sent on later requests.

Each row is a sequence of calls on one client (``Call.then``): a response sets
cookies, later requests show what the store sends back, in the server's capture.
The store is the library's own: a requests ``Session``, an httpx ``Client``, an
aiohttp ``ClientSession``'s jar, or urllib's opt-in ``HTTPCookieProcessor``
(recorded). http.client, urllib3 and the socket baseline have none: ``unsupported``.

The rows talk to ``http-localhost`` (a server addressed as ``localhost``), so a
jar that refuses cookies from IP hosts (aiohttp's default ``CookieJar()``) is
measured on its own row, ``cookies.ip-host``, and not on every row.

    RFC 6265 §5.3: "When the user agent "receives a cookie" from a request-uri
    with name cookie-name, value cookie-value, and attributes
    cookie-attribute-list, the user agent MUST process the cookie as follows"
    RFC 6265 §5.2: "the user agent MAY ignore the Set-Cookie header field in its
    entirety" -- so every row sets a control cookie too: a row only grades a
    store that does store.
"""

from __future__ import annotations

from dataclasses import replace

from model.cell import Call, Capture, Got, Level, Observation
from model.checks import outcome
from model.hops import cookie_names, cookie_pairs, cookies_sent, to_proxy
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Reply, Script
from model.wrong import answer, attach, request

FRESH = ("Set-Cookie", "fresh=1; Path=/")


def visits(*paths: str) -> Call:
    """GET each path in turn on one client with a cookie store."""
    first, *rest = paths
    return Call("GET", first, cookie_store=True, then=tuple(Call("GET", p) for p in rest))


def sets(routes: dict[str, tuple[tuple[str, str], ...]]) -> Script:
    """Each path answers 200 with its Set-Cookie fields; other paths answer a plain 200."""
    return Script(default=Reply(200, body=b"ok"),
                  routes={path: Reply(200, headers=fields, body=b"ok") for path, fields in routes.items()})


def carries(*rules: tuple[int, tuple[str, ...], tuple[str, ...]]) -> Check:
    """Request ``i`` (0-based) carries every ``name=value`` of ``want`` and no cookie named in ``never``."""

    def check(obs: Observation) -> Result:
        needed = max(i for i, _, _ in rules) + 1
        if len(obs.sent) < needed:
            return bad(f"{len(obs.sent)} of {needed} requests sent; {outcome(obs)}")
        good = True
        for i, want, never in rules:
            sent = obs.sent[i]
            good = good and set(want) <= set(cookie_pairs(sent)) and not set(never) & cookie_names(sent)
        return Result(good, "; ".join(cookies_sent(obs.sent[i]) for i, _, _ in rules))

    n = max(i for i, _, _ in rules) + 1
    every = "; ".join(p for _, want, never in rules for p in (*want, *(f"{name}=1" for name in never)))
    missing = tuple(request(path=f"/{i}") for i in range(n))                           # the store sent nothing
    leaked = tuple(request(path=f"/{i}", headers=(("Cookie", every),) if every else ()) for i in range(n))
    wrong = [answer(sent=missing)] if any(want for _, want, _ in rules) else []
    if any(never for _, _, never in rules):
        wrong.append(answer(sent=leaked))                                               # what must not go, went
    return Checked(check, tuple(wrong))


def records(obs: Observation) -> Result:
    """INFO: what the last request carried."""
    return ok(cookies_sent(obs.sent[-1]) if obs.sent else f"nothing sent; {outcome(obs)}")


def row(id: str, title: str, spec: str, level: Level, check: Check, call: Call, routes: Script,
        origin: str = "http-localhost") -> Scenario:
    return Scenario(id, title, spec, level, check, call, routes, origin=origin)


SCENARIOS = [
    # RFC 6265 §5.4: "the user agent MUST use an algorithm equivalent to the following algorithm
    # to compute the "cookie-string" from a cookie store and a request-uri".
    row("cookies.set-and-send", "A cookie set by one response is sent on the next request", "RFC 6265 §5.4",
        "MUST", carries((1, ("sid=abc",), ())), visits("/set", "/check"),
        sets({"/set": (("Set-Cookie", "sid=abc; Path=/"),)})),
    # RFC 6265 §5.4: "The request-uri's path path-matches the cookie's path." The cookie is set
    # from <prefix>/set, whose default path (§5.1.4) is <prefix>: a store that ignored Path
    # would send it on <prefix>/public too.
    row("cookies.path-scope", "A cookie with Path=<prefix>/private, set from <prefix>/set: sent below "
        "the Path, not on <prefix>/public", "RFC 6265 §5.4", "MUST",
        carries((1, ("p=1",), ()), (2, ("fresh=1",), ("p",))), visits("/set", "/private/page", "/public"),
        sets({"/set": (FRESH, ("Set-Cookie", "p=1; Path={prefix}/private"))})),
    # RFC 6265 §5.3: "The user agent MUST evict all expired cookies from the cookie store if, at
    # any time, an expired cookie exists in the cookie store." Two past dates: the Unix epoch
    # (a time of 0, which some stores read as "no expiry") and an ordinary one.
    row("cookies.expired", "Cookies that expired (on 1 January 1970, and in 2015) are never sent",
        "RFC 6265 §5.3", "MUST", carries((1, ("fresh=1",), ("epoch", "past"))), visits("/set", "/check"),
        sets({"/set": (FRESH, ("Set-Cookie", "epoch=1; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
                       ("Set-Cookie", "past=1; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT"))})),
    # RFC 6265 §5.4: "If the cookie's secure-only-flag is true, then the request-uri's scheme
    # must denote a "secure" protocol (as defined by the user agent)."
    row("cookies.secure-over-http", "A Secure cookie is not sent over plain http", "RFC 6265 §5.4", "MUST",
        carries((1, ("fresh=1",), ("sec",))), visits("/set", "/check"),
        sets({"/set": (FRESH, ("Set-Cookie", "sec=1; Path=/; Secure"))})),
    # RFC 6265 §5.1.3: a host-only cookie matches its IP host exactly; whether a jar accepts
    # cookies from an IP host at all is the library's choice (aiohttp: CookieJar(unsafe=True)).
    row("cookies.ip-host", "A cookie from a 127.0.0.1 origin: stored and sent back?", "RFC 6265 §5.1.3",
        "INFO", records, visits("/set", "/check"), sets({"/set": (("Set-Cookie", "sid=abc; Path=/"),)}),
        origin="http"),
    # RFC 6265 §5.2.2: "If delta-seconds is less than or equal to zero (0), let expiry-time be the
    # earliest representable date and time."
    row("cookies.max-age-zero", "Max-Age=0 deletes a stored cookie", "RFC 6265 §5.2.2", "MUST",
        carries((1, ("gone=1", "keep=1"), ()), (3, ("keep=1",), ("gone",))),
        visits("/set", "/check", "/delete", "/check"),
        sets({"/set": (("Set-Cookie", "gone=1; Path=/"), ("Set-Cookie", "keep=1; Path=/")),
              "/delete": (("Set-Cookie", "gone=; Path=/; Max-Age=0"),)})),
]


# -- depth: domains, quoting, dates, the caller's own Cookie field --------------------------

PROXY = "{origin:proxy}"


def proxied(*visits: tuple[str, str]) -> Call:
    """GET each (host, path) in turn through the proxy, on one client with a cookie store:
    hosts under ``.localhost`` need no resolver (RFC 6761 §6.3; see suites/test_urls.py)."""
    calls = [Call("GET", path, host=host, proxy=PROXY, cookie_store=True) for host, path in visits]
    return replace(calls[0], then=tuple(calls[1:]))


def at_origin(*rules: tuple[int, tuple[str, ...], tuple[str, ...]]) -> Check:
    """``carries`` over the requests as the origin received them (the proxy's copies left out)."""
    inner = carries(*rules)

    def check(obs: Observation) -> Result:
        return inner(replace(obs, sent=tuple(c for c in obs.sent if not to_proxy(c))))

    return check


def one_cookie_field(*pairs: str) -> Check:
    """RFC 6265 §5.4: "When the user agent generates an HTTP request, the user agent MUST NOT
    attach more than one Cookie header field." With ``pairs``, the caller's own field must
    arrive whole; what a store adds to (or drops from) it is recorded in the summary."""

    def check(obs: Observation) -> Result:
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        last = obs.sent[-1]
        fields = last.header_all("Cookie")
        words = " | ".join(fields) if fields else "no Cookie"
        good = len(fields) == 1 and set(pairs) <= set(cookie_pairs(last))
        if not pairs:  # the caller's field beside a store: one field, whatever it holds
            good = len(fields) == 1
        return Result(good, f"{len(fields)} Cookie field(s): {words}")

    return check


DOMAIN = "a.cm.localhost"
DEPTH = [
    # RFC 6265 §5.3 step 6: "If the canonicalized request-host does not domain-match the
    # domain-attribute: Ignore the cookie entirely and abort these steps." -- localhost
    # domain-matches localhost, so the cookie is kept (host-only-flag false).
    row("cookies.domain-localhost", "Domain=localhost from http://localhost: stored and sent back",
        "RFC 6265 §5.3", "MUST", carries((1, ("fresh=1", "d=1"), ())), visits("/set", "/check"),
        sets({"/set": (FRESH, ("Set-Cookie", "d=1; Domain=localhost; Path=/"))})),
    row("cookies.domain-parent", "Domain=cm.localhost set by a.cm.localhost: sent to b.cm.localhost",
        "RFC 6265 §5.4", "MUST", at_origin((1, ("p=1",), ())),
        proxied((DOMAIN, "/set"), ("b.cm.localhost", "/check")),
        sets({"/set": (("Set-Cookie", "p=1; Domain=cm.localhost; Path=/"),)})),
    row("cookies.domain-foreign", "Domain=other.localhost set by a.cm.localhost: ignored, never sent there",
        "RFC 6265 §5.3", "MUST", at_origin((1, ("fresh=1",), ()), (2, (), ("f",))),
        proxied((DOMAIN, "/set"), (DOMAIN, "/check"), ("other.localhost", "/check")),
        sets({"/set": (FRESH, ("Set-Cookie", "f=1; Domain=other.localhost; Path=/"))})),
    row("cookies.host-only", "A cookie without Domain from a.cm.localhost: never sent to b.cm.localhost",
        "RFC 6265 §5.3", "MUST", at_origin((1, ("h=1",), ()), (2, (), ("h",))),
        proxied((DOMAIN, "/set"), (DOMAIN, "/check"), ("b.cm.localhost", "/check")),
        sets({"/set": (("Set-Cookie", "h=1; Path=/"),)})),
    row("cookies.samesite-strict", "SameSite=Strict: stored and sent on the next same-site request?",
        "RFC 6265bis §5.6.7", "INFO", records, visits("/set", "/check"),
        sets({"/set": (("Set-Cookie", "s=1; Path=/; SameSite=Strict"),)})),
    # RFC 6265 §4.1.1: cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE ); §5.2:
    # the value is everything after the first "=", quotes included; §5.4 sends it back as stored.
    row("cookies.quoted-value", "A quoted value (q=\"abc\"): sent back with its quotes", "RFC 6265 §5.4", "MUST",
        carries((1, ('q="abc"',), ())), visits("/set", "/check"),
        sets({"/set": (("Set-Cookie", 'q="abc"; Path=/'),)})),
    row("cookies.json-value", "A JSON-looking value ({\"a\":0}) before a plain cookie: the plain one still kept",
        "RFC 6265 §5.2", "MUST", carries((1, ("ok=1",), ())), visits("/set", "/check"),
        sets({"/set": (("Set-Cookie", 'j={"a":0}; Path=/'), ("Set-Cookie", "ok=1; Path=/"))})),
    # RFC 6265 §5.1.1: "If the year-value is greater than or equal to 0 and less than or equal
    # to 69, increment the year-value by 2000" (and 70-99 by 1900).
    row("cookies.expires-two-digit-year", "Expires with a two-digit year 37 (2037): still valid, sent",
        "RFC 6265 §5.1.1", "MUST", carries((1, ("y=1",), ())), visits("/set", "/check"),
        sets({"/set": (("Set-Cookie", "y=1; Path=/; Expires=Thu, 10-Sep-37 20:00:00 GMT"),)})),
    row("cookies.expires-two-digit-past", "Expires with a two-digit year 70 (1970): expired, never sent",
        "RFC 6265 §5.1.1", "MUST", carries((1, ("fresh=1",), ("old",))), visits("/set", "/check"),
        sets({"/set": (FRESH, ("Set-Cookie", "old=1; Path=/; Expires=Thu, 10-Sep-70 20:00:00 GMT"))})),
    # RFC 6265 §5.3 step 3: "If the cookie-attribute-list contains an attribute with an
    # attribute-name of "Max-Age": Set the cookie's persistent-flag to true. Set the cookie's
    # expiry-time to attribute-value of the last attribute" -- it wins over Expires.
    row("cookies.max-age-over-expires", "Max-Age=1000 with an Expires in 1970: Max-Age wins, sent",
        "RFC 6265 §5.3", "MUST", carries((1, ("m=1",), ())), visits("/set", "/check"),
        sets({"/set": (("Set-Cookie", "m=1; Path=/; Max-Age=1000; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),)})),
    # RFC 6265 §5.1.4: the default-path is the request-uri's path up to its last "/".
    row("cookies.default-path", "No Path, set from <prefix>/dir/set: sent below /dir, not elsewhere",
        "RFC 6265 §5.1.4", "MUST", carries((1, ("dp=1",), ()), (2, (), ("dp",))),
        visits("/dir/set", "/dir/page", "/other"), sets({"/dir/set": (("Set-Cookie", "dp=1"),)})),
    # RFC 6265 §5.4: HttpOnly limits non-HTTP APIs; the cookie is still sent on HTTP requests.
    row("cookies.httponly", "An HttpOnly cookie is sent on HTTP requests", "RFC 6265 §5.4", "MUST",
        carries((1, ("ho=1",), ())), visits("/set", "/check"),
        sets({"/set": (("Set-Cookie", "ho=1; Path=/; HttpOnly"),)})),
    row("cookies.secure-localhost", "A Secure cookie from http://localhost: sent back over http to localhost?",
        "RFC 6265bis §5.8.3", "INFO", records, visits("/set", "/check"),
        sets({"/set": (("Set-Cookie", "sl=1; Path=/; Secure"),)})),
    Scenario("cookies.caller-several", "The caller's own 'Cookie: a=1; b=2': sent as one field, both pairs",
             "RFC 6265 §5.4", "MUST", one_cookie_field("a=1", "b=2"),
             Call("GET", headers=(("Cookie", "a=1; b=2"),)), Reply(200, body=b"ok"), origin="http-localhost"),
    row("cookies.caller-and-store", "The caller's own Cookie field and a stored cookie: one Cookie field (holding what?)",
        "RFC 6265 §5.4", "MUST", one_cookie_field(),
        replace(visits("/set", "/check"), then=(Call("GET", "/check", headers=(("Cookie", "c=1"),)),)),
        sets({"/set": (("Set-Cookie", "s=2; Path=/"),)})),
]


def capture(*cookie: str, target: str = "/c/t1/check") -> Capture:
    return Capture("GET", target, "HTTP/1.1", tuple(("Cookie", c) for c in cookie), b"", "none", b"", 1,
                   server="localhost:1")


def seen(*captures: Capture) -> Observation:
    return Observation(sent=captures, got=Got(200, "OK", (), b"ok"))


WRONG: dict[str, Observation] = {
    "cookies.domain-localhost": seen(capture(), capture("fresh=1")),
    "cookies.domain-parent": seen(capture(), capture()),
    "cookies.domain-foreign": seen(capture(), capture("fresh=1"), capture("f=1")),
    "cookies.host-only": seen(capture(), capture("h=1"), capture("h=1")),
    "cookies.quoted-value": seen(capture(), capture("q=abc")),
    "cookies.json-value": seen(capture(), capture()),
    "cookies.expires-two-digit-year": seen(capture(), capture()),
    "cookies.expires-two-digit-past": seen(capture(), capture("fresh=1; old=1")),
    "cookies.max-age-over-expires": seen(capture(), capture()),
    "cookies.default-path": seen(capture(), capture("dp=1"), capture("dp=1")),
    "cookies.httponly": seen(capture(), capture()),
    "cookies.caller-several": seen(capture("a=1", "b=2")),
    "cookies.caller-and-store": seen(capture(), capture("c=1", "s=2")),  # two Cookie fields
}
DEPTH = attach(DEPTH, WRONG)  # the guard (tests/test_wrong.py) feeds each its wrong answer
SCENARIOS = [*SCENARIOS, *DEPTH]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
