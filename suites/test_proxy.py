"""Proxies from the environment: HTTP_PROXY, HTTPS_PROXY, NO_PROXY.

The variables are set for the cell only (``Scenario.env``; the run clears the
user's own), and point at our forward proxy (``servers.proxy``), which captures
what it relays on the cell's route. A request that went through it shows twice
in the capture list: as the proxy received it (absolute-form, or CONNECT) and as
the origin received it; a direct request shows once, in origin-form.

    RFC 9112 §3.2.2: "When making a request to a proxy, other than a CONNECT or
    server-wide OPTIONS request, a client MUST send the target URI in
    absolute-form as the request-target."

The variables themselves are a convention (curl, wget, urllib.request.getproxies),
not an RFC. Rows that ask a library to read them pass its opt-in where it has one
(``Call.trust_env=True``: requests' ``Session.trust_env``, httpx's and aiohttp's
``trust_env=``, recorded in the cell); urllib reads them by default; http.client,
urllib3 and the socket baseline never do (``unsupported``). ``proxy.env-ignored-by-default``
runs with each library's defaults.

Loopback: the origin is 127.0.0.1. None of these libraries exempts loopback
hosts from the environment's proxy by itself (requests, urllib and aiohttp ask
``urllib.request.proxy_bypass``, which on Linux reads NO_PROXY only; httpx reads
NO_PROXY only; unlike Go's net/http, which never proxies ``localhost``), so a
direct request here means the variables were not used, not that loopback was exempt.
"""

from __future__ import annotations

from model.cell import Call, Observation
from model.checks import outcome, status_seen
from model.hops import proxy_route
from model.scenario import Check, Checked, Result, Scenario, ok
from model.script import Reply
from model.wrong import answer, request

PROXY = "{origin:proxy}"
OK = Reply(200, body=b"ok")


def travels(expected: str | None) -> Check:
    """How the request travelled, and that the caller got the origin's 200.

    ``expected``: the route that passes (``direct``, or the start of ``through the proxy``);
    None records it (INFO rows).
    """

    def check(obs: Observation) -> Result:
        route = proxy_route(obs)
        summary = f"{route}; {outcome(obs)}"
        if expected is None:
            return ok(summary)
        return Result(route.startswith(expected) and status_seen(obs) == 200, summary)

    proxied = (request(target="http://127.0.0.1:8000/c/t1/"), request())
    direct = (request(),)
    return Checked(check, (answer(200, b"ok", sent=direct if expected != "direct" else proxied),))


ENV_CALL = Call("GET", trust_env=True)

SCENARIOS = [
    Scenario("proxy.env-http", "HTTP_PROXY set: does an http request go through the proxy?",
             "RFC 9112 §3.2.2", "INFO", travels(None), ENV_CALL, OK, env=(("HTTP_PROXY", PROXY),)),
    # The convention every reader of HTTP_PROXY shares: a host listed in NO_PROXY is reached
    # directly (curl(1): "list of host names that shouldn't go through any proxy").
    Scenario("proxy.env-no-proxy", "NO_PROXY lists the origin's host: the request goes direct",
             "NO_PROXY convention (curl, urllib.request)", "SHOULD", travels("direct"), ENV_CALL, OK,
             env=(("HTTP_PROXY", PROXY), ("NO_PROXY", "127.0.0.1"))),
    # RFC 9110 §9.3.6: "The CONNECT method requests that the recipient establish a tunnel to the
    # destination origin server identified by the request-target".
    Scenario("proxy.env-https-connect", "HTTPS_PROXY set: an https request tunnels through CONNECT?",
             "RFC 9110 §9.3.6", "INFO", travels(None), Call("GET", trust_env=True, trust="ca"), OK,
             origin="https", env=(("HTTPS_PROXY", PROXY),)),
    Scenario("proxy.env-ignored-by-default", "HTTP_PROXY set, the library's defaults: used or ignored?",
             "RFC 9112 §3.2.2", "INFO", travels(None), Call("GET"), OK, env=(("HTTP_PROXY", PROXY),)),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
