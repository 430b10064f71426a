"""A scripted HTTP/1.1 server on asyncio that captures every request byte-exactly.

Theory: the server is the *witness* of a cell. It must record what the client put
on the wire without normalising it (header order and case, the target's exact
bytes, how the body was framed), and then do exactly what the cell's script says,
malformed or not. It never trusts the client: whatever arrives (garbage, half a
request, a reset) ends in a capture or an error note, never in a dead server.

One instance runs on its own thread with its own event loop (``model.loop``),
bound to 127.0.0.1 port 0, plain or TLS. Keep-alive works: a connection serves
requests until either side closes it.

    RFC 9112 §2.2: "a recipient that receives whitespace between the start-line
    and the first header field MUST either reject the message as invalid or ..."
    -- we are lenient on purpose: this server records, it does not police. A
    request it cannot parse is captured with framing ``invalid`` and answered 400.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import ssl
import struct
import traceback
from collections.abc import Callable

from model.cell import Capture, TLSSeen
from model.loop import LoopThread
from model.script import AFTER_END, MAX_HOLD, MAX_STREAM, Close, Context, HalfClose, Hold, Linger, Send, Sleep, Stream
from servers.routes import Registry, Route

#: Limits that keep a misbehaving client from exhausting the server.
MAX_HEAD = 256 * 1024
MAX_BODY = 64 * 1024 * 1024
#: How long a connection may sit idle between requests before the server closes it (and how
#: long a request head may take to arrive).
IDLE = 10.0
#: How long a request body may take to arrive once its head is in: a stalled upload is
#: answered 408 and its connection closed, as a stalled head is closed after IDLE.
BODY_TIMEOUT = 10.0

BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def drop(writer: asyncio.StreamWriter, reset: bool) -> None:
    """End the TCP connection now: a FIN, or a RST (SO_LINGER 0, then abort) when ``reset``."""
    if reset:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


def send_then_fin(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Write ``data`` and the FIN as one: corked (TCP_CORK, Linux), the last bytes and the
    FIN leave together, so a client that has read the response can already see that the
    connection ended (its next request never races our close). Elsewhere: back to back."""
    sock = writer.get_extra_info("socket")
    cork = getattr(socket, "TCP_CORK", None)
    if sock is not None and cork is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
        except OSError:
            cork = None
    writer.write(data)
    writer.write_eof()
    if sock is not None and cork is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, cork, 0)


class BadRequest(Exception):
    """The request cannot be parsed; the message says why."""

    status = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class SlowBody(BadRequest):
    """The request body did not arrive within BODY_TIMEOUT.

    RFC 9110 §15.5.9: "The 408 (Request Timeout) status code indicates that the server did
    not receive a complete request message within the time that it was prepared to wait."
    """

    status = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def parse_head(head: bytes) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise BadRequest(f"bad request line {lines[0][:80]!r}")
    method, target, version = parts
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # obs-fold: keep it visible, joined with a space
            name, value = headers.pop()
            headers.append((name, value + " " + line.strip(" \t")))
            continue
        name, sep, value = line.partition(":")
        if not sep or not name:
            raise BadRequest(f"bad header line {line[:80]!r}")
        headers.append((name, value.strip(" \t")))
    return method, target, version, tuple(headers)


