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

from model.cell import Call, Level, Observation
from model.checks import outcome
from model.hops import cookie_names, cookie_pairs, cookies_sent
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Reply, Script
from model.wrong import answer, request

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


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
