"""Fixture servers: the local peers every cell talks to.

    servers/
      script.py   Reply / Raw and the actions they compile to (what to answer)
      routes.py   Registry / Route: one route per cell, captures kept apart
      http.py     HTTPServer: scripted HTTP/1.1, plain or TLS, byte-exact capture
      loop.py     LoopThread: each server on its own thread and event loop
      tls.py      TLS server kinds (https-expired ...), started on first use; ClientHello capture
      certs.py    trustme CA and loopback leaf, made at run time
      ws.py       EchoServer: WebSocket echo on the websockets library (ws://, wss://)
      frames.py   FrameServer: raw WebSocket frames, wrong on purpose (ws-raw, wss-raw)
      proxy.py    ProxyServer: a forward proxy (absolute-form and CONNECT) that captures too
      origins.py  the extra named origins: http-other, http-localhost, proxy
      h2.py       H2Server: scripted HTTP/2 (h2, h2-other over TLS with ALPN; h2c cleartext)

``Servers`` starts the set a test session needs, once (per xdist worker): plain
HTTP and HTTPS on 127.0.0.1 port 0, and, when a scenario asks for the scheme's
default port, a plain server on port 80 of a spare loopback address. The extra
named origins of ``servers.origins`` (another port, ``localhost``, the proxy) start
with them; the WebSocket servers start on first use, each kind on its own
thread and loop; ``closed`` is a port where nothing listens (``servers.closed``),
for connection-refused rows. Every started server's origin is in ``registry.origins`` for scripts.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

from model.script import Script
from servers.certs import Certs, make_certs
from servers.closed import ClosedPort
from servers.http import HTTPServer
from servers.origins import start_extra
from servers.routes import Registry, Route
from servers.tls import KINDS as TLS_KINDS
from servers.tls import CannotServe, Kit

__all__ = ["Servers", "ServerUnavailable", "Route", "Script"]

#: Which named server a scenario may ask for.
ORIGINS = ("http", "https", "http-80", "http-80-implicit", "http-other", "http-localhost", "proxy", "socks", "ws",
           "wss", "ws-raw", "wss-raw", "closed", "h2", "h2-other", "h2c")
#: HTTP/2 servers (servers.h2), started on first use: TLS with ALPN, another TLS origin, cleartext.
H2_ORIGINS = ("h2", "h2-other", "h2c")
#: WebSocket servers, started on first use: name -> (kind, TLS).
WS_ORIGINS = {"ws": ("echo", False), "wss": ("echo", True), "ws-raw": ("raw", False), "wss-raw": ("raw", True)}
#: The port-80 server, addressed without a port in the URL.
IMPLICIT_80 = "http-80-implicit"
#: The login and password the run's .netrc holds for 127.0.0.1 (``{netrc_file}``).
NETRC_LOGIN = ("netrc-user", "netrc-pass")
#: How many loopback addresses to try for a port-80 server before giving up.
PORT80_TRIES = 20
#: The TLS server kinds (servers.tls) are origins too, started on first use.
TLS_ORIGINS = tuple(TLS_KINDS)


class ServerUnavailable(Exception):
    """A fixture server could not start; the message says why and what to do."""


@dataclass
class Servers:
    registry: Registry = field(default_factory=Registry)
    certs: Certs | None = None
    tls: Kit | None = None
    started: dict[str, HTTPServer | ClosedPort] = field(default_factory=dict)
    port80_problem: str | None = None
    #: Where the certificates' private folder is made (the run's private folder), else the system's.
    temp_parent: Path | None = None
    #: Servers start on first use, and cells may run side by side (fixtures/ahead.py).
    _starting: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def start(self) -> Servers:
        self.certs = make_certs(self.temp_parent)
        try:
            self.started["http"] = HTTPServer(self.registry).start()
            self.started["https"] = HTTPServer(self.registry, tls=self.certs.server_context()).start()
            self.started.update(start_extra(self.registry))
        except OSError as exc:
            self.stop()
            raise ServerUnavailable(
                f"cannot bind a fixture server on 127.0.0.1: {exc}. clientmatrix needs the "
                "loopback interface; check that 127.0.0.1 is up and that ports can be bound."
            ) from exc
        self.registry.origins.update({name: s.origin for name, s in self.started.items()})
        return self

    def server(self, name: str) -> HTTPServer | ClosedPort:
        """The named server; ``http-80`` is started on first use (it may be refused)."""
        if name in self.started:
            return self.started[name]
        with self._starting:
            return self._server(name)

    def _server(self, name: str) -> HTTPServer | ClosedPort:
        if name in TLS_KINDS and name not in self.started:
            self.started[name] = self._start_tls(name)
        if name == "http-80" and name not in self.started:
            self.started[name] = self._start_port80()
            self.registry.origins[name] = self.started[name].origin
        if name in WS_ORIGINS and name not in self.started:
            self.started[name] = self._start_ws(name)
            self.registry.origins[name] = self.started[name].origin
        if name in H2_ORIGINS and name not in self.started:
            # Both TLS origins at once: a redirect from one names the other ({base:h2-other}).
            for each in (("h2", "h2-other") if name != "h2c" else ("h2c",)):
                self.started[each] = self._start_h2(each)
                self.registry.origins[each] = self.started[each].origin
        if name == "closed" and name not in self.started:
            self.started[name] = ClosedPort().start()
        return self.started[name]

    def _start_h2(self, name: str, port: int = 0) -> HTTPServer:
        from servers.h2 import start as start_h2

        return start_h2(self.registry, self.certs, name, port)

    def _start_ws(self, name: str) -> HTTPServer:
        from servers.frames import FrameServer
        from servers.ws import EchoServer

        kind, tls = WS_ORIGINS[name]
        assert self.certs is not None
        cls = EchoServer if kind == "echo" else FrameServer
        return cls(self.registry, tls=self.certs.server_context() if tls else None).start()

    def _start_port80(self) -> HTTPServer:
        if self.port80_problem:
            raise ServerUnavailable(self.port80_problem)
        last: Exception | None = None
        for _ in range(PORT80_TRIES):
            host = f"127.0.0.{random.randint(2, 254)}"
            try:
                return HTTPServer(self.registry, host=host, port=80).start()
            except OSError as exc:
                last = exc
        self.port80_problem = (
            f"cannot bind port 80 on a loopback address ({last}); this scenario needs the "
            "scheme's default port: run as a user that may bind ports below 1024"
        )
        raise ServerUnavailable(self.port80_problem)

    def url(self, name: str, route: Route, path: str) -> str:
        """A URL on the named server; ``http-80-implicit`` is the port-80 server with the port left
        out of the URL (``http://127.0.0.9/...``), as users write it."""
        if name == IMPLICIT_80:
            return self.server("http-80").origin.removesuffix(":80") + route.prefix + path
        return self.server(name).origin + route.prefix + path

    def netrc_file(self) -> str:
        """A .netrc with credentials for 127.0.0.1 (``NETRC_LOGIN``), in the run's private folder."""
        assert self.certs is not None
        path = self.certs.folder / "netrc"
        if not path.exists():
            path.write_text(f"machine 127.0.0.1 login {NETRC_LOGIN[0]} password {NETRC_LOGIN[1]}\n")
            path.chmod(0o600)
        return str(path)

    def tls_kit(self) -> Kit:
        """The certificates and TLS server kinds beyond the session CA and leaf (made once)."""
        assert self.certs is not None
        if self.tls is None:
            self.tls = Kit(self.certs)
        return self.tls

    def _start_tls(self, name: str) -> HTTPServer:
        try:
            return self.tls_kit().start(name, self.registry)
        except CannotServe as exc:
            raise ServerUnavailable(str(exc)) from exc

    def stop(self) -> None:
        for server in self.started.values():
            server.stop()
        self.started.clear()
        if self.certs is not None:  # the CA file and any client key go with the servers
            self.certs.remove()
