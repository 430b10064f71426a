"""HTTP/2 (RFC 9113, RFC 7541, and RFC 9110 semantics over h2): the ``h2.*`` rows.

The columns are the h2 family (fixtures.clients.H2: ``httpx-h2``, ``httpx-async-h2``,
``urllib3-h2``): each an existing client with HTTP/2 turned on its documented way.
Every row talks to the scripted HTTP/2 server (servers/h2.py): ``h2`` (TLS, ALPN
``h2`` and ``http/1.1``), ``h2-other`` (another origin) or ``h2c`` (cleartext, prior
knowledge). Well-formed answers are ``H2Reply``; the rows that break the protocol
write their frames themselves (``Wire``, model.h2wire), since h2 will not.

Families of rows, in order: negotiation and the client's preface; semantics over h2
(methods, status codes, redirects, codings, fields, trailers, flow control);
malformed responses (§8.1.1, §8.2, §8.3); stream and connection errors (§5.4, §6);
limits and security (floods and HPACK abuse, each bounded on our side in octets and
seconds: model.h2script.MAX_FLOOD_*); connection use (multiplexing).

A got-side row counts only over HTTP/2 (model.h2checks.over_h2): a client that fell
back to HTTP/1.1 where h2 was on offer fails it, since it tested nothing.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import replace

from model import h2wire as w
from model.cell import Call, H2Frame, Observation
from model.checks import outcome, status_seen, tail
from model.h2checks import (
    MADE_FIELDS,
    answered,
    first,
    frames,
    h1_answer,
    h2_answer,
    h2_delivers,
    h2_raised,
    h2_refuses,
    h2_request,
    h2_tolerates,
    info_outcome,
    over_h2,
    retried,
)
from model.h2script import (
    Await,
    Flood,
    GoAway,
    H2Raw,
    H2Reply,
    H2Response,
    H2Script,
    Head,
    Ping,
    Reset,
    Update,
    Wire,
)
from model.hops import other_origin
from model.scenario import Check, Result, Scenario, bad, ok
from model.script import Reply, Sleep

OK = b"ok"
BODY = b"hello over h2"
TLS = Call("GET", trust="ca")
PK = Call("GET", prior_knowledge=True)


#: The deadline of rows whose server part ends at once (a reset, a GOAWAY, no answer): a
#: client still waiting a second later is hung (urllib3.http2 never ends a reset stream).
HANG = 1.0


def row(id: str, title: str, spec: str, level: str, check: Check, response: H2Response | H2Script,
        request: Call = TLS, origin: str = "h2", security: bool = False, deadline: float | None = None) -> Scenario:
    """One h2 row: protocol ``h2``, the ``h2`` origin (TLS) unless named."""
    script = response if isinstance(response, H2Script) else H2Script(default=response)
    return Scenario(id, title, spec, level, check, request, script,  # type: ignore[arg-type]
                    origin=origin, protocol="h2", security=security, deadline=deadline)


# -- negotiation -------------------------------------------------------------------


def alpn(obs: Observation) -> Result:
    """RFC 9113 §3.2: "HTTP/2 over TLS uses the "h2" protocol identifier."""
    c = first(obs) or (obs.sent[0] if obs.sent else None)
    tls = c.tls if c is not None and c.tls else {}
    offered = tls.get("alpn_offered", [])
    words = f"offered {', '.join(offered) or 'no ALPN'}; selected {tls.get('alpn') or 'none'}; {outcome(obs)}"
    good = "h2" in offered and tls.get("alpn") == "h2" and over_h2(obs) is None and status_seen(obs) == 200
    return Result(good, words)


def fallback(obs: Observation) -> Result:
    """The server offers http/1.1 only: the client speaks HTTP/1.1 (RFC 7301 §3.2)."""
    tls = obs.sent[0].tls if obs.sent and obs.sent[0].tls else {}
    offered = ", ".join(tls.get("alpn_offered", [])) or "no ALPN"
    version = obs.sent[0].version if obs.sent else "nothing"
    body = obs.got.body if obs.got is not None else None
    good = bool(obs.sent) and version == "HTTP/1.1" and status_seen(obs) == 200 and body == b"over HTTP/1.1"
    return Result(good, f"offered {offered}; spoke {version or 'no HTTP'}; {outcome(obs)}")


def preface(obs: Observation) -> Result:
    """RFC 9113 §3.4: the preface string, then "This sequence MUST be followed by a SETTINGS
    frame, which MAY be empty."""
    c = first(obs)
    if c is None or c.h2 is None:
        return bad(f"no HTTP/2 connection; {outcome(obs)}")
    kinds = [f.type for f in c.h2.frames[:1]]
    good = c.h2.preface == "ok" and kinds == ["SETTINGS"] and "ACK" not in c.h2.frames[0].flags
    return Result(good, f"preface {c.h2.preface}, first frame {kinds[0] if kinds else 'none'}")


def client_settings(obs: Observation) -> Result:
    c = first(obs)
    if c is None or c.h2 is None:
        return ok(f"no HTTP/2 connection; {outcome(obs)}")
    values = c.h2.settings()
    return ok("; ".join(f"{k}={v}" for k, v in values.items()) or "an empty SETTINGS frame")


def first_window_update(obs: Observation) -> Result:
    updates = [f for f in frames(obs, "WINDOW_UPDATE")]
    before = [f for f in updates if f.stream == 0]
    if not updates:
        return ok("no WINDOW_UPDATE")
    f = before[0] if before else updates[0]
    return ok(f"first WINDOW_UPDATE on stream {f.stream}: +{f.detail.get('increment')}")


def acks(kind: str, opaque: str | None = None) -> Check:
    """The client acknowledged our frame (SETTINGS §6.5.3, PING §6.7)."""

    def check(obs: Observation) -> Result:
        if over_h2(obs) is not None:
            return bad(f"{over_h2(obs)}; {outcome(obs)}")
        good = answered(obs, kind, lambda f: "ACK" in f.flags and (opaque is None or f.detail.get("opaque") == opaque))
        return Result(good, f"{kind} {'acknowledged' if good else 'never acknowledged'}; {outcome(obs)}")

    return check


def cleartext(obs: Observation) -> Result:
    """INFO: http:// without prior knowledge: which protocol, and an Upgrade: h2c offer?"""
    if not obs.sent:
        return ok(outcome(obs))
    c = obs.sent[0]
    upgrade = c.header("Upgrade")
    said = f"spoke {c.version}" + (f", Upgrade: {upgrade}" if upgrade else ", no Upgrade")
    if c.header("HTTP2-Settings") is not None:
        said += ", HTTP2-Settings"
    return ok(f"{said}; {outcome(obs)}")


def prior_knowledge(obs: Observation) -> Result:
    """RFC 9113 §3.3: "A client MUST send the connection preface (Section 3.4) and then MAY
    immediately send HTTP/2 frames to such a server"."""
    c = first(obs)
    good = c is not None and c.h2 is not None and c.h2.preface == "ok" and status_seen(obs) == 200
    spoke = "HTTP/2 with prior knowledge" if c is not None else (obs.sent[0].version if obs.sent else "nothing")
    return Result(good, f"spoke {spoke}; {outcome(obs)}")


