"""Error mapping, from real exceptions: real calls through each library to a port where
nothing listens, or to the scripted server sending byte-exact broken responses.

Each row says which kind the shared vocabulary must give the exception the library really
raised; a row that fails means an error table (``model.errors``, ``fixtures/clients/*.py``)
lost or confused a cause. The rows run through ``fixtures.cell.run_cell``, as cells do.
"""

from __future__ import annotations

from typing import Any

import pytest

from fixtures import clients
from fixtures.cell import run_cell
from model.cell import Call
from model.scenario import Scenario, ok
from model.script import Hold, Raw, Response
from servers import Servers

HTTP_CLIENTS = clients.of_family("http")

pytestmark = pytest.mark.selftest

HEAD = b"HTTP/1.1 200 OK\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"

#: What the server does -> (call, response or origin).
CAUSES: dict[str, tuple[Call, Response | str]] = {
    "refused": (Call("GET"), "closed"),
    "bad-chunk": (Call("GET"), Raw((CHUNKED + b"zz\r\nhello\r\n0\r\n\r\n",))),
    "no-last-chunk": (Call("GET"), Raw((CHUNKED + b"5\r\nhello\r\n",))),
    "short-body": (Call("GET"), Raw((HEAD + b"Content-Length: 10\r\n\r\nhello",))),
    "cl-conflict": (Call("GET"), Raw((HEAD + b"Content-Length: 5\r\nContent-Length: 11\r\n\r\nhello world",))),
    "long-line": (Call("GET"), Raw((HEAD + b"X-Large: " + b"a" * 70000 + b"\r\nContent-Length: 0\r\n\r\n",))),
    "bad-gzip": (Call("GET"), Raw((HEAD + b"Content-Encoding: gzip\r\nContent-Length: 14\r\n\r\n"
                                   b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffnope",))),
    "stall": (Call("GET", timeout=0.2), Raw((HEAD + b"Content-Length: 10\r\n\r\nhello", Hold(0.9)))),
}

#: tornado's simple client logs a body's parse error and closes the stream: the caller gets
#: HTTPStreamClosedError("Connection closed") whatever the cause (checked below).
BLIND = ("tornado",)
TELLING = [c for c in HTTP_CLIENTS if c not in BLIND]

#: (client, cause, kind): the kind each library's real exception must map to.
ROWS = [
    *[(client, "refused", "connect-refused") for client in HTTP_CLIENTS],
    *[(client, "stall", "read-timeout") for client in HTTP_CLIENTS],
    *[(client, "short-body", "incomplete-body") for client in TELLING],
    *[(client, "no-last-chunk", "incomplete-body") for client in TELLING],
    *[(client, "bad-chunk", "invalid-chunk") for client in TELLING],
    *[(client, cause, "connection-reset") for client in BLIND
      for cause in ("short-body", "bad-chunk", "cl-conflict", "bad-gzip")],
    ("requests", "cl-conflict", "invalid-framing"),
    ("urllib3", "cl-conflict", "invalid-framing"),
    ("httpx", "cl-conflict", "invalid-framing"),
    ("aiohttp", "cl-conflict", "invalid-framing"),
    ("socket", "cl-conflict", "invalid-framing"),
    ("http.client", "long-line", "header-too-large"),
    ("urllib", "long-line", "header-too-large"),
    ("requests", "long-line", "header-too-large"),
    ("urllib3", "long-line", "header-too-large"),
    ("aiohttp", "long-line", "header-too-large"),
    ("requests", "bad-gzip", "decode-error"),
    ("urllib3", "bad-gzip", "decode-error"),
    ("httpx", "bad-gzip", "decode-error"),
    ("httpx-async", "bad-gzip", "decode-error"),
    ("aiohttp", "bad-gzip", "decode-error"),
    *[(client, "cl-conflict", "invalid-framing") for client in ("httpx2", "httpx2-async", "curl_cffi",
                                                                 "curl_cffi-async", "pycurl")],
    *[(client, "bad-gzip", "decode-error") for client in ("httpx2", "httpx2-async", "curl_cffi",
                                                          "curl_cffi-async", "httplib2")],
    ("httplib2", "long-line", "header-too-large"),
    ("niquests", "cl-conflict", "invalid-framing"),
    ("niquests", "bad-gzip", "decode-error"),
    ("niquests-async", "bad-gzip", "decode-error"),
]


@pytest.mark.parametrize(("client", "cause", "kind"),
                         [pytest.param(*row, marks=pytest.mark.waits(0.3)) if row[1] == "stall" else row
                          for row in ROWS], ids=[f"{c}-{w}" for c, w, _ in ROWS])
def test_real_exception_maps_to_kind(servers: Servers, adapters: Any, client: str, cause: str, kind: str) -> None:
    cls = clients.load(client)
    # A fresh in-process adapter; a column in its own environment: the session's runner of it.
    adapter = adapters.get(client) if cls.env else (cls.missing() or cls(None))
    if isinstance(adapter, str):
        pytest.skip(adapter)
    call, response = CAUSES[cause]
    origin = response if isinstance(response, str) else "http"
    scenario = Scenario(f"selftest.{cause}", cause, "-", "INFO", lambda obs: ok(""), call,
                        None if isinstance(response, str) else response, origin=origin)
    try:
        cell = run_cell(scenario, client, adapter, servers).cell
    finally:
        if not cls.env:
            adapter.close()
    assert cell.observed is not None
    error = cell.observed["error"]
    assert error is not None, f"{client} returned a response for {cause}: {cell.observed['got']}"
    assert error["kind"] == kind, f"{error['type']}: {error['message'][:300]}"


def test_asyncio_timeout_is_a_read_timeout_on_every_python() -> None:
    # 3.11 made asyncio.TimeoutError the builtin TimeoutError; on 3.10 it is its own class
    # (asyncio.exceptions.TimeoutError), which aiohttp's whole-request timeout raises.
    import asyncio

    from model.errors import classify

    assert classify(asyncio.TimeoutError()).kind == "read-timeout"
