"""Authentication: Basic and Digest through the library's auth API, credentials in the URL,
.netrc, and where credentials travel on a redirect.

    RFC 7617 §2: the client "constructs the user-pass by concatenating the user-id, a single
    colon (":") character, and the password, ... encodes the user-pass into an octet
    sequence ..., and obtains the basic-credentials by encoding this octet sequence using
    Base64".
    RFC 7617 §2.1: with ``charset="UTF-8"`` in the challenge, "the server expects character
    data to be converted to Unicode Normalization Form C ... and to be encoded into octets
    using the UTF-8 character encoding scheme".
    RFC 7616 §3.4.1: response = KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2)),
    A1 = user ":" realm ":" password, A2 = method ":" request-uri.

The challenge servers (``challenge``, ``digest``) answer 401 until a request carries valid
credentials; they are pure functions of the request, bounded by the cell's request count.
Credentials rows name what goes on the wire: the Authorization each request carried,
decoded (``Basic user:pass``), never a token that would change from run to run.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace

from model.cell import Call, Capture, Got, Observation
from model.checks import outcome, status_seen
from model.forms import params
from model.scenario import Check, Result, Scenario, bad, ok
from model.script import Reply, Response, Script
from model.wrong import attach
from servers import NETRC_LOGIN

USER, PASSWORD = "user", "pass"
REALM = "cm"
#: The server's own bound: after this many requests it answers 200, whatever was sent.
BOUND = 6


def credentials(c: Capture, name: str = "Authorization") -> str:
    """What a request's Authorization says, decoded: ``Basic user:pass``, ``Digest``, ``Bearer x``."""
    value = c.header(name)
    if value is None:
        return "none"
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "basic":
        try:
            raw = base64.b64decode(rest.strip(), validate=True)
        except ValueError:
            return f"Basic (not base64: {rest[:20]!r})"
        try:
            text = raw.decode("utf-8")
            enc = "" if raw.isascii() else " (UTF-8)"
        except UnicodeDecodeError:
            text, enc = raw.decode("latin-1"), " (ISO-8859-1)"
        return f"Basic {text}{enc}"
    if scheme.lower() == "digest":
        p = params("; " + rest.replace(",", ";"))
        return f"Digest {p.get('algorithm', 'MD5')}, qop={p.get('qop', 'none')}"
    return value[:40]


def trail(obs: Observation) -> str:
    """Each request's Authorization, in order: ``none -> Basic user:pass``."""
    return " -> ".join(credentials(c) for c in obs.sent) or "nothing sent"


def challenge(charset: bool = False) -> Script:
    """401 with a Basic challenge until a request carries Authorization; then 200."""
    param = ', charset="UTF-8"' if charset else ""

    def answer(c: Capture, subpath: str, seen: int) -> Response:
        if c.header("Authorization") is not None or seen >= BOUND:
            return Reply(200, body=b"ok")
        return Reply(401, headers=(("WWW-Authenticate", f'Basic realm="{REALM}"{param}'),), body=b"who?")

    return Script(dynamic=answer)


def basic_ok(user: str, password: str, encoding: str = "utf-8") -> Check:
    """The caller gets the 200, and the request that got it carries exactly these credentials."""
    def check(obs: Observation) -> Result:
        summary = f"{trail(obs)}; {outcome(obs)}"
        if status_seen(obs) != 200 or not obs.sent:
            return bad(summary)
        value = obs.sent[-1].header("Authorization") or ""
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode(encoding)).decode()
        return Result(value == expected, summary)

    return check


def records(obs: Observation) -> Result:
    return ok(f"{trail(obs)}; {outcome(obs)}")


def preemptive(obs: Observation) -> Result:
    """INFO: does the first request carry the credentials, or does the library wait for a 401?"""
    if not obs.sent:
        return ok(f"nothing sent; {outcome(obs)}")
    first = "sent with the first request" if obs.sent[0].header("Authorization") else "waits for a 401 challenge"
    return ok(f"{first}: {trail(obs)}; {outcome(obs)}")


def userinfo_decoded(user: str, password: str) -> Check:
    """Credentials from the URL's userinfo: if they become Basic, they are the percent-decoded
    ones (RFC 3986 §2.1: a percent-encoded octet stands for that octet); not using them is
    allowed (RFC 3986 §3.2.1: "Use of the format "user:password" in the userinfo field is
    deprecated")."""

    def check(obs: Observation) -> Result:
        summary = f"{trail(obs)}; {outcome(obs)}"
        sent = [credentials(c) for c in obs.sent if c.header("Authorization")]
        return Result(not sent or sent[-1] == f"Basic {user}:{password}", summary)

    return check


