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

import base64

from model.cell import Call, Capture, Got, Observation
from model.checks import outcome, status_seen, wire
from model.hops import proxy_route, to_proxy
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Reply, Script
from model.wrong import answer, attach, request

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


# -- depth: variable spellings, NO_PROXY forms, credentials --------------------------------

def inner_credentials(obs: Observation) -> Result:
    """Security (CVE-2023-32681): Proxy-Authorization belongs to the hop to the proxy; a request
    that goes *through* a CONNECT tunnel reaches the origin as is, so it must not carry it.
    RFC 9110 §11.7.2: "the Proxy-Authorization header field ... applies only to the next
    inbound proxy that demanded authentication"."""
    if not obs.sent:
        return bad(f"nothing sent; {outcome(obs)}")
    tunnelled = [c for c in obs.sent if not to_proxy(c)]
    connect = next((c for c in obs.sent if c.method == "CONNECT"), None)
    at_proxy = "CONNECT with Proxy-Authorization" if connect is not None and connect.header(
        "Proxy-Authorization") else "CONNECT without Proxy-Authorization" if connect is not None else "no CONNECT"
    leaked = [c for c in tunnelled if c.header("Proxy-Authorization") is not None]
    if not tunnelled:
        return ok(f"{at_proxy}; nothing reached the origin; {outcome(obs)}")
    where = "the origin got Proxy-Authorization" if leaked else "the origin got no Proxy-Authorization"
    return Result(not leaked, f"{at_proxy}; {where}; {outcome(obs)}")


def proxy_credentials(obs: Observation) -> Result:
    """INFO: what the proxy received: Proxy-Authorization (decoded), sent at once or not at all."""
    hop = next((c for c in obs.sent if to_proxy(c)), None)
    if hop is None:
        return ok(f"{proxy_route(obs)}; {outcome(obs)}")
    value = hop.header("Proxy-Authorization")
    shown = "no Proxy-Authorization"
    if value is not None and value.lower().startswith("basic "):
        shown = "Proxy-Authorization: Basic " + base64.b64decode(value[6:]).decode("latin-1")
    elif value is not None:
        shown = f"Proxy-Authorization: {value.split(' ')[0]} ..."
    return ok(f"{proxy_route(obs)}: {shown}; {outcome(obs)}")


CREDS = "http://user:pass@{authority:proxy}"
TO_HTTPS = Script(default=Reply(200, body=b"ok"), routes={"/": Reply(302, headers=(("Location", "{base:https}/next"),))})