def pseudo_first(obs: Observation) -> Result:
    """RFC 9113 §8.3: "All pseudo-header fields MUST appear in a field block before all regular
    field lines"; §8.3.1: :method, :scheme, :path (and :authority) in a request."""
    c = first(obs)
    if c is None:
        return bad(f"no HTTP/2 request; {outcome(obs)}")
    names = [k for k, _ in c.headers]
    pseudo = [n for n in names if n.startswith(":")]
    late = any(n.startswith(":") for n in names[len(pseudo):])
    needed = {":method", ":scheme", ":path"} <= set(pseudo)
    return Result(not late and needed and len(set(pseudo)) == len(pseudo),
                  f"pseudo-header fields {', '.join(pseudo)}" + ("; one after a regular field" if late else ""))


def lowercase(obs: Observation) -> Result:
    """RFC 9113 §8.2.1: "Field names MUST be converted to lowercase when constructing an
    HTTP/2 message." The caller asked for ``X-Mixed-Case``."""
    c = first(obs)
    if c is None:
        return bad(f"no HTTP/2 request; {outcome(obs)}") if obs.error is None or obs.sent else \
            ok(f"refused before sending: {outcome(obs)}")
    names = [k for k, _ in c.headers if k.lower() == "x-mixed-case"]
    upper = [n for n in (k for k, _ in c.headers) if n != n.lower()]
    return Result(not upper, f"sent {names[0] if names else 'no x-mixed-case'}" +
                  (f"; uppercase names: {', '.join(upper)}" if upper else ""))


def no_connection_fields(obs: Observation) -> Result:
    """RFC 9113 §8.2.2: "An endpoint MUST NOT generate an HTTP/2 message containing
    connection-specific header fields." The caller passed Connection and Keep-Alive."""
    c = first(obs)
    if c is None:
        return Result(obs.error is not None, f"nothing sent: {outcome(obs)}")
    bad_names = [k for k, _ in c.headers if k.lower() in ("connection", "keep-alive", "proxy-connection",
                                                          "transfer-encoding", "upgrade")]
    return Result(not bad_names, f"sent {', '.join(bad_names)}" if bad_names else "connection-specific fields removed")


def authority(obs: Observation) -> Result:
    """RFC 9113 §8.3.1: "Clients that generate HTTP/2 requests directly MUST use the
    ":authority" pseudo-header field to convey authority information"."""
    c = first(obs)
    if c is None:
        return bad(f"no HTTP/2 request; {outcome(obs)}")
    auth, host = c.header(":authority"), c.header("host")
    same = host is None or host == auth
    words = (":authority" if auth else "no :authority") + ("" if host is None else
                                                            (", Host too (same)" if same else ", Host differs"))
    return Result(auth is not None and same, words)


def default_fields(obs: Observation) -> Result:
    c = first(obs)
    if c is None:
        return ok(f"no HTTP/2 request; {outcome(obs)}")
    shown = []
    for k, v in c.headers:
        if k in (":authority", "host"):
            v = "…"
        elif k == ":path":
            v = tail(c)
        shown.append(f"{k}: {v}")
    return ok("; ".join(shown))


NEGOTIATION = [
    row("h2.alpn", "TLS: the client offers h2 by ALPN, and speaks it when selected", "RFC 9113 §3.2", "MUST",
        alpn, H2Reply(body=OK)),
    Scenario("h2.alpn-http11-fallback", "The server selects http/1.1: the client speaks HTTP/1.1 over the same TLS",
             "RFC 7301 §3.2; RFC 9113 §3.2", "MUST", fallback, TLS, Reply(200, body=b"over HTTP/1.1"),
             origin="https-hello", protocol="h2", deadline=HANG),
    row("h2.prior-knowledge", "Cleartext with prior knowledge (h2c): the preface first, then frames",
        "RFC 9113 §3.3", "MUST", prior_knowledge, H2Reply(body=OK), PK, origin="h2c"),
    # RFC 9113 §3.1: "The "h2c" string was previously used as a token for use in the HTTP
    # Upgrade mechanism's Upgrade header field ... This usage was never widely deployed and is
    # deprecated by this document." Recorded: what the client speaks to http:// with h2 on.
    row("h2.cleartext-default", "http:// with HTTP/2 on, no prior knowledge: HTTP/1.1? an Upgrade: h2c?",
        "RFC 9113 §3.1", "INFO", cleartext, H2Reply(body=OK), Call("GET"), origin="h2c"),
    row("h2.preface", "The client preface: the 24 octets, then a SETTINGS frame", "RFC 9113 §3.4", "MUST",
        preface, H2Reply(body=OK)),
    row("h2.client-settings", "The client's SETTINGS values", "RFC 9113 §6.5.2", "INFO", client_settings,
        H2Reply(body=OK)),
    row("h2.first-window-update", "The client's first WINDOW_UPDATE (its receive window)", "RFC 9113 §6.9",
        "INFO", first_window_update, H2Reply(body=OK)),
    # RFC 9113 §6.5.3: "Once all values have been processed, the recipient MUST immediately
    # emit a SETTINGS frame with the ACK flag set." The server answers only after the ACK
    # (or 0.5 s), so an ACK sent at all is seen.
    row("h2.settings-ack", "The server's SETTINGS are acknowledged", "RFC 9113 §6.5.3", "MUST",
        acks("SETTINGS"), H2Reply(body=OK, before=(Update(((w.SETTING_IDS["MAX_CONCURRENT_STREAMS"], 50),)),
                                                   Await(w.SETTINGS, w.ACK)))),
    row("h2.pseudo-headers", "Request pseudo-header fields: all present, once, before the regular fields",
        "RFC 9113 §8.3", "MUST", pseudo_first, H2Reply(body=OK)),
    row("h2.authority", ":authority carries the authority; a Host field, if any, agrees", "RFC 9113 §8.3.1",
        "MUST", authority, H2Reply(body=OK)),
    row("h2.lowercase-names", "A caller's 'X-Mixed-Case' goes out lowercased", "RFC 9113 §8.2.1", "MUST",
        lowercase, H2Reply(body=OK), Call("GET", headers=(("X-Mixed-Case", "1"),), trust="ca")),
    row("h2.no-connection-fields", "A caller's Connection and Keep-Alive are not sent over h2 (or refused)",
        "RFC 9113 §8.2.2", "MUST", no_connection_fields, H2Reply(body=OK),
        Call("GET", headers=(("Connection", "keep-alive"), ("Keep-Alive", "timeout=5")), trust="ca")),
    row("h2.default-fields", "The request's field block with the library's defaults, in order", "RFC 9113 §8.3",
        "INFO", default_fields, H2Reply(body=OK)),
]


# -- semantics over h2 -----------------------------------------------------------


def method_sent(method: str, body: bytes | None) -> Check:
    """RFC 9110 §9: the method, and the content as DATA frames ending the stream (RFC 9113 §8.1)."""

    def check(obs: Observation) -> Result:
        c = first(obs)
        if c is None or c.h2 is None:
            return bad(f"no HTTP/2 request; {outcome(obs)}")
        sent = f":method {c.method}, {len(c.body)} bytes, {c.h2.ended}"
        got = obs.got.body if obs.got is not None else None
        want = b"" if method == "HEAD" else OK
        good = (c.method == method and c.body == (body or b"") and c.h2.ended == "END_STREAM"
                and status_seen(obs) == 200 and got == want)
        return Result(good, f"{sent}; {outcome(obs)}" + ("" if got == want else f", body {got!r}"))

    return check


