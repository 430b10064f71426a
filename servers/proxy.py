"""A forward proxy of our own on loopback: absolute-form HTTP and CONNECT tunnels.

Theory: a proxy row asks one question, "did the request go through the proxy?".
The proxy answers it as a witness, like the origin servers: every request it
handles is captured on the cell's route, byte-exact, with the proxy's authority
as ``server``. So a proxied exchange shows both hops in one capture list: the
request as the proxy received it (absolute-form target, or ``CONNECT host:port``),
then the request as the origin received it.

    RFC 9112 §3.2.2: "When making a request to a proxy, other than a CONNECT or
    server-wide OPTIONS request, a client MUST send the target URI in
    absolute-form as the request-target."
    RFC 9110 §9.3.6: CONNECT "requests that the recipient establish a tunnel to
    the destination origin server identified by the request-target".
    RFC 9110 §7.6.3: "A proxy MUST send an appropriate Via header field ... in
    each message that it forwards."

Absolute-form: the route is found by the token in the target; the request is
forwarded in origin-form with ``Connection: close`` and ``Via``, the response
relayed with ``Connection: close``: one request per client connection, which
keeps the proxy small. CONNECT: the tunnel is opaque (TLS), so the proxy learns
the cell from the origin server's side: the route whose server holds a
connection from the proxy's own end of the tunnel (``Registry.served``). It
records the CONNECT there before relaying the response, so the capture exists
before the client can see its answer.

Bounded everywhere: only loopback destinations, a connect timeout, an idle
timeout per read, a total time and byte budget per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from model.cell import Capture
from servers.http import IDLE, MAX_HEAD, BadRequest, HTTPServer, framing_of, parse_head, read_body
from servers.routes import Route

#: Destinations the proxy will connect to; anything else is refused (403).
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Bounds: connecting upstream, one connection's whole life, bytes relayed (an idle read: http.IDLE).
CONNECT_TIMEOUT = 3.0
LIFETIME = 30.0
MAX_RELAY = 64 * 1024 * 1024
PIECE = 65536

#: Request fields that concern the hop to the proxy, not the origin (RFC 9110 §7.6.1).
HOP_BY_HOP = {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "te", "transfer-encoding",
              "upgrade", "trailer"}
VIA = "1.1 clientmatrix-proxy"


def status(code: int, reason: str) -> bytes:
    return f"HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()


def loopback(host: str | None) -> bool:
    return destination(host) is not None


def destination(host: str | None) -> str | None:
    """The loopback address to connect to for ``host``, or None (refused: not loopback).

    RFC 6761 §6.3: "Users are free to use localhost names as they would any other domain
    names" and name resolution APIs "SHOULD recognize localhost names as special and
    SHOULD always return the IP loopback address": ``localhost``, any name under it
    (``straße.localhost``, ``a_b.localhost``), with or without a trailing dot, in any case,
    goes to 127.0.0.1, with no resolver asked. Such names let host rows run with no DNS.
    """
    name = (host or "").strip("[]").rstrip(".").lower()
    if name in LOOPBACK:
        return "127.0.0.1" if name == "localhost" else name
    if name.endswith(".localhost"):
        return "127.0.0.1"
    return None


def authority(target: str) -> tuple[str, int] | None:
    """A CONNECT target -> (host, port), an IPv6 literal without its brackets; None when malformed.

    RFC 9110 §9.3.6: CONNECT's request target is "only the host and port number of the
    tunnel destination, separated by a colon ... a client MUST send the port number".
    RFC 3986 §3.2.2: an IPv6 literal is "enclosed in square brackets".
    """
    if target.startswith("["):
        host, sep, rest = target[1:].partition("]")
        if not sep or not host or not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, sep, port = target.rpartition(":")
        if not sep or not host or ":" in host or "[" in host or "]" in host:
            return None
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        return None
    return host, int(port)


def upstream_head(method: str, target: str, headers: tuple[tuple[str, str], ...], body_len: int) -> bytes:
    """The request as forwarded to the origin: origin-form, hop-by-hop fields replaced."""
    url = urlsplit(target)
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    kept = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
    if body_len or any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        kept.append(("Content-Length", str(body_len)))
    kept += [("Via", VIA), ("Connection", "close")]
    lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in kept]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def closing(head: bytes) -> bytes:
    """A response head with its connection fields replaced by ``Connection: close``."""
    lines = head[:-4].split(b"\r\n")
    kept = [ln for ln in lines[1:] if ln.split(b":", 1)[0].strip().lower() not in (b"connection", b"keep-alive")]
    return b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"


class ProxyServer(HTTPServer):
    """The proxy: an ``HTTPServer`` (plain, same lifecycle) that relays instead of scripting."""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = next(self._conns)
        try:
            await asyncio.wait_for(self._one(conn, reader, writer), LIFETIME)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # the client went away or overstayed: nothing to record
        except Exception as exc:  # a bug of ours: keep it visible, keep serving
            self.registry.orphans.append(f"proxy error: {type(exc).__name__}: {exc}")
        finally:
            writer.close()

    async def _one(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE)
        raw = bytearray(head)
        try:
            method, target, version, headers = parse_head(head[:-4])
            framing, length = framing_of(headers)
            body, trailers = await read_body(reader, framing, length, raw)
        except BadRequest as exc:
            writer.write(exc.status)
            return
        capture = Capture(method, target, version, headers, body, framing, bytes(raw), conn, trailers,
                          server=self.authority)
        if method == "CONNECT":
            await self._tunnel(capture, reader, writer)
        else:
            await self._forward(capture, writer)

    @staticmethod
    def _record(route: Route | None, capture: Capture | None, writer: asyncio.StreamWriter) -> bool:
        """Capture on the cell's route (the client's connection joins it, so an abort cuts it).

        False when that cell timed out: the caller cuts the connection, as every server does.
        """
        if route is None:
            return True
        ended = route.enter(writer.transport)
        if ended is None:
            return False
        try:
            if capture is not None:
                route.record(capture)
        finally:
            ended()
        return True

    def refusal(self, code: int) -> bytes:
        """What the client is told when the destination is not allowed (403) or not reachable (502)."""
        return status(code, "Forbidden" if code == 403 else "Bad Gateway")

    #: What the client is told once a tunnel is open.
    ESTABLISHED = b"HTTP/1.1 200 Connection Established\r\n\r\n"

    async def _open(self, host: str | None, port: int | None,
                    writer: asyncio.StreamWriter) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to a loopback destination, or None once the client has its 403 or 502."""
        address = destination(host)
        if address is None or port is None:
            writer.write(self.refusal(403))
            return None
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, port, limit=MAX_HEAD), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            writer.write(self.refusal(502))
            return None

    async def _forward(self, capture: Capture, writer: asyncio.StreamWriter) -> None:
        """Absolute-form: capture, forward in origin-form, relay the answer, close."""
        if not self._record(self.registry.find(capture.raw), capture, writer):
            return
        url = urlsplit(capture.target)
        try:
            port = url.port or 80
        except ValueError:  # a port that is not a number, or out of range
            port = None
        if url.scheme != "http" or port is None or not url.hostname:
            writer.write(status(400, "Bad Request"))
            return
        upstream = await self._open(url.hostname, port, writer)
        if upstream is None:
            return
        up_reader, up_writer = upstream
        try:
            up_writer.write(upstream_head(capture.method, capture.target, capture.headers, len(capture.body))
                            + capture.body)
            await up_writer.drain()
            head = await asyncio.wait_for(up_reader.readuntil(b"\r\n\r\n"), IDLE)
            writer.write(closing(head))
            await relay(up_reader, writer)
        finally:
            up_writer.close()

    async def _tunnel(self, capture: Capture, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """CONNECT: a blind tunnel; the cell is found from the origin's side of it."""
        where = authority(capture.target)
        if where is None:
            writer.write(status(400, "Bad Request"))
            return
        upstream = await self._open(*where, writer)
        if upstream is None:
            return
        up_reader, up_writer = upstream
        writer.write(self.ESTABLISHED)
        here = up_writer.get_extra_info("sockname")
        # The origin server records the CONNECT before the request that comes through the
        # tunnel (wire order), when it sees a connection from this end of it.
        self.registry.tunnel_opened(here, capture)
        found: list[Route] = []

        def note(_: bytes) -> None:
            """Before each piece goes back to the client: tie the tunnel to its cell, once."""
            if not found and (route := self.registry.served(here)) is not None:
                found.append(route)
                if not self._record(route, None, writer):
                    writer.transport.abort()

        try:
            await asyncio.gather(relay(reader, up_writer), relay(up_reader, writer, note))
        finally:
            up_writer.close()
            unclaimed = self.registry.tunnel_closed(here)
            if unclaimed is not None and found:  # no request reached the origin: record it here
                found[0].record(unclaimed)


async def relay(source: asyncio.StreamReader, sink: asyncio.StreamWriter,
                before: Callable[[bytes], None] | None = None) -> None:
    """Copy until end of stream, idle timeout or byte budget; then half-close the sink."""
    moved = 0
    start = time.monotonic()
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        while moved < MAX_RELAY and time.monotonic() - start < LIFETIME:
            data = await asyncio.wait_for(source.read(PIECE), IDLE)
            if not data:
                break
            if before is not None:
                before(data)
            sink.write(data)
            await sink.drain()
            moved += len(data)
    with contextlib.suppress(OSError, RuntimeError):
        if sink.can_write_eof():
            sink.write_eof()