DEPTH = [
    Scenario("proxy.env-lowercase", "Only http_proxy (lower case) set: used?", "proxy variables convention (curl)",
             "INFO", travels(None), ENV_CALL, OK, env=(("http_proxy", PROXY),)),
    Scenario("proxy.env-case-conflict", "http_proxy names the proxy, HTTP_PROXY a closed port: which wins?",
             "proxy variables convention (curl)", "INFO", travels(None), ENV_CALL, OK,
             env=(("http_proxy", PROXY), ("HTTP_PROXY", "{origin:closed}"))),
    # The CGI rule (httpoxy, CVE-2016-5385): in a CGI script HTTP_PROXY can come from a request's
    # "Proxy:" field, so it must not be trusted there. Python's urllib documents: "If the
    # environment variable REQUEST_METHOD is set ... the environment variable HTTP_PROXY (uppercase
    # _PROXY) will be ignored."
    Scenario("proxy.httpoxy", "REQUEST_METHOD set (a CGI script) and HTTP_PROXY: not used", "RFC 3875 §4.1.18",
             "SHOULD", travels("direct"), ENV_CALL, OK, env=(("REQUEST_METHOD", "GET"), ("HTTP_PROXY", PROXY)),
             security=True),
    Scenario("proxy.all-proxy", "Only ALL_PROXY set: used for http?", "proxy variables convention (curl)", "INFO",
             travels(None), ENV_CALL, OK, env=(("ALL_PROXY", PROXY),)),
    Scenario("proxy.no-proxy-wildcard", "NO_PROXY=*: every host direct", "NO_PROXY convention (curl)", "SHOULD",
             travels("direct"), ENV_CALL, OK, env=(("HTTP_PROXY", PROXY), ("NO_PROXY", "*"))),
    Scenario("proxy.no-proxy-cidr", "NO_PROXY=127.0.0.0/8 (a CIDR): direct, or proxied?", "NO_PROXY convention (curl)",
             "INFO", travels(None), ENV_CALL, OK, env=(("HTTP_PROXY", PROXY), ("NO_PROXY", "127.0.0.0/8"))),
    Scenario("proxy.no-proxy-port", "NO_PROXY=127.0.0.1:<port> (host and port): direct, or proxied?",
             "NO_PROXY convention (curl)", "INFO", travels(None), ENV_CALL, OK,
             env=(("HTTP_PROXY", PROXY), ("NO_PROXY", "127.0.0.1:{port:http}"))),
    Scenario("proxy.no-proxy-leading-dot", "NO_PROXY=.localhost, a request to localhost: direct, or proxied?",
             "NO_PROXY convention (curl)", "INFO", travels(None), ENV_CALL, OK, origin="http-localhost",
             env=(("HTTP_PROXY", PROXY), ("NO_PROXY", ".localhost"))),
    Scenario("proxy.no-proxy-lowercase", "no_proxy (lower case) lists the host: direct?", "NO_PROXY convention (curl)",
             "SHOULD", travels("direct"), ENV_CALL, OK, env=(("HTTP_PROXY", PROXY), ("no_proxy", "127.0.0.1"))),
    Scenario("proxy.explicit", "An explicit proxy (the library's proxy API): absolute-form to the proxy",
             "RFC 9112 §3.2.2", "MUST", travels("through the proxy (GET in absolute-form)"),
             Call("GET", proxy=PROXY), OK),
    Scenario("proxy.credentials-http", "Credentials in the proxy URL: Proxy-Authorization sent to the proxy?",
             "RFC 9110 §11.7.2", "INFO", proxy_credentials, Call("GET", proxy=CREDS), OK),
    Scenario("proxy.credentials-env", "Credentials in HTTP_PROXY: Proxy-Authorization sent to the proxy?",
             "RFC 9110 §11.7.2", "INFO", proxy_credentials, ENV_CALL, OK,
             env=(("HTTP_PROXY", "http://user:pass@{authority:proxy}"),)),
    Scenario("proxy.credentials-connect", "Credentials in the proxy URL, an https request: on the CONNECT only, "
             "never inside the tunnel", "RFC 9110 §11.7.2", "MUST", inner_credentials,
             Call("GET", proxy=CREDS, trust="ca"), OK, origin="https", security=True),
    Scenario("proxy.credentials-redirect-https", "Credentials in the proxy URL, http answered by a 302 to https: "
             "never inside the tunnel", "RFC 9110 §11.7.2", "MUST", inner_credentials,
             Call("GET", proxy=CREDS, trust="ca", follow_redirects=True), TO_HTTPS, security=True),
]


# -- SOCKS5 (servers.socks): which address the client hands the proxy -------------------------

def socks_route(expected: str | None = None) -> Check:
    """How the request travelled through the SOCKS5 proxy: the destination as the client named
    it (an address it resolved, or a domain name for the proxy: RFC 1928 §4, ATYP), the
    username it authenticated with, and what the caller got. ``expected``: the address type
    that passes (``domain`` for socks5h), None records it."""

    def check(obs: Observation) -> Result:
        hop = next((c for c in obs.sent if c.version == "SOCKS5"), None)
        if hop is None:
            spoke = next((c for c in obs.sent if c.problem == "not a SOCKS5 greeting"), None)
            how = f"sent the SOCKS5 proxy '{wire(spoke.method)} ...' instead of a SOCKS5 greeting" if spoke \
                else f"{proxy_route(obs)}, not through SOCKS5" if obs.sent else "nothing reached a server"
            return Result(expected is None, f"{how}; {outcome(obs)}")
        atyp = hop.header("ATYP") or "?"
        host = hop.target.rsplit(":", 1)[0]
        user = hop.header("Username")
        words = f"through SOCKS5: {atyp} {host}" + (f", username {user}" if user else "") + f"; {outcome(obs)}"
        return Result(expected is None or (atyp == expected and status_seen(obs) == 200), words)

    return check


