"""What the h2 server does for one HTTP/2 request: the script vocabulary of the ``h2.*`` rows.

A row scripts its answer in one of two ways, like ``model.script``'s ``Reply`` and ``Raw``:

    H2Reply   a well-formed response through the ``h2`` library's state machine:
              interim 1xx, status, fields in the given order, the body in DATA frames
              of the given sizes, trailers; ``before`` and ``after`` hold actions sent
              around it (a PING, new SETTINGS, a GOAWAY, a frame of ours)
    H2Raw     actions only, usually ``Wire``: frames whose bytes the row writes
              itself (model.h2wire), bad ones on purpose; nothing is added or fixed

Actions, performed in order on the request's stream:

    Head(status, fields, end)   HEADERS through h2 (``end``: END_STREAM)
    Body(data, end)             one DATA frame through h2 (waits, bounded, for the
                                client's flow-control window)
    Tail(fields)                trailers: HEADERS with END_STREAM
    Reset(code)                 RST_STREAM on this stream
    GoAway(code, last_stream)   GOAWAY (``last_stream`` None: this stream's id); the
                                connection then closes unless ``close=False``
    Update(settings)            a SETTINGS frame through h2 (pairs of id, value)
    Ping(opaque)                a PING through h2
    Wire(make)                  exact bytes: ``make`` is bytes, or a function of this
                                stream's id giving bytes (h2 never sees them)
    Flood(make, count, ...)     ``make(stream)`` written again and again, bounded in
                                count, octets and seconds (the security rows)
    Await(kind, flags, s)       wait, at most ``s`` seconds, until the client sends such
                                a frame (a PING ACK, a SETTINGS ACK)
    Sleep / Close / Hold        as in model.script

``H2Script`` routes a cell's requests to responses like ``model.script.Script``
(``default``, ``routes`` by sub-path, ``dynamic`` from the capture and the request
count), and adds what only a connection has: the server's SETTINGS for the row
(``settings``, sent after the server preface of RFC 9113 §3.4) and ``http1``, the answer when
the client speaks HTTP/1.1 instead (no h2 in its ALPN, no prior knowledge).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from model.cell import Capture
from model.script import Close, Hold, Reply, Response, Sleep, no_body_status

Fields = tuple[tuple[str, str], ...]

#: The longest a Flood may last and the most it may write, whatever a row asks.
MAX_FLOOD_SECONDS = 1.0
MAX_FLOOD_BYTES = 8 * 1024 * 1024
#: The longest an Await may wait.
MAX_AWAIT = 1.0


@dataclass(frozen=True)
class Head:
    status: int
    fields: Fields = ()
    end: bool = False


@dataclass(frozen=True)
class Body:
    data: bytes
    end: bool = False


@dataclass(frozen=True)
class Tail:
    fields: Fields


@dataclass(frozen=True)
class Reset:
    code: int


@dataclass(frozen=True)
class GoAway:
    code: int = 0
    last_stream: int | None = None
    close: bool = True


@dataclass(frozen=True)
class Update:
    settings: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Ping:
    opaque: bytes = b"cmping!!"


@dataclass(frozen=True)
class Wire:
    make: bytes | Callable[[int], bytes]

    def bytes_for(self, stream: int) -> bytes:
        return self.make if isinstance(self.make, bytes) else self.make(stream)


@dataclass(frozen=True)
class Flood:
    make: Callable[[int], bytes]
    count: int
    max_bytes: int = MAX_FLOOD_BYTES
    seconds: float = MAX_FLOOD_SECONDS


@dataclass(frozen=True)
class Await:
    kind: int
    flags: int = 0
    seconds: float = 0.5


H2Action = Head | Body | Tail | Reset | GoAway | Update | Ping | Wire | Flood | Await | Sleep | Close | Hold


@dataclass(frozen=True)
class H2Reply:
    """A well-formed response. ``frames`` are the DATA frame sizes (the rest of the body
    goes in one more frame); a ``content-length`` field is added unless ``length=False``,
    the fields name one, or the status has no body."""

    status: int = 200
    fields: Fields = ()
    body: bytes = b""
    frames: tuple[int, ...] = ()
    trailers: Fields = ()
    interim: tuple[tuple[int, Fields], ...] = ()
    length: bool = True
    before: tuple[H2Action, ...] = ()
    after: tuple[H2Action, ...] = ()

    def actions(self, request: Capture) -> list[H2Action]:
        out: list[H2Action] = list(self.before)
        out += [Head(status, fields) for status, fields in self.interim]
        body = b"" if request.method == "HEAD" or no_body_status(self.status) else self.body
        fields = self.fields
        if self.length and not no_body_status(self.status) and not any(k.lower() == "content-length"
                                                                        for k, _ in fields):
            fields = (*fields, ("content-length", str(len(self.body))))
        ends_here = not body and not self.trailers
        out.append(Head(self.status, fields, end=ends_here))
        sizes, pos = list(self.frames), 0
        while pos < len(body) or sizes:
            size = sizes.pop(0) if sizes else len(body) - pos
            piece = body[pos:pos + size]
            pos += len(piece)
            out.append(Body(piece, end=pos >= len(body) and not sizes and not self.trailers))
        if self.trailers:
            out.append(Tail(self.trailers))
        return out + list(self.after)


@dataclass(frozen=True)
class H2Raw:
    """Actions only, nothing added: after them the server keeps the connection open,
    reading, until the client closes it or ``linger`` seconds pass."""

    steps: tuple[H2Action, ...]
    linger: float = 1.0

    def actions(self, request: Capture) -> list[H2Action]:
        return [*self.steps, Hold(self.linger)]


H2Response = H2Reply | H2Raw


@dataclass(frozen=True)
class H2Script:
    default: H2Response = field(default_factory=H2Reply)
    routes: Mapping[str, H2Response] = field(default_factory=dict)
    dynamic: Callable[[Capture, str, int], H2Response] | None = None
    #: Settings the server sends once the row is known (a SETTINGS frame after its preface,
    #: sent when the first request names the cell), as (identifier, value).
    settings: tuple[tuple[int, int], ...] = ()
    #: The answer on a connection that speaks HTTP/1.1 (the client did not offer h2).
    http1: Response = field(default_factory=lambda: Reply(200, body=b"over HTTP/1.1"))

    def respond_h2(self, request: Capture, subpath: str, seen: int = 1) -> H2Response:
        if self.dynamic is not None:
            return self.dynamic(request, subpath, seen)
        return self.routes.get(subpath, self.default)

    def respond(self, request: Capture, subpath: str, seen: int = 1) -> Response:
        """The HTTP/1.1 answer (servers.http calls this on a connection that fell back)."""
        return self.http1
