"""The cell model: what one scenario run with one client records.

A *cell* has two sides (see ``docs/DESIGN.md``):

    sent  what the client put on the wire, as the fixture server captured it
          (``Capture``, one per request on the exchange, in order);
    got   what the library surfaced to its caller: the response it returned
          (``Got``) or the exception it raised (``Failure``), or both where the
          library raises *with* a response (urllib's ``HTTPError``).

The module holds plain data only: no I/O, no pytest. Everything that is written
to ``reports/matrix.json`` passes through ``to_json`` here, so the schema lives
in one place.

    Verdict   pass | fail | warn | info | unsupported | timeout | error
    Level     MUST | SHOULD | INFO
    ErrorKind one word of the shared vocabulary (ERROR_KINDS)
"""

from __future__ import annotations

import hashlib
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from typing import Any, Literal

SCHEMA_VERSION = 1

Level = Literal["MUST", "SHOULD", "INFO"]
Verdict = Literal["pass", "fail", "warn", "info", "unsupported", "timeout", "error"]

VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "warn", "info", "unsupported", "timeout", "error")
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD", "INFO")

#: The shared error vocabulary: what a raised exception *means*, whatever its class.
ERROR_KINDS: tuple[str, ...] = (
    "connect-refused",
    "connect-timeout",
    "read-timeout",
    "tls-untrusted",
    "tls-hostname",
    "tls-expired",
    "tls-other",
    "too-many-redirects",
    "http-status",
    "incomplete-body",
    "invalid-chunk",
    "invalid-status-line",
    "invalid-header",
    "invalid-framing",
    "decode-error",
    "body-too-large",
    "header-too-large",
    "connection-reset",
    "protocol-error",
    "ws-handshake",
    "ws-closed",
    "ws-too-big",
    # HTTP/2 (RFC 9113): the peer reset the stream (RST_STREAM), ended the connection with a
    # GOAWAY, broke flow control (§6.9), or sent a field block HPACK cannot decode (§4.3).
    "stream-reset",
    "goaway",
    "flow-control",
    "hpack-error",
    # The library cannot do what the exchange needs and says so (a digest algorithm it does
    # not implement, a body it cannot send again on a redirect); a proxy refused or failed.
    "unsupported-feature",
    "proxy-error",
    "invalid-request",
    "other",
)

Headers = tuple[tuple[str, str], ...]
#: What a TLS server saw of a connection (``Capture.tls``): SNI, offered ALPN and versions ...
TLSSeen = dict[str, Any]

#: How much of a body a report keeps as text.
EXCERPT = 200


def excerpt(body: bytes, limit: int = EXCERPT) -> str:
    """The first ``limit`` bytes of a body as readable text (bytes kept visible)."""
    return body[:limit].decode("utf-8", "backslashreplace")


