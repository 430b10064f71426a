"""Self-tests: each TLS server kind of servers.tls presents what its name says.

A plain ``ssl`` client that trusts the session CA talks to every kind: the kinds that
must be refused fail verification with OpenSSL's reason for it; the others complete a
request, and the capture shows what the server saw of the ClientHello.
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

import pytest

from model.script import Reply, script
from servers import Servers, ServerUnavailable
from servers.tls import CLIENT_IDENTITY, KINDS

pytestmark = pytest.mark.selftest

#: origin -> (what the verifying client sees: "ok" or OpenSSL's verify message, extra client settings)
ROWS: dict[str, tuple[str, dict[str, object]]] = {
    "https-hello": ("ok", {}),
    "https-localhost": ("ok", {}),
    "https-wrong-host": ("Hostname mismatch", {}),
    "https-expired": ("certificate has expired", {}),
    "https-not-yet-valid": ("certificate is not yet valid", {}),
    "https-self-signed": ("self-signed certificate", {}),
    "https-other-ca": ("unable to get local issuer certificate", {}),
    "https-leaf-only": ("unable to get local issuer certificate", {}),
    "https-full-chain": ("ok", {}),
    "https-ip-only": ("ok", {}),
    "https-tls13": ("ok", {}),
    "https-client-cert": ("ok", {"client_cert": True}),
}


def test_every_kind_has_a_row() -> None:
    assert set(KINDS) - {"https-legacy"} == set(ROWS)


def request(servers: Servers, origin: str, ctx: ssl.SSLContext) -> tuple[bytes, dict[str, object] | None]:
    """One GET through ``origin`` on a route of its own: the response head, what the server saw."""
    route = servers.registry.open(script(Reply(200, body=b"ok")))
    try:
        url = urlsplit(servers.url(origin, route, "/"))
        host = url.hostname or ""
        with socket.create_connection(("127.0.0.1", url.port or 443), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                tls.sendall(f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode())
                answer = b""
                while chunk := tls.recv(4096):
                    answer += chunk
        route.settle()
        captures, errors = route.snapshot()
        assert not errors
        return answer, captures[0].tls if captures else None
    finally:
        servers.registry.close(route)


@pytest.mark.parametrize("origin", list(ROWS))
def test_kind(servers: Servers, origin: str) -> None:
    expected, extra = ROWS[origin]
    assert servers.certs is not None
    ctx = ssl.create_default_context(cafile=servers.certs.ca_file)
    if extra.get("client_cert"):
        ctx.load_cert_chain(*servers.tls_kit().client_files)
    if expected != "ok":
        with pytest.raises(ssl.SSLCertVerificationError) as err:
            request(servers, origin, ctx)
        assert expected in str(err.value.verify_message)
        return
    answer, seen = request(servers, origin, ctx)
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert seen is not None
    host = KINDS[origin].url_host
    assert seen["sni"] == (None if host[0].isdigit() else host)
    assert "TLSv1.3" in seen["versions_offered"]  # type: ignore[operator]
    assert seen["version"] == "TLSv1.3"
    assert seen["client_cert"] == (CLIENT_IDENTITY if extra.get("client_cert") else None)


def test_tls13_only_refuses_tls12(servers: Servers) -> None:
    assert servers.certs is not None
    ctx = ssl.create_default_context(cafile=servers.certs.ca_file)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        request(servers, "https-tls13", ctx)


def test_client_cert_required(servers: Servers) -> None:
    """Without a client certificate the server ends the connection: no request is served.

    In TLS 1.3 the client's side of the handshake is done before the server checks the
    certificate, so the client learns it from the connection closing (or an alert).
    """
    assert servers.certs is not None
    ctx = ssl.create_default_context(cafile=servers.certs.ca_file)
    try:
        answer, seen = request(servers, "https-client-cert", ctx)
    except (ssl.SSLError, ConnectionError):
        return
    assert (answer, seen) == (b"", None)


def test_legacy_kind_or_reason(servers: Servers) -> None:
    """TLS 1.0/1.1 only: a default client refuses it, or the machine says why it cannot serve it."""
    assert servers.certs is not None
    try:
        servers.server("https-legacy")
    except ServerUnavailable as exc:
        assert "TLS 1.0/1.1" in str(exc)
        return
    route = servers.registry.open(script(Reply(200, body=b"ok")))  # the cell a ClientHello goes to
    url = urlsplit(servers.url("https-legacy", route, "/"))
    try:
        ctx = ssl.create_default_context(cafile=servers.certs.ca_file)
        with pytest.raises(ssl.SSLError) as err:
            with socket.create_connection(("127.0.0.1", url.port or 443), timeout=5) as raw:
                ctx.wrap_socket(raw, server_hostname=url.hostname)
        hellos = list(route.hellos)
    finally:
        servers.registry.close(route)
    # The server's own protocol_version alert, not a bare EOF: the client learns why.
    assert "alert protocol version" in str(err.value).lower()
    assert hellos and "TLSv1.1" not in hellos[0]["versions_offered"]
