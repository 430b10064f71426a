"""Fixture servers: the local peers every cell talks to.

    servers/
      script.py   Reply / Raw and the actions they compile to (what to answer)
      routes.py   Registry / Route: one route per cell, captures kept apart
      http.py     HTTPServer: scripted HTTP/1.1, plain or TLS, byte-exact capture
      loop.py     LoopThread: each server on its own thread and event loop
      certs.py    trustme CA and loopback leaf, made at run time

``Servers`` starts the set a test session needs, once (per xdist worker): plain
HTTP and HTTPS on 127.0.0.1 port 0, and, when a scenario asks for the scheme's
default port, a plain server on port 80 of a spare loopback address; ``closed`` is
a port where nothing listens (``servers.closed``), for connection-refused rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from servers.certs import Certs, make_certs
from servers.closed import ClosedPort
from servers.http import HTTPServer
from servers.loop import LoopThread
from servers.routes import Registry, Route
from servers.script import Script

__all__ = ["Servers", "ServerUnavailable", "Route", "Script"]

#: Which named server a scenario may ask for.
ORIGINS = ("http", "https", "http-80", "closed")
#: How many loopback addresses to try for a port-80 server before giving up.
PORT80_TRIES = 20


class ServerUnavailable(Exception):
    """A fixture server could not start; the message says why and what to do."""


@dataclass
class Servers:
    registry: Registry = field(default_factory=Registry)
    certs: Certs | None = None
    loop: LoopThread | None = None
    started: dict[str, HTTPServer | ClosedPort] = field(default_factory=dict)
    port80_problem: str | None = None

    def start(self) -> Servers:
        self.loop = LoopThread("clientmatrix-servers")
        self.certs = make_certs()
        try:
            self.started["http"] = HTTPServer(self.registry, self.loop).start()
            self.started["https"] = HTTPServer(
                self.registry, self.loop, tls=self.certs.server_context()
            ).start()
        except OSError as exc:
            self.stop()
            raise ServerUnavailable(
                f"cannot bind a fixture server on 127.0.0.1: {exc}. clientmatrix needs the "
                "loopback interface; check that 127.0.0.1 is up and that ports can be bound."
            ) from exc
        return self

    def server(self, name: str) -> HTTPServer | ClosedPort:
        """The named server; ``http-80`` is started on first use (it may be refused)."""
        if name == "http-80" and name not in self.started:
            self.started[name] = self._start_port80()
        if name == "closed" and name not in self.started:
            self.started[name] = ClosedPort().start()
        return self.started[name]

    def _start_port80(self) -> HTTPServer:
        assert self.loop is not None
        if self.port80_problem:
            raise ServerUnavailable(self.port80_problem)
        last: Exception | None = None
        for _ in range(PORT80_TRIES):
            host = f"127.0.0.{random.randint(2, 254)}"
            try:
                return HTTPServer(self.registry, self.loop, host=host, port=80).start()
            except OSError as exc:
                last = exc
        self.port80_problem = (
            f"cannot bind port 80 on a loopback address ({last}); this scenario needs the "
            "scheme's default port: run as a user that may bind ports below 1024"
        )
        raise ServerUnavailable(self.port80_problem)

    def url(self, name: str, route: Route, path: str) -> str:
        return self.server(name).origin + route.prefix + path

    def stop(self) -> None:
        for server in self.started.values():
            server.stop()
        self.started.clear()
        if self.loop is not None:
            self.loop.stop()
            self.loop = None