def printable(text: str) -> str:
    """Text any JSON writer can encode: octets a library kept as surrogate escapes shown as ``\\xNN``."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def wire_text(text: str) -> str:
    """A latin-1 wire string for a report: non-ASCII bytes shown as ``\\xNN``."""
    return text.encode("latin-1", "replace").decode("ascii", "backslashreplace")


@dataclass(frozen=True)
class Call:
    """What the caller asks the library for, in library-neutral words.

    ``url`` is filled by the runner; a scenario declares the rest. ``params`` is
    handed to the library's own query-parameter API; ``stream`` hands the body over
    as a generator of pieces instead of bytes; ``follow_redirects`` and ``timeout``
    are ``None`` for "the library's default" and are recorded in the cell otherwise
    (``trust_env`` too).
    """

    method: str = "GET"
    path: str = "/"
    url: str = ""
    headers: Headers = ()
    body: bytes | None = None
    stream: bool = False
    params: Any = None
    follow_redirects: bool | None = None
    timeout: float | None = None
    #: TLS trust: ``default`` (the library's own store), ``ca`` (trust the run's
    #: trustme CA the way the library documents), ``off`` (verification disabled).
    trust: str = "default"
    #: A client certificate to present, as (certificate file, key file); a scenario names
    #: ``("{client_cert}", "{client_key}")`` and the runner fills in the run's files.
    client_cert: tuple[str, str] | None = None
    #: Follow-up calls made with the same client (session, cookie store, pool), in order;
    #: the cell's ``got`` is the last response, earlier ones are in ``got.extra["earlier"]``.
    then: tuple[Call, ...] = ()
    #: The fixture server this call goes to, when not the scenario's own (``http``, ``https``, ...).
    origin: str | None = None
    #: A WebSocket exchange (rows of protocol ``ws``): what the client does after the handshake.
    ws: WsCall | None = None
    #: Ask for a client-level cookie store: the library's own (a session's jar), or its
    #: documented opt-in (urllib's HTTPCookieProcessor, recorded); none: ``Unsupported``.
    cookie_store: bool = False
    #: Read proxy settings from the environment (``trust_env``); None: the library's default.
    trust_env: bool | None = None
    #: Also read the body through the library's text accessor (``Got.text``), where it has one.
    text: bool = False
    #: Field names also read through the library's one-value header accessor
    #: (``r.headers[name]``, ``getheader``): ``got.extra["lookup"]``.
    lookup: tuple[str, ...] = ()
    #: Read the body through the library's streaming API in pieces, counting and
    #: discarding them, and stop after this many bytes (``got.extra["read"]``; the body is
    #: not kept). For bodies that must never be held whole (a decompression bomb).
    read_cap: int | None = None
    #: Also report the library's default timeouts, read from the client the call used
    #: through its public API (``got.extra["timeouts"]``).
    report_timeouts: bool = False
    #: HTTP/2 over cleartext with prior knowledge (RFC 9113 §3.3), the way the library
    #: documents it; a library that negotiates HTTP/2 only by ALPN raises ``Unsupported``.
    prior_knowledge: bool = False
    #: Make this many identical requests at once with one client (threads for a sync
    #: library, tasks for an async one); ``got`` is the last, the others in ``got.extra``.
    concurrent: int = 1
    #: Also record how many redirects the library follows by default before it gives up,
    #: read through its public API (``options["redirect_limit"]``: options survive an exception).
    report_redirect_limit: bool = False
    #: Run the call in a fresh interpreter started with the cell's environment (``fixtures.fresh``):
    #: for what a library reads once, at import or start-up (CA variables).
    fresh: bool = False
    #: Record which optional decoder packages are installed (``options["decoders"]``): they
    #: change what several libraries offer in Accept-Encoding and can decode (br, zstd).
    report_decoders: bool = False
    #: Record the warnings the library emits during the call (``got.extra["warnings"]``).
    #: Only where a row asks: the warnings module is process-wide state.
    record_warnings: bool = False

    # -- Fields an adapter must declare it translates (``Adapter.translates``, see OPT_IN):
    # left at their default they are "not used"; an adapter that does not declare one
    # refuses a call that uses it ("this adapter does not translate <field>").

    #: A JSON body through the library's own JSON API (``json=``); None: not used.
    json: Any = None
    #: Form fields through the library's form API (``data=dict``), encoded by the library.
    form: tuple[tuple[str, str], ...] | None = None
    #: A multipart/form-data upload through the library's multipart API (``files=``, FormData).
    files: tuple[Part, ...] = ()
    #: Hand ``body`` over as a file object (``io.BytesIO``) instead of bytes.
    file_body: bool = False
    #: Credentials through the library's auth API (user, password); Basic unless ``digest``.
    auth: tuple[str, str] | None = None
    digest: bool = False
    #: An explicit proxy URL through the library's proxy API (may name ``{origin:proxy}``).
    proxy: str | None = None
    #: Fields whose values are not strings (an int, bytes, None), handed to the library as given.
    header_values: tuple[tuple[str, Any], ...] = ()
    #: Read the body through the library's line iterator (``iter_lines``, ``readline``):
    #: ``got.extra["lines"]``.
    lines: bool = False
    #: Ask for ``Expect: 100-continue`` through the library's own option (aiohttp ``expect100``).
    expect_continue: bool = False

    # -- URL pieces the runner writes into ``url`` (every adapter gets a plain URL string):
    #: The host name written in the URL instead of the origin's (``straße.example``); such a
    #: name is reached through ``proxy`` (no DNS: the proxy fixture reads what was asked).
    host: str | None = None
    #: Userinfo written before the host (``user:pass``, escapes as given).
    userinfo: str | None = None

    def sequence(self) -> tuple[Call, ...]:
        return (self, *self.then)


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data upload (RFC 7578): a file when ``filename`` is set."""

    name: str
    content: bytes = b""
    filename: str | None = None
    content_type: str | None = None


