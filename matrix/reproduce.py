"""Reproducers: how to run one cell again, by hand or with pytest.

    row_meta(scenario, nodeid)   the scenario's meta for the report, plus where it
                                 lives (``module``), the caller's request in
                                 library-neutral words (``request``) and what the
                                 server sends (``response``, matrix.wire)
    pytest_command(row, client)  ``pytest "suites/<module>.py::test_scenario[<id>-<client>]"``
    snippet(row, client, cell)   a short runnable Python snippet: the same call made
                                 with that library's public API (TEMPLATES, one per client)
      = head(row, client)        four comment lines made of the row and client alone
      + body(row, client, cell)  the rest: what was observed, the options, the code

A snippet is built from the row's request (method, path, the caller's headers, the
body) and the cell's observed request (what went on the wire); the options the cell
recorded are written as a comment. It points at ``python -m matrix serve ROW``
(matrix.serve), which scripts the row on fixed loopback ports (``SERVE_PORTS``), so
a snippet copied from any report runs against it as printed. The HTML page builds
``head`` itself (report.js, the same four lines) and keeps ``body`` as lines shared
between cells, so thousands of snippets stay small.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from matrix.wire import served

if TYPE_CHECKING:  # the report side reads JSON only: no servers imported for it
    from model.scenario import Scenario

#: What the snippets print after the call (``r`` is the library's response).
SHOW = "print(r.status_code, r.reason_phrase, dict(r.headers))\nprint(r.content[:200])"

#: How long a WebSocket snippet waits for each message before it gives up (seconds).
WS_WAIT = 5

#: Client id -> snippet template. Fields: {method} {url} {target} {host} {port} {scheme}
#: {headers} {body} {raw} {conn} {open}; {kw}: the library's keyword arguments for the call
#: (leading ", "); {ctor} / {ctor_kw}: those of the client object or connection (the TLS
#: context, where the library takes it there), alone or with a leading ", "; {setup}: lines
#: between the imports and the call (the TLS context); {messages} {receive}: a WebSocket
#: row's messages to send (a list literal) and how many to read back.
TEMPLATES: dict[str, str] = {
    "socket": """import socket
{setup}
with {open}:
    s.sendall({raw!r})
    print(s.recv(65536))""",
    "http.client": """import http.client
{setup}
conn = http.client.{conn}({host!r}, {port}{ctor_kw})
conn.request({method!r}, {target!r}{kw})
r = conn.getresponse()
print(r.status, r.reason, r.getheaders())
print(r.read()[:200])""",
    "urllib": """import urllib.error
import urllib.request
{setup}
req = urllib.request.Request({url!r}, method={method!r}{kw})
try:
    with urllib.request.urlopen(req{ctor_kw}) as r:
        print(r.status, r.reason, r.getheaders())
        print(r.read()[:200])
except urllib.error.HTTPError as e:
    print("HTTPError", e.code, e.reason, e.headers.items())""",
    "requests": """import requests
{setup}
r = requests.request({method!r}, {url!r}{kw})
print(r.status_code, r.reason, dict(r.headers))
print(r.content[:200])""",
    # niquests runs in its own environment (envs/niquests.txt): run the snippet there.
    "niquests": """import niquests
{setup}
r = niquests.request({method!r}, {url!r}{kw})
print(r.status_code, r.reason, dict(r.headers))
print(r.content[:200])""",
    "niquests-async": """import asyncio

import niquests
{setup}

async def main() -> None:
    async with niquests.AsyncSession() as s:
        r = await s.request({method!r}, {url!r}{kw})
        print(r.status_code, r.reason, dict(r.headers))
        print(r.content[:200])


asyncio.run(main())""",
    "httpx": """import httpx
{setup}
with httpx.Client({ctor}) as client:
    r = client.request({method!r}, {url!r}{kw})
""" + SHOW,
    "httpx-async": """import asyncio

import httpx
{setup}

async def main() -> None:
    async with httpx.AsyncClient({ctor}) as client:
        r = await client.request({method!r}, {url!r}{kw})
""" + "\n".join("        " + line for line in SHOW.splitlines()) + """