METHODS = [("GET", None), ("HEAD", None), ("POST", b"x=1&y=2"), ("PUT", b"{}"), ("PATCH", b"[]"),
           ("DELETE", None), ("OPTIONS", None), ("PURGE", None)]


def status_seen_as(status: int, body: bytes = b"") -> Check:
    return h2_delivers(body, status)


def two_values(name: str) -> Check:
    def check(obs: Observation) -> Result:
        if over_h2(obs) is not None or obs.got is None:
            return bad(f"{over_h2(obs) or ''}; {outcome(obs)}")
        values = [v for k, v in obs.got.headers if k.lower() == name]
        joined = ", ".join(values)
        good = values == ["a=1", "b=2"] or joined == "a=1, b=2"
        return Result(good, f"{name}: {values!r}")

    return check


def cross_origin(obs: Observation) -> Result:
    """RFC 9110 §15.4: consider removing "Authorization and Cookie" on a redirect; Fetch §4.4
    deletes Authorization when the origin changes."""
    hop = other_origin(obs)
    if hop is None:
        return Result(True, f"not followed; {outcome(obs)}")
    sent = hop.header("authorization") is not None
    return Result(not sent, f"followed to another origin: Authorization {'sent' if sent else 'removed'}; "
                            f"{outcome(obs)}")


def redirect_to(code: int, location: str = "{base}/next") -> H2Script:
    return H2Script(default=H2Reply(body=OK), routes={"/": H2Reply(code, (("location", location),), b"moved")})


def followed(method: str) -> Check:
    def check(obs: Observation) -> Result:
        if over_h2(obs) is not None:
            return bad(f"{over_h2(obs)}; {outcome(obs)}")
        if len(obs.sent) < 2:
            return bad(f"not followed; {outcome(obs)}")
        hop = obs.sent[1]
        good = hop.method == method and status_seen(obs) == 200 and obs.got is not None and obs.got.body == OK
        return Result(good, f"followed: {hop.method} {len(hop.body)} bytes; {outcome(obs)}")

    return check


def cookie_fields(obs: Observation) -> Result:
    """INFO: RFC 9113 §8.2.3: "the Cookie header field [COOKIE] uses a semicolon (";") to delimit
    cookie-pairs (or "crumbs") ... a Cookie header field can be split into separate header fields,
    each with one or more cookie-pairs." How the stored cookies went back on the second request."""
    if len(obs.sent) < 2:
        return ok(f"no second request; {info_outcome(obs)}")
    lines = [v for k, v in obs.sent[1].headers if k.lower() == "cookie"]
    if not lines:
        return ok(f"no cookie field; {info_outcome(obs)}")
    shown = "; ".join(repr(v) for v in lines)
    return ok(f"{len(lines)} cookie field{'s' if len(lines) > 1 else ''}: {shown}; {info_outcome(obs)}")


def trailers_seen(obs: Observation) -> Result:
    base = h2_delivers(BODY)(obs)
    got = obs.got
    visible = got is not None and (any(k.lower() == "x-checksum" for k, _ in got.headers)
                                   or "x-checksum" in str(got.extra).lower())
    return Result(base.ok, base.summary + ("; trailer visible" if visible else "; trailer not visible"))


def upload_window(obs: Observation) -> Result:
    """RFC 9113 §6.9.1: "A sender MUST NOT send a flow-controlled frame with a length that exceeds
    the space available in either of the flow-control windows advertised by the receiver.\""""
    c = first(obs)
    if c is None or c.h2 is None:  # the client closed before the server read its request
        return bad(f"no body received; {outcome(obs)}")
    problem = c.h2.problem
    good = c.body == UPLOAD and not problem and status_seen(obs) == 200
    sent = ("sent the body intact" if c.body == UPLOAD else
            "sent part of the body" if c.body else "no body received")
    return Result(good, sent + (f"; server saw {problem.split(':')[0]}" if problem else "") +
                  f"; {outcome(obs)}")


UPLOAD = bytes(range(256)) * 512  # 128 KiB
BIG = bytes(range(256)) * (4 * 4096)  # 4 MiB
#: The gzip header's OS byte (RFC 1952 §2.3.1) set to 255, "unknown": gzip.compress writes
#: 3 or 255 depending on the Python, and an undecoded body shows up in a summary.
GZ = (lambda z: z[:9] + b"\xff" + z[10:])(gzip.compress(BODY, mtime=0))
DEFLATE = zlib.compress(BODY)
SMALL_WINDOW = ((w.SETTING_IDS["INITIAL_WINDOW_SIZE"], 1024),)
FOLLOW = Call("GET", follow_redirects=True, trust="ca")