#: ``Call`` fields an adapter must declare it translates (``Adapter.translates``); used
#: elsewhere, the base class refuses the call instead of letting the field be ignored.
OPT_IN: tuple[str, ...] = ("json", "form", "files", "file_body", "auth", "digest", "proxy", "header_values",
                           "lines", "expect_continue")


@cache
def default_of(cls: type, name: str) -> Any:
    """The default of dataclass ``cls``'s field ``name`` (``MISSING``: none; asked per cell,
    so looked up once)."""
    return next((f.default for f in fields(cls) if f.name == name), MISSING)


def uses(call: Call, name: str) -> bool:
    """Does the call set field ``name`` to anything but its default ("not used")?"""
    default = default_of(Call, name)
    value = getattr(call, name)
    if default is not MISSING:
        if isinstance(value, (list, tuple)) and not value and default == ():
            return False  # an empty list (a call that went through JSON) is "not used" too
        return bool(value != default)
    return True


@dataclass(frozen=True)
class WsCall:
    """What a WebSocket client does, in library-neutral words (RFC 6455).

    The exchange is always: open (the handshake, offering ``subprotocols``), send
    each message of ``send`` (``str``: a text message, ``bytes``: binary), read up
    to ``receive`` messages (fewer when the connection closes first), then close
    from the client's side with the library's normal close (1000 unless it says
    otherwise). ``compression`` and ``max_size`` are ``None`` for "the library's
    default"; ``compression=True`` asks for permessage-deflate (RFC 7692) the way the
    library documents it, and a library without it raises ``Unsupported``.
    """

    send: tuple[str | bytes, ...] = ()
    receive: int = 0
    subprotocols: tuple[str, ...] = ()
    compression: bool | None = None
    max_size: int | None = None
    #: Also report the library's keep-alive and timeout defaults, read from its public API
    #: (``got.extra["ws"]["defaults"]``); a library with no such settings is ``Unsupported``.
    report_defaults: bool = False


#: WebSocket opcodes by name (RFC 6455 §5.2); others are shown as ``op<hex>``.
OPCODES = {0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


@dataclass(frozen=True)
class Frame:
    """One WebSocket frame as the fixture server received it from the client.

    ``fin``, ``rsv``, ``masked`` and ``length_form`` are the frame's head as it was on
    the wire (RFC 6455 §5.2: RSV1 set on a compressed frame, the mask bit, the 7-, 16- or
    64-bit payload length form; 0 when unknown), ``wire_len`` the payload length on the
    wire. ``payload`` is the application data: after unmasking, and after the
    extension's decoding where the server decoded it (the echo server inflates
    permessage-deflate frames), so ``len(payload)`` may differ from ``wire_len``.
    ``close_code`` and ``close_reason`` are parsed from a Close frame's payload
    (``None`` when it has none). The payload itself is kept for checks (a Pong's
    application data) but only its length, hash and a short excerpt go to reports.
    """

    opcode: int
    fin: bool = True
    rsv: int = 0
    masked: bool = True
    payload: bytes = b""
    close_code: int | None = None
    close_reason: str = ""
    length_form: int = 0
    wire_len: int | None = None

    @property
    def name(self) -> str:
        return OPCODES.get(self.opcode, f"op{self.opcode:x}")

    @property
    def on_wire(self) -> int:
        """The payload length as sent (compressed, where an extension compressed it)."""
        return len(self.payload) if self.wire_len is None else self.wire_len

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"opcode": self.name, "fin": self.fin, "rsv": self.rsv, "masked": self.masked,
                               "len": len(self.payload),
                               "sha256": hashlib.sha256(self.payload).hexdigest()}
        if self.length_form:
            out["length_form"] = self.length_form
        if self.wire_len is not None and self.wire_len != len(self.payload):
            out["wire_len"] = self.wire_len
        if self.opcode == 8:
            out.update(close_code=self.close_code, close_reason=self.close_reason)
        elif self.opcode >= 8:
            out["excerpt"] = excerpt(self.payload, 40)
        return out