asyncio.run(main())""",
    "aiohttp": """import asyncio

import aiohttp
{setup}

async def main() -> None:
    async with aiohttp.ClientSession() as session:
        async with session.request({method!r}, {url!r}{kw}) as r:
            print(r.status, r.reason, dict(r.headers))
            print((await r.read())[:200])


asyncio.run(main())""",
    "urllib3": """import urllib3
{setup}
http = urllib3.PoolManager({ctor})
r = http.request({method!r}, {url!r}{kw})
print(r.status, r.reason, dict(r.headers))
print(r.data[:200])""",
    "websockets": """import asyncio

from websockets.asyncio.client import connect
{setup}
MESSAGES = {messages}


async def main() -> None:
    async with connect({url!r}{kw}) as ws:
        for message in MESSAGES:
            await ws.send(message)
        for _ in range({receive}):
            got = await asyncio.wait_for(ws.recv(), {wait})
            print(type(got).__name__, len(got), repr(got[:60]))


asyncio.run(main())""",
    "websockets-sync": """from websockets.sync.client import connect
{setup}
MESSAGES = {messages}

with connect({url!r}{kw}) as ws:
    for message in MESSAGES:
        ws.send(message)
    for _ in range({receive}):
        got = ws.recv(timeout={wait})
        print(type(got).__name__, len(got), repr(got[:60]))""",
    "aiohttp-ws": """import asyncio

import aiohttp
{setup}
MESSAGES = {messages}


async def main() -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect({url!r}{kw}) as ws:
            for message in MESSAGES:
                if isinstance(message, str):
                    await ws.send_str(message)
                else:
                    await ws.send_bytes(message)
            for _ in range({receive}):
                got = await ws.receive(timeout={wait})
                print(got.type, repr(got.data)[:80], got.extra)


asyncio.run(main())""",
    "websocket-client": """import websocket
{setup}
MESSAGES = {messages}

ws = websocket.create_connection({url!r}, timeout={wait}{kw})
try:
    for message in MESSAGES:
        if isinstance(message, str):
            ws.send(message)
        else:
            ws.send_binary(message)
    for _ in range({receive}):
        opcode, got = ws.recv_data(control_frame=True)
        print(opcode, len(got), repr(got[:60]))
finally:
    ws.close()""",
    "httpx2": """import httpx2
{setup}
with httpx2.Client({ctor}) as client:
    r = client.request({method!r}, {url!r}{kw})
""" + SHOW,
    "httpx2-async": """import asyncio

import httpx2
{setup}

async def main() -> None:
    async with httpx2.AsyncClient({ctor}) as client:
        r = await client.request({method!r}, {url!r}{kw})
""" + "\n".join("        " + line for line in SHOW.splitlines()) + """


asyncio.run(main())""",
    "curl_cffi": """from curl_cffi import requests
{setup}
with requests.Session(impersonate=None, http_version="v1") as s:
    r = s.request({method!r}, {url!r}{kw})
print(r.status_code, r.reason, r.headers.multi_items())
print(r.content[:200])""",
    "curl_cffi-async": """import asyncio

from curl_cffi import requests
{setup}

async def main() -> None:
    async with requests.AsyncSession(impersonate=None, http_version="v1") as s:
        r = await s.request({method!r}, {url!r}{kw})
        print(r.status_code, r.reason, r.headers.multi_items())
        print(r.content[:200])


asyncio.run(main())""",
    "pycurl": """from io import BytesIO

import pycurl
{setup}
# libcurl's options by name; the header lines are printed as libcurl hands them over
OPTIONS = dict(URL={url!r}, CUSTOMREQUEST={method!r}, HTTP_VERSION=pycurl.CURL_HTTP_VERSION_1_1{kw})
if OPTIONS["CUSTOMREQUEST"] == "HEAD":
    OPTIONS["NOBODY"] = True
c = pycurl.Curl()
for name, value in OPTIONS.items():
    if name == "HTTPHEADER":
        value = [f"{{k}}: {{v}}" for k, v in value.items()]
    elif name == "TIMEOUT_MS":
        value = int(value * 1000)
    c.setopt(getattr(pycurl, name), value)