SEMANTICS = [
    *(row(f"h2.method.{m.lower()}", f"{m} over h2: :method, the content in DATA frames, END_STREAM",
          "RFC 9110 §9.3; RFC 9113 §8.1", "MUST", method_sent(m, body), H2Reply(body=OK),
          Call(m, body=body, trust="ca")) for m, body in METHODS),
    # RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses received prior
    # to a final response, even if the client does not expect one."
    row("h2.status.103", "A 103 Early Hints, then the 200", "RFC 9110 §15.2; RFC 9113 §8.1", "MUST",
        h2_delivers(OK), H2Reply(body=OK, interim=((103, (("link", "</a.css>; rel=preload"),)),))),
    row("h2.status.100-twice", "Two interim 1xx HEADERS, then the final one", "RFC 9110 §15.2", "MUST",
        h2_delivers(OK), H2Reply(body=OK, interim=((100, ()), (100, ())))),
    # RFC 9110 §15.3.5: "A 204 response is terminated by the end of the header section; it
    # cannot contain content or trailers." (HEADERS with END_STREAM)
    row("h2.status.204", "204: HEADERS with END_STREAM, no DATA", "RFC 9110 §15.3.5", "MUST",
        status_seen_as(204), H2Reply(204)),
    row("h2.status.304", "304: HEADERS with END_STREAM, no DATA", "RFC 9110 §15.4.5", "MUST",
        status_seen_as(304), H2Reply(304, (("etag", '"x"'),))),
    # RFC 9110 §15: "A client MUST understand the class of any status code ... and treat an
    # unrecognized status code as being equivalent to the x00 status code of that class."
    row("h2.status.299", "An unknown 299: returned as 299", "RFC 9110 §15", "MUST", status_seen_as(299, OK),
        H2Reply(299, body=OK)),
    row("h2.status.599", "An unknown 599: returned as 599", "RFC 9110 §15", "MUST", status_seen_as(599, OK),
        H2Reply(599, body=OK)),
    row("h2.status.404", "404 with a body", "RFC 9110 §15.5.5", "MUST", status_seen_as(404, OK),
        H2Reply(404, body=OK)),
    row("h2.redirect.302", "A 302 followed over h2 (same origin)", "RFC 9110 §15.4.3", "MUST", followed("GET"),
        redirect_to(302), FOLLOW),
    # RFC 9110 §15.4.8: "the user agent MUST NOT change the request method if it performs an
    # automatic redirection to that URI."
    row("h2.redirect.307-post", "A 307 after POST: followed as POST with its content", "RFC 9110 §15.4.8",
        "MUST", followed("POST"), redirect_to(307), Call("POST", body=b"x=1", follow_redirects=True, trust="ca")),
    row("h2.redirect.cross-origin-authorization", "Authorization is not sent to another origin over h2",
        "RFC 9110 §15.4; Fetch §4.4", "MUST", cross_origin, redirect_to(302, "{base:h2-other}/next"),
        Call("GET", headers=(("Authorization", "Bearer secret-token"),), follow_redirects=True, trust="ca"),
        security=True),
    # RFC 9110 §8.4: the recipient decodes the content codings it applied.
    row("h2.encoding.gzip", "content-encoding: gzip over h2 is decoded", "RFC 9110 §8.4.1.3", "MUST",
        h2_delivers(BODY), H2Reply(fields=(("content-encoding", "gzip"),), body=GZ)),
    row("h2.encoding.deflate", "content-encoding: deflate over h2 is decoded", "RFC 9110 §8.4.1.2", "MUST",
        h2_delivers(BODY), H2Reply(fields=(("content-encoding", "deflate"),), body=DEFLATE)),
    # RFC 9110 §5.3: Set-Cookie "often appears in a response message across multiple field
    # lines and does not use the list syntax"; each field line is kept.
    row("h2.set-cookie-twice", "Two set-cookie fields: both reach the caller", "RFC 9110 §5.3; RFC 6265 §3",
        "MUST", two_values("set-cookie"), H2Reply(fields=(("set-cookie", "a=1"), ("set-cookie", "b=2")), body=OK)),
    row("h2.duplicate-fields", "A field repeated (x-dup: a=1, x-dup: b=2): both values reach the caller",
        "RFC 9110 §5.3", "MUST", two_values("x-dup"), H2Reply(fields=(("x-dup", "a=1"), ("x-dup", "b=2")), body=OK)),
    row("h2.cookie-fields", "Two stored cookies sent back over h2: one cookie field, or one per cookie?",
        "RFC 9113 §8.2.3", "INFO", cookie_fields,
        H2Reply(fields=(("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2; Path=/")), body=OK),
        Call("GET", trust="ca", cookie_store=True, then=(Call("GET", trust="ca"),))),
    # RFC 9113 §8.1: a response is "zero or one HEADERS frame (followed by zero or more
    # CONTINUATION frames) containing the trailer section, if present".
    row("h2.trailers", "Trailers after the DATA: the body is intact (and the trailer visible?)",
        "RFC 9113 §8.1", "MUST", trailers_seen, H2Reply(body=BODY, trailers=(("x-checksum", "abc"),))),
    row("h2.data-frames", "The body in DATA frames of 1, 1, 5 and 0 octets, then the rest", "RFC 9113 §6.1",
        "MUST", h2_delivers(BODY), H2Reply(body=BODY, frames=(1, 1, 5, 0))),
    # RFC 9113 §6.1: "Padding octets MUST be set to zero when sending." The padding is
    # flow-controlled but not part of the content.
    row("h2.data-padded", "A padded DATA frame: the padding is not content", "RFC 9113 §6.1", "MUST",
        h2_delivers(BODY), H2Raw((Head(200), Wire(lambda s: w.data(s, BODY, end=True, pad=20))))),
    row("h2.upload.small-window", "A 128 KiB POST while the server lowers the stream window to 1 KiB: sent "
        "within the windows, negative ones included", "RFC 9113 §6.9.2", "MUST", upload_window,
        H2Script(default=H2Reply(body=OK), settings=SMALL_WINDOW),
        Call("POST", body=UPLOAD, trust="ca")),
    # RFC 9113 §6.9: "Flow control ... The receiver ... WINDOW_UPDATE": a 4 MiB answer goes
    # through only if the client keeps opening its windows (the server never exceeds them).
    row("h2.download.4mib", "A 4 MiB answer, sent only within the client's windows", "RFC 9113 §6.9", "MUST",
        h2_delivers(BIG), H2Reply(body=BIG)),
]


# -- malformed responses -----------------------------------------------------------


def bad_head(*fields: tuple[str, str], end: bool = False) -> H2Raw:
    """A response whose field block is ours (literals, any name), then a body."""
    head = Wire(lambda s: w.headers(s, w.block(fields), end_stream=end))
    return H2Raw((head,) if end else (head, Wire(lambda s: w.data(s, OK, end=True))))


STATUS = (":status", "200")

MALFORMED = [
    # RFC 9113 §8.2.1: "A request or response containing an uppercase character ("A" to "Z",
    # ASCII 0x41 to 0x5a) in a field name MUST be treated as malformed (Section 8.1.1)."
    row("h2.malformed.uppercase-name", "A response field name with uppercase letters (X-Upper)",
        "RFC 9113 §8.2.1", "MUST", h2_refuses(OK), bad_head(STATUS, ("X-Upper", "1"))),
    # RFC 9113 §8.2.2: "Any message containing connection-specific header fields MUST be
    # treated as malformed (Section 8.1.1)."
    *(row(f"h2.malformed.{name}", f"A response with the connection-specific field {name}: {value}",
          "RFC 9113 §8.2.2", "MUST", h2_refuses(OK), bad_head(STATUS, (name, value)))
      for name, value in (("connection", "keep-alive"), ("keep-alive", "timeout=5"),
                          ("transfer-encoding", "chunked"), ("upgrade", "h2c"))),
    # RFC 9113 §8.2.2: "The only exception to this is the TE header field, which MAY be present
    # in an HTTP/2 request; when it is, it MUST NOT contain any value other than "trailers"."
    row("h2.malformed.te-gzip", "A response with te: gzip (TE is connection-specific beyond 'trailers')",
        "RFC 9113 §8.2.2", "MUST", h2_refuses(OK), bad_head(STATUS, ("te", "gzip"))),
    # RFC 9113 §8.3: "Any request or response that contains a pseudo-header field that appears
    # in a field block after a regular field line MUST be treated as malformed (Section 8.1.1)."
    row("h2.malformed.pseudo-after-regular", "content-type before :status", "RFC 9113 §8.3", "MUST",
        h2_refuses(OK), bad_head(("content-type", "text/plain"), STATUS)),
    # RFC 9113 §8.3: "Endpoints MUST treat a request or response that contains undefined or
    # invalid pseudo-header fields as malformed (Section 8.1.1)."
    row("h2.malformed.unknown-pseudo", "An undefined pseudo-header field (:foo)", "RFC 9113 §8.3", "MUST",
        h2_refuses(OK), bad_head(STATUS, (":foo", "bar"))),
    # RFC 9113 §8.3: "Pseudo-header fields defined for requests MUST NOT appear in responses".
    row("h2.malformed.request-pseudo", "A request pseudo-header field (:path) in a response", "RFC 9113 §8.3",
        "MUST", h2_refuses(OK), bad_head(STATUS, (":path", "/"))),
    # RFC 9113 §8.3.2: ":status ... MUST be included in all responses, including interim
    # responses; otherwise, the response is malformed (Section 8.1.1)."
    row("h2.malformed.missing-status", "A response without :status", "RFC 9113 §8.3.2", "MUST",
        h2_refuses(OK), bad_head(("content-type", "text/plain"))),
    row("h2.malformed.two-status", "Two :status fields (200, then 404)", "RFC 9113 §8.3.2", "MUST",
        h2_refuses(OK), bad_head(STATUS, (":status", "404"))),
    row("h2.malformed.status-text", ":status: abc", "RFC 9113 §8.3.2; RFC 9110 §15", "MUST",
        h2_refuses(OK), bad_head((":status", "abc"))),
    row("h2.malformed.status-2-digits", ":status: 20", "RFC 9113 §8.3.2; RFC 9110 §15", "MUST",
        h2_refuses(OK), bad_head((":status", "20"))),
    # RFC 9113 §8.1.1: "A request or response is also malformed if the value of a content-length
    # header field does not equal the sum of the DATA frame payload lengths that form the content".
    row("h2.malformed.content-length-short", "content-length: 10 but 2 octets of DATA, END_STREAM",
        "RFC 9113 §8.1.1", "MUST", h2_refuses(OK + b"\0" * 8),
        bad_head(STATUS, ("content-length", "10"))),
    row("h2.malformed.content-length-long", "content-length: 1 but 2 octets of DATA", "RFC 9113 §8.1.1", "MUST",
        h2_refuses(b"o"), bad_head(STATUS, ("content-length", "1"))),
    row("h2.malformed.value-crlf", "A field value holding CR LF", "RFC 9113 §8.2.1", "MUST",
        h2_refuses(OK), bad_head(STATUS, ("x-bad", "a\r\nx-injected: 1"))),
    # RFC 9113 §5.1 (closed): "An endpoint MUST NOT send frames other than PRIORITY on a closed
    # stream." The extra DATA must not become part of the body the caller got.
    row("h2.data-after-end-stream", "DATA on the stream after its END_STREAM: not added to the body",
        "RFC 9113 §5.1", "MUST", h2_tolerates(OK),
        H2Reply(body=OK, after=(Wire(lambda s: w.data(s, b"EXTRA", end=True)),))),
    row("h2.headers-on-closed-stream", "HEADERS on the stream after its END_STREAM: the first response stands",
        "RFC 9113 §5.1", "MUST", h2_tolerates(OK),
        H2Reply(body=OK, after=(Wire(lambda s: w.headers(s, w.block(((":status", "500"),)), end_stream=True)),))),
]