@dataclass(frozen=True)
class H2Frame:
    """One HTTP/2 frame as the fixture server received it from the client (RFC 9113 §4.1).

    ``detail`` holds what the frame says besides its header (model.h2wire.describe):
    SETTINGS values by name, a WINDOW_UPDATE increment, RST_STREAM and GOAWAY codes.
    """

    type: str
    flags: tuple[str, ...]
    stream: int
    length: int
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "flags": list(self.flags), "stream": self.stream, "length": self.length,
                **self.detail}


@dataclass(frozen=True)
class H2Seen:
    """What the h2 server saw of a request's connection and stream (``Capture.h2``).

    ``frames`` is every frame the client sent on the connection, in order (the first
    ``servers.h2.MAX_FRAMES``; ``dropped`` counts the rest), so a request's capture
    shows its connection's preface, SETTINGS and WINDOW_UPDATEs too.
    """

    #: "ok", or what arrived instead of the 24-octet preface (RFC 9113 §3.4).
    preface: str
    stream: int
    #: How the request ended: "END_STREAM", "RST_STREAM CANCEL", "open" (never ended).
    ended: str
    frames: tuple[H2Frame, ...] = ()
    dropped: int = 0
    #: What the server's h2 state machine refused in the client's frames, if anything.
    problem: str = ""
    #: The most requests in progress at once on the connection (opened, not yet answered in full).
    most_open: int = 0

    def settings(self) -> dict[str, int]:
        """The client's first SETTINGS frame's values, by name."""
        for f in self.frames:
            if f.type == "SETTINGS" and "ACK" not in f.flags:
                return dict(f.detail.get("settings", {}))
        return {}

    def to_json(self) -> dict[str, Any]:
        return {"preface": self.preface, "stream": self.stream, "ended": self.ended,
                "frames": [f.to_json() for f in self.frames], "dropped": self.dropped,
                "problem": self.problem, "most_open": self.most_open}


@dataclass(frozen=True)
class Capture:
    """One request exactly as the fixture server received it.

    ``target`` and header fields are latin-1 decoded, so ``.encode("latin-1")``
    gives back the bytes on the wire. ``framing`` is how the body was delimited:
    ``content-length``, ``chunked``, ``none``, or ``invalid`` for a request the
    server could not parse (``raw`` then holds what arrived).
    """

    method: str
    target: str
    version: str
    headers: Headers
    body: bytes
    framing: str
    raw: bytes
    connection: int = 0
    trailers: Headers = ()
    problem: str = ""
    #: What a TLS server saw of the connection (servers.tls): the ClientHello's SNI and
    #: offered ALPN and versions, the negotiated version and ALPN, the client certificate.
    tls: TLSSeen | None = None
    #: The authority (host:port) of the server that received the request.
    server: str = ""
    #: WebSocket: the frames the client sent after the handshake, in order.
    frames: tuple[Frame, ...] = ()
    #: HTTP/2: the connection's frames and this stream's end (``headers`` then hold the
    #: decoded field block in order, pseudo-header fields included).
    h2: H2Seen | None = None

    def header(self, name: str) -> str | None:
        """The first value of field ``name`` (case-insensitive), or None."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def to_json(self) -> dict[str, Any]:
        return {
            "method": wire_text(self.method),
            "target": wire_text(self.target),
            "version": self.version,
            "headers": [[wire_text(k), wire_text(v)] for k, v in self.headers],
            "framing": self.framing,
            "body_len": len(self.body),
            "body_sha256": hashlib.sha256(self.body).hexdigest(),
            "body_excerpt": excerpt(self.body),
            "trailers": [[wire_text(k), wire_text(v)] for k, v in self.trailers],
            **({"tls": self.tls} if self.tls is not None else {}),
            "connection": self.connection,
            "server": self.server,
            "problem": self.problem,
            **({"frames": [f.to_json() for f in self.frames]} if self.frames else {}),
            **({"h2": self.h2.to_json()} if self.h2 is not None else {}),
        }


@dataclass(frozen=True)
class Got:
    """What the library returned to its caller."""

    status: int | None
    reason: str | None = None
    headers: Headers = ()
    body: bytes = b""
    history: tuple[int, ...] = ()
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: What the library's text accessor decoded the body to (``Call.text``); None when
    #: not asked, or when the library has no text accessor.
    text: str | None = None

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "headers": [[printable(k), printable(v)] for k, v in self.headers],
            "body_len": len(self.body),
            "body_text": excerpt(self.body),
            "history": list(self.history),
            "url": self.url,
            **({"text": printable(self.text[:EXCERPT])} if self.text is not None else {}),
            **({"extra": self.extra} if self.extra else {}),
        }


@dataclass(frozen=True)
class Failure:
    """An exception the library raised, mapped onto the shared vocabulary."""

    kind: str
    type: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "type": self.type, "message": self.message}

    @property
    def short(self) -> str:
        """``ClassName (kind)``: stable across runs, unlike the message."""
        return f"{self.type.rsplit('.', 1)[-1]} ({self.kind})"


@dataclass(frozen=True)
class Observation:
    """Both sides of a cell, as the scenario's check sees them."""

    sent: tuple[Capture, ...] = ()
    got: Got | None = None
    error: Failure | None = None
    options: dict[str, Any] = field(default_factory=dict)
    server_errors: tuple[str, ...] = ()
    elapsed: float = 0.0
    #: Every ClientHello the TLS servers read during the cell, in order (its SNI, offered
    #: ALPN and versions: servers.tls), including connections that never carried a request.
    hellos: tuple[TLSSeen, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": [c.to_json() for c in self.sent],
            "got": self.got.to_json() if self.got else None,
            "error": self.error.to_json() if self.error else None,
            "options": self.options,
            **({"server_errors": list(self.server_errors)} if self.server_errors else {}),
            **({"hellos": list(self.hellos)} if self.hellos else {}),
        }


