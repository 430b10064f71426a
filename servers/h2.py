"""The scripted HTTP/2 server: well-formed answers through ``h2``, bad frames of our own, every client frame captured.

Theory: like ``servers.http``, the server is the witness of a cell. It records what
the client put on the wire (the connection preface and every frame, parsed by
``model.h2wire`` from the bytes as they arrived, before any library looks at them;
each request's field block decoded in order and case, pseudo-header fields included;
its body and how it ended), then does what the row's ``model.h2script.H2Script`` says.
Well-formed answers go through the ``h2`` library's state machine (so flow control,
HPACK and stream states are right); ``Wire`` and ``Flood`` actions write the row's own
bytes, which h2 never sees.

    origin  transport                               the client speaks
    h2      TLS, ALPN h2 and http/1.1 offered        h2 if it offers it, else HTTP/1.1
    h2-other the same on another port (another origin, for cross-origin redirects)
    h2c     cleartext                                h2 with prior knowledge (the preface
                                                     first), else HTTP/1.1

A connection that speaks HTTP/1.1 is served by ``servers.http`` with the script's
``http1`` answer, so a row sees a fallback instead of a dead server.

The server sends its connection preface (its SETTINGS, RFC 9113 §3.4: "The server
connection preface consists of a potentially empty SETTINGS frame ... that MUST be the
first frame the server sends") as soon as the client's preface arrives, as real servers
do (waiting would leave the client's next small write stuck behind Nagle's algorithm
until our delayed ACK). The row is known only from the first request's ``:path``, so
a row's own settings (``H2Script.settings``) go in a second SETTINGS frame then; they
take effect when the client acknowledges them.

Bounds: a connection's frames are kept up to ``MAX_FRAMES`` (the rest counted), a
request body up to ``MAX_BODY``, a frame up to ``MAX_FRAME_READ`` octets; an idle
connection closes after ``IDLE`` seconds; a flood stops at its count, octets or time.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import traceback
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from model import h2wire as w
from model.cell import Capture, H2Frame, H2Seen, TLSSeen
from model.h2script import (
    MAX_AWAIT,
    MAX_FLOOD_BYTES,
    MAX_FLOOD_SECONDS,
    Await,
    Body,
    Flood,
    GoAway,
    H2Script,
    Head,
    Ping,
    Reset,
    Tail,
    Update,
    Wire,
)
from model.loop import LoopThread
from model.script import MAX_HOLD, Close, Context, Hold, Sleep
from servers.http import MAX_HEAD, drop
from servers.routes import Registry, Route
from servers.tls import HANDSHAKE_TIMEOUT, HelloServer, peek_hello

MAX_FRAMES = 400
MAX_BODY = 64 * 1024 * 1024
MAX_FRAME_READ = 1 << 24
IDLE = 5.0
#: How long a Body waits for the client to open its flow-control window.
WINDOW_WAIT = 2.0


def fields_text(pairs: Any) -> tuple[tuple[str, str], ...]:
    """Decoded field lines as latin-1 text (``.encode("latin-1")`` gives the octets back)."""
    out = []
    for k, v in pairs:
        out.append((k.decode("latin-1") if isinstance(k, bytes) else str(k),
                    v.decode("latin-1") if isinstance(v, bytes) else str(v)))
    return tuple(out)


@dataclass
class Stream:
    """One request as it arrives."""

    id: int
    fields: tuple[tuple[str, str], ...] = ()
    body: bytearray = field(default_factory=bytearray)
    trailers: tuple[tuple[str, str], ...] = ()
    ended: str = "open"
    route: Route | None = None
    capture: Capture | None = None
    answered: bool = False


class Session:
    """One HTTP/2 connection: reads, captures, and answers each request by its script."""

    def __init__(self, server: H2Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 conn: int, tls: TLSSeen | None) -> None:
        self.server = server
        self.registry = server.registry
        self.reader, self.writer = reader, writer
        self.conn_id, self.tls = conn, tls
        self.parser = w.Parser(limit=MAX_FRAME_READ)
        self.frames: list[H2Frame] = []
        self.raw_frames: list[w.Parsed] = []
        self.dropped = 0
        self.preface = "ok"
        self.problem = ""
        self.h2: h2.connection.H2Connection | None = None
        self.streams: dict[int, Stream] = {}
        self.ends: dict[str, Any] = {}
        self.joined: dict[str, Route] = {}
        #: Streams opened and not yet answered in full (or reset): how many overlap.
        self.active: set[int] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.changed = asyncio.Event()
        self.closed = False
        self.most_open = 0
        self.script: H2Script | None = None
        #: The last stream id of a GOAWAY we sent: later streams are refused (RFC 9113 §6.8).
        self.goaway: int | None = None

    # -- reading -----------------------------------------------------------------

    async def run(self) -> None:
        try:
            try:
                first = await asyncio.wait_for(self.reader.readexactly(len(w.PREFACE)), IDLE)
            except asyncio.IncompleteReadError as exc:
                first = exc.partial
            if first != w.PREFACE:
                self.not_h2(first)
                return
            self.begin()
            while not self.closed:
                try:
                    data = await asyncio.wait_for(self.reader.read(65536), IDLE)
                except asyncio.TimeoutError:
                    break
                if not data:
                    break
                self.received(data)
                self.changed.set()
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        except Exception:  # a bug of ours: the cells this connection served say error
            note = f"server error: {traceback.format_exc(limit=3)}"
            for route in self.joined.values():
                route.record(error=note)
            if not self.joined:
                self.registry.orphans.append(note)
        finally:
            self.closed = True
            self.changed.set()
            for task in list(self.tasks):
                task.cancel()
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
            self.finish()

    def not_h2(self, first: bytes) -> None:
        """The client did not send the HTTP/2 preface: record what it sent on its cell, if it names one."""
        route = self.registry.find(first)
        if route is None:
            return
        line = first.split(b"\r\n", 1)[0].decode("latin-1")
        route.record(Capture(method=line.split(" ")[0], target="", version="", headers=(), body=b"",
                             framing="invalid", raw=first, connection=self.conn_id,
                             problem=f"expected the HTTP/2 connection preface, got {first[:40]!r}",
                             server=self.server.authority, tls=self.tls))

    def received(self, data: bytes) -> None:
        try:
            parsed = self.parser.feed(data)
        except w.FrameTooLarge as exc:
            self.problem = self.problem or str(exc)
            self.closed = True
            return
        for f in parsed:
            self.raw_frames.append(f)
            if len(self.frames) < MAX_FRAMES:
                self.frames.append(H2Frame(w.frame_name(f.kind), w.flag_names(f.kind, f.flags), f.stream,
                                           f.length, w.describe(f)))
            else:
                self.dropped += 1
        self.feed(data)

    def begin(self) -> None:
        """Start the h2 state machine and send the server preface (its SETTINGS) at once."""
        config = h2.config.H2Configuration(client_side=False, header_encoding=None,
                                           validate_inbound_headers=False, normalize_inbound_headers=False,
                                           validate_outbound_headers=False, normalize_outbound_headers=False)
        conn = h2.connection.H2Connection(config=config)
        conn.initiate_connection()
        self.h2 = conn
        self.flush()
        self.feed(w.PREFACE)

    def feed(self, data: bytes) -> None:
        assert self.h2 is not None
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self.problem = self.problem or f"{type(exc).__name__}: {exc}"
            self.flush()
            self.closed = True
            return
        for event in events:
            self.on_event(event)
        self.flush()

    def on_event(self, event: Any) -> None:
        assert self.h2 is not None
        if isinstance(event, h2.events.RequestReceived):
            stream = self.streams.setdefault(event.stream_id, Stream(event.stream_id))
            stream.fields = fields_text(event.headers)
            stream.route = self.join(stream)
            if self.goaway is not None and event.stream_id > self.goaway:
                # RFC 9113 §6.8: a stream above our GOAWAY's last stream id is not processed:
                # it is refused, so the client may retry it elsewhere (and no cell waits for it).
                stream.answered = True
                stream.ended = "refused by the server (opened after its GOAWAY)"
                self.record(stream)
                try:
                    self.h2.reset_stream(event.stream_id, w.ERROR_CODES["REFUSED_STREAM"])
                except h2.exceptions.H2Error:
                    pass
                return
            self.active.add(event.stream_id)
            self.most_open = max(self.most_open, len(self.active))
            if event.stream_ended is not None:
                self.ended(stream, "END_STREAM")
        elif isinstance(event, h2.events.DataReceived):
            stream = self.streams.setdefault(event.stream_id, Stream(event.stream_id))
            if len(stream.body) + len(event.data) <= MAX_BODY:
                stream.body += event.data
            if event.flow_controlled_length:
                try:
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                except h2.exceptions.H2Error:  # the stream or the connection is closed already
                    pass
            if event.stream_ended is not None:
                self.ended(stream, "END_STREAM")
        elif isinstance(event, h2.events.TrailersReceived):
            stream = self.streams.setdefault(event.stream_id, Stream(event.stream_id))
            stream.trailers = fields_text(event.headers)
            if event.stream_ended is not None:
                self.ended(stream, "END_STREAM")
        elif isinstance(event, h2.events.StreamEnded):
            known = self.streams.get(event.stream_id)
            if known is not None and known.ended == "open":
                self.ended(known, "END_STREAM")
        elif isinstance(event, h2.events.StreamReset):
            known = self.streams.get(event.stream_id)
            self.active.discard(event.stream_id)
            if known is not None and known.ended == "open":
                known.ended = f"RST_STREAM {w.error_name(int(event.error_code))}"
                self.record(known)

    def join(self, stream: Stream) -> Route | None:
        """The cell this request belongs to, by its :path; entered once per connection."""
        path = dict(stream.fields).get(":path", "")
        route = self.registry.find(path.encode("latin-1"))
        if route is None:
            return None
        if route.token not in self.ends:
            end = route.enter(self.writer.transport)
            if end is None:  # the cell timed out: cut, record nothing
                self.closed = True
                self.writer.transport.abort()
                return None
            self.ends[route.token] = end
            self.joined[route.token] = route
            if isinstance(route.script, H2Script) and route.script.settings and self.script is None:
                # The row's settings: a second SETTINGS frame, in effect once the client ACKs it.
                self.script = route.script
                assert self.h2 is not None
                try:
                    self.h2.update_settings(dict(route.script.settings))
                except h2.exceptions.ProtocolError:  # the client already closed the connection
                    pass
        return route

    def ended(self, stream: Stream, how: str) -> None:
        stream.ended = how
        self.record(stream)
        if stream.route is not None and not stream.answered:
            stream.answered = True
            task = asyncio.get_running_loop().create_task(self.answer(stream))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            task.add_done_callback(lambda _: self.active.discard(stream.id))
        elif stream.route is None and not stream.answered:
            stream.answered = True
            assert self.h2 is not None
            try:
                self.h2.send_headers(stream.id, [(b":status", b"404"), (b"content-length", b"0")], end_stream=True)
            except h2.exceptions.H2Error:
                pass

    def seen(self, stream: Stream) -> H2Seen:
        return H2Seen(preface=self.preface, stream=stream.id, ended=stream.ended, frames=tuple(self.frames),
                      dropped=self.dropped, problem=self.problem, most_open=self.most_open)

    def capture_of(self, stream: Stream) -> Capture:
        f = dict(stream.fields)
        return Capture(method=f.get(":method", ""), target=f.get(":path", ""), version="HTTP/2",
                       headers=stream.fields, body=bytes(stream.body),
                       framing="data" if stream.body else "none", raw=b"", connection=self.conn_id,
                       trailers=stream.trailers, server=self.server.authority, tls=self.tls,
                       h2=self.seen(stream))

    def record(self, stream: Stream) -> None:
        if stream.route is None:
            return
        capture = self.capture_of(stream)
        if stream.capture is None:
            stream.route.record(capture)
        else:
            stream.route.amend(stream.capture, capture)
        stream.capture = capture

    def finish(self) -> None:
        """The connection is over: every capture gets the whole connection's frames, then the cells may settle."""
        for stream in self.streams.values():
            if stream.route is not None:
                self.record(stream)
        for end in self.ends.values():
            end()
        self.ends.clear()
        self.writer.close()

    def flush(self) -> None:
        if self.h2 is None:
            return
        data = self.h2.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    # -- answering ---------------------------------------------------------------

    async def answer(self, stream: Stream) -> None:
        route = stream.route
        assert route is not None and stream.capture is not None
        script = route.script
        if not isinstance(script, H2Script):
            route.record(error="server error: an h2 origin needs an H2Script (model.h2script)")
            self.closed = True
            self.writer.transport.abort()
            return
        origin = self.server.origin
        ctx = Context(origin=origin, base=origin + route.prefix, origins=self.registry.origins, prefix=route.prefix)
        try:
            response = script.respond_h2(stream.capture, self.registry.subpath(stream.capture.target, route),
                                         route.count())
            actions = response.actions(stream.capture)
            for i, action in enumerate(actions):
                if self.closed and not isinstance(action, (Sleep, Hold)):
                    return
                # A GOAWAY goes out in the same write as what precedes it (the answer's last
                # frame), so a client reads both at once, as it would from a real server.
                hold = i + 1 < len(actions) and isinstance(actions[i + 1], GoAway)
                if await self.act(action, stream, ctx, hold) is False:
                    return
        except (ConnectionError, ssl.SSLError, h2.exceptions.StreamClosedError, asyncio.CancelledError):
            return
        except Exception:  # a bug of ours (or of the row's script): the cell says error
            route.record(error=f"server error: {traceback.format_exc(limit=3)}")
            self.closed = True
            self.writer.transport.abort()

    async def act(self, action: Any, stream: Stream, ctx: Context, hold: bool = False) -> bool:
        """Perform one action; False when the stream's answer is over (the connection closed)."""
        conn = self.h2
        assert conn is not None
        sid = stream.id
        if isinstance(action, Head):
            fields = [(b":status", str(action.status).encode())]
            fields += [(k.encode("latin-1"), ctx.fill(v.encode("latin-1"))) for k, v in action.fields]
            conn.send_headers(sid, fields, end_stream=action.end)
        elif isinstance(action, Body):
            await self.send_body(sid, action.data, action.end, hold)
        elif isinstance(action, Tail):
            conn.send_headers(sid, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in action.fields],
                              end_stream=True)
        elif isinstance(action, Reset):
            conn.reset_stream(sid, action.code)
        elif isinstance(action, GoAway):
            last = sid if action.last_stream is None else action.last_stream
            conn.close_connection(error_code=action.code, last_stream_id=last)
            self.goaway = last
            if action.close:  # the FIN right behind the GOAWAY, no pause between the two
                self.flush()
                self.closed = True
                self.writer.close()
                return False
        elif isinstance(action, Update):
            conn.update_settings(dict(action.settings))
        elif isinstance(action, Ping):
            conn.ping(action.opaque[:8].ljust(8, b"\0"))
        elif isinstance(action, Wire):
            self.flush()
            self.writer.write(action.bytes_for(sid))
        elif isinstance(action, Flood):
            self.flush()
            await self.flood(action, sid)
        elif isinstance(action, Await):
            self.flush()
            await self.wait_frame(action)
        elif isinstance(action, Sleep):
            self.flush()
            await asyncio.sleep(action.seconds)
        elif isinstance(action, Hold):
            self.flush()
            await self.drain()
            await self.until_closed(min(action.seconds, MAX_HOLD))
            return False
        elif isinstance(action, Close):
            self.flush()
            if not action.reset:
                await self.drain()
            self.closed = True
            drop(self.writer, action.reset)
            return False
        if not hold:
            self.flush()
            await self.drain()
        return True

    async def drain(self) -> None:
        if not self.writer.is_closing():
            await self.writer.drain()

    async def send_body(self, sid: int, data: bytes, end: bool, hold: bool = False) -> None:
        """DATA within the client's flow-control windows and frame size (waits, bounded)."""
        conn = self.h2
        assert conn is not None
        loop = asyncio.get_running_loop()
        if not data:
            conn.send_data(sid, b"", end_stream=end)
            return
        pos = 0
        while pos < len(data):
            room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
            if room <= 0:
                self.flush()
                deadline = loop.time() + WINDOW_WAIT
                while conn.local_flow_control_window(sid) <= 0 and not self.closed:
                    left = deadline - loop.time()
                    if left <= 0:
                        raise ConnectionError("the client never opened its flow-control window")
                    self.changed.clear()
                    try:
                        await asyncio.wait_for(self.changed.wait(), left)
                    except asyncio.TimeoutError:
                        pass
                if self.closed:
                    raise ConnectionError("closed")
                continue
            piece = data[pos:pos + room]
            pos += len(piece)
            conn.send_data(sid, piece, end_stream=end and pos >= len(data))
            if pos < len(data) or not hold:
                self.flush()
                await self.drain()

    async def flood(self, action: Flood, sid: int) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + min(action.seconds, MAX_FLOOD_SECONDS)
        limit = min(action.max_bytes, MAX_FLOOD_BYTES)
        piece = action.make(sid)
        written = 0
        for _ in range(action.count):
            if self.closed or self.writer.is_closing() or written + len(piece) > limit:
                return
            left = end - loop.time()
            if left <= 0:
                return
            self.writer.write(piece)
            written += len(piece)
            try:
                await asyncio.wait_for(self.writer.drain(), left)
            except asyncio.TimeoutError:
                return

    async def wait_frame(self, action: Await) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + min(action.seconds, MAX_AWAIT)
        start = len(self.raw_frames)
        while not self.closed:
            if any(f.kind == action.kind and (f.flags & action.flags) == action.flags
                   for f in self.raw_frames[start:]):
                return
            left = end - loop.time()
            if left <= 0:
                return
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                return

    async def until_closed(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while not self.closed and (left := end - loop.time()) > 0:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                break
        if not self.closed:
            self.closed = True
            self.writer.close()


async def peek_preface(sock: socket.socket, wait: float = IDLE) -> bool:
    """Do the first octets on an accepted socket start the HTTP/2 preface? (peeked: they stay unread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while loop.time() < deadline:
        try:
            data = sock.recv(4, socket.MSG_PEEK)
        except BlockingIOError:
            data = None
        except OSError:
            return False
        if data == b"":
            return False
        if data is not None and len(data) >= 4:
            return data == w.PREFACE[:4]
        await asyncio.sleep(0.002)
    return False


class H2Server(HelloServer):
    """HTTP/2 over TLS (ALPN ``h2``, ``http/1.1``) or cleartext (prior knowledge), HTTP/1.1 as fallback."""

    def __init__(self, registry: Registry, loop: LoopThread | None = None, *, tls: ssl.SSLContext | None) -> None:
        if tls is not None:
            tls.set_alpn_protocols(["h2", "http/1.1"])
        super().__init__(registry, loop, tls, host="127.0.0.1")  # type: ignore[arg-type]
        self.plain = tls is None

    @property
    def scheme(self) -> str:
        return "http" if self.plain else "https"

    async def _greet(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # frames go out as written
        hello = None if self.plain else await peek_hello(conn)
        prior = self.plain and await peek_preface(conn)
        reader = asyncio.StreamReader(limit=MAX_HEAD, loop=loop)

        async def serve(r: asyncio.StreamReader, wr: asyncio.StreamWriter) -> None:
            self._seen[wr] = hello
            try:
                if await self._speaks_h2(r, wr, prior):
                    await Session(self, r, wr, next(self._conns), self.tls_seen(wr)).run()
                else:
                    await self._serve(r, wr)
            except asyncio.CancelledError:  # the server stops: nothing more to record
                pass
            finally:
                self._seen.pop(wr, None)

        protocol = asyncio.StreamReaderProtocol(reader, serve, loop=loop)
        try:
            await loop.connect_accepted_socket(lambda: protocol, conn, ssl=None if self.plain else self.tls,
                                               ssl_handshake_timeout=None if self.plain else HANDSHAKE_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            conn.close()

    async def _speaks_h2(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, prior: bool) -> bool:
        """TLS: ALPN chose h2. Cleartext: the first octets were the HTTP/2 preface's (``prior``)."""
        if self.plain:
            return prior
        obj = writer.get_extra_info("ssl_object")
        return obj is not None and obj.selected_alpn_protocol() == "h2"

    def tls_seen(self, writer: asyncio.StreamWriter) -> TLSSeen | None:
        return None if self.plain else super().tls_seen(writer)


def start(registry: Registry, certs: Any, name: str, port: int = 0) -> H2Server:
    """The h2 origin ``name`` (``h2``, ``h2-other``, ``h2c``), started (on ``port``, 0: any)."""
    server = H2Server(registry, tls=None if name == "h2c" else certs.server_context())
    server.port = port
    server.start()
    return server


__all__ = ["H2Server", "Session", "start"]