# -- stream and connection errors ---------------------------------------------------


ANSWER = H2Reply(body=OK)


def once_then(first_answer: H2Response, then: H2Response = ANSWER) -> H2Script:
    """The cell's first request gets ``first_answer``, every later one ``then`` (a retry)."""
    return H2Script(dynamic=lambda capture, sub, seen: first_answer if seen == 1 else then)


def retry_info(obs: Observation) -> Result:
    return ok(f"{retried(obs)}; {info_outcome(obs)}")


def new_connection_after_goaway(obs: Observation) -> Result:
    """RFC 9113 §6.8: GOAWAY "allows an endpoint to gracefully stop accepting new streams while
    still finishing processing of previously established streams", and "Receivers of a GOAWAY
    frame MUST NOT open additional streams on the connection, although a new connection can be
    established for new streams." The GOAWAY names this stream as the last one and comes
    *before* the answer's last DATA frame: the answer completes, and a client that read it has
    read the GOAWAY too. The connection stays open, so only what the client made of the
    GOAWAY decides where its next request goes."""
    if over_h2(obs) is not None:
        return bad(f"{over_h2(obs)}; {outcome(obs)}")
    if len(obs.sent) < 2:
        if obs.error is not None:
            return bad(f"the answer the GOAWAY let finish was dropped: {outcome(obs)}")
        return bad(f"second request never arrived; {outcome(obs)}")
    first_conn = obs.sent[0].connection
    reused = [c for c in obs.sent[1:] if c.connection == first_conn]
    words = "a stream opened on the GOAWAY'd connection" if reused else "second request on a new connection"
    return Result(not reused and status_seen(obs) == 200, f"{words}; {info_outcome(obs)}")


def frame_too_large(capture: object, sub: str, seen: int) -> H2Response:
    """A DATA frame one octet over the client's SETTINGS_MAX_FRAME_SIZE (16384 unless it said more)."""
    limit = w.DEFAULT_MAX_FRAME
    h2 = getattr(capture, "h2", None)
    if h2 is not None:
        limit = int(h2.settings().get("MAX_FRAME_SIZE", limit))
    size = min(limit + 1, 1 << 24)
    return H2Raw((Head(200, (("content-length", str(size)),)),
                  Wire(lambda s: w.data(s, b"x" * size, end=True))))


def push_refused(obs: Observation) -> Result:
    """Refused, when the client's SETTINGS said ENABLE_PUSH 0; a client that left push on
    (the default is 1) may accept the promise and still deliver the answer."""
    c = first(obs)
    push = c.h2.settings().get("ENABLE_PUSH", 1) if c is not None and c.h2 is not None else 1
    if push == 0:
        result = h2_refuses(OK)(obs)
        return Result(result.ok, f"push disabled; {result.summary}")
    result = h2_tolerates(OK)(obs)
    return Result(result.ok, f"push left enabled; {result.summary}")


def multiplexed(obs: Observation) -> Result:
    c = first(obs)
    if c is None or c.h2 is None:
        return ok(f"no HTTP/2; {outcome(obs)}")
    conns = len({x.connection for x in obs.sent})
    together = c.h2.most_open
    return ok(f"{len(obs.sent)} requests on {conns} connection{'s' if conns > 1 else ''}"
              + (", overlapping on one" if conns == 1 and together > 1 else "") + f"; {outcome(obs)}")


def within_limit(obs: Observation) -> Result:
    """RFC 9113 §5.1.2: "Endpoints MUST NOT exceed the limit set by their peer." Two requests at
    once after the server lowered MAX_CONCURRENT_STREAMS to 1: both must complete."""
    if over_h2(obs) is not None:
        return bad(f"{over_h2(obs)}; {outcome(obs)}")
    problems = {c.h2.problem for c in obs.sent if c.h2 is not None and c.h2.problem}
    statuses = [obs.got.status] if obs.got is not None else []
    if obs.got is not None:
        statuses += [e.get("status") for e in obs.got.extra.get("earlier", [])]
    most = max((c.h2.most_open for c in obs.sent if c.h2 is not None), default=0)
    good = obs.error is None and len(obs.sent) >= 3 and not problems and statuses.count(200) == 3 and most <= 1
    return Result(good, f"at most {most} request(s) at once per connection; {info_outcome(obs)}" +
                  (f"; server saw {', '.join(p.split(':')[0] for p in problems)}" if problems else ""))


WARM_THEN_TWO = Call("GET", trust="ca", then=(Call("GET", trust="ca", concurrent=2),))
ONE_STREAM = ((w.SETTING_IDS["MAX_CONCURRENT_STREAMS"], 1),)
OPAQUE = b"cm-ping!"