body = BytesIO()
c.setopt(pycurl.HEADERFUNCTION, lambda line: print(line.decode("latin-1").rstrip()))
c.setopt(pycurl.WRITEDATA, body)
c.perform()
print(c.getinfo(pycurl.RESPONSE_CODE), body.getvalue()[:200])""",
    "tornado": """import asyncio

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
{setup}

async def main() -> None:
    try:
        r = await AsyncHTTPClient().fetch({url!r}, method={method!r}{kw})
    except HTTPClientError as e:
        print("HTTPClientError", e.code, e.message)
        if e.response is None:
            return
        r = e.response
    print(r.code, r.reason, list(r.headers.get_all()))
    print(r.body[:200])


asyncio.run(main())""",
    "httplib2": """import httplib2
{setup}
h = httplib2.Http({ctor})
r, content = h.request({url!r}, method={method!r}{kw})
print(r.status, r.reason, dict(r))
print(content[:200])""",
    "tornado-ws": """import asyncio

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect
{setup}
MESSAGES = {messages}


async def main() -> None:
    conn = await websocket_connect(HTTPRequest({url!r}{ctor_kw}){kw})
    for message in MESSAGES:
        await conn.write_message(message, binary=isinstance(message, bytes))
    for _ in range({receive}):
        got = await asyncio.wait_for(conn.read_message(), {wait})
        if got is None:
            print("closed", conn.close_code, conn.close_reason)
            break
        print(type(got).__name__, len(got), repr(got[:60]))
    conn.close()


asyncio.run(main())""",
    "curl_cffi-ws": """import threading

from curl_cffi.requests import WebSocket
{setup}
MESSAGES = {messages}


def read() -> None:
    for _ in range({receive}):
        data, flags = ws.recv()  # libcurl answers pings; a Close comes back with the CLOSE flag
        print(flags, len(data), repr(data[:60]))


ws = WebSocket().connect({url!r}, impersonate=None, http_version="v1"{kw})
try:
    for message in MESSAGES:
        if isinstance(message, str):
            ws.send_str(message)
        else:
            ws.send_bytes(message)
    reader = threading.Thread(target=read, daemon=True)  # recv() itself has no timeout
    reader.start()
    reader.join(timeout={wait} * {receive})
finally:
    ws.close()""",
}

#: The loopback ports ``python -m matrix serve`` binds, per origin, and that snippets point at
#: (below the ephemeral ranges of Linux, 32768+, and of macOS and Windows, 49152+).
SERVE_HOST = "127.0.0.1"
SERVE_PORTS: dict[str, int] = {name: 28100 + i for i, name in enumerate((
    "http", "https", "http-other", "http-localhost", "ws", "wss", "ws-raw", "wss-raw",
    "https-hello", "https-localhost", "https-wrong-host", "https-expired", "https-not-yet-valid",
    "https-self-signed", "https-other-ca", "https-leaf-only", "https-full-chain", "https-ip-only",
    "https-tls13", "https-legacy", "https-client-cert", "h2", "h2-other", "h2c"))}
#: A route prefix in a captured target (``/c/t12``): the serve command answers without one.
ROUTE = re.compile(r"/c/t[0-9]+")
#: Everything a Python source file (or str.splitlines) takes for a line break.
BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def comment(text: object) -> str:
    """Text for a ``#`` comment: every line break made a space, so data never becomes code."""
    return BREAKS.sub(" ", str(text))


#: Placeholder files a TLS snippet names (the run's are temporary: use your own).
CA_FILE = "ca.pem"
CLIENT_FILES = ("client.pem", "client.key")
CA_NOTE = (f"# {CA_FILE}: the CA certificate the server's chains to (the run's was a trustme CA,"
           " made for the run): put yours here")
CLIENT_NOTE = (f"# {CLIENT_FILES[0]}, {CLIENT_FILES[1]}: a client certificate and its key that the server"
               " trusts (the run's were made for it)")

