"""What a fixture server does for one request: a script of actions.

A scenario scripts its response in one of two ways:

    Reply  a well-formed response: status, reason, headers in the given order and
           case, body; optional interim 1xx responses first. Content-Length is
           added unless the headers already frame the body (or the status has none).
    Raw    exact bytes and actions, for malformed responses: nothing is added,
           nothing is fixed, and the connection is closed afterwards by default.

Both compile to a list of ``Action``s the server performs in order:

    Send(data)      write bytes (then drain)
    Sleep(seconds)  pause
    Close(reset)    close now; ``reset`` aborts with a TCP RST instead of a FIN
    HalfClose()     send the FIN, keep the connection open (what arrives is left unread)
    Hold(seconds)   keep the connection open, sending nothing, until the client
                    closes it or ``seconds`` pass (bounded: never forever)
    Stream(pieces)  write the pieces a generator produces, one at a time, so that a
                    large body is never held whole (bounded: at most ``MAX_STREAM`` bytes)
    Linger(seconds) the response is complete: keep the connection open for the client's
                    next request, but close it if none starts within ``seconds`` (a
                    ``Raw(..., close=False)`` ends with it where framing decides where the
                    message ends: a client that reads to the close shows it by waiting).
                    A client that asked to close (``Connection: close``) is sent
                    ``AFTER_END`` instead, then the close: bytes it never reads if it
                    found the message's end, and that show in its body if it did not

Header values and Raw bytes may name ``{origin}`` (``http://127.0.0.1:PORT``) and
``{base}`` (origin plus this cell's route prefix), so a Location can point back at
the same cell on the same server; ``{prefix}`` is the route prefix alone (a cookie's
Path). ``{origin:NAME}`` and ``{base:NAME}`` name another fixture server (``http-other``,
``https``, ``proxy`` ...): the same cell's route on another origin, so a multi-origin
exchange is still one capture list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from model.cell import Capture

#: The route prefix in a path, the one definition: servers route by it, and
#: model.checks strips it from summaries.
TOKEN_PATH = r"/c/(t[0-9]+)"

#: The longest a ``Hold`` may last, whatever a scenario asks.
MAX_HOLD = 10.0
#: The most bytes one ``Stream`` may write, whatever its generator produces.
MAX_STREAM = 64 * 1024 * 1024


@dataclass(frozen=True)
class Send:
    data: bytes


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Close:
    reset: bool = False


@dataclass(frozen=True)
class HalfClose:
    """Send the FIN now (no more bytes from the server) but keep the connection open: what the
    client sends next is neither read nor reset until the script's ``Close``."""


@dataclass(frozen=True)
class Hold:
    seconds: float = MAX_HOLD


#: What ``Linger`` sends a client that asked to close, after the message: never part of it.
AFTER_END = b"[clientmatrix: bytes after the end of the message]"


@dataclass(frozen=True)
class Linger:
    seconds: float = 1.0


@dataclass(frozen=True)
class Stream:
    """Bytes produced lazily: ``pieces()`` is called when the action runs, once per request."""

    pieces: Callable[[], Iterable[bytes]]


Action = Send | Sleep | Close | HalfClose | Hold | Stream | Linger


#: ``{origin:NAME}`` or ``{base:NAME}``: a named fixture server's origin (plus the route prefix);
#: ``{authority:NAME}`` its ``host:port``, ``{port:NAME}`` its port alone.
NAMED = re.compile(rb"\{(origin|base|authority|port):([A-Za-z0-9_.-]+)\}")


def fill_named(data: bytes, origin_of: Callable[[str], str], prefix: str = "") -> bytes:
    """Resolve ``{origin:NAME}``, ``{base:NAME}`` (origin of NAME + ``prefix``), ``{authority:NAME}``
    and ``{port:NAME}`` in ``data``."""

    def one(m: re.Match[bytes]) -> bytes:
        origin = origin_of(m.group(2).decode())
        what = m.group(1)
        authority = origin.partition("://")[2]
        if what == b"authority":
            return authority.encode()
        if what == b"port":
            return authority.rpartition(":")[2].encode()
        return (origin + prefix if what == b"base" else origin).encode()

    return NAMED.sub(one, data)


