"""Reproducers: how to run one cell again, by hand or with pytest.

    row_meta(scenario, nodeid)   the scenario's meta for the report, plus where it
                                 lives (``module``) and the caller's request in
                                 library-neutral words (``request``)
    pytest_command(row, client)  ``pytest "suites/<module>.py::test_scenario[<id>-<client>]"``
    snippet(row, client, cell)   a short runnable Python snippet: the same call made
                                 with that library's public API (TEMPLATES, one per client)

A snippet is built from the row's request (method, path, the caller's headers, the
body) and the cell's observed request (the fixture server's address, what went on
the wire); the options the cell recorded are written as a comment. The fixture
server only lives during a run, so the snippet says where it pointed and the pytest
command replays the scenario against its scripted server.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the report side reads JSON only: no servers imported for it
    from matrix.scenario import Scenario

#: What the snippets print after the call (``r`` is the library's response).
SHOW = "print(r.status_code, r.reason_phrase, dict(r.headers))\nprint(r.content[:200])"

#: Client id -> snippet template. Fields: {method} {url} {target} {host} {port} {scheme}
#: {headers} {body} {raw}, and {kw}: the library's keyword arguments (leading ", ").
TEMPLATES: dict[str, str] = {
    "socket": """import socket

with socket.create_connection(({host!r}, {port})) as s:
    s.sendall({raw!r})
    print(s.recv(65536))""",
    "http.client": """import http.client

conn = http.client.{conn}({host!r}, {port})
conn.request({method!r}, {target!r}{kw})
r = conn.getresponse()
print(r.status, r.reason, r.getheaders())
print(r.read()[:200])""",
    "urllib": """import urllib.error
import urllib.request

req = urllib.request.Request({url!r}, method={method!r}{kw})
try:
    with urllib.request.urlopen(req) as r:
        print(r.status, r.reason, r.getheaders())
        print(r.read()[:200])
except urllib.error.HTTPError as e:
    print("HTTPError", e.code, e.reason, e.headers.items())""",
    "requests": """import requests

r = requests.request({method!r}, {url!r}{kw})
print(r.status_code, r.reason, dict(r.headers))
print(r.content[:200])""",
    "httpx": """import httpx

with httpx.Client() as client:
    r = client.request({method!r}, {url!r}{kw})
""" + SHOW,
    "httpx-async": """import asyncio

import httpx


async def main() -> None:
    async with httpx.AsyncClient() as client:
        r = await client.request({method!r}, {url!r}{kw})
""" + "\n".join("        " + line for line in SHOW.splitlines()) + """


asyncio.run(main())""",
    "aiohttp": """import asyncio

import aiohttp


async def main() -> None:
    async with aiohttp.ClientSession() as session:
        async with session.request({method!r}, {url!r}{kw}) as r:
            print(r.status, r.reason, dict(r.headers))
            print((await r.read())[:200])


asyncio.run(main())""",
    "urllib3": """import urllib3

http = urllib3.PoolManager()
r = http.request({method!r}, {url!r}{kw})
print(r.status, r.reason, dict(r.headers))
print(r.data[:200])""",
    "websockets": """import asyncio

from websockets.asyncio.client import connect


async def main() -> None:
    async with connect({url!r}) as ws:
        print(await ws.recv())


asyncio.run(main())""",
    "websockets-sync": """from websockets.sync.client import connect

with connect({url!r}) as ws:
    print(ws.recv())""",
    "aiohttp-ws": """import asyncio

import aiohttp


async def main() -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect({url!r}) as ws:
            print(await ws.receive())


asyncio.run(main())""",
    "websocket-client": """import websocket

ws = websocket.create_connection({url!r})
print(ws.recv())
ws.close()""",
}

#: Per client, the keyword each neutral option becomes (None: the API has none).
KEYWORDS: dict[str, dict[str, str | None]] = {
    "requests": {"headers": "headers", "body": "data", "params": "params",
                 "follow_redirects": "allow_redirects", "timeout": "timeout"},
    "httpx": {"headers": "headers", "body": "content", "params": "params",
              "follow_redirects": "follow_redirects", "timeout": "timeout"},
    "aiohttp": {"headers": "headers", "body": "data", "params": "params",
                "follow_redirects": "allow_redirects", "timeout": None},
    "urllib3": {"headers": "headers", "body": "body", "params": "fields",
                "follow_redirects": "redirect", "timeout": "timeout"},
    "urllib": {"headers": "headers", "body": "data", "params": None, "follow_redirects": None, "timeout": None},
    "http.client": {"headers": "headers", "body": "body", "params": None, "follow_redirects": None,
                    "timeout": None},
}
KEYWORDS["httpx-async"] = KEYWORDS["httpx"]


def request_meta(scenario: Scenario) -> dict[str, Any]:
    """The caller's request in library-neutral words (what the snippets are made of)."""
    call = scenario.request
    out: dict[str, Any] = {"method": call.method, "path": call.path, "origin": call.origin or scenario.origin}
    if call.headers:
        out["headers"] = [list(h) for h in call.headers]
    if call.body is not None:
        out["body"] = call.body.decode("latin-1")
        out["body_len"] = len(call.body)
    for name in ("stream", "follow_redirects", "timeout"):
        value = getattr(call, name)
        if value not in (None, False) or (name == "follow_redirects" and value is False):
            out[name] = value
    if call.params is not None:
        out["params"] = repr(call.params)
    if call.trust != "default":
        out["trust"] = call.trust
    if call.then:
        out["then"] = len(call.then)
    return out