#: Where a library takes TLS settings: client id -> (keyword, where) for a context-taking
#: library, or the keywords of a path-taking one. where: "kw" (the call), "ctor" (the
#: client object or connection).
TLS_CONTEXT: dict[str, tuple[str, str]] = {
    "http.client": ("context", "ctor"), "urllib": ("context", "ctor"), "httpx": ("verify", "ctor"),
    "httpx-async": ("verify", "ctor"), "aiohttp": ("ssl", "kw"), "websockets": ("ssl", "kw"),
    "websockets-sync": ("ssl", "kw"), "aiohttp-ws": ("ssl", "kw"),
    "httpx2": ("verify", "ctor"), "httpx2-async": ("verify", "ctor"),
}

#: Per WebSocket client, the keyword each ``WsCall`` option becomes (None: the API has none).
WS_KEYWORDS: dict[str, dict[str, str | None]] = {
    "websockets": {"subprotocols": "subprotocols", "compression": "compression", "max_size": "max_size"},
    "aiohttp-ws": {"subprotocols": "protocols", "compression": "compress", "max_size": "max_msg_size"},
    "websocket-client": {"subprotocols": "subprotocols", "compression": None, "max_size": None},
    "tornado-ws": {"subprotocols": "subprotocols", "compression": "compression_options",
                   "max_size": "max_message_size"},
    "curl_cffi-ws": {"subprotocols": None, "compression": None, "max_size": None},
}
WS_KEYWORDS["websockets-sync"] = WS_KEYWORDS["websockets"]

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
KEYWORDS["httpx-async"] = KEYWORDS["httpx2"] = KEYWORDS["httpx2-async"] = KEYWORDS["httpx"]
KEYWORDS["curl_cffi"] = KEYWORDS["curl_cffi-async"] = {
    "headers": "headers", "body": "content", "params": "params", "follow_redirects": "allow_redirects",
    "timeout": "timeout"}
KEYWORDS["pycurl"] = {"headers": "HTTPHEADER", "body": "POSTFIELDS", "params": None,
                      "follow_redirects": "FOLLOWLOCATION", "timeout": "TIMEOUT_MS"}
KEYWORDS["tornado"] = {"headers": "headers", "body": "body", "params": None, "follow_redirects": "follow_redirects",
                       "timeout": "request_timeout"}
KEYWORDS["httplib2"] = {"headers": "headers", "body": "body", "params": None, "follow_redirects": None,
                        "timeout": None}
KEYWORDS["niquests"] = KEYWORDS["niquests-async"] = KEYWORDS["requests"]  # requests' API


#: A request body longer than this, made of one byte repeated, is described, not copied.
LONG_BODY = 64 * 1024
#: The h2 columns (fixtures.clients.H2): client id -> the client whose template they use. The
#: snippet turns HTTP/2 on the library's documented way: httpx ``Client(http2=True)`` (and
#: ``http1=False`` for prior knowledge), urllib3 ``urllib3.http2.inject_into_urllib3()``.
H2_CLIENTS: dict[str, str] = {"httpx-h2": "httpx", "httpx-async-h2": "httpx-async", "urllib3-h2": "urllib3"}
#: The origins served over TLS besides the ``https*`` and ``wss*`` ones.
TLS_ORIGINS = ("h2", "h2-other")