# -- Digest ---------------------------------------------------------------------------

HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256, "SHA-512-256": None}


def h(algorithm: str, data: str) -> str:
    if algorithm == "SHA-512-256":
        return hashlib.new("sha512_256", data.encode()).hexdigest()
    fn = HASHES[algorithm]
    assert fn is not None
    return fn(data.encode()).hexdigest()


def digest_valid(c: Capture, algorithm: str, nonce: str, offered: tuple[str, ...] = ("auth",)) -> bool:
    """RFC 7616 §3.4.1: the request's Digest response is right for ``nonce``, with one of the
    qop values the challenge offered (the client picks, §3.3)."""
    value = c.header("Authorization") or ""
    if not value.lower().startswith("digest "):
        return False
    p = {k: v for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', value[7:])}
    p = {k.lower(): v.strip('"') for k, v in p.items()}
    qop = p.get("qop")
    if p.get("nonce") != nonce or qop not in offered or p.get("uri") != c.target:
        return False
    if p.get("algorithm", "MD5").upper() != algorithm.upper():
        return False
    ha1 = h(algorithm, f"{p.get('username')}:{REALM}:{PASSWORD}")
    # RFC 7616 §3.4.3: A2 = Method ":" request-uri for qop=auth, and for qop=auth-int
    # A2 = Method ":" request-uri ":" H(entity-body).
    a2 = f"{c.method}:{p['uri']}" if qop == "auth" else f"{c.method}:{p['uri']}:{h(algorithm, c.body.decode('latin-1'))}"
    want = h(algorithm, f"{ha1}:{nonce}:{p.get('nc')}:{p.get('cnonce')}:{qop}:{h(algorithm, a2)}")
    return p.get("response") == want and p.get("username") == USER


def digest(algorithm: str = "MD5", qop: str = "auth", stale: bool = False) -> Script:
    """401 with a Digest challenge until a valid response; with ``stale``, the first valid
    response is answered ``stale=true`` with a fresh nonce, and only the second one passes."""

    def ask(nonce: str, is_stale: bool = False) -> Reply:
        extra = ", stale=true" if is_stale else ""
        value = f'Digest realm="{REALM}", qop="{qop}", algorithm={algorithm}, nonce="{nonce}", opaque="op"{extra}'
        return Reply(401, headers=(("WWW-Authenticate", value),), body=b"who?")

    offered = tuple(q.strip() for q in qop.split(","))

    def answer(c: Capture, subpath: str, seen: int) -> Response:
        if seen >= BOUND:
            return Reply(200, body=b"bounded")
        if digest_valid(c, algorithm, "n2", offered):
            return Reply(200, body=b"ok")
        if digest_valid(c, algorithm, "n1", offered):
            return ask("n2", True) if stale else Reply(200, body=b"ok")
        return ask("n1")

    return Script(dynamic=answer)


def digest_ok(obs: Observation) -> Result:
    """The caller gets the 200 that only a valid Digest response earns (RFC 7616 §3.4)."""
    good = status_seen(obs) == 200 and bool(obs.got and obs.got.body == b"ok")
    return Result(good, f"{len(obs.sent)} requests: {trail(obs)}; {outcome(obs)}")


def digest_row(id: str, title: str, spec: str, level: str, script: Script) -> Scenario:
    return Scenario(f"auth.digest-{id}", title, spec, level, digest_ok,  # type: ignore[arg-type]
                    Call("GET", auth=(USER, PASSWORD), digest=True), script)


# -- where credentials travel ---------------------------------------------------------------

def not_to_other(obs: Observation) -> Result:
    """Fetch §4.4 (HTTP-redirect fetch): "If request's current URL's origin is not same origin
    with locationURL's origin, then for each headerName of CORS non-wildcard request-header
    name, delete headerName from request's header list" (that name is Authorization);
    RFC 9110 §15.4: "Consider removing header fields that were not automatically generated
    ... this includes but is not limited to Authorization and Cookie". Not following is safe."""
    hop = elsewhere(obs)
    if hop is None:
        return ok(f"not followed to the other origin; {outcome(obs)}")
    sent = credentials(hop)
    return Result(sent == "none", f"to the other origin: Authorization {sent}; {outcome(obs)}")


def elsewhere(obs: Observation) -> Capture | None:
    """The first request that went to another origin than the first one: another server, or
    the same server named by another host (``localhost`` vs ``127.0.0.1``: RFC 6454 §4)."""
    def origin(c: Capture) -> tuple[str, str]:
        return c.server, (c.header("Host") or "").lower()

    if not obs.sent:
        return None
    return next((c for c in obs.sent[1:] if origin(c) != origin(obs.sent[0])), None)


def kept_on_same_origin(obs: Observation) -> Result:
    """RFC 9110 §15.4: the user agent "SHOULD resend the original request message"; the
    credentials belong to the same origin."""
    if len(obs.sent) < 2:
        return bad(f"not followed; {outcome(obs)}")
    sent = credentials(obs.sent[1])
    return Result(sent.startswith("Basic user:pass"), f"next hop: Authorization {sent}; {outcome(obs)}")


def moved(to: str) -> Script:
    return Script(default=Reply(200, body=b"ok"), routes={"/": Reply(302, headers=(("Location", to),))})


FOLLOW = Call("GET", auth=(USER, PASSWORD), follow_redirects=True)
#: The same server, named by another host: another origin (RFC 6454 §4) on the same port.
OTHER_HOST = "http://localhost:{port:http}{prefix}/next"


def leak(id: str, title: str, call: Call, to: str) -> Scenario:
    return Scenario(f"auth.{id}", title, "Fetch §4.4; RFC 9110 §15.4", "MUST", not_to_other, call, moved(to),
                    security=True)


NETRC = (("NETRC", "{netrc_file}"),)
NETRC_BASIC = f"Basic {NETRC_LOGIN[0]}:{NETRC_LOGIN[1]}"

DEPTH = [
    Scenario("auth.basic-preemptive", "auth=(user, password), a server that never challenges: sent at once, "
             "or after a 401?", "RFC 7617 §2", "INFO", preemptive, Call("GET", auth=(USER, PASSWORD)),
             Reply(200, body=b"ok")),
    Scenario("auth.basic-challenge", "A 401 Basic challenge: the credentials sent, Base64 of user:pass, "
             "the caller gets the 200", "RFC 7617 §2", "MUST", basic_ok(USER, PASSWORD),
             Call("GET", auth=(USER, PASSWORD)), challenge()),
    Scenario("auth.basic-utf8-charset", "A password outside ISO-8859-1 ('żółć'), challenge with charset=\"UTF-8\": "
             "sent as UTF-8", "RFC 7617 §2.1", "SHOULD", basic_ok(USER, "żółć"), Call("GET", auth=(USER, "żółć")),
             challenge(charset=True)),
    Scenario("auth.basic-non-latin1", "A password outside ISO-8859-1 ('żółć'), no charset: refused, UTF-8, "
             "or what?", "RFC 7617 §2.1", "INFO", records, Call("GET", auth=(USER, "żółć")), challenge()),
    Scenario("auth.basic-latin1", "A password in ISO-8859-1 ('pässwörd'), no charset: ISO-8859-1 or UTF-8 "
             "octets?", "RFC 7617 §2.1", "INFO", records, Call("GET", auth=(USER, "pässwörd")), challenge()),
    Scenario("auth.basic-colon-user", "A user-id with a colon ('a:b'): refused, or sent ambiguous?", "RFC 7617 §2",
             "INFO", records, Call("GET", auth=("a:b", PASSWORD)), challenge()),
    Scenario("auth.url-userinfo", "user:pass@ in the URL: does it become Basic credentials?", "RFC 3986 §3.2.1",
             "INFO", records, Call("GET", userinfo=f"{USER}:{PASSWORD}"), challenge()),
    Scenario("auth.url-userinfo-escapes", "a%40b:c%25d%3Ae@ in the URL: if sent, the decoded 'a@b' and 'c%d:e'",
             "RFC 3986 §2.1", "SHOULD", userinfo_decoded("a@b", "c%d:e"), Call("GET", userinfo="a%40b:c%25d%3Ae"),
             challenge()),
    Scenario("auth.url-userinfo-and-api", "user:pass@ in the URL and auth=(other, secret): which is sent?",
             "RFC 3986 §3.2.1", "INFO", records, Call("GET", userinfo="url:pass", auth=("api", "secret")),
             challenge()),
    Scenario("auth.header-and-api", "The caller's own Authorization: Bearer and auth=(user, pass): which is sent?",
             "RFC 9110 §11.6.2", "INFO", records,
             Call("GET", auth=(USER, PASSWORD), headers=(("Authorization", "Bearer caller-token"),)),
             Reply(200, body=b"ok")),
    Scenario("auth.netrc-default", "NETRC names credentials for 127.0.0.1, no auth asked: sent by default?",
             "netrc convention (curl, ftp)", "INFO", records, Call("GET"), challenge(), env=NETRC, security=True),
    Scenario("auth.netrc-vs-header", "NETRC credentials and the caller's Authorization: Bearer: which one is sent?",
             "netrc convention (curl, ftp)", "INFO", records,
             Call("GET", headers=(("Authorization", "Bearer caller-token"),)), Reply(200, body=b"ok"), env=NETRC,
             security=True),
    Scenario("auth.netrc-trust-env", "NETRC credentials with trust_env=True: used after a 401?",
             "netrc convention (curl, ftp)", "INFO", records, Call("GET", trust_env=True), challenge(), env=NETRC,
             security=True),
    digest_row("md5", "Digest MD5, qop=auth: a valid response earns the 200", "RFC 7616 §3.4", "MUST", digest()),
    digest_row("sha256", "Digest SHA-256, qop=auth: a valid response earns the 200", "RFC 7616 §3.4.2", "SHOULD",
               digest("SHA-256")),
    digest_row("sha512-256", "Digest SHA-512-256, qop=auth: a valid response earns the 200", "RFC 7616 §3.4.2",
               "INFO", digest("SHA-512-256")),
    digest_row("qop-list", "Digest with qop=\"auth,auth-int\": the client picks one, a valid response",
               "RFC 7616 §3.3", "MUST", digest(qop="auth,auth-int")),
    digest_row("stale", "Digest answered stale=true with a fresh nonce: retried with it, no new prompt?",
               "RFC 7616 §3.3", "INFO", digest(stale=True)),
    leak("api-cross-origin-redirect", "auth=(user, pass), 302 to another origin: Authorization not sent there",
         FOLLOW, "{base:http-other}/next"),
    leak("api-other-host-same-port", "auth=(user, pass), 302 to localhost on the same port: another origin, "
         "Authorization not sent", FOLLOW, OTHER_HOST),
    leak("userinfo-cross-origin-redirect", "user:pass@ in the URL, 302 to another origin: Authorization not sent "
         "there", replace(FOLLOW, auth=None, userinfo=f"{USER}:{PASSWORD}"), "{base:http-other}/next"),
    Scenario("auth.api-same-origin-redirect", "auth=(user, pass), 302 on the same origin: credentials sent again",
             "RFC 9110 §15.4", "SHOULD", kept_on_same_origin, FOLLOW, moved("{base}/next")),
]


def capture(*headers: tuple[str, str], server: str = "127.0.0.1:1", target: str = "/c/t1/",
            host: str = "127.0.0.1:1") -> Capture:
    return Capture("GET", target, "HTTP/1.1", (("Host", host), *headers), b"", "none", b"", 1, server=server)


BASIC = ("Authorization", "Basic " + base64.b64encode(b"user:pass").decode())
WRONG: dict[str, Observation] = {
    "auth.basic-challenge": Observation(sent=(capture(), capture(BASIC)), got=Got(401, "", (), b"who?")),
    "auth.basic-utf8-charset": Observation(
        sent=(capture(), capture(("Authorization", "Basic " + base64.b64encode("user:żółć".encode("utf-16")).decode()))),
        got=Got(200, "OK", (), b"ok")),
    "auth.url-userinfo-escapes": Observation(
        sent=(capture(("Authorization", "Basic " + base64.b64encode(b"a%40b:c%25d%3Ae").decode())),),
        got=Got(200, "OK", (), b"ok")),
    "auth.digest-md5": Observation(sent=(capture(), capture()), got=Got(401, "", (), b"who?")),
    "auth.digest-sha256": Observation(sent=(capture(),), got=Got(401, "", (), b"who?")),
    "auth.digest-qop-list": Observation(sent=(capture(),) * 6, got=Got(200, "OK", (), b"bounded")),
    "auth.api-cross-origin-redirect": Observation(sent=(capture(BASIC), capture(BASIC, server="127.0.0.1:2")),
                                                  got=Got(200, "OK", (), b"ok")),
    "auth.api-other-host-same-port": Observation(sent=(capture(BASIC), capture(BASIC, host="localhost:1")),
                                                 got=Got(200, "OK", (), b"ok")),
    "auth.userinfo-cross-origin-redirect": Observation(sent=(capture(BASIC), capture(BASIC, server="127.0.0.1:2")),
                                                       got=Got(200, "OK", (), b"ok")),
    "auth.api-same-origin-redirect": Observation(sent=(capture(BASIC), capture()), got=Got(200, "OK", (), b"ok")),
}
DEPTH = attach(DEPTH, WRONG)  # the guard (tests/test_wrong.py) feeds each its wrong answer
SCENARIOS = DEPTH


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