SOCKS = "socks5://{authority:socks}"
SOCKS_H = "socks5h://{authority:socks}"
DEPTH += [
    Scenario("proxy.socks5", "socks5:// proxy, an http URL to localhost: the address the client resolved, or "
             "the name?", "RFC 1928 §4", "INFO", socks_route(), Call("GET", proxy=SOCKS), OK, origin="http-localhost"),
    # socks5h (the libraries' spelling, after curl's): "the hostname is resolved by the proxy".
    Scenario("proxy.socks5h", "socks5h:// proxy: the host name goes to the proxy (ATYP domain), unresolved",
             "RFC 1928 §4", "MUST", socks_route("domain"), Call("GET", proxy=SOCKS_H), OK, origin="http-localhost"),
    Scenario("proxy.socks5h-idna", "socks5h:// and a non-ASCII host (bücher.localhost): which name the proxy gets",
             "RFC 1928 §4", "INFO", socks_route(), Call("GET", proxy=SOCKS_H, host="bücher.localhost"), OK),
    Scenario("proxy.socks5-https", "An https URL through a socks5h:// proxy: TLS inside the tunnel, got 200",
             "RFC 1928 §4", "MUST", socks_route("domain"), Call("GET", proxy=SOCKS_H, trust="ca", host="localhost"),
             OK, origin="https"),
    Scenario("proxy.socks5-credentials", "socks5h://user:pass@: username/password authentication used?",
             "RFC 1929 §2", "INFO", socks_route(), Call("GET", proxy="socks5h://user:pass@{authority:socks}"), OK,
             origin="http-localhost"),
    Scenario("proxy.socks5-env", "ALL_PROXY=socks5h://...: used for http?", "proxy variables convention (curl)",
             "INFO", socks_route(), ENV_CALL, OK, origin="http-localhost", env=(("ALL_PROXY", SOCKS_H),)),
]


def capture(method: str, target: str, *headers: tuple[str, str], server: str = "127.0.0.1:1") -> Capture:
    return Capture(method, target, "HTTP/1.1", headers, b"", "none", b"", 1, server=server)


AUTHZ = ("Proxy-Authorization", "Basic dXNlcjpwYXNz")
WRONG: dict[str, Observation] = {
    "proxy.httpoxy": Observation(sent=(capture("GET", "http://127.0.0.1:2/c/t1/"), capture("GET", "/c/t1/")),
                                 got=Got(200, "OK", (), b"ok")),
    "proxy.no-proxy-wildcard": Observation(sent=(capture("GET", "http://127.0.0.1:2/c/t1/"),
                                                 capture("GET", "/c/t1/")), got=Got(200, "OK", (), b"ok")),
    "proxy.no-proxy-lowercase": Observation(sent=(capture("GET", "http://127.0.0.1:2/c/t1/"),
                                                  capture("GET", "/c/t1/")), got=Got(200, "OK", (), b"ok")),
    "proxy.explicit": Observation(sent=(capture("GET", "/c/t1/"),), got=Got(200, "OK", (), b"ok")),
    "proxy.credentials-connect": Observation(sent=(capture("CONNECT", "127.0.0.1:3", AUTHZ),
                                                   capture("GET", "/c/t1/", AUTHZ)), got=Got(200, "OK", (), b"ok")),
    "proxy.credentials-redirect-https": Observation(
        sent=(capture("GET", "http://127.0.0.1:2/c/t1/", AUTHZ), capture("GET", "/c/t1/"),
              capture("CONNECT", "127.0.0.1:3", AUTHZ), capture("GET", "/c/t1/next", AUTHZ)),
        got=Got(200, "OK", (), b"ok")),
}
SOCKS_SENT = Capture("CONNECT", "127.0.0.1:2", "SOCKS5", (("ATYP", "IPv4"),), b"", "none", b"", 1, server="127.0.0.1:1")
WRONG["proxy.socks5h"] = Observation(sent=(SOCKS_SENT, capture("GET", "/c/t1/")), got=Got(200, "OK", (), b"ok"))
WRONG["proxy.socks5-https"] = Observation(sent=(SOCKS_SENT, capture("GET", "/c/t1/")), got=Got(200, "OK", (), b"ok"))
DEPTH = attach(DEPTH, WRONG)  # the guard (tests/test_wrong.py) feeds each its wrong answer
SCENARIOS = [*SCENARIOS, *DEPTH]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