def request_meta(scenario: Scenario) -> dict[str, Any]:
    """The caller's request in library-neutral words (what the snippets are made of)."""
    call = scenario.request
    out: dict[str, Any] = {"method": call.method, "path": call.path, "origin": call.origin or scenario.origin}
    if call.headers:
        out["headers"] = [list(h) for h in call.headers]
    if call.body is not None:
        out["body_len"] = len(call.body)
        if len(call.body) > LONG_BODY and call.body.count(call.body[:1]) == len(call.body):
            # An 8 MiB upload is one byte repeated: kept as (byte, count), so a report holds a
            # short expression instead of the bytes in every cell of the row.
            out["body_repeat"] = [call.body[:1].decode("latin-1"), len(call.body)]
        else:
            out["body"] = call.body.decode("latin-1")
    for name in ("stream", "follow_redirects", "timeout"):
        value = getattr(call, name)
        if value not in (None, False) or (name == "follow_redirects" and value is False):
            out[name] = value
    if call.params is not None:
        out["params"] = repr(call.params)
    if call.trust != "default":
        out["trust"] = call.trust
    if call.client_cert is not None:
        out["client_cert"] = True
    if call.then:
        out["then"] = len(call.then)
    if call.prior_knowledge:
        out["prior_knowledge"] = True
    if call.concurrent > 1:
        out["concurrent"] = call.concurrent
    if call.ws is not None:
        sources = [message_source(m) for m in call.ws.send]
        ws: dict[str, Any] = {"send": [src for src, _ in sources], "receive": call.ws.receive}
        cut = [[i, len(m)] for i, (m, (_, whole)) in enumerate(zip(call.ws.send, sources, strict=True)) if not whole]
        if cut:
            ws["cut"] = cut  # [index, size]: only the start of these messages is in "send"
        if call.ws.subprotocols:
            ws["subprotocols"] = list(call.ws.subprotocols)
        for name in ("compression", "max_size"):
            if getattr(call.ws, name) is not None:
                ws[name] = getattr(call.ws, name)
        out["ws"] = ws
    return out


#: A message longer than this is written as a repeated unit, or cut (and says so).
SHORT = 64
#: The longest unit a repeated message is recognised by, and the longest literal written whole.
PERIOD, LITERAL = 256, 4096