def framing_of(headers: tuple[tuple[str, str], ...]) -> tuple[str, int]:
    """RFC 9112 §6.3: Transfer-Encoding wins over Content-Length."""
    te = [v for k, v in headers if k.lower() == "transfer-encoding"]
    cl = [v for k, v in headers if k.lower() == "content-length"]
    if te:
        if te[-1].split(",")[-1].strip().lower() != "chunked":
            raise BadRequest(f"transfer-encoding without final chunked: {te!r}")
        return "chunked", 0
    if cl:
        values = {v.strip() for v in ",".join(cl).split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            raise BadRequest(f"invalid content-length {cl!r}")
        length = int(next(iter(values)))
        if length > MAX_BODY:
            raise BadRequest(f"content-length {length} over the server's limit")
        return "content-length", length
    return "none", 0


async def read_chunked(reader: asyncio.StreamReader, raw: bytearray) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    body = bytearray()
    while True:
        line = await reader.readuntil(b"\r\n")
        raw += line
        size_text = line[:-2].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadRequest(f"bad chunk size {size_text[:20]!r}") from None
        if len(body) + size > MAX_BODY:
            raise BadRequest("chunked body over the server's limit")
        if size == 0:
            break
        data = await reader.readexactly(size + 2)
        raw += data
        if data[-2:] != b"\r\n":
            raise BadRequest("chunk data not followed by CRLF")
        body += data[:-2]
    trailers: list[tuple[str, str]] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        raw += line
        if line == b"\r\n":
            break
        name, _, value = line.decode("latin-1").partition(":")
        trailers.append((name, value.strip()))
    return bytes(body), tuple(trailers)


async def read_body(reader: asyncio.StreamReader, framing: str, length: int,
                    raw: bytearray) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    """A request's body by its framing, and its trailers if chunked; ``raw`` grows with what was read.

    Bounded in time (BODY_TIMEOUT, read when called): SlowBody when the body stalls."""
    async def read() -> tuple[bytes, tuple[tuple[str, str], ...]]:
        if framing == "chunked":
            return await read_chunked(reader, raw)
        body = await reader.readexactly(length) if length else b""
        raw.extend(body)
        return body, ()

    if framing == "none":
        return b"", ()
    try:
        return await asyncio.wait_for(read(), BODY_TIMEOUT)
    except asyncio.TimeoutError:
        raise SlowBody(f"request body not complete within {BODY_TIMEOUT:g} s") from None


class HTTPServer:
    """One scripted server: ``start()`` binds and returns; ``stop()`` ends it."""

    def __init__(
        self,
        registry: Registry,
        loop: LoopThread | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.registry = registry
        #: Each server on its own thread and event loop (made here unless one is handed in),
        #: so a slow or stuck connection on one server never delays another's.
        self._owns_loop = loop is None
        self.loop = loop if loop is not None else LoopThread(f"clientmatrix-{type(self).__name__}")
        self.tls = tls
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._conns = itertools.count(1)
        #: A connection's wait for its next request, when a script's ``Linger`` shortened it.
        self._linger: dict[int, float] = {}

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.authority}"

    def start(self) -> HTTPServer:
        async def bind() -> asyncio.Server:
            return await asyncio.start_server(
                self._serve, self.host, self.port, ssl=self.tls, limit=MAX_HEAD, reuse_address=True
            )

        try:
            self._server = self.loop.run(bind())
        except BaseException:
            self.release_loop()  # a server that could not bind leaves no thread behind
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            server = self._server
            self._server = None

            async def close() -> None:
                server.close()

            self.loop.run(close())
        self.release_loop()

    def release_loop(self) -> None:
        """Stop the server's own loop and its thread (a loop handed in is its owner's)."""
        if self._owns_loop:
            self.loop.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = next(self._conns)
        try:
            while await self._exchange(conn, reader, writer) is not None:
                pass
        except (ConnectionError, ssl.SSLError):
            pass  # the client went away: nothing to record beyond what was captured
        except Exception:  # a bug of ours outside any cell: kept for the run, server goes on
            self.registry.orphans.append(f"server error: {traceback.format_exc(limit=3)}")
        finally:
            self._linger.pop(conn, None)
            writer.close()

    async def _exchange(
        self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Route | None:
        """Serve one request on a connection; None when the connection is done."""
        raw = bytearray()
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self._linger.pop(conn, IDLE))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ConnectionError, ssl.SSLError) as exc:
            partial = getattr(exc, "partial", b"") or b""
            if partial.strip():
                self._invalid(conn, bytes(partial), f"incomplete request head: {type(exc).__name__}")
            return None
        raw += head
        route = self.registry.find(head)
        if route is None:
            return await self._handle(conn, head, raw, reader, writer, None)
        captured = route.enter(writer.transport)
        if captured is None:  # the cell timed out: cut, record nothing
            return None
        connect = self.registry.claim_tunnel(writer.get_extra_info("peername"))
        if connect is not None:  # this connection is a proxy's tunnel: its CONNECT came first
            route.record(connect)
        try:
            return await self._handle(conn, head, raw, reader, writer, route, captured)
        except (ConnectionError, asyncio.CancelledError):
            raise
        except Exception:  # a bug of ours (or of a scenario's script): the cell says error
            route.record(error=f"server error: {traceback.format_exc(limit=3)}")
            return None
        finally:
            captured()

    async def _handle(
        self,
        conn: int,
        head: bytes,
        raw: bytearray,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        route: Route | None,
        captured: Callable[[], None] = lambda: None,
    ) -> Route | None:
        # An h2 origin's HTTP/1.1 fallback routes an H2Script here, which has no ``early``.
        early = route is not None and bool(getattr(route.script, "early", False))
        body: bytes = b""
        trailers: tuple[tuple[str, str], ...] = ()
        try:
            method, target, version, headers = parse_head(head[:-4])
            framing, length = framing_of(headers)
            if not early:  # else the script answers from the head: the body stays unread
                if framing != "none" and any(
                    k.lower() == "expect" and v.lower() == "100-continue" for k, v in headers
                ):
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body, trailers = await read_body(reader, framing, length, raw)
        except (BadRequest, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            partial = getattr(exc, "partial", b"") or b""
            self._invalid(conn, bytes(raw) + partial, str(exc) or type(exc).__name__, route)
            captured()
            writer.write(exc.status if isinstance(exc, BadRequest) else BAD_REQUEST)
            return None
        capture = Capture(method, target, version, headers, body, framing, bytes(raw), conn, trailers,
                          server=self.authority, tls=self.tls_seen(writer),
                          problem="body not read: the server answered first" if early and framing != "none" else "")
        if route is None:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno route\n")
            await writer.drain()
            return route if self._keep_alive(capture) else None
        route.record(capture)
        captured()
        response = route.script.respond(capture, self.registry.subpath(target, route), route.count())
        ctx = Context(origin=self.origin, base=self.origin + route.prefix,
                      origins=self.registry.origins, prefix=route.prefix)
        actions = response.actions(capture, ctx)
        for index, action in enumerate(actions):
            if isinstance(action, Send):
                if index + 1 < len(actions) and actions[index + 1] in (Close(), HalfClose()) \
                        and writer.can_write_eof():
                    send_then_fin(writer, action.data)
                else:
                    writer.write(action.data)
                await writer.drain()
            elif isinstance(action, Stream):
                written = 0
                for piece in action.pieces():
                    writer.write(piece)
                    await writer.drain()
                    written += len(piece)
                    if written >= MAX_STREAM:
                        break
            elif isinstance(action, HalfClose):
                if writer.can_write_eof():
                    writer.write_eof()  # a second write_eof (after send_then_fin) does nothing
            elif isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
            elif isinstance(action, Hold):
                try:
                    await asyncio.wait_for(reader.read(), min(action.seconds, 10.0))
                except asyncio.TimeoutError:
                    pass
                return None
            elif isinstance(action, Linger):
                if not self._keep_alive(capture):  # the client closes after this response
                    writer.write(AFTER_END)
                    await writer.drain()
                    return None
                self._linger[conn] = min(action.seconds, MAX_HOLD)
            elif isinstance(action, Close):
                if action.reset:
                    drop(writer, reset=True)
                return None
        return route if self._keep_alive(capture) and not early else None

    def tls_seen(self, writer: asyncio.StreamWriter) -> TLSSeen | None:
        """What the server saw of the connection's TLS, for the capture (servers.tls fills it)."""
        return None

    @staticmethod
    def _keep_alive(capture: Capture) -> bool:
        tokens = {t.strip().lower() for v in capture.header_all("connection") for t in v.split(",")}
        if capture.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens

    def _invalid(self, conn: int, raw: bytes, problem: str, route: Route | None = None) -> None:
        """Record a request the server could not parse, on its cell if it names one."""
        route = route or self.registry.find(raw)
        first = raw.split(b"\r\n", 1)[0].decode("latin-1")
        parts = first.split(" ")
        capture = Capture(
            method=parts[0] if parts else "",
            target=parts[1] if len(parts) > 1 else "",
            version=parts[2] if len(parts) > 2 else "",
            headers=(),
            body=b"",
            framing="invalid",
            raw=raw,
            connection=conn,
            problem=problem,
            server=self.authority,
        )
        if route is not None:
            route.record(capture)
