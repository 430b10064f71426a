"""The WebSocket echo server, built on the ``websockets`` library's asyncio server.

Theory: the echo rows (sizes, UTF-8, TLS, subprotocols, permessage-deflate) need
a *correct* peer, so that what differs between cells is the client. A well-tested
server library is that peer; our raw frame server (``servers/frames.py``) is for
the rows where the server must break the protocol.

Each message received is sent back as it came (text stays text). A cell's route
is found from the handshake's path (``/c/<token>``), as for HTTP. The capture is
the handshake request (headers in order and case, as ``websockets`` parsed them)
plus every frame the client sent, as sent: a ``WireTap`` reads the connection's
bytes beside the library (``create_connection=``, the documented hook, gives a
connection class of ours) and keeps each frame's head (RSV1 of a compressed
frame, the real mask bit, the length form and the length on the wire); the
payload recorded beside it is the library's decoding (inflated, unmasked). An
unmasked frame is recorded as unmasked, then refused by the library (RFC 6455
§5.1).

Options: ``compression="deflate"`` (the library's default: permessage-deflate is
accepted when a client offers it), ``max_size`` 8 MiB (the 1 MiB echo fits),
no keepalive pings (a cell must not see pings it did not ask for), and the
subprotocol the cell's ``WsScript`` names, chosen only when the client offered it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from model.cell import Capture, Frame
from servers.frames import CLOSE, WireTap, WsScript, parse_close, server_error
from servers.http import HTTPServer
from servers.routes import Route

#: The largest message the echo server accepts.
MAX_MESSAGE = 8 * 1024 * 1024


class EchoServer(HTTPServer):
    """``websockets.asyncio.server.serve`` on 127.0.0.1 port 0, plain or TLS.

    A connection joins its cell's route in ``process_request`` (refused at once when the
    cell timed out) and leaves it in ``_finish``: when the echo handler ends, or, for a
    handshake that failed after ``process_request`` (the handler never runs), when the
    connection is lost. Either way the capture is recorded and the route ended, once.
    """

    _ids = itertools.count(1)

    @property
    def scheme(self) -> str:
        return "wss" if self.tls else "ws"

    def start(self) -> EchoServer:
        from websockets.asyncio.server import ServerConnection, serve

        echo = self

        class Recording(ServerConnection):
            """A server connection that keeps every frame the client sent."""

            frames: list[Frame]
            tap: WireTap
            route: Route | None = None
            #: Ends the connection's work on its route; None before it began and once ended.
            ended: Callable[[], None] | None = None

            def data_received(self, data: bytes) -> None:
                self.tap.feed(data)
                super().data_received(data)

            def process_event(self, event: Any) -> None:
                if self.request is not None:
                    self.frames.append(recorded(event))
                super().process_event(event)

            def connection_lost(self, exc: Exception | None) -> None:
                try:
                    super().connection_lost(exc)
                finally:
                    echo._finish(self)

        def make(*args: Any, **kwargs: Any) -> Recording:
            conn = Recording(*args, **kwargs)
            conn.frames = []
            conn.tap = WireTap()
            return conn

        async def bind() -> Any:
            return await serve(
                self._echo, self.host, self.port, ssl=self.tls, process_request=self._route,
                select_subprotocol=self._subprotocol,  # type: ignore[arg-type]
                max_size=MAX_MESSAGE, ping_interval=None,
                create_connection=make,  # type: ignore[arg-type]
            )

        self._server = self.loop.run(bind())
        assert self._server is not None
        self.port = list(self._server.sockets)[0].getsockname()[1]
        return self

    def _route(self, conn: Any, request: Any) -> Any:
        route = self.registry.find(request.path.encode("latin-1", "replace"))
        if route is None or not isinstance(route.script, WsScript):
            return conn.respond(404, "no route\n")
        ended = route.enter(conn.transport)
        if ended is None:  # the cell timed out: cut at once, record nothing (the reply is never sent)
            conn.transport.abort()
            return conn.respond(503, "cell aborted\n")
        connect = self.registry.claim_tunnel(conn.transport.get_extra_info("peername"))
        if connect is not None:  # this connection is a proxy's tunnel: its CONNECT came first
            route.record(connect)
        conn.route, conn.ended = route, ended
        return None

    @staticmethod
    def _subprotocol(conn: Any, offered: Sequence[str]) -> str | None:
        script = conn.route.script if conn.route is not None else None
        wanted = script.subprotocol if isinstance(script, WsScript) else None
        return wanted if wanted in offered else None

    async def _echo(self, conn: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for message in conn:
                await conn.send(message)
        except ConnectionClosed:
            pass
        finally:
            self._finish(conn)

    def _finish(self, conn: Any) -> None:
        """Record the handshake and the client's frames on the route, and end it (once)."""
        ended, conn.ended = conn.ended, None
        if ended is None:
            return
        try:
            request = conn.request
            failed = conn.protocol.handshake_exc
            problem = f"handshake refused: {type(failed).__name__}: {failed}" if failed is not None else ""
            capture = Capture("GET", request.path, "HTTP/1.1", tuple(request.headers.raw_items()), b"", "none",
                              request.serialize(), next(self._ids), problem=problem, server=self.authority,
                              frames=as_sent(conn.tap.heads, conn.frames))
            conn.route.record(capture)
        except Exception:  # a bug of ours: the cell says error
            server_error(self.registry, conn.route)
        finally:
            ended()


def recorded(event: Any) -> Frame:
    """A ``websockets`` frame event as our ``Frame``: the application data as decoded."""
    opcode = int(event.opcode)
    rsv = (event.rsv1 << 2) | (event.rsv2 << 1) | int(event.rsv3)
    payload = bytes(event.data)
    code, reason = parse_close(payload) if opcode == CLOSE else (None, "")
    return Frame(opcode, event.fin, rsv, True, payload, code, reason)


def as_sent(heads: list[Frame], decoded: list[Frame]) -> tuple[Frame, ...]:
    """Each frame as the client sent it: the head from the wire (RSV1 of a compressed frame,
    the mask bit, the length form and length), the payload as the library decoded it.

    The library decodes frames in wire order, one event per frame, so the n-th decoded
    frame is the n-th head; a frame the library refused (an unmasked one) has no decoded
    payload, and keeps its head.
    """
    out = []
    for i, head in enumerate(heads):
        if i < len(decoded):
            d = decoded[i]
            out.append(replace(head, payload=d.payload, close_code=d.close_code, close_reason=d.close_reason))
        else:
            out.append(head)
    return tuple(out)
