"""The raw WebSocket frame server: any bytes on purpose, every client frame recorded.

Theory: to grade a client against RFC 6455 the server must be able to break the
protocol on purpose (a masked frame, RSV bits, a 126-byte ping, an unknown
opcode, a wrong ``Sec-WebSocket-Accept``), which no well-behaved server library
will do. So this one is ours: it does the opening handshake itself (right, or
wrong as the cell's ``WsScript`` says), then performs the script's steps, and
records every frame the client sends, byte-exactly parsed (opcode, FIN, RSV,
MASK, payload), into the cell's capture.

    frame() text() ping() close() ... parse_frame  the codec, sans I/O: ``model/frames.py``
                                                 (re-exported here), shared with socket-ws
    read_frame(reader)                           parse one frame from an asyncio stream

A script is declarative (``WsScript``): the handshake (status, accept, subprotocol)
and ``steps``: ``bytes`` are written as they are (``Filled``: a large frame made when it is
sent, never held), ``Sleep`` pauses, ``Close`` ends
the TCP connection (a FIN, or a reset) without a Close frame, ``Await(opcode)``
waits (bounded) for the client to send such a frame. After the steps the server
keeps reading until the client's Close frame (answered with a Close frame echoing
its code, unless the server already sent one) or the end of the connection,
never longer than ``LINGER``.

The echo server of ``servers/ws.py`` reads the same ``WsScript`` (only
``subprotocol`` matters there): a cell's route carries it either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import struct
import traceback
from dataclasses import dataclass, replace

from model.cell import Capture, Frame
from model.frames import (  # noqa: F401 (the codec, re-exported for the scripts and servers)
    BINARY,
    CLOSE,
    CONT,
    GUID,
    MAX_FRAME,
    PING,
    PONG,
    TEXT,
    FrameError,
    accept_for,
    apply_mask,
    binary,
    close,
    close_payload,
    cont,
    frame,
    parse_close,
    parse_frame,
    ping,
    pong,
    text,
    utf8,
)
from model.script import Close, Script, Sleep, reason_for
from servers.http import BadRequest, HTTPServer, drop, parse_head
from servers.routes import Registry, Route

#: How long the server keeps reading client frames after its steps (the client closes sooner).
LINGER = 5.0
#: A ``Filled`` frame is written this many bytes at a time.
PIECE = 1024 * 1024
#: The longest an ``Await`` step waits for the client.
MAX_AWAIT = 1.0


class WireTap:
    """Frame heads read from a client's byte stream beside a server library (the echo server).

    Fed every byte the connection receives, handshake included (skipped up to the blank
    line): it keeps each frame's head as sent (FIN, RSV, opcode, mask bit, length form,
    payload length) and skips payloads without holding them, so what a library decodes
    (inflates, unmasks, refuses) cannot hide what the client put on the wire.
    Bounded: at most ``MAX_HEADS`` heads and a ``MAX_HANDSHAKE``-byte handshake.
    """

    MAX_HEADS = 4096
    MAX_HANDSHAKE = 65536

    def __init__(self) -> None:
        self.buf = bytearray()
        self.handshake = True
        self.skip = 0
        self.heads: list[Frame] = []

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        if self.handshake:
            self.buf += view
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > self.MAX_HANDSHAKE:
                    self.buf.clear()
                return
            view, self.buf, self.handshake = memoryview(bytes(self.buf[end + 4:])), bytearray(), False
        while len(view) and len(self.heads) < self.MAX_HEADS:
            if self.skip:
                n = min(self.skip, len(view))
                self.skip -= n
                view = view[n:]
                continue
            self.buf += view
            view = memoryview(b"")
            head = frame_head(bytes(self.buf[:14]))
            if head is None:
                return
            f, size = head
            self.heads.append(f)
            view, self.buf = memoryview(bytes(self.buf[size:])), bytearray()
            self.skip = f.on_wire


def frame_head(data: bytes) -> tuple[Frame, int] | None:
    """A frame's head (payload empty, ``wire_len`` its length) and the head's size, or None
    when ``data`` does not hold a whole head yet."""
    if len(data) < 2:
        return None
    b0, b1 = data[0], data[1]
    n, size, form = b1 & 0x7F, 2, 7
    if n == 126:
        if len(data) < 4:
            return None
        n, size, form = struct.unpack("!H", data[2:4])[0], 4, 16
    elif n == 127:
        if len(data) < 10:
            return None
        n, size, form = struct.unpack("!Q", data[2:10])[0], 10, 64
    masked = bool(b1 & 0x80)
    size += 4 if masked else 0
    if len(data) < size:
        return None
    return Frame(b0 & 0xF, bool(b0 & 0x80), (b0 >> 4) & 0x7, masked, length_form=form, wire_len=n), size


async def read_frame(reader: asyncio.StreamReader, max_size: int = MAX_FRAME) -> Frame:
    """Read and parse one frame from an asyncio stream."""
    parser = parse_frame(max_size)
    need = next(parser)
    while True:
        try:
            need = parser.send(await reader.readexactly(need))
        except StopIteration as done:
            return done.value


@dataclass(frozen=True)
class Await:
    """Wait until the client has sent a frame with ``opcode`` (bounded by ``seconds``)."""

    opcode: int
    seconds: float = MAX_AWAIT


@dataclass(frozen=True)
class Filled:
    """One unmasked frame whose payload is ``size`` times the byte ``fill``, made when the step
    runs, into the buffer of the write that sends it (``Peer.send_all``): the 1, 4 and 16
    MiB+1 messages of ``ws.max-size-default`` were 21 MiB of every worker's memory from
    collection on, and 21 MiB more joined to be sent. Never a Close (the server notes its
    own)."""

    opcode: int
    size: int
    fill: int = ord("a")

    def head(self) -> bytes:
        return frame(self.opcode, b"")[:1] + frame_length(self.size)


def frame_length(n: int) -> bytes:
    """The length field of an unmasked frame of ``n`` payload bytes (RFC 6455 §5.2: the minimal form)."""
    if n < 126:
        return bytes([n])
    if n < 1 << 16:
        return bytes([126]) + n.to_bytes(2, "big")
    return bytes([127]) + n.to_bytes(8, "big")


Step = bytes | Filled | Sleep | Close | Await


@dataclass(frozen=True)
class WsScript(Script):
    """What a WebSocket fixture server does for one cell.

    ``status`` other than 101 refuses the upgrade with that plain HTTP answer;
    ``accept="bad"`` sends a wrong ``Sec-WebSocket-Accept``; ``subprotocol`` is the
    one the server selects (raw server: sent whatever was offered; echo server:
    chosen only when the client offered it). ``steps`` run after the handshake.
    """

    status: int = 101
    accept: str = "good"
    subprotocol: str | None = None
    steps: tuple[Step, ...] = ()
    #: The ``Sec-WebSocket-Extensions`` value of the 101 (raw server), whatever was offered.
    extensions: str | None = None
    #: More header fields of the answer (a ``Location`` for a refused upgrade); values may
    #: name ``{base}``: this server's origin and the cell's route prefix.
    headers: tuple[tuple[str, str], ...] = ()
    #: Scripts for other paths of the cell's route (``"/next"``: the target of a redirect).
    paths: tuple[tuple[str, WsScript], ...] = ()

    def at(self, subpath: str) -> WsScript:
        return next((s for path, s in self.paths if path == subpath), self)


def upgrade_response(script: WsScript, key: str, base: str = "") -> bytes:
    extra = [f"{k}: {v.replace('{base}', base)}" for k, v in script.headers]
    if script.status != 101:
        body = b"not a websocket endpoint\n"
        lines = [f"HTTP/1.1 {script.status} {reason_for(script.status)}", "Content-Type: text/plain", *extra,
                 f"Content-Length: {len(body)}", "Connection: close"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    accept = accept_for(key) if script.accept == "good" else accept_for(key + "x")
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept}"]
    if script.subprotocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {script.subprotocol}")
    if script.extensions is not None:
        lines.append(f"Sec-WebSocket-Extensions: {script.extensions}")
    return ("\r\n".join([*lines, *extra]) + "\r\n\r\n").encode("latin-1")


class Peer:
    """The client side of one connection, as read by the server: its frames, in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.frames: list[Frame] = []
        self.close_sent = False
        self.changed = asyncio.Event()
        self.done = False

    async def read_all(self) -> None:
        """Read frames until the client's Close (answered) or the end of the stream."""
        try:
            while True:
                f = await read_frame(self.reader)
                self.frames.append(f)
                self.changed.set()
                if f.opcode == CLOSE:
                    if not self.close_sent:
                        self.send(close(f.close_code) if f.close_code is not None else close())
                    break
        except (asyncio.IncompleteReadError, ConnectionError, FrameError, ssl.SSLError, OSError):
            pass
        finally:
            self.done = True
            self.changed.set()

    def send(self, data: bytes) -> None:
        """Write frames (one or several, whole); a Close among them is noted."""
        if self.writer.is_closing():
            return
        if any(f.opcode == CLOSE for f in frames_in(data)):
            self.close_sent = True
        self.writer.write(data)

    def send_all(self, pending: list[bytes | Filled]) -> None:
        """Write the pending frames in one write (see ``_steps``): ``bytes`` as they are, a
        ``Filled`` frame made into the same buffer a piece at a time (never made on its own,
        then copied). Several writes instead of one, a ``Filled`` frame's head and pieces,
        made a client's Close after a refused message go missing now and then (aiohttp-ws
        and curl_cffi-ws, ws.max-size-default): one write keeps the byte stream as it was."""
        if not any(isinstance(p, Filled) for p in pending):
            self.send(b"".join(p for p in pending if isinstance(p, bytes)))
            return
        if self.writer.is_closing():
            return
        if any(f.opcode == CLOSE for p in pending if isinstance(p, bytes) for f in frames_in(p)):
            self.close_sent = True
        size = sum(len(p) if isinstance(p, bytes) else len(p.head()) + p.size for p in pending)
        out, at = bytearray(size), 0
        for p in pending:
            parts: list[bytes] = [p] if isinstance(p, bytes) else [p.head()]
            for part in parts:
                out[at:at + len(part)] = part
                at += len(part)
            if isinstance(p, Filled):
                piece = bytes([p.fill]) * min(p.size, PIECE)
                for start in range(0, p.size, PIECE):
                    n = min(PIECE, p.size - start)
                    out[at:at + n] = piece if n == PIECE else piece[:n]
                    at += n
        self.writer.write(memoryview(out))  # a slice of a memoryview is not a copy

    async def wait_for(self, opcode: int, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + min(seconds, MAX_AWAIT)
        while not self.done and not any(f.opcode == opcode for f in self.frames):
            left = end - loop.time()
            if left <= 0:
                return
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                return


def frames_in(data: bytes) -> list[Frame]:
    """The heads of the whole frames in ``data`` (bytes a script writes)."""
    out, at = [], 0
    while at < len(data):
        head = frame_head(data[at:at + 14])
        if head is None:
            break
        f, size = head
        out.append(f)
        at += size + f.on_wire
    return out


def server_error(registry: Registry, route: Route | None) -> None:
    """Record the exception being handled: on its cell, or as an orphan of the run."""
    note = f"server error: {traceback.format_exc(limit=3)}"
    if route is not None:
        route.record(error=note)
    else:
        registry.orphans.append(note)


class FrameServer(HTTPServer):
    """The raw frame server, plain (``ws://``) or TLS (``wss://``)."""

    _ids = itertools.count(1)

    @property
    def scheme(self) -> str:
        return "wss" if self.tls else "ws"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = next(self._ids)
        route: Route | None = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), LINGER)
            route = self.registry.find(head)
            if route is None or not isinstance(route.script, WsScript):
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nno route\n")
                return
            ended = route.enter(writer.transport)
            if ended is None:  # the cell timed out: cut, record nothing
                return
            connect = self.registry.claim_tunnel(writer.get_extra_info("peername"))
            if connect is not None:  # this connection is a proxy's tunnel: its CONNECT came first
                route.record(connect)
            try:
                await self._session(conn, head, route, route.script, reader, writer)
            finally:
                ended()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ConnectionError, ssl.SSLError):
            pass
        except Exception:  # a bug of ours: tell the cell, keep serving others
            server_error(self.registry, route)
        finally:
            writer.close()

    async def _session(self, conn: int, head: bytes, route: Route, script: WsScript,
                       reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, target, version, headers = parse_head(head[:-4])
        except BadRequest as exc:
            route.record(Capture("", "", "", (), b"", "invalid", head, conn, problem=str(exc), server=self.authority))
            return
        capture = Capture(method, target, version, headers, b"", "none", head, conn, server=self.authority)
        script = script.at(target.split(route.prefix, 1)[-1].split("?", 1)[0])
        key = capture.header("Sec-WebSocket-Key")
        if key is None:
            route.record(capture)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        peer = Peer(reader, writer)
        try:
            writer.write(upgrade_response(script, key, self.origin + route.prefix))
            if script.status != 101:
                return
            reading = asyncio.ensure_future(peer.read_all())
            try:
                with contextlib.suppress(ConnectionError, ssl.SSLError):
                    await self._steps(script, peer, writer)
                # Even when a write failed (the client hung up with our frames unread, and its
                # kernel reset the connection), what it sent before is still to be read: its Close.
                await asyncio.wait_for(asyncio.shield(reading), LINGER)
            except (asyncio.TimeoutError, ConnectionError, ssl.SSLError):
                pass
            finally:
                reading.cancel()
        finally:
            route.record(replace(capture, frames=tuple(peer.frames)))

    async def _steps(self, script: WsScript, peer: Peer, writer: asyncio.StreamWriter) -> None:
        """Run the steps. Frames in a row go out in one write: all of them reach the client
        before it can react to the first, so a client that hangs up at once (its kernel
        resetting the connection over our unread frames) never fails one of our writes, which
        would make asyncio drop the connection before its Close frame is read."""
        pending: list[bytes | Filled] = []
        for step in (*script.steps, None):
            if isinstance(step, Filled):
                pending.append(step)
                continue
            if isinstance(step, bytes):
                if not (step[:1] and step[0] & 0xF == CLOSE and (peer.close_sent or any(
                        isinstance(p, bytes) and p[:1] and p[0] & 0xF == CLOSE for p in pending))):
                    pending.append(step)  # one Close from the server: a later one is skipped
                continue
            if pending:
                if peer.done or writer.is_closing():
                    return
                peer.send_all(pending)
                pending = []
                await writer.drain()
            if peer.done or writer.is_closing():
                return
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Await):
                await peer.wait_for(step.opcode, step.seconds)
            elif isinstance(step, Close):
                drop(writer, step.reset)
                return
