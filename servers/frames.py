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
and ``steps``: ``bytes`` are written as they are, ``Sleep`` pauses, ``Close`` ends
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
import itertools
import ssl
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
#: The longest an ``Await`` step waits for the client.
MAX_AWAIT = 1.0


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


Step = bytes | Sleep | Close | Await


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


def upgrade_response(script: WsScript, key: str) -> bytes:
    if script.status != 101:
        body = b"not a websocket endpoint\n"
        return (f"HTTP/1.1 {script.status} {reason_for(script.status)}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    accept = accept_for(key) if script.accept == "good" else accept_for(key + "x")
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept}"]
    if script.subprotocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {script.subprotocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


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
        if self.writer.is_closing():
            return
        if data[:1] and data[0] & 0xF == CLOSE:
            self.close_sent = True
        self.writer.write(data)

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
        key = capture.header("Sec-WebSocket-Key")
        if key is None:
            route.record(capture)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        peer = Peer(reader, writer)
        try:
            writer.write(upgrade_response(script, key))
            if script.status != 101:
                return
            reading = asyncio.ensure_future(peer.read_all())
            try:
                await self._steps(script, peer, writer)
                await asyncio.wait_for(asyncio.shield(reading), LINGER)
            except (asyncio.TimeoutError, ConnectionError, ssl.SSLError):
                pass
            finally:
                reading.cancel()
        finally:
            route.record(replace(capture, frames=tuple(peer.frames)))

    async def _steps(self, script: WsScript, peer: Peer, writer: asyncio.StreamWriter) -> None:
        for step in script.steps:
            if peer.done or writer.is_closing():
                return
            if isinstance(step, bytes):
                peer.send(step)
                await writer.drain()
            elif isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Await):
                await peer.wait_for(step.opcode, step.seconds)
            elif isinstance(step, Close):
                drop(writer, step.reset)
                return
