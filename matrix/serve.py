"""``python -m matrix serve ROW``: a row's scripted fixture servers, for its reproducers.

    find(row_id) -> (scenario, module)    the row, from suites/test_*.py
    Serving(scenario).start()             the fixture servers on fixed loopback ports
                                          (matrix.reproduce.SERVE_PORTS), every request
                                          answered by the row's script, with or without the
                                          ``/c/<token>`` prefix a run's cells use
    main(row_id, seconds, client)         print the URL, the trust files' folder, what the
                                          server sends; serve until Ctrl-C or ``seconds``

Every snippet in a report points at these ports, so a reproducer copied from any report
runs against this as printed (TLS snippets name ``ca.pem``, ``client.pem`` and
``client.key``: run them from the folder printed, which holds this server's own). Loopback
only; bounded in time (``--seconds``, at most ``MAX_SECONDS``); the certificates' folder is
removed at the end.

A row whose answer depends on how many requests came before (a redirect chain that
stops) counts every request since the server started: restart it between runs.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from matrix.reproduce import SERVE_HOST, SERVE_PORTS, row_meta, snippet
from matrix.terminal import safe, served_lines

#: The longest a serve command runs, whatever --seconds says.
MAX_SECONDS = 3600.0
SUITES = Path(__file__).resolve().parent.parent / "suites"


class ServeError(Exception):
    """The row is unknown, or a port is taken: the message says which."""


def find(row_id: str) -> tuple[Any, str]:
    """The scenario with this id and its module's path (``suites/test_x.py``)."""
    import suites

    known: list[str] = []
    for info in pkgutil.iter_modules(suites.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"suites.{info.name}")
        for scenario in getattr(module, "SCENARIOS", []):
            if scenario.id == row_id:
                return scenario, f"suites/{info.name}.py"
            known.append(scenario.id)
    close = [k for k in known if row_id.split(".")[0] == k.split(".")[0]][:8]
    raise ServeError(f"no row {row_id!r}" + (f" (rows of that group: {', '.join(close)} ...)" if close else ""))


def serving(scenario: Any) -> Any:
    """The fixture servers for ``scenario`` on the fixed ports, started, with its route."""
    from model.script import script
    from servers import Servers
    from servers.certs import make_certs
    from servers.http import HTTPServer
    from servers.origins import AliasServer
    from servers.proxy import ProxyServer
    from servers.routes import Registry

    class Default(Registry):
        """Every request without a cell prefix goes to the one route this command serves."""

        route: Any = None

        def find(self, raw: bytes) -> Any:
            return super().find(raw) or self.route

    class Fixed(Servers):
        """The session's servers, on SERVE_PORTS instead of port 0."""

        def start(self) -> Fixed:
            self.certs = make_certs()
            try:
                self.started["http"] = HTTPServer(self.registry, port=SERVE_PORTS["http"]).start()
                self.started["https"] = HTTPServer(self.registry, tls=self.certs.server_context(),
                                                   port=SERVE_PORTS["https"]).start()
                self.started["http-other"] = HTTPServer(self.registry, port=SERVE_PORTS["http-other"]).start()
                self.started["http-localhost"] = AliasServer(self.registry, alias="localhost",
                                                             port=SERVE_PORTS["http-localhost"]).start()
                self.started["proxy"] = ProxyServer(self.registry).start()
            except OSError as exc:
                self.stop()
                raise ServeError(f"cannot bind the fixture servers on {SERVE_HOST} ports "
                                 f"{SERVE_PORTS['http']}-{SERVE_PORTS['http-localhost']}: {exc.strerror or exc} "
                                 "(another `python -m matrix serve` running?)") from exc
            self.registry.origins.update({name: s.origin for name, s in self.started.items()})
            return self

        def _start_ws(self, name: str) -> HTTPServer:
            from servers import WS_ORIGINS
            from servers.frames import FrameServer
            from servers.ws import EchoServer

            kind, tls = WS_ORIGINS[name]
            assert self.certs is not None
            cls = EchoServer if kind == "echo" else FrameServer
            server = cls(self.registry, tls=self.certs.server_context() if tls else None, port=SERVE_PORTS[name])
            return server.start()

        def _start_h2(self, name: str, port: int = 0) -> HTTPServer:
            return super()._start_h2(name, SERVE_PORTS[name])

        def _start_tls(self, name: str) -> HTTPServer:
            from servers.tls import KINDS, HelloServer

            kind = KINDS[name]
            server = HelloServer(self.registry, None, kind.context(self.tls_kit()), url_host=kind.url_host)
            server.port = SERVE_PORTS.get(name, 0)
            return server.start()

    registry = Default()
    servers = Fixed(registry=registry).start()
    registry.route = registry.open(script(scenario.response))
    for name in {scenario.origin, scenario.request.origin or scenario.origin}:
        try:
            servers.server(name)
        except OSError as exc:
            servers.stop()
            raise ServeError(f"cannot start the {name} server on port {SERVE_PORTS.get(name)}: "
                             f"{exc.strerror or exc}") from exc
    return servers


def trust_files(servers: Any) -> Path:
    """The folder TLS snippets run from: ``ca.pem`` (the CA of these servers), and a client
    certificate and key it issued (``client.pem``, ``client.key``)."""
    folder = Path(servers.certs.folder)
    cert, key = servers.tls_kit().client_files
    shutil.copyfile(cert, folder / "client.pem")
    shutil.copyfile(key, folder / "client.key")
    return folder


def main(row_id: str, seconds: float = 600.0, client: str | None = None) -> int:
    try:
        scenario, module = find(row_id)
        servers = serving(scenario)
    except ServeError as exc:
        print(f"python -m matrix serve: {exc}", file=sys.stderr)
        return 2
    seconds = max(0.1, min(seconds, MAX_SECONDS))
    origin = scenario.request.origin or scenario.origin
    try:
        folder = trust_files(servers)
        url = servers.server(origin).origin + scenario.request.path
        row = row_meta(scenario, f"{module}::test_scenario[{scenario.id}-x]")
        print(f"serving {scenario.id}: {scenario.title}")
        print(f"  url:   {url}")
        print(f"  trust: {folder} (ca.pem, client.pem, client.key: run TLS reproducers from this folder)")
        print("  the server sends:")
        for line in served_lines(row):
            print("  " + safe(line))
        if client:
            print(f"  reproducer ({client}):")
            print("\n".join("    " + line for line in snippet(row, client).rstrip("\n").split("\n")))
        print(f"ready: until Ctrl-C, or {seconds:g} s", flush=True)
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            end = time.monotonic() + seconds
            while not stop.is_set() and (left := end - time.monotonic()) > 0:
                stop.wait(min(left, 0.5))
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        print(f"stopped ({servers.registry.route.count()} requests served)", flush=True)
    finally:
        servers.stop()
        if servers.certs is not None:
            shutil.rmtree(servers.certs.folder, ignore_errors=True)
    return 0