def message_source(data: str | bytes) -> tuple[str, bool]:
    """A WebSocket message as a short Python expression that makes it again, and whether
    it is the whole message.

    A literal when short; a repeated unit (``b'x' * 65536``, ``bytes(...) * 4``) when it is
    one, so a 1 MiB echo row stays one line in matrix.json; else a literal of up to 4 KiB,
    or only its first bytes (not whole: ``request_meta`` lists it under ``cut``).
    """
    size = len(data)
    if size <= SHORT:
        return repr(data), True
    for period in range(1, min(PERIOD, size // 2) + 1):
        if data[period:] == data[:-period]:
            count, rest = divmod(size, period)
            unit = data[:period]
            return f"{unit!r} * {count}" + (f" + {unit[:rest]!r}" if rest else ""), True
    if size <= LITERAL:
        return repr(data), True
    return repr(data[:SHORT]), False


def row_meta(scenario: Scenario, nodeid: str) -> dict[str, Any]:
    """Scenario meta for the report: its module (from the pytest node id) and its request."""
    return {**scenario.meta(), "module": nodeid.split("::", 1)[0], "request": request_meta(scenario),
            "response": served(scenario.response, scenario.protocol)}


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
    elif "body_repeat" in req:
        byte, count = req["body_repeat"]
        source["body"] = f"{byte.encode('latin-1')!r} * {int(count)}"
    if "params" in req:
        source["params"] = req["params"]  # already a Python literal
    for name in ("follow_redirects", "timeout"):
        if name in req:
            source[name] = repr(req[name])
    return "".join(f", {names[n]}={text}" for n, text in source.items() if names.get(n))


def scheme_of(row: dict[str, Any], cell: dict[str, Any] | None = None) -> str:
    """The URL scheme of the row's first request: what the library saw, else its origin.

    The cell's observed URL is the library's own (after redirects it is the last one, so it
    is trusted only when no redirect was followed); otherwise the origin's name says it:
    the TLS kinds are ``https``, ``https-expired``, ``https-hello`` ..., and ``wss``,
    ``wss-raw`` for WebSocket.
    """
    got = ((cell or {}).get("observed") or {}).get("got") or {}
    url = got.get("url") or ""
    if "://" in url and not got.get("history"):
        return url.split("://", 1)[0]
    origin = str((row.get("request") or {}).get("origin") or "http")
    tls = origin.startswith(("https", "wss")) or origin in TLS_ORIGINS
    if row.get("protocol") == "ws":
        return "wss" if tls else "ws"
    return "https" if tls else "http"


def _tls(client: str, req: dict[str, Any], host: str, port: int) -> tuple[list[str], dict[str, str], str]:
    """The TLS part of a snippet: lines before the call, keyword arguments (name -> (where,
    source)) and, for the raw socket, how it is opened. Placeholder files, with a comment."""
    trust, cert = req.get("trust", "default"), bool(req.get("client_cert"))
    notes = ([CA_NOTE] if trust == "ca" else []) + ([CLIENT_NOTE] if cert else [])
    cert_pair = f"({CLIENT_FILES[0]!r}, {CLIENT_FILES[1]!r})"
    kw: dict[str, str] = {}
    if client in ("curl_cffi", "curl_cffi-async", "curl_cffi-ws"):
        if trust != "default":
            kw["kw:verify"] = repr(CA_FILE) if trust == "ca" else "False"
        if cert:
            kw["kw:cert"] = cert_pair
        return ([""] + notes if notes else []), kw, ""
    if client == "pycurl":
        if trust == "ca":
            kw["kw:CAINFO"] = repr(CA_FILE)
        elif trust == "off":
            kw["kw:SSL_VERIFYPEER"], kw["kw:SSL_VERIFYHOST"] = "0", "0"
        if cert:
            kw["kw:SSLCERT"], kw["kw:SSLKEY"] = repr(CLIENT_FILES[0]), repr(CLIENT_FILES[1])
        return ([""] + notes if notes else []), kw, ""
    if client in ("tornado", "tornado-ws"):
        where = "ctor" if client == "tornado-ws" else "kw"  # the ws client takes them on HTTPRequest
        if trust == "ca":
            kw[f"{where}:ca_certs"] = repr(CA_FILE)
        elif trust == "off":
            kw[f"{where}:validate_cert"] = "False"
        if cert:
            kw[f"{where}:client_cert"], kw[f"{where}:client_key"] = repr(CLIENT_FILES[0]), repr(CLIENT_FILES[1])
        return ([""] + notes if notes else []), kw, ""
    if client == "httplib2":
        if trust == "ca":
            kw["ctor:ca_certs"] = repr(CA_FILE)
        elif trust == "off":
            kw["ctor:disable_ssl_certificate_validation"] = "True"
        extra = [f"# a client certificate: h.add_certificate({CLIENT_FILES[1]!r}, {CLIENT_FILES[0]!r}, '')"] if cert else []
        return ([""] + notes + extra if notes or extra else []), kw, ""
    if client in ("requests", "niquests", "niquests-async"):
        if trust != "default":
            kw["kw:verify"] = repr(CA_FILE) if trust == "ca" else "False"
        if cert:
            kw["kw:cert"] = cert_pair
        return ([""] + notes if notes else []), kw, ""
    if client == "urllib3":
        if trust != "default":
            kw["ctor:ca_certs" if trust == "ca" else "ctor:cert_reqs"] = repr(CA_FILE) if trust == "ca" else "'CERT_NONE'"
        if cert:
            kw["ctor:cert_file"], kw["ctor:key_file"] = repr(CLIENT_FILES[0]), repr(CLIENT_FILES[1])
        return ([""] + notes if notes else []), kw, ""
    if client == "websocket-client":
        opt = []
        if trust == "ca":
            opt.append(f"'ca_certs': {CA_FILE!r}")
        elif trust == "off":
            opt.append("'cert_reqs': ssl.CERT_NONE, 'check_hostname': False")
        if cert:
            opt.append(f"'certfile': {CLIENT_FILES[0]!r}, 'keyfile': {CLIENT_FILES[1]!r}")
        if opt:
            kw["kw:sslopt"] = "{" + ", ".join(opt) + "}"
        lines = (["import ssl"] if trust == "off" else []) + ([""] + notes if notes else [])
        return lines, kw, ""
    if trust == "default" and not cert and client != "socket":
        return [], {}, ""  # the library's own default context
    make = {"ca": f"ssl.create_default_context(cafile={CA_FILE!r})",
            "off": "ssl._create_unverified_context()"}.get(trust, "ssl.create_default_context()")
    lines = ["import ssl", "", *notes, f"ctx = {make}"]
    if cert:
        lines.append(f"ctx.load_cert_chain{cert_pair}")
    if client == "socket":
        return lines, {}, (f"socket.create_connection(({host!r}, {port})) as sock, "
                           f"ctx.wrap_socket(sock, server_hostname={host!r}) as s")
    keyword, where = TLS_CONTEXT.get(client, ("ssl", "kw"))
    return lines, {f"{where}:{keyword}": "ctx"}, ""


def _ws_kwargs(client: str, ws: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """A WebSocket row's options as the library's keywords, and notes for those it lacks."""
    names = WS_KEYWORDS.get(client, {})
    kw: dict[str, str] = {}
    notes: list[str] = []
    for name in ("subprotocols", "compression", "max_size"):
        if name not in ws:
            continue
        value = ws[name]
        if name == "compression":
            value = {"websockets": "deflate" if value else None, "aiohttp-ws": 15 if value else 0,
                     "tornado-ws": {} if value else None}.get(client.replace("-sync", ""), value)
        if names.get(name):
            kw[f"kw:{names[name]}"] = repr(value)
        else:
            notes.append(f"# the scenario asks {name}={ws[name]!r}: {client} has no such option")
    return kw, notes


def serve_command(row: dict[str, Any]) -> str:
    return "python -m matrix serve " + shlex.quote(str(row["id"]))


def head(row: dict[str, Any], client: str) -> list[str]:
    """The snippet's first four lines: made of the row and the client only (report.js makes
    the same lines in the page)."""
    return [f"# clientmatrix reproducer: {comment(row['id'])} with {comment(client)}",
            f"# {comment(row.get('title', ''))}",
            f"# Start the scripted server first: {comment(serve_command(row))}",
            f"# (or replay the cell: {comment(pytest_command(row, client))})"]


def snippet(row: dict[str, Any], client: str, cell: dict[str, Any] | None = None) -> str:
    """A runnable snippet for this library and this scenario (see TEMPLATES)."""
    return "\n".join(head(row, client) + body(row, client, cell)) + "\n"


def authority(row: dict[str, Any], cell: dict[str, Any] | None) -> tuple[str, int, str]:
    """(host, port, the run's authority): the serve command's port for the row's origin, the
    host name the run used (``localhost`` for the alias origins)."""
    req = row.get("request") or {}
    sent = _first_sent(cell)
    tls = scheme_of(row, cell) in ("https", "wss")
    run = (sent or {}).get("server") or ""
    host = run.rpartition(":")[0] or SERVE_HOST
    origin = str(req.get("origin") or ("https" if tls else "http"))
    port = SERVE_PORTS.get(origin)
    if port is None:  # an origin serve has no fixed port for (port 80): the run's
        rest = run.rpartition(":")[2]
        port = int(rest) if rest.isdigit() else (443 if tls else 80)
    return host, port, run


def body(row: dict[str, Any], column: str, cell: dict[str, Any] | None = None) -> list[str]:
    """The snippet after its head: what was observed, the options, the code (an h2 column uses
    its base client's template, with HTTP/2 turned on: H2_CLIENTS)."""
    client = H2_CLIENTS.get(column, column)
    req = row.get("request") or {"method": "GET", "path": "/"}
    sent = _first_sent(cell)
    scheme = scheme_of(row, cell)
    tls = scheme in ("https", "wss")
    host, number, run = authority(row, cell)
    server = f"{host}:{number}"
    path = req.get("path", "/")
    if "params" in req and not KEYWORDS.get(client, {}).get("params") and sent and "?" in sent["target"]:
        path += "?" + sent["target"].split("?", 1)[1]  # no query API: the query as it went on the wire
    lines: list[str] = []
    if sent:
        lines.append(comment(f"# observed on the wire: {sent['method']} {ROUTE.sub('', sent['target'], 1) or '/'}, "
                             f"{len(sent.get('headers', []))} header fields, framing {sent['framing']}, "
                             f"body {sent['body_len']} bytes"))
    options = ((cell or {}).get("observed") or {}).get("options")
    if options:
        lines.append(comment(f"# options the cell used: {options}"))
    if req.get("then"):
        lines.append(f"# the scenario makes {req['then']} more call(s) with the same client afterwards")
    if req.get("concurrent"):
        lines.append(f"# the scenario makes {req['concurrent']} such calls at once with the same client")
    template = TEMPLATES.get(client)
    if template is None:
        return lines + [f"# no snippet template for client {comment(client)!r}: use the pytest command above"]
    ws = req.get("ws") or {}
    setup, tls_kw, opened = _tls(client, req, host, number) if tls else ([], {}, "")
    ws_kw, notes = _ws_kwargs(client, ws)
    lines += [comment(n) for n in notes]
    keywords = {**tls_kw, **ws_kw}
    if column in H2_CLIENTS:
        if client.startswith("httpx"):
            keywords["ctor:http2"] = "True"
            if req.get("prior_knowledge"):
                keywords["ctor:http1"] = "False"
        else:
            setup = ["import urllib3.http2", "",
                     "urllib3.http2.inject_into_urllib3()  # process-wide: urllib3's HTTPS pools now offer h2 only",
                     *setup]
    call_kw = _kwargs(client, req) + "".join(f", {k[3:]}={v}" for k, v in keywords.items() if k.startswith("kw:"))
    ctor = ", ".join(f"{k[5:]}={v}" for k, v in keywords.items() if k.startswith("ctor:"))
    fields = {
        "method": req.get("method", "GET"), "url": f"{scheme}://{server}{path}", "target": path,
        "host": host, "port": number, "scheme": scheme,
        "raw": _raw_request(sent, req, server, run), "kw": call_kw, "ctor": ctor,
        "ctor_kw": f", {ctor}" if ctor else "",
        "conn": "HTTPSConnection" if tls else "HTTPConnection",
        "open": opened or f"socket.create_connection(({host!r}, {number})) as s",
        "setup": "".join(line + "\n" for line in setup),
        "messages": _messages(ws),
        "receive": ws.get("receive", 0), "wait": WS_WAIT,
    }
    code = template.format(**fields)
    if "import ssl" in code:  # the setup's import, moved up among the standard library's
        code = _stdlib_first(code.replace("import ssl\n", "", 1), "import ssl")
    return lines + code.split("\n")


#: The standard library modules the templates import (to place ``import ssl`` among them).
STDLIB = ("asyncio", "http", "socket", "ssl", "threading", "urllib")


def _stdlib_first(code: str, line: str) -> str:
    """``code`` with the import ``line`` in its leading standard-library group (made if none)."""
    lines = code.split("\n")
    group = 0
    while group < len(lines) and lines[group].startswith("import ") and \
            lines[group].split()[1].split(".")[0] in STDLIB:
        group += 1
    if group == 0:
        return line + "\n\n" + code
    return "\n".join(sorted([*lines[:group], line]) + lines[group:])


def _messages(ws: dict[str, Any]) -> str:
    """The list literal of a WebSocket row's messages, one per line; a cut one says so."""
    sizes = {i: size for i, size in ws.get("cut", [])}
    lines = [f"\n    {source},  # cut: the first {SHORT} of {sizes[i]}, the rest is in the scenario"
             if i in sizes else f"\n    {source}," for i, source in enumerate(ws.get("send") or [])]
    return "[" + "".join(lines) + ("\n]" if lines else "]")


def _raw_request(sent: dict[str, Any] | None, req: dict[str, Any], server: str, run: str = "") -> bytes:
    """The request bytes as observed (header fields in order, the run's address made the serve
    command's, the route prefix dropped); the body from the scenario (a long repeated one cut to
    its first ``LONG_BODY`` bytes: the snippet stays readable)."""
    if sent is None:
        return f"{req.get('method', 'GET')} {req.get('path', '/')} HTTP/1.1\r\nHost: {server}\r\n\r\n".encode()
    target = ROUTE.sub("", sent["target"], 1) or "/"
    lines = [f"{sent['method']} {target} {sent.get('version', 'HTTP/1.1')}"]
    lines += [f"{k}: {v.replace(run, server) if run else v}" for k, v in sent.get("headers", [])]
    body = req.get("body", "").encode("latin-1") if sent.get("framing") == "content-length" else b""
    if "body_repeat" in req and sent.get("framing") == "content-length":
        body = req["body_repeat"][0].encode("latin-1") * min(int(req["body_repeat"][1]), LONG_BODY)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body