def row_meta(scenario: Scenario, nodeid: str) -> dict[str, Any]:
    """Scenario meta for the report: its module (from the pytest node id) and its request."""
    return {**scenario.meta(), "module": nodeid.split("::", 1)[0], "request": request_meta(scenario)}


def pytest_command(row: dict[str, Any], client: str) -> str:
    """The command that runs just this cell."""
    module = row.get("module") or f"suites/test_{row['id'].split('.', 1)[0]}.py"
    return "pytest " + shlex.quote(f"{module}::test_scenario[{row['id']}-{client}]")


def _first_sent(cell: dict[str, Any] | None) -> dict[str, Any] | None:
    observed = (cell or {}).get("observed") or {}
    sent = observed.get("sent") or []
    return sent[0] if sent else None


def _kwargs(client: str, req: dict[str, Any]) -> str:
    """The library's keyword arguments for the row's request, as source text."""
    names = KEYWORDS.get(client, {})
    source: dict[str, str] = {}
    if req.get("headers"):
        source["headers"] = repr(dict((k, v) for k, v in req["headers"]))
    if "body" in req:
        body = req["body"].encode("latin-1")
        source["body"] = f"iter([{body!r}])" if req.get("stream") else repr(body)
    if "params" in req:
        source["params"] = req["params"]  # already a Python literal
    for name in ("follow_redirects", "timeout"):
        if name in req:
            source[name] = repr(req[name])
    return "".join(f", {names[n]}={text}" for n, text in source.items() if names.get(n))


def snippet(row: dict[str, Any], client: str, cell: dict[str, Any] | None = None) -> str:
    """A runnable snippet for this library and this scenario (see TEMPLATES)."""
    req = row.get("request") or {"method": "GET", "path": "/"}
    sent = _first_sent(cell)
    scheme = "https" if req.get("origin") == "https" else "http"
    if row.get("protocol") == "ws":
        scheme = "wss" if scheme == "https" else "ws"
    server = (sent or {}).get("server") or "127.0.0.1:8080"
    host, _, port = server.rpartition(":")
    path = req.get("path", "/")
    if "params" in req and not KEYWORDS.get(client, {}).get("params") and sent and "?" in sent["target"]:
        path += "?" + sent["target"].split("?", 1)[1]  # no query API: the query as it went on the wire
    head = [f"# clientmatrix reproducer: {row['id']} with {client}",
            f"# {row.get('title', '')}",
            f"# The run's fixture server was at {server}; point the URL at a server of yours,",
            f"# or replay the scripted server with: {pytest_command(row, client)}"]
    if sent:
        head.append(f"# observed on the wire: {sent['method']} {sent['target']}, {len(sent.get('headers', []))} "
                    f"header fields, framing {sent['framing']}, body {sent['body_len']} bytes")
    options = ((cell or {}).get("observed") or {}).get("options")
    if options:
        head.append(f"# options the cell used: {options}")
    if req.get("then"):
        head.append(f"# the scenario makes {req['then']} more call(s) with the same client afterwards")
    template = TEMPLATES.get(client)
    if template is None:
        return "\n".join(head + [f"# no snippet template for client {client!r}: use the pytest command above"])
    raw = _raw_request(sent, req, server)
    fields = {
        "method": req.get("method", "GET"), "url": f"{scheme}://{server}{path}", "target": path,
        "host": host or "127.0.0.1", "port": int(port) if port.isdigit() else 80, "scheme": scheme,
        "raw": raw, "kw": _kwargs(client, req),
        "conn": "HTTPSConnection" if scheme == "https" else "HTTPConnection",
    }
    return "\n".join(head) + "\n" + template.format(**fields) + "\n"


def _raw_request(sent: dict[str, Any] | None, req: dict[str, Any], server: str) -> bytes:
    """The request bytes as observed (header fields in order); the body from the scenario."""
    if sent is None:
        return f"{req.get('method', 'GET')} {req.get('path', '/')} HTTP/1.1\r\nHost: {server}\r\n\r\n".encode()
    lines = [f"{sent['method']} {sent['target']} {sent.get('version', 'HTTP/1.1')}"]
    lines += [f"{k}: {v}" for k, v in sent.get("headers", [])]
    body = req.get("body", "").encode("latin-1") if sent.get("framing") == "content-length" else b""
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body