ERRORS_ = [
    # RFC 9113 §8.7: "The REFUSED_STREAM error code can be included in a RST_STREAM frame to
    # indicate that the stream is being closed prior to any processing having occurred. Any
    # request that was sent on the reset stream can be safely retried."
    row("h2.rst.refused-stream", "RST_STREAM REFUSED_STREAM before any answer: retried?", "RFC 9113 §8.7",
        "INFO", retry_info, once_then(H2Raw((Reset(w.ERROR_CODES["REFUSED_STREAM"]),))), deadline=HANG),
    # RFC 9113 §6.4: "The RST_STREAM frame ... allows for immediate termination of a stream."
    # A body cut by RST_STREAM CANCEL is not a complete response.
    row("h2.rst.cancel-mid-body", "RST_STREAM CANCEL after half the body: not delivered as complete",
        "RFC 9113 §6.4; RFC 9113 §8.1", "MUST", h2_refuses(BODY),
        H2Raw((Head(200, (("content-length", str(len(BODY))),)), Wire(lambda s: w.data(s, BODY[:5])),
               Reset(w.ERROR_CODES["CANCEL"]))), deadline=HANG),
    row("h2.rst.internal-error", "RST_STREAM INTERNAL_ERROR before the response: an error", "RFC 9113 §6.4",
        "MUST", h2_refuses(), H2Raw((Reset(w.ERROR_CODES["INTERNAL_ERROR"]),)), deadline=HANG),
    # RFC 9113 §8.7: "The GOAWAY frame indicates the highest stream number that might have been
    # processed. Requests on streams with higher numbers are therefore guaranteed to be safe to retry."
    row("h2.goaway.unprocessed", "GOAWAY with last-stream-id 0 while the request waits: retried on a new "
        "connection?", "RFC 9113 §8.7; RFC 9113 §6.8", "INFO", retry_info,
        once_then(H2Raw((GoAway(w.ERROR_CODES["NO_ERROR"], last_stream=0),))), deadline=HANG),
    row("h2.goaway.protocol-error", "GOAWAY PROTOCOL_ERROR naming the request's stream, no answer: an error",
        "RFC 9113 §6.8", "MUST", h2_refuses(), H2Raw((GoAway(w.ERROR_CODES["PROTOCOL_ERROR"]),)), deadline=HANG),
    row("h2.goaway.before-end", "GOAWAY (last stream: this one) before the answer's last DATA frame: the "
        "answer completes, the next request opens a new connection", "RFC 9113 §6.8", "SHOULD",
        new_connection_after_goaway,
        H2Raw((Head(200, (("content-length", "2"),)), Wire(lambda s: w.goaway(s, w.ERROR_CODES["NO_ERROR"])),
               Wire(lambda s: w.data(s, OK, end=True)))),
        Call("GET", trust="ca", then=(Call("GET", trust="ca"),)), deadline=HANG),
    row("h2.max-concurrent-1", "MAX_CONCURRENT_STREAMS 1, then two requests at once: both answered, one at a time",
        "RFC 9113 §5.1.2", "MUST", within_limit,
        H2Script(default=H2Reply(body=OK, before=(Sleep(0.02),)), settings=ONE_STREAM), WARM_THEN_TWO),
    # RFC 9113 §6.7: "Receivers of a PING frame that does not include an ACK flag MUST send a PING
    # frame with the ACK flag set in response, with an identical frame payload."
    row("h2.ping", "A PING from the server: acknowledged with the same payload", "RFC 9113 §6.7", "MUST",
        acks("PING", OPAQUE.hex()), H2Reply(body=OK, before=(Ping(OPAQUE), Await(w.PING, w.ACK)))),
    # RFC 9113 §6.9: "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a
    # flow-control window increment of 0 as a stream error (Section 5.4.2) of type PROTOCOL_ERROR;
    # errors on the connection flow-control window MUST be treated as a connection error".
    row("h2.window-update.zero-stream", "WINDOW_UPDATE of 0 on the stream before the answer: an error",
        "RFC 9113 §6.9", "MUST", h2_refuses(OK),
        H2Reply(body=OK, before=(Wire(lambda s: w.window_update(s, 0)),))),
    row("h2.window-update.zero-connection", "WINDOW_UPDATE of 0 on stream 0 before the answer: an error",
        "RFC 9113 §6.9", "MUST", h2_refuses(OK),
        H2Reply(body=OK, before=(Wire(w.window_update(0, 0)),))),
    # RFC 9113 §6.9.1: "If a sender receives a WINDOW_UPDATE that causes a flow-control window to
    # exceed this maximum, it MUST terminate either the stream or the connection, as appropriate."
    row("h2.window-update.overflow", "WINDOW_UPDATE taking the connection window past 2^31-1: an error",
        "RFC 9113 §6.9.1", "MUST", h2_refuses(OK),
        H2Reply(body=OK, before=(Wire(w.window_update(0, w.MAX_WINDOW)),))),
    # RFC 9113 §6.5.2: "An endpoint that has both set this parameter to 0 and had it acknowledged
    # MUST treat the receipt of a PUSH_PROMISE frame as a connection error (Section 5.4.1) of type
    # PROTOCOL_ERROR." (A client that left push on may accept it.)
    row("h2.push-promise", "PUSH_PROMISE from the server (the client disabled push): an error",
        "RFC 9113 §6.5.2; RFC 9113 §8.4", "MUST", push_refused,
        H2Reply(body=OK, before=(Wire(lambda s: w.frame(w.PUSH_PROMISE, w.END_HEADERS, s, struct.pack("!I", 2) + w.block(
            ((":method", "GET"), (":scheme", "https"), (":authority", "127.0.0.1"), (":path", "/pushed"))))),))),
    # RFC 9113 §5.5: "Implementations MUST discard frames that have unknown or unsupported types."
    row("h2.unknown-frame", "Frames of an unknown type (0xfa) on stream 0 and on the stream: ignored",
        "RFC 9113 §5.5", "MUST", h2_delivers(OK),
        H2Reply(body=OK, before=(Wire(w.frame(0xFA, 0, 0, b"ext")), Wire(lambda s: w.frame(0xFA, 0xFF, s, b"x" * 40))))),
    # RFC 9113 §6.5.2: "An endpoint that receives a SETTINGS frame with any unknown or unsupported
    # identifier MUST ignore that setting."
    row("h2.unknown-setting", "A SETTINGS frame with an unknown identifier (0x4a4a): ignored", "RFC 9113 §6.5.2",
        "MUST", h2_delivers(OK), H2Reply(body=OK, before=(Wire(w.settings(((0x4A4A, 7),))),))),
    # RFC 9113 §4.2: "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds the
    # size defined in SETTINGS_MAX_FRAME_SIZE".
    row("h2.frame-too-large", "A DATA frame one octet over the client's SETTINGS_MAX_FRAME_SIZE: an error",
        "RFC 9113 §4.2", "MUST", h2_refuses(), H2Script(dynamic=frame_too_large)),
    # RFC 9113 §6.5.2: "A client MUST treat receipt of a SETTINGS frame with SETTINGS_ENABLE_PUSH
    # set to 1 as a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
    row("h2.settings.enable-push-1", "The server sends SETTINGS_ENABLE_PUSH 1: an error", "RFC 9113 §6.5.2",
        "MUST", h2_refuses(OK), H2Reply(body=OK, before=(Wire(w.settings(((2, 1),))),))),
    # RFC 9113 §6.5.2: "Values above the maximum flow-control window size of 2^31-1 MUST be treated
    # as a connection error (Section 5.4.1) of type FLOW_CONTROL_ERROR."
    row("h2.settings.window-too-large", "SETTINGS_INITIAL_WINDOW_SIZE 2^31: an error", "RFC 9113 §6.5.2", "MUST",
        h2_refuses(OK), H2Reply(body=OK, before=(Wire(w.settings(((4, 2**31),))),))),
    # RFC 9113 §6.5.2: MAX_FRAME_SIZE "Values outside this range MUST be treated as a connection
    # error (Section 5.4.1) of type PROTOCOL_ERROR."
    row("h2.settings.frame-size-too-small", "SETTINGS_MAX_FRAME_SIZE 1000 (below 16384): an error",
        "RFC 9113 §6.5.2", "MUST", h2_refuses(OK),
        H2Reply(body=OK, before=(Wire(w.settings(((5, 1000),))),))),
    row("h2.settings.bad-length", "A SETTINGS frame whose length is not a multiple of 6: an error",
        "RFC 9113 §6.5", "MUST", h2_refuses(OK),
        H2Reply(body=OK, before=(Wire(w.frame(w.SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00")),))),
    # RFC 9113 §6.1: "If a DATA frame is received whose Stream Identifier field is 0x00, the
    # recipient MUST respond with a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
    row("h2.data-on-stream-0", "DATA on stream 0: an error", "RFC 9113 §6.1", "MUST", h2_refuses(OK),
        H2Reply(body=OK, before=(Wire(w.data(0, b"zero")),))),
    row("h2.ping-on-stream", "A PING on a non-zero stream: an error", "RFC 9113 §6.7", "MUST",
        h2_refuses(OK), H2Reply(body=OK, before=(Wire(lambda s: w.frame(w.PING, 0, s, b"12345678")),))),
    # RFC 9113 §6.10: CONTINUATION split of a valid field block.
    row("h2.continuation", "A valid field block split over HEADERS and two CONTINUATION frames", "RFC 9113 §6.10",
        "MUST", h2_delivers(OK), H2Raw((
            Wire(lambda s: w.headers(s, w.block((STATUS,)), end_headers=False)),
            Wire(lambda s: w.continuation(s, w.block((("x-a", "1"),)))),
            Wire(lambda s: w.continuation(s, w.block((("content-length", "2"),)), end_headers=True)),
            Wire(lambda s: w.data(s, OK, end=True))))),
    # RFC 9113 §6.2: "A HEADERS frame without the END_HEADERS flag set MUST be followed by a
    # CONTINUATION frame for the same stream. A receiver MUST treat the receipt of any other type of
    # frame or a frame on a different stream as a connection error (Section 5.4.1) of type PROTOCOL_ERROR."
    row("h2.continuation-interrupted", "HEADERS without END_HEADERS, then DATA: an error", "RFC 9113 §6.2", "MUST",
        h2_refuses(OK), H2Raw((
            Wire(lambda s: w.headers(s, w.block((STATUS,)), end_headers=False)),
            Wire(lambda s: w.data(s, OK, end=True))))),
    # RFC 9113 §4.3: "A decoding error in a field block MUST be treated as a connection error
    # (Section 5.4.1) of type COMPRESSION_ERROR." RFC 7541 §2.3.3: "Indices strictly greater than
    # the sum of the lengths of both tables MUST be treated as a decoding error."
    row("h2.hpack.bad-index", "A field block naming HPACK index 200 (no such entry): an error",
        "RFC 7541 §2.3.3; RFC 9113 §4.3", "MUST", h2_refuses(OK),
        H2Raw((Wire(lambda s: w.headers(s, w.indexed(8) + w.indexed(200))), Wire(lambda s: w.data(s, OK, end=True))))),
]


# -- limits and security ----------------------------------------------------------


FLOOD_FIELD = w.literal("x-flood", "y" * 4000)
FLOOD_BLOCK = FLOOD_FIELD * 4  # 16 KiB of field lines per CONTINUATION


def flood_then_answer(*steps: object) -> H2Raw:
    return H2Raw(tuple(steps))  # type: ignore[arg-type]


def bounded(obs: Observation) -> Result:
    """RFC 9113 §10.5: a peer's flood "can be abused"; "Implementations SHOULD track the use of
    these features and set limits on their use." After our bound the answer is completed, so a
    client without a limit gets a 200 with megabytes of fields: that is what fails."""
    if over_h2(obs) is not None:
        return bad(f"{over_h2(obs)}; {outcome(obs)}")
    if obs.got is not None and obs.error is None:
        n = len(obs.got.headers)
        return bad(f"accepted: {outcome(obs)} with {'thousands of' if n > 1000 else 'the'} fields")
    return ok(f"refused: {outcome(obs)}")


def survives(obs: Observation) -> Result:
    """The flood is bounded (``FLOODED`` frames), then a normal answer: the client must still get it."""
    if over_h2(obs) is not None:
        return bad(f"{over_h2(obs)}; {outcome(obs)}")
    return Result(status_seen(obs) == 200 and obs.got is not None and obs.got.body == OK,
                  f"{outcome(obs)}" + (", body intact" if obs.got is not None and obs.got.body == OK else ""))


FLOODED = 200
#: RFC 7541 §4.2: one large entry inserted in the dynamic table (4 KiB), then the same index
#: repeated, so a 3 KB field block decodes to megabytes (an "HPACK bomb").
BOMB_ENTRY = w.literal("x-bomb", "z" * 4000, indexed=True)

SECURITY = [
    # CVE-2024-27316 family: CONTINUATION frames without END_HEADERS, ~8 MiB in 1 s at most.
    row("h2.continuation-flood", "Endless CONTINUATION frames (bounded by us at 8 MiB / 1 s, then END_HEADERS)",
        "RFC 9113 §10.5; CVE-2024-27316", "SHOULD", bounded,
        flood_then_answer(Wire(lambda s: w.headers(s, w.block((STATUS,)), end_headers=False)),
                          Flood(lambda s: w.continuation(s, FLOOD_BLOCK), count=512),
                          Wire(lambda s: w.continuation(s, b"", end_headers=True)),
                          Wire(lambda s: w.data(s, OK, end=True))), security=True),
    row("h2.huge-field-list", "A 256 KiB field block (64 fields of 4 KB, over 16 CONTINUATION frames)",
        "RFC 9113 §10.5.1", "SHOULD", bounded,
        flood_then_answer(Wire(lambda s: w.headers(s, w.block((STATUS,)), end_headers=False)),
                          Flood(lambda s: w.continuation(s, FLOOD_BLOCK), count=16),
                          Wire(lambda s: w.continuation(s, b"", end_headers=True)),
                          Wire(lambda s: w.data(s, OK, end=True))), security=True),
    # RFC 7541 §7.3 (memory consumption) and RFC 9113 §10.5.1: a small block that decodes to a
    # huge field list.
    row("h2.hpack-bomb", "HPACK bomb: a 4 KB table entry referenced 2,000 times (8 MB decoded from 6 KB)",
        "RFC 7541 §7.3; RFC 9113 §10.5.1", "SHOULD", bounded,
        H2Raw((Wire(lambda s: w.headers(s, w.block((STATUS,)) + BOMB_ENTRY + w.indexed(62) * 2000)),
               Wire(lambda s: w.data(s, OK, end=True)))), security=True),
    # RFC 7541 §6.3: "The new maximum size MUST be lower than or equal to the limit determined by
    # the protocol using HPACK. A value that exceeds this limit MUST be treated as a decoding error."
    row("h2.hpack-table-size-over", "A dynamic table size update to 1 MiB, above the client's "
        "SETTINGS_HEADER_TABLE_SIZE: an error", "RFC 7541 §6.3; RFC 9113 §4.3", "MUST", h2_refuses(OK),
        H2Raw((Wire(lambda s: w.headers(s, w.table_size(1 << 20) + w.block((STATUS,)))),
               Wire(lambda s: w.data(s, OK, end=True)))), security=True),
    row("h2.settings-flood", f"{FLOODED} SETTINGS frames before the answer: the answer still arrives",
        "RFC 9113 §10.5", "SHOULD", survives,
        H2Reply(body=OK, before=(Flood(lambda s: w.settings(), count=FLOODED),)), security=True),
    row("h2.ping-flood", f"{FLOODED} PINGs before the answer: the answer still arrives", "RFC 9113 §10.5",
        "SHOULD", survives, H2Reply(body=OK, before=(Flood(lambda s: w.ping(b"flood!!!"), count=FLOODED),)),
        security=True),
    row("h2.empty-data-flood", f"{FLOODED} empty DATA frames before the body: the body still arrives",
        "RFC 9113 §10.5", "SHOULD", survives,
        H2Raw((Head(200, (("content-length", "2"),)), Flood(lambda s: w.data(s, b""), count=FLOODED),
               Wire(lambda s: w.data(s, OK, end=True)))), security=True),
    row("h2.priority-flood", f"{FLOODED} PRIORITY frames before the answer: the answer still arrives",
        "RFC 9113 §10.5", "SHOULD", survives,
        H2Reply(body=OK, before=(Flood(lambda s: w.frame(w.PRIORITY, 0, s, b"\0\0\0\0\x10"), count=FLOODED),)),
        security=True),
]


# -- connection use ---------------------------------------------------------------

CONNECTION_USE = [
    row("h2.multiplex", "Two requests at once from one client: one connection, multiplexed?", "RFC 9113 §5",
        "INFO", multiplexed, H2Reply(body=OK, before=(Sleep(0.02),)), Call("GET", trust="ca", concurrent=2)),
    row("h2.reuse", "Two requests one after the other: the same connection?", "RFC 9113 §9.1", "INFO",
        lambda obs: ok(f"{'same' if len({c.connection for c in obs.sent}) == 1 else 'new'} connection for the "
                       f"second; {info_outcome(obs)}"),
        H2Reply(body=OK), Call("GET", trust="ca", then=(Call("GET", trust="ca"),))),
]

# -- wrong answers (the guard, tests/test_wrong.py: every graded row must fail each of its own) --

#: Rows whose right answer is an error: accepting the response is wrong.
REFUSE = [s.id for s in (*MALFORMED, *ERRORS_, *SECURITY) if s.level != "INFO" and "an error" in s.title] + [
    *(s.id for s in MALFORMED if s.id.startswith("h2.malformed.")), "h2.rst.cancel-mid-body",
    "h2.continuation-flood", "h2.huge-field-list", "h2.hpack-bomb", "h2.hpack-table-size-over"]
#: Rows whose right answer is this exact body: an error, or the same over HTTP/1.1, is wrong.
DELIVER = {"h2.status.103": OK, "h2.status.100-twice": OK, "h2.status.204": b"", "h2.status.304": b"",
           "h2.status.299": OK, "h2.status.599": OK, "h2.status.404": OK, "h2.encoding.gzip": BODY,
           "h2.encoding.deflate": BODY, "h2.trailers": BODY, "h2.data-frames": BODY, "h2.data-padded": BODY,
           "h2.download.4mib": BIG, "h2.unknown-frame": OK, "h2.unknown-setting": OK, "h2.continuation": OK,
           "h2.settings-flood": OK, "h2.ping-flood": OK, "h2.empty-data-flood": OK, "h2.priority-flood": OK}
TWO = (h2_request(), h2_request())


def push(settings: dict[str, int]) -> tuple[H2Frame, ...]:
    return (H2Frame("SETTINGS", (), 0, 36, {"settings": settings}),)


WRONG: dict[str, tuple[Observation, ...]] = {
    **{rid: (h2_answer(200, OK),) for rid in REFUSE},
    **{rid: (h2_raised(), h1_answer(body)) for rid, body in DELIVER.items()},
    "h2.alpn": (h2_answer(200, OK, sent=(h2_request(tls={"alpn_offered": ["http/1.1"], "alpn": "http/1.1"}),)),
                h1_answer()),
    "h2.alpn-http11-fallback": (h2_raised("connection-reset", sent=()), h2_answer(200, b"over HTTP/1.1")),
    "h2.prior-knowledge": (h1_answer(), h2_raised()),
    "h2.preface": (h2_answer(sent=(h2_request(preface="b'GET / HTTP/1.1'"),)),
                   h2_answer(sent=(h2_request(frames=(H2Frame("WINDOW_UPDATE", (), 0, 4, {"increment": 1}),)),))),
    "h2.settings-ack": (h2_answer(200, OK),),
    "h2.ping": (h2_answer(200, OK, sent=(h2_request(frames=(H2Frame("PING", ("ACK",), 0, 8, {"opaque": "00"}),)),)),),
    "h2.pseudo-headers": (h2_answer(sent=(h2_request(headers=(("accept", "*/*"), *MADE_FIELDS)),)),),
    "h2.authority": (h2_answer(sent=(h2_request(headers=((":method", "GET"), (":path", "/"))),)),
                     h2_answer(sent=(h2_request(headers=((":authority", "a:1"), ("host", "b:2"))),))),
    "h2.lowercase-names": (h2_answer(sent=(h2_request(headers=(*MADE_FIELDS, ("X-Mixed-Case", "1"))),)),),
    "h2.no-connection-fields": (h2_answer(sent=(h2_request(headers=(*MADE_FIELDS, ("connection", "keep-alive"))),)),),
    **{f"h2.method.{m.lower()}": (h2_answer(200, OK, sent=(h2_request("PUT" if m != "PUT" else "GET", body=body or b""),)),
                                  h2_answer(200, OK, sent=(h2_request(m, body=body or b"", ended="RST_STREAM CANCEL"),)))
       for m, body in METHODS},
    "h2.redirect.302": (h2_answer(302, b"moved"),),
    "h2.redirect.307-post": (h2_answer(200, OK, sent=(h2_request("POST", body=b"x=1"), h2_request())),),
    "h2.redirect.cross-origin-authorization": (h2_answer(200, OK, sent=(
        h2_request(headers=(*MADE_FIELDS, ("authorization", "x"))),
        h2_request(headers=(*MADE_FIELDS, ("authorization", "x")), server="127.0.0.1:8001"))),),
    "h2.set-cookie-twice": (h2_answer(200, OK, headers=(("set-cookie", "b=2"),)),),
    "h2.duplicate-fields": (h2_answer(200, OK, headers=(("x-dup", "b=2"),)),),
    "h2.upload.small-window": (h2_raised("flow-control", sent=(h2_request("POST", body=b"x" * 100),)),
                               h2_answer(200, OK, sent=(h2_request("POST", body=UPLOAD, problem="FlowControlError"),))),
    "h2.data-after-end-stream": (h2_answer(200, OK + b"EXTRA"),),
    "h2.headers-on-closed-stream": (h2_answer(500, OK),),
    "h2.goaway.before-end": (h2_answer(200, OK, sent=TWO), h2_raised("goaway")),
    "h2.max-concurrent-1": (h2_answer(200, OK, sent=(*TWO, h2_request(problem="TooManyStreamsError"))),
                            h2_raised("stream-reset")),
    "h2.push-promise": (h2_answer(200, OK), h2_answer(200, b"", sent=(h2_request(frames=push({"ENABLE_PUSH": 1})),))),
}

SCENARIOS = [replace(s, wrong=WRONG[s.id]) if s.id in WRONG else s
             for s in (*NEGOTIATION, *SEMANTICS, *MALFORMED, *ERRORS_, *SECURITY, *CONNECTION_USE)]



def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
