"""URLs and hosts: what a library makes of the URL it is given, as the request target and Host.

Host rows name hosts under ``.localhost`` (RFC 6761 §6.3: they are loopback by definition)
and go through our forward proxy (``Call.proxy``), so nothing is resolved: the proxy's
capture shows the absolute-form target and the Host field exactly as the client wrote them,
then the proxy relays the request to the origin on 127.0.0.1.

    RFC 3986 §3.2.2: "When a non-ASCII registered name represents an internationalized
    domain name intended for resolution via the DNS, the name must be transformed to the
    IDNA encoding [RFC3490] prior to name lookup."
    RFC 9110 §4.2.4: "A sender MUST NOT generate the userinfo subcomponent (and its "@"
    delimiter) when an "http" or "https" URI reference is generated within a message as a
    target URI or field value."
    RFC 3986 §6.2.2.2: "URIs that differ in the replacement of a reserved character with its
    corresponding percent-encoded US-ASCII octet are not equivalent."
    RFC 9110 §2.2: "a sender MUST NOT generate protocol elements that do not match the
    grammar defined by the corresponding ABNF rules" (a raw '|' or '"' in a path).

Families: ``url.*`` (hosts, userinfo, fragments), ``path.raw-*`` (characters a path cannot
hold raw), ``path.keep-*`` (escapes and delimiters that must reach the server as written),
``query.*`` (the query in the URL and from ``params=``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

from model.cell import Call, Capture, Failure, Got, Observation
from model.checks import outcome, query, refused, tail, wire
from model.scenario import Check, Result, Scenario, bad, ok
from model.script import Reply
from model.wrong import attach

OK = Reply(200, body=b"ok")
PROXY = "{origin:proxy}"
PCHARS = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$")
QCHARS = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$")


# -- hosts, through the proxy ---------------------------------------------------------------

def asked(obs: Observation) -> tuple[str, str] | Result:
    """The host of the absolute-form target the proxy received, and its Host field; or, for a
    client that tunnels even plain http, the CONNECT target and the Host field of the request
    sent through the tunnel (RFC 9110 §9.3.6: "the request-target consists of only the host
    name and port number of the tunnel destination")."""
    if refused(obs) and obs.error is not None and obs.error.kind == "invalid-request":
        return ok(f"refused: {outcome(obs)}")  # the library's refusal; not an error from the proxy
    hop = next((c for c in obs.sent if c.target.startswith("http")), None)
    tunnel = next((i for i, c in enumerate(obs.sent) if c.method == "CONNECT"), None)
    if hop is None and tunnel is not None:
        inner = obs.sent[tunnel + 1] if tunnel + 1 < len(obs.sent) else obs.sent[tunnel]
        return obs.sent[tunnel].target, inner.header("Host") or "none"
    if hop is None:
        where = "directly, not through the proxy" if obs.sent else "nothing"
        return bad(f"sent {where}; {outcome(obs)}")
    netloc = hop.target.split("://", 1)[1].split("/", 1)[0]
    host = hop.header("Host") or "none"
    return netloc, host


def without_port(authority: str) -> str:
    return re.sub(r":\d+$", "", authority)


def host_words(netloc: str, host: str) -> str:
    a, h = wire(without_port(netloc)), wire(without_port(host))
    return f"host {a}" if a == h else f"target host {a}, Host: {h}"


def host_records(obs: Observation) -> Result:
    found = asked(obs)
    if isinstance(found, Result):
        return found
    return ok(f"{host_words(*found)}; {outcome(obs)}")


def idna(name: str) -> Check:
    """The host went on the wire in ASCII and stands for ``name``: IDNA (xn--) or
    percent-encoded UTF-8 (RFC 3986 §3.2.2), never raw octets."""

    def check(obs: Observation) -> Result:
        found = asked(obs)
        if isinstance(found, Result):
            return found
        netloc, host = found
        words = f"{host_words(netloc, host)}; {outcome(obs)}"
        names = {without_port(netloc), without_port(host)}
        good = all(n.isascii() and decoded(n) == name for n in names)
        return Result(good, words)

    return check


def decoded(host: str) -> str:
    try:
        if "xn--" in host:
            return ".".join(p.encode().decode("idna") if p.startswith("xn--") else p for p in host.split("."))
        return unquote(host, errors="strict")
    except (UnicodeError, ValueError):
        return "?"


def bracketed(obs: Observation) -> Result:
    """RFC 9110 §7.2: Host = uri-host [ ":" port ]; an IPv6 uri-host is an IP-literal: in
    brackets (RFC 3986 §3.2.2), in the target and in Host."""
    found = asked(obs)
    if isinstance(found, Result):
        return found
    netloc, host = found
    good = netloc.startswith("[::1]") and host.startswith("[::1]")
    # What the caller got next is our proxy's answer to that target (502: nothing listens on
    # ::1; 400 or a hang-up for a target it cannot parse): not the library's, so not shown.
    return Result(good, f"target authority {wire(netloc.rsplit(':', 1)[0])}, Host: {wire(host.rsplit(':', 1)[0])}")


def no_userinfo(obs: Observation) -> Result:
    """RFC 9110 §4.2.4: never userinfo in a target URI or field value (the proxy's target,
    the Host field), whatever becomes of the credentials."""
    found = asked(obs)
    if isinstance(found, Result):
        return found
    netloc, host = found
    leaked = "@" in netloc or "@" in host
    where = "userinfo in the target" if "@" in netloc else "userinfo in Host" if "@" in host else "no userinfo"
    return Result(not leaked, f"{where}; {outcome(obs)}")


def host_row(id: str, title: str, host: str, level: str = "INFO", check: Check | None = None,
             security: bool = False, userinfo: str | None = None, spec: str = "RFC 3986 §3.2.2") -> Scenario:
    return Scenario(f"url.{id}", title, spec, level, check or host_records,  # type: ignore[arg-type]
                    Call("GET", proxy=PROXY, host=host, userinfo=userinfo), OK, security=security)


def sni(obs: Observation) -> Result:
    """INFO: a trailing-dot host over TLS: the SNI the server saw (RFC 6066 §3: "The hostname
    is represented as a byte string using ASCII encoding without a trailing dot"), whether
    the certificate for ``localhost`` was accepted, and the Host field."""
    inner = next((c for c in obs.sent if not c.target.startswith("http") and c.method != "CONNECT"), None)
    if inner is None:
        return ok(f"no request reached the origin; {outcome(obs)}")
    name = (inner.tls or {}).get("sni")
    host = inner.header("Host") or "none"
    return ok(f"SNI {wire(str(name))!r}, Host {wire(without_port(host))}; {outcome(obs)}")


HOSTS = [
    host_row("idna", "A non-ASCII host (bücher.localhost): ASCII on the wire (xn--bcher-kva)", "bücher.localhost",
             "MUST", idna("bücher.localhost")),
    host_row("idna-eszett", "'straße.localhost': IDNA 2008 (xn--strae-oqa) or IDNA 2003 (strasse)?",
             "straße.localhost"),
    host_row("idna-uppercase", "'BÜCHER.localhost': lower-cased, mapped, or refused?", "BÜCHER.localhost"),
    host_row("idna-symbol", "'☃.localhost' (a symbol IDNA 2008 disallows): refused or encoded?", "☃.localhost"),
    host_row("underscore", "An underscore in a host (a_b.localhost): accepted as is, or refused?", "a_b.localhost"),
    host_row("trailing-dot", "A trailing dot (localhost.): kept in the target and Host, or dropped?", "localhost."),
    Scenario("url.trailing-dot-tls", "https://localhost.:<port>/ (a trailing dot) with a certificate for localhost: "
             "SNI, Host, verification?", "RFC 6066 §3", "INFO", sni,
             Call("GET", proxy=PROXY, host="localhost.", trust="ca"), OK, origin="https-hello"),
    host_row("uppercase", "An upper-case host (LocalHost): lower-cased or kept?", "LocalHost", spec="RFC 3986 §6.2.2.1"),
    host_row("ipv6-literal", "An IPv6 literal ([::1]): in brackets in the target and Host", "[::1]", "MUST",
             bracketed, spec="RFC 9110 §7.2"),
    host_row("userinfo-not-sent", "user:pass@ through a proxy: never in the target or Host", "localhost", "MUST",
             no_userinfo, security=True, userinfo="user:pass", spec="RFC 9110 §4.2.4"),
]


# -- paths -----------------------------------------------------------------------------------

def path_of(obs: Observation) -> str | Result:
    if refused(obs):
        return ok(f"refused: {outcome(obs)}")
    if not obs.sent:
        return bad(f"nothing sent; {outcome(obs)}")
    return tail(obs.sent[0]).split("?", 1)[0]


def encoded(raw: str) -> Check:
    """A character a path cannot hold raw: percent-encoded (or refused), standing for itself."""

    def check(obs: Observation) -> Result:
        path = path_of(obs)
        if isinstance(path, Result):
            return path
        good = bool(PCHARS.match(path)) and unquote(path) == f"/a{raw}b"
        return Result(good, f"sent path {wire(path)!r}; {outcome(obs)}")

    return check


def kept(expected: str) -> Check:
    """Escapes and delimiters reach the server exactly as the caller wrote them."""

    def check(obs: Observation) -> Result:
        path = path_of(obs)
        if isinstance(path, Result):
            return path if not refused(obs) else bad(path.summary)
        return Result(path == expected, f"sent path {wire(path)!r}; {outcome(obs)}")

    return check


def path_records(obs: Observation) -> Result:
    path = path_of(obs)
    if isinstance(path, Result):
        return ok(path.summary)
    return ok(f"sent path {wire(path)!r}; {outcome(obs)}")


#: Characters RFC 3986 does not allow raw in a path (neither unreserved, sub-delims, ':' nor '@').
RAW = {"pipe": "|", "quote": '"', "less-than": "<", "greater-than": ">", "caret": "^", "backtick": "`",
       "brace": "{", "bracket": "[", "percent-alone": "%"}
RAW_PATHS = [Scenario(f"path.raw-{name}", f"A raw '{ch}' in the path: percent-encoded or refused, never raw",
                      "RFC 9110 §2.2", "MUST", encoded(ch), Call("GET", path=f"/a{ch}b"), OK)
             for name, ch in RAW.items()]
#: Escapes and delimiters that change the URI if decoded or encoded (RFC 3986 §6.2.2.2).
KEEP = {"semicolon-escape": "/x/%3B.txt", "question-escape": "/a%3Fb", "hash-escape": "/a%23b",
        "percent-escape": "/a%25b", "pipe-escape": "/a%7Cb", "semicolon": "/a;p=1/b", "sub-delims": "/a!$&'()*+,=b",
        "colon-at": "/a:b@c"}
KEEP_PATHS = [Scenario(f"path.keep-{name}", f"The path {path}: sent exactly as written", "RFC 3986 §6.2.2.2",
                       "MUST", kept(path), Call("GET", path=path), OK) for name, path in KEEP.items()]
PATH_INFO = [
    Scenario("path.backslash", "A backslash in the path ('/a\\\\b'): encoded, turned into '/', or refused?",
             "RFC 3986 §2", "INFO", path_records, Call("GET", path="/a\\b"), OK),
    Scenario("path.dot-segments", "Dot segments ('/a/./b/../c'): removed by the client, or sent?",
             "RFC 3986 §5.2.4", "INFO", path_records, Call("GET", path="/a/./b/../c"), OK),
    Scenario("path.double-slash", "Empty segments ('/a//b'): kept?", "RFC 3986 §3.3", "INFO", path_records,
             Call("GET", path="/a//b"), OK),
    Scenario("path.unreserved-escape", "An escaped unreserved character ('%41'): decoded or kept?",
             "RFC 3986 §6.2.2.2", "INFO", path_records, Call("GET", path="/%41b"), OK),
    Scenario("path.lowercase-escape", "A lower-case escape ('%2f'): kept, or upper-cased?", "RFC 3986 §6.2.2.1",
             "INFO", path_records, Call("GET", path="/a%2fb"), OK),
    Scenario("url.fragment", "A #fragment in the URL: never sent", "RFC 9112 §3.2.1", "MUST",
             kept("/a"), Call("GET", path="/a#frag"), OK),
]


# -- queries ------------------------------------------------------------------------------------

def query_pairs(expected: list[tuple[str, str]]) -> Check:
    """The query is valid (no raw space, '|' or non-ASCII) and decodes to the caller's pairs."""

    def check(obs: Observation) -> Result:
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        q = query(obs.sent[0])
        summary = f"query {wire(q)!r}; {outcome(obs)}"
        good = bool(QCHARS.match(q)) and parse_qsl(q, keep_blank_values=True) == expected
        return Result(good, summary)

    return check


def query_valid(raw: str) -> Check:
    """A query with characters it cannot hold raw: encoded (standing for themselves) or refused."""

    def check(obs: Observation) -> Result:
        if refused(obs):
            return ok(f"refused: {outcome(obs)}")
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        q = query(obs.sent[0])
        return Result(bool(QCHARS.match(q)) and unquote(q) == raw, f"query {wire(q)!r}; {outcome(obs)}")

    return check


def query_records(obs: Observation) -> Result:
    if not obs.sent:
        return ok(f"nothing sent; {outcome(obs)}")
    return ok(f"query {wire(query(obs.sent[0]))!r}; {outcome(obs)}")


def param_row(id: str, title: str, params: object, level: str = "INFO", expected: list[tuple[str, str]] | None = None,
              path: str = "/") -> Scenario:
    check = query_records if expected is None else query_pairs(expected)
    return Scenario(f"query.{id}", title, "RFC 3986 §3.4", level, check,  # type: ignore[arg-type]
                    Call("GET", path=path, params=params), OK)


QUERIES = [
    param_row("params-merge", "A URL with '?a=1' and params={'b': '2'}: merged, or replaced?", {"b": "2"},
              path="/?a=1"),
    param_row("params-plus", "params={'q': 'a+b'}: the '+' encoded (%2B), so it never reads as a space",
              {"q": "a+b"}, "MUST", [("q", "a+b")]),
    param_row("params-reserved", "params with & = # %: encoded, the value intact", {"q": "a&b=c#d%e"}, "MUST",
              [("q", "a&b=c#d%e")]),
    param_row("params-none", "params={'a': None, 'b': '1'}: 'a' dropped, empty, or 'None'?", {"a": None, "b": "1"}),
    param_row("params-empty", "params={'a': ''}: 'a=' or 'a'?", {"a": ""}),
    param_row("params-int-bool", "params={'n': 1, 't': True}: how numbers and booleans are written", {"n": 1, "t": True}),
    param_row("params-bytes", "params={'b': b'x y'}: bytes values", {"b": b"x y"}),
    Scenario("query.raw-space", "A raw space in the URL's query ('?q=a b'): encoded or refused, never raw",
             "RFC 9112 §3.2", "MUST", query_valid("q=a b"), Call("GET", path="/?q=a b"), OK),
    Scenario("query.raw-non-ascii", "Non-ASCII in the URL's query ('?q=café'): percent-encoded UTF-8 or refused",
             "RFC 3986 §2.5", "MUST", query_valid("q=café"), Call("GET", path="/?q=café"), OK),
    Scenario("query.raw-pipe", "A raw '|' in the URL's query: encoded or refused, never raw", "RFC 9110 §2.2",
             "MUST", query_valid("a|b"), Call("GET", path="/?a|b"), OK),
    Scenario("query.keep-escapes", "Escapes in the URL's query ('?q=%26%3D'): sent exactly as written",
             "RFC 3986 §6.2.2.2", "MUST",
             lambda obs: Result(bool(obs.sent) and query(obs.sent[0]) == "q=%26%3D",
                                query_records(obs).summary), Call("GET", path="/?q=%26%3D"), OK),
]


def capture(target: str, *headers: tuple[str, str], server: str = "127.0.0.1:9") -> Capture:
    return Capture("GET", target, "HTTP/1.1", headers, b"", "none", b"", 1, server=server)


def via_proxy(netloc: str, host: str) -> Observation:
    return Observation(sent=(capture(f"http://{netloc}/c/t1/", ("Host", host)),), got=Got(200, "OK", (), b"ok"))


def via_tunnel(authority: str, host: str) -> Observation:
    """A plain-http request tunnelled: CONNECT authority, then the request with its Host."""
    connect = Capture("CONNECT", authority, "HTTP/1.1", (("Host", authority),), b"", "none", b"", 1)
    return Observation(sent=(connect, capture("/c/t1/", ("Host", host))), got=Got(200, "OK", (), b"ok"))


def direct(target: str) -> Observation:
    return Observation(sent=(capture(target),), got=Got(200, "OK", (), b"ok"))


WRONG: dict[str, Observation] = {
    "url.idna": via_proxy("b\xc3\xbccher.localhost:1", "b\xc3\xbccher.localhost:1"),
    "url.ipv6-literal": via_proxy("::1:1", "::1:1"),
    "url.userinfo-not-sent": via_proxy("user:pass@localhost:1", "localhost:1"),
    "url.fragment": direct("/c/t1/a#frag"),
    **{f"path.raw-{name}": direct(f"/c/t1/a{ch}b") for name, ch in RAW.items()},
    "path.keep-semicolon-escape": direct("/c/t1/x/;.txt"),
    "path.keep-question-escape": direct("/c/t1/a?b"),
    "path.keep-hash-escape": direct("/c/t1/a"),
    "path.keep-percent-escape": direct("/c/t1/a%b"),
    "path.keep-pipe-escape": direct("/c/t1/a|b"),
    "path.keep-semicolon": direct("/c/t1/a%3Bp=1/b"),
    "path.keep-sub-delims": direct("/c/t1/a%21%24%26%27%28%29%2A%2B%2C%3Db"),
    "path.keep-colon-at": direct("/c/t1/a%3Ab%40c"),
    "query.params-plus": direct("/c/t1/?q=a+b"),
    "query.params-reserved": direct("/c/t1/?q=a&b=c#d%e"),
    "query.raw-space": direct("/c/t1/?q=a b"),
    "query.raw-non-ascii": direct("/c/t1/?q=caf\xe9"),
    "query.raw-pipe": direct("/c/t1/?a|b"),
    "query.keep-escapes": direct("/c/t1/?q=&="),
}

DEPTH = [*HOSTS, *RAW_PATHS, *KEEP_PATHS, *PATH_INFO, *QUERIES]
#: The same wrong answers from a client that tunnels plain http (CONNECT), read by the same checks.
TUNNELLED: dict[str, Observation] = {
    "url.idna": via_tunnel("b\xc3\xbccher.localhost:1", "b\xc3\xbccher.localhost:1"),
    "url.userinfo-not-sent": via_tunnel("user:pass@localhost:1", "localhost:1"),
    # A CONNECT our proxy could not read (no capture: its 400 is all the client reports).
    "url.ipv6-literal": Observation(error=Failure("other", "socks.GeneralProxyError", "Socket error: 400")),
}
DEPTH = attach(attach(DEPTH, WRONG), TUNNELLED)  # the guard (tests/test_wrong.py) feeds each its wrong answer
SCENARIOS = DEPTH


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
