"""Raw-socket helpers for the self-tests: the harness is tested over real connections."""

from __future__ import annotations

import socket
import ssl

TIMEOUT = 3.0


def authority(origin: str) -> tuple[str, int]:
    host, _, port = origin.split("://", 1)[1].rpartition(":")
    return host, int(port)


def read_all(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    data = b""
    while len(data) < limit:
        piece = sock.recv(65536)
        if not piece:
            break
        data += piece
    return data


def read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        piece = sock.recv(1)
        if not piece:
            break
        data += piece
    return data


def exchange(origin: str, request: bytes) -> bytes:
    """Send ``request`` to a plain server and read until it closes."""
    with socket.create_connection(authority(origin), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        return read_all(sock)


def tunnel(proxy: str, target: str, request: bytes, ca_file: str) -> tuple[bytes, bytes]:
    """CONNECT through ``proxy`` to ``target`` (host:port), then TLS and ``request``."""
    with socket.create_connection(authority(proxy), timeout=TIMEOUT) as sock:
        sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        head = read_head(sock)
        if not head.startswith(b"HTTP/1.1 200"):
            return head, b""
        ctx = ssl.create_default_context(cafile=ca_file)
        with ctx.wrap_socket(sock, server_hostname=target.rpartition(":")[0]) as tls:
            tls.sendall(request)
            return head, read_all(tls)


def header(response: bytes, name: str) -> str | None:
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None
