"""The machine and its files: private certificates and NETRC, servers that outlast a file
descriptor shortage and a stalled upload, a proxy that reads every CONNECT target form.

All over real sockets against real server instances.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import ssl
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import servers.http
from servers import Servers
from servers.proxy import authority as connect_authority
from tests.wire import authority, exchange, read_all, read_head

pytestmark = pytest.mark.selftest


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_certificates_and_keys_live_in_a_private_folder_removed_at_stop(tmp_path: Path) -> None:
    running = Servers(temp_parent=tmp_path).start()
    try:
        assert running.certs is not None
        folder = running.certs.folder
        assert folder.parent == tmp_path and mode(folder) == 0o700
        cert, key = running.tls_kit().client_files
        for path in (Path(running.certs.ca_file), Path(cert), Path(key)):
            assert path.parent == folder and mode(path) == 0o600, path
    finally:
        running.stop()
    assert not folder.exists()


def test_the_empty_netrc_is_a_private_file_made_by_the_run() -> None:
    netrc = Path(os.environ["NETRC"])
    assert netrc.stat().st_size == 0 and mode(netrc) == 0o600
    assert mode(netrc.parent) == 0o700 and netrc.parent.name.startswith("clientmatrix-run-")
    assert netrc != Path(tempfile.gettempdir()) / "clientmatrix-empty-netrc"


@contextlib.contextmanager
def fd_limit(extra: int) -> Iterator[None]:
    """Lower this process's open-file limit to what is open now plus ``extra``, then restore it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    used = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (used + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.waits(0.6)
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to count open files")
def test_a_tls_server_keeps_accepting_after_too_many_open_files(servers: Servers) -> None:
    server = servers.server("https-tls13")
    host, port = authority(server.origin)
    held: list[socket.socket] = []
    try:
        with fd_limit(12):
            with contextlib.suppress(OSError):
                for _ in range(40):  # the client side takes descriptors until none is left
                    held.append(socket.create_connection((host, port), timeout=1))
            time.sleep(0.3)  # the server's accept meets EMFILE meanwhile
            for sock in held:
                sock.close()
            held.clear()
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    ctx = ssl.create_default_context(cafile=servers.certs.ca_file if servers.certs else None)
    with socket.create_connection((host, port), timeout=3) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(b"GET /nowhere HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert read_head(tls).startswith(b"HTTP/1.1 404")


def test_a_stalled_request_body_is_answered_408_and_closed(servers: Servers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers_http(), "BODY_TIMEOUT", 0.3)
    host, port = authority(servers.server("http").origin)
    start = time.monotonic()
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.sendall(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout") and time.monotonic() - start < 2.5


def servers_http() -> object:
    return servers.http


@pytest.mark.parametrize("target, expected", [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)), ("[::1]:8080", ("::1", 8080)), ("localhost:1", ("localhost", 1)),
    ("[::1]8080", None), ("[::1]:", None), ("[]:80", None), ("::1:8080", None), ("127.0.0.1", None),
    (":80", None), ("127.0.0.1:abc", None), ("127.0.0.1:99999", None), ("127.0.0.1:0", None), ("127.0.0.1:-1", None),
    ("127.0.0.1:٣", None),
])
def test_connect_targets(target: str, expected: tuple[str, int] | None) -> None:
    assert connect_authority(target) == expected


@pytest.mark.parametrize("request_line", [
    b"CONNECT 127.0.0.1:99999 HTTP/1.1", b"CONNECT 127.0.0.1:abc HTTP/1.1", b"CONNECT nowhere HTTP/1.1",
    b"CONNECT [::1]80 HTTP/1.1", b"GET http://127.0.0.1:99999/ HTTP/1.1", b"GET http://127.0.0.1:x/ HTTP/1.1",
])
def test_the_proxy_answers_400_to_a_malformed_target(servers: Servers, request_line: bytes) -> None:
    answer = exchange(servers.server("proxy").origin, request_line + b"\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]


def test_the_proxy_tunnels_to_a_bracketed_ipv6_target(servers: Servers) -> None:
    try:
        listener = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    with listener:
        port = listener.getsockname()[1]
        with socket.create_connection(authority(servers.server("proxy").origin), timeout=3) as sock:
            sock.sendall(f"CONNECT [::1]:{port} HTTP/1.1\r\nHost: [::1]:{port}\r\n\r\n".encode())
            assert read_head(sock).startswith(b"HTTP/1.1 200")
            peer, _ = listener.accept()
            with peer:
                sock.sendall(b"through")
                assert peer.recv(16) == b"through"