@dataclass(frozen=True)
class Context:
    """What a script may refer to: where the request arrived, and the other named servers."""

    origin: str
    base: str
    #: Every named fixture server's origin (``http``, ``http-other``, ``proxy`` ...).
    origins: Mapping[str, str] = field(default_factory=dict)
    #: The cell's route prefix (``/c/t12``).
    prefix: str = ""

    def origin_of(self, name: str) -> str:
        if name not in self.origins:
            raise KeyError(f"a script names {{origin:{name}}}, but no fixture server is called {name!r} "
                           f"(known: {', '.join(sorted(self.origins))})")
        return self.origins[name]

    def fill(self, data: bytes) -> bytes:
        data = fill_named(data, self.origin_of, self.prefix)
        return (data.replace(b"{origin}", self.origin.encode()).replace(b"{base}", self.base.encode())
                .replace(b"{prefix}", self.prefix.encode()))


def reason_for(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def no_body_status(status: int) -> bool:
    """RFC 9112 §6.3: 1xx, 204 and 304 responses end at the header section."""
    return 100 <= status < 200 or status in (204, 304)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    interim: tuple[tuple[int, tuple[tuple[str, str], ...]], ...] = ()
    close: bool = False

    def head(self, ctx: Context) -> bytes:
        reason = reason_for(self.status) if self.reason is None else self.reason
        lines = [f"HTTP/1.1 {self.status} {reason}".encode("latin-1")]
        names = {k.lower() for k, _ in self.headers}
        for name, value in self.headers:
            lines.append(ctx.fill(f"{name}: {value}".encode("latin-1")))
        framed = "content-length" in names or "transfer-encoding" in names
        if not framed and not no_body_status(self.status):
            lines.append(b"Content-Length: %d" % len(self.body))
        if self.close and "connection" not in names:
            lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def actions(self, request: Capture, ctx: Context) -> list[Action]:
        out: list[Action] = []
        for status, headers in self.interim:
            lines = [f"HTTP/1.1 {status} {reason_for(status)}"] + [f"{k}: {v}" for k, v in headers]
            out.append(Send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")))
        body = b"" if request.method == "HEAD" or no_body_status(self.status) else self.body
        out.append(Send(self.head(ctx) + body))
        if self.close:
            out.append(Close())
        return out


@dataclass(frozen=True)
class Raw:
    steps: tuple[bytes | Action, ...]
    close: bool = True

    def actions(self, request: Capture, ctx: Context) -> list[Action]:
        out: list[Action] = [Send(ctx.fill(s)) if isinstance(s, bytes) else s for s in self.steps]
        if self.close:
            out.append(Close())
        return out


Response = Reply | Raw


@dataclass(frozen=True)
class Script:
    """Which response answers which request of a cell.

    ``routes`` maps the path after the cell's prefix (``/next``) to a response;
    ``default`` answers the rest. ``dynamic`` may compute the response from the
    capture, its sub-path, and how many requests the cell has made so far, this one
    included (for scenarios whose answer depends on what was sent, or that must stop).
    ``early``: the server answers before reading the body (its capture has none).
    """

    default: Response = field(default_factory=Reply)
    routes: Mapping[str, Response] = field(default_factory=dict)
    dynamic: Callable[[Capture, str, int], Response] | None = None
    #: Answer from the request's head alone: the body is never read (no 100 Continue is
    #: sent), as a server that refuses an upload does; the connection ends after the answer.
    early: bool = False

    def respond(self, request: Capture, subpath: str, seen: int = 1) -> Response:
        if self.dynamic is not None:
            return self.dynamic(request, subpath, seen)
        return self.routes.get(subpath, self.default)


def script(response: Response | Script | None) -> Script:
    """A scenario's response as a script; a script of another protocol (model.h2script's
    ``H2Script``, which also answers ``respond``) is kept as it is."""
    if response is None:
        return Script()
    if isinstance(response, Script) or callable(getattr(response, "respond", None)):
        return response  # type: ignore[return-value]
    return Script(default=response)
