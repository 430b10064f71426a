"""An origin where nothing listens: connecting to it is refused.

A TCP socket is bound to a port on 127.0.0.1 and never listens: the kernel answers
a connection attempt with a reset (ECONNREFUSED), and because the port stays bound
for the session, no other process can start listening there in the meantime.
"""

from __future__ import annotations

import socket


class ClosedPort:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._sock: socket.socket | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ClosedPort:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((self.host, 0))
        self.port = self._sock.getsockname()[1]
        return self

    def stop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
