"""The HTTP version a column asks for: HTTP/1.1 by default, h2 by one class attribute.

The default rows are HTTP/1.1. The columns whose library can negotiate h2 over TLS ask for
HTTP/1.1 and record it in the cell; an HTTP/2 column is the same adapter with its class
attribute changed (``HTTP_VERSION`` for the libcurl columns, ``HTTP2`` for httpx2). Read
off the wire: the ALPN list the TLS server saw in the ClientHello.
"""

from __future__ import annotations

from typing import Any

import pytest

from fixtures import clients
from fixtures.cell import run_cell
from servers import Servers
from suites.test_tls import SCENARIOS

pytestmark = pytest.mark.selftest

ALPN = next(s for s in SCENARIOS if s.id == "tls.alpn-offered-configured")

#: client -> (attribute, its default, what the cell records by default, the h2 value or None)
CHOICES: dict[str, tuple[str, Any, dict[str, Any], Any]] = {
    "pycurl": ("HTTP_VERSION", "CURL_HTTP_VERSION_1_1", {"HTTP_VERSION": "CURL_HTTP_VERSION_1_1"},
               "CURL_HTTP_VERSION_2TLS"),
    "curl_cffi": ("HTTP_VERSION", "v1", {"http_version": "v1"}, "v2tls"),
    "curl_cffi-async": ("HTTP_VERSION", "v1", {"http_version": "v1"}, "v2tls"),
    "httpx2": ("HTTP2", False, {"http2": False}, None),  # http2=True needs the h2 package
    "httpx2-async": ("HTTP2", False, {"http2": False}, None),
}


def offered(servers: Servers, client: str, cls: Any) -> tuple[list[str], dict[str, Any]]:
    adapter = cls(servers.certs.ca_file if servers.certs else None)
    try:
        cell = run_cell(ALPN, client, adapter, servers).cell
    finally:
        adapter.close()
    assert cell.observed is not None and cell.observed["sent"], cell.summary
    return list(cell.observed["sent"][0]["tls"].get("alpn_offered") or []), cell.observed["options"]


@pytest.mark.parametrize("client", list(CHOICES))
def test_http11_by_default_and_h2_by_the_class_attribute(servers: Servers, client: str) -> None:
    cls = clients.load(client)
    if cls.missing():
        pytest.skip(cls.missing() or "")
    attribute, default, recorded, h2 = CHOICES[client]
    assert getattr(cls, attribute) == default
    alpn, options = offered(servers, client, cls)
    assert alpn == ["http/1.1"], alpn
    assert {k: options.get(k) for k in recorded} == recorded
    if h2 is not None:
        alpn, options = offered(servers, client, type("H2", (cls,), {attribute: h2}))
        assert alpn[:1] == ["h2"], alpn
