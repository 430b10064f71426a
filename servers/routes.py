"""Routes: how one long-lived server serves many cells without mixing them up.

Servers start once per session (per xdist worker) and every cell talks to the
same ones. Each cell opens a ``Route``: a fresh token, a script, and the list
its requests are captured into. A client reaches the route through the path
prefix ``/c/<token>``, so captures of different cells never mix, and a redirect
to another server (another origin) still lands in the same route.

The registry is shared by the server threads and the test thread; a lock guards
it. A route also keeps the transports it served, so the runner can cut them when
a client hangs past the cell deadline, and a count of requests still being
read, so the runner can wait for the capture to settle before grading.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from model.cell import Capture, TLSSeen
from model.script import TOKEN_PATH, Script

PREFIX = "/c/"
TOKEN = re.compile(TOKEN_PATH.encode() + rb"(?=[/?# ]|$)")

#: How long the runner waits for a server to finish capturing after the client is done.
SETTLE = 0.5


@dataclass
class Route:
    token: str
    script: Script
    captures: list[Capture] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Requests of this route whose head arrived but whose capture is not recorded yet.
    reading: int = 0
    #: Set when the runner gave up on the cell: further connections are cut at once.
    aborted: bool = False
    transports: list[tuple[asyncio.AbstractEventLoop, asyncio.WriteTransport]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    #: Every ClientHello a TLS server read while this route was the newest one open.
    hellos: list[TLSSeen] = field(default_factory=list)
    #: A route of a waiting row's cell, which may run beside another cell (fixtures.ahead):
    #: never taken for the running cell by ``Registry.newest``.
    beside: bool = False

    @property
    def prefix(self) -> str:
        return PREFIX + self.token

    def enter(self, transport: asyncio.WriteTransport) -> Callable[[], None] | None:
        """A connection's work for this route begins; call the returned function once it is done.

        Called on the server's loop. None when the route was aborted (the runner gave up on
        its cell): the caller closes the connection at once and records nothing. The check
        and the registration are one step under the lock, so a connection that arrives while
        ``abort`` runs is either cut by it or refused here, never left open.
        """
        loop = asyncio.get_running_loop()
        with self.cond:
            if self.aborted:
                return None
            self.reading += 1
            if (loop, transport) not in self.transports:
                self.transports.append((loop, transport))
        done = False

        def end() -> None:
            nonlocal done
            if not done:
                done = True
                self._end()

        return end

    def abort(self) -> None:
        """Cut every connection this route served (a client hung past its deadline)."""
        with self.cond:
            self.aborted = True
            transports = list(self.transports)
        for loop, transport in transports:
            if not loop.is_closed():
                loop.call_soon_threadsafe(transport.abort)

    def record(self, capture: Capture | None = None, error: str | None = None) -> None:
        with self.cond:
            if capture is not None:
                self.captures.append(capture)
            if error is not None:
                self.errors.append(error)

    def amend(self, old: Capture, new: Capture) -> None:
        """Replace a capture already recorded (the h2 server completes a request's connection
        frames when the connection ends); recorded anew if it is not there."""
        with self.cond:
            for i, c in enumerate(self.captures):
                if c is old:
                    self.captures[i] = new
                    return
            self.captures.append(new)

    def _end(self) -> None:
        with self.cond:
            self.reading = max(0, self.reading - 1)
            self.cond.notify_all()

    def settle(self, timeout: float = SETTLE) -> None:
        """Wait until no request of this route is half-read (bounded)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.reading and (left := deadline - time.monotonic()) > 0:
                self.cond.wait(left)

    def count(self) -> int:
        """How many requests this cell has made so far (every server's captures)."""
        with self.cond:
            return len(self.captures)

    def snapshot(self) -> tuple[tuple[Capture, ...], tuple[str, ...]]:
        with self.cond:
            return tuple(self.captures), tuple(self.errors)

    def hello(self, seen: TLSSeen) -> None:
        with self.cond:
            self.hellos.append(seen)


class Registry:
    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        #: Server errors that could not be tied to any cell (shown in the run record).
        self.orphans: list[str] = []
        #: Each named fixture server's origin (``http`` -> ``http://127.0.0.1:PORT``), for scripts.
        self.origins: dict[str, str] = {}
        #: CONNECT requests whose tunnel is open, by the proxy's end of it (host, port): the
        #: origin server records one on its cell *before* the request that came through it.
        self._tunnels: dict[tuple[object, ...], Capture] = {}

    def tunnel_opened(self, here: tuple[object, ...], connect: Capture) -> None:
        with self._lock:
            self._tunnels[tuple(here[:2])] = connect

    def tunnel_closed(self, here: tuple[object, ...]) -> Capture | None:
        """Forget a tunnel; its CONNECT if no origin request claimed it (the proxy records it then)."""
        with self._lock:
            return self._tunnels.pop(tuple(here[:2]), None)

    def claim_tunnel(self, peer: tuple[object, ...] | None) -> Capture | None:
        """The CONNECT behind a connection from ``peer`` to an origin server, once."""
        if peer is None:
            return None
        with self._lock:
            return self._tunnels.pop(tuple(peer[:2]), None)

    def open(self, script: Script, beside: bool = False) -> Route:
        route = Route(token=f"t{next(self._ids)}", script=script, beside=beside)
        with self._lock:
            self._routes[route.token] = route
        return route

    def close(self, route: Route) -> None:
        with self._lock:
            self._routes.pop(route.token, None)

    def newest(self) -> Route | None:
        """The route opened last, waiting rows' cells aside: a process runs one other cell at a
        time, and a cell opens its route first, so a TLS connection that never sent a request
        (no path, no token) belongs to it. Waiting rows (``Scenario.waits``, which run beside
        it: fixtures.ahead) open their routes ``beside`` and are never it."""
        with self._lock:
            return next((r for r in reversed(self._routes.values()) if not r.beside), None)

    def find(self, raw: bytes) -> Route | None:
        """The route a request (or what arrived of one) belongs to, by its prefix."""
        match = TOKEN.search(raw[:8192])
        if not match:
            return None
        with self._lock:
            return self._routes.get(match.group(1).decode())

    def served(self, peer: tuple[str, int]) -> Route | None:
        """The open route a connection from ``peer`` (host, port) has reached, if any.

        A CONNECT tunnel is opaque to the proxy; this is how it learns which cell the
        request inside the tunnel belonged to: by the far end of its own connection.
        """
        with self._lock:
            routes = list(self._routes.values())
        for route in routes:
            with route.cond:
                transports = [t for _, t in route.transports]
            for transport in transports:
                name = transport.get_extra_info("peername")
                if name is not None and tuple(name[:2]) == tuple(peer[:2]):
                    return route
        return None

    def subpath(self, target: str, route: Route) -> str:
        """The path after the route prefix, without query: ``/next``, or ``/``."""
        idx = target.find(route.prefix)
        rest = target[idx + len(route.prefix):] if idx >= 0 else target
        rest = rest.split("?", 1)[0].split("#", 1)[0]
        return rest or "/"