@dataclass(frozen=True)
class Expected:
    """A cell's recorded outcome; a known-intermittent cell also accepts the outcomes in ``also``
    (like wpt's expected lists): it passes on any of them."""

    verdict: str
    summary: str
    also: tuple[tuple[str, str], ...] = ()

    def outcomes(self) -> tuple[tuple[str, str], ...]:
        """Every accepted (verdict, summary), the main one first."""
        return ((self.verdict, self.summary), *self.also)

    def accepts(self, verdict: str, summary: str) -> bool:
        return (verdict, summary) in self.outcomes()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict, "summary": self.summary}
        if self.also:
            out["also"] = [{"verdict": v, "summary": s} for v, s in self.also]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Expected:
        also = tuple((str(a["verdict"]), str(a["summary"])) for a in data.get("also") or ())
        return cls(str(data["verdict"]), str(data["summary"]), also)


@dataclass(frozen=True)
class Variant:
    """One outcome of a cell run several times (``--repeat N``), and how often it came."""

    verdict: str
    summary: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "summary": self.summary, "count": self.count}


def variants_of(outcomes: list[tuple[str, str]]) -> tuple[Variant, ...]:
    """Outcomes of repeated runs -> their variants, the most frequent first (ties: first seen)."""
    counts: dict[tuple[str, str], int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: first seen wins a tie
    return tuple(Variant(v, s, n) for (v, s), n in ranked)


@dataclass(frozen=True)
class Cell:
    """One scenario x one client: the unit of the matrix."""

    scenario: str
    client: str
    verdict: Verdict
    summary: str
    observed: dict[str, Any] | None = None
    expected: Expected | None = None
    outcome: str = "passed"
    duration_ms: float = 0.0
    #: Under ``--repeat N``: every outcome seen and its count (the cell shows the most frequent).
    variants: tuple[Variant, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.scenario, self.client)

    @property
    def intermittent(self) -> bool:
        """Whether repeated runs of this cell gave more than one verdict or summary."""
        return len(self.variants) > 1

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "client": self.client,
            "verdict": self.verdict,
            "summary": self.summary,
            "observed": self.observed,
            "expected": self.expected.to_json() if self.expected else None,
            "outcome": self.outcome,
            "duration_ms": round(self.duration_ms, 1),
            **({"variants": [v.to_json() for v in self.variants]} if self.variants else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cell:
        exp = data.get("expected")
        return cls(
            scenario=data["scenario"],
            client=data["client"],
            verdict=data["verdict"],
            summary=data["summary"],
            observed=data.get("observed"),
            expected=Expected.from_json(exp) if exp else None,
            outcome=data.get("outcome", "passed"),
            duration_ms=float(data.get("duration_ms", 0.0)),
            variants=tuple(Variant(v["verdict"], v["summary"], int(v["count"])) for v in data.get("variants") or ()),
        )
