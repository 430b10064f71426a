"""The named origins a session starts beside ``http`` and ``https``.

    http-other      a second plain HTTP server: another port is another origin
                    (RFC 6454 §4), for cross-origin redirects
    http-localhost  a plain HTTP server addressed as ``localhost`` instead of
                    127.0.0.1 (cookie jars that refuse IP hosts, e.g. aiohttp's)
    proxy           the forward proxy (servers.proxy), for the environment's
                    HTTP_PROXY / HTTPS_PROXY
    socks           a SOCKS5 proxy (servers.socks), for socks5:// proxy URLs

Every server binds 127.0.0.1 on port 0, on a thread and event loop of its own. Their
origins are known to scripts (``{origin:NAME}``, ``{base:NAME}``) and to
scenario environments (``Scenario.env``).
"""

from __future__ import annotations

from typing import Any

from servers.http import HTTPServer
from servers.proxy import ProxyServer
from servers.routes import Registry
from servers.socks import SocksServer


class AliasServer(HTTPServer):
    """Bound to 127.0.0.1 like the others, addressed by a host name (``localhost``)."""

    def __init__(self, *args: Any, alias: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.alias = alias

    @property
    def authority(self) -> str:
        return f"{self.alias}:{self.port}"


def start_extra(registry: Registry) -> dict[str, HTTPServer]:
    return {
        "http-other": HTTPServer(registry).start(),
        "http-localhost": AliasServer(registry, alias="localhost").start(),
        "proxy": ProxyServer(registry).start(),
        "socks": SocksServer(registry).start(),
    }
