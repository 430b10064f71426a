"""Wrong answers: made-up observations that break what a row's title names.

The guard (``tests/test_wrong.py``) feeds each graded row's check the wrong
answers it carries (``model.scenario.Checked``, ``Scenario.wrong``) and asserts a
failing verdict. These builders make such observations in a few words:

    request("POST", body=b"hell")                 what a client put on the wire
    answer(200, b"hell")                          a response the library returned
    answer(200, b"ok", sent=(request(), request("GET", "/next")))
    raised("incomplete-body")                     an exception, mapped to its kind
    ws_answer("hi", frames=(Frame(1, masked=False),))  a WebSocket exchange: messages, frames

Nothing here runs a server or a library: the observations are plain data, so the
guard runs in milliseconds over every row of every suite.
"""

from __future__ import annotations

import hashlib
from typing import Any

from model.cell import Capture, Failure, Frame, Got, Headers, Observation

#: The route prefix a made-up request carries, as a real one does.
PREFIX = "/c/t1"
SERVER = "127.0.0.1:8000"


def request(method: str = "GET", path: str = "/", *, headers: Headers = (), body: bytes = b"",
            framing: str | None = None, server: str = SERVER, connection: int = 1,
            target: str | None = None, tls: dict[str, Any] | None = None,
            frames: tuple[Frame, ...] = ()) -> Capture:
    """One captured request; ``path`` goes after the route prefix (``target`` replaces both)."""
    if framing is None:
        framing = "content-length" if body else "none"
    if not any(k.lower() == "host" for k, _ in headers):
        headers = (("Host", server), *headers)
    if framing == "content-length" and not any(k.lower() == "content-length" for k, _ in headers):
        headers = (*headers, ("Content-Length", str(len(body))))
    return Capture(method, PREFIX + path if target is None else target, "HTTP/1.1", headers, body, framing,
                   b"", connection, server=server, tls=tls, frames=frames)


def answer(status: int = 200, body: bytes = b"", *, headers: Headers = (), sent: tuple[Capture, ...] | None = None,
           history: tuple[int, ...] = (), text: str | None = None, extra: dict[str, Any] | None = None,
           options: dict[str, Any] | None = None, elapsed: float = 0.01, error: Failure | None = None,
           reason: str | None = "OK") -> Observation:
    """A response the library returned (after ``sent``, one GET by default)."""
    got = Got(status, reason, headers, body, history, url=f"http://{SERVER}{PREFIX}/", extra=extra or {}, text=text)
    return Observation(sent=(request(),) if sent is None else sent, got=got, error=error,
                       options=options or {}, elapsed=elapsed)


def raised(kind: str = "protocol-error", *, sent: tuple[Capture, ...] | None = None, got: Got | None = None,
           options: dict[str, Any] | None = None, elapsed: float = 0.01) -> Observation:
    """The library raised an exception of ``kind`` (after ``sent``, one GET by default)."""
    return Observation(sent=(request(),) if sent is None else sent, got=got, error=failure(kind),
                       options=options or {}, elapsed=elapsed)


def failure(kind: str) -> Failure:
    """A made-up exception of ``kind`` (its class and message name no real library)."""
    return Failure(kind, f"made.up.{kind.title().replace('-', '')}Error", "a wrong answer")


def message(data: str | bytes) -> dict[str, Any]:
    """A WebSocket message as an adapter reports it (``got.extra["ws"]["messages"]``)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return {"type": "text" if isinstance(data, str) else "binary", "len": len(raw),
            "sha256": hashlib.sha256(raw).hexdigest()}


def ws_answer(*delivered: str | bytes, frames: tuple[Frame, ...] = (), close: tuple[int | None, str] | None = None,
              error: str | None = None, **more: Any) -> Observation:
    """A WebSocket exchange: the messages the caller got, the frames the client sent, the close
    it saw (code, reason), an error kind it raised; ``more`` goes into ``got.extra["ws"]``."""
    view: dict[str, Any] = {"messages": [message(d) for d in delivered], **more}
    if close is not None:
        view["close"] = {"code": close[0], "reason": close[1]}
    handshake = request(headers=(("Upgrade", "websocket"),), frames=frames)
    return Observation(sent=(handshake,), got=Got(101, "Switching Protocols", extra={"ws": view}),
                       error=failure(error) if error else None)


def close_frame(code: int | None, masked: bool = True) -> Frame:
    payload = b"" if code is None else code.to_bytes(2, "big")
    return Frame(8, masked=masked, payload=payload, close_code=code)
