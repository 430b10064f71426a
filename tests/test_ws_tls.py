"""wss:// for every WebSocket client: one way to make the TLS context, meaningful options.

The context-taking adapters get theirs from ``fixtures.adapter.tls_context`` (the one
implementation: trust and client certificate) and record its text; websocket-client
takes paths through ``sslopt``, tornado-ws and curl_cffi-ws as keyword arguments. Either
way the cell echoes, and its options name the CA and the client certificate, never a file
path of this run.
"""

from __future__ import annotations

from typing import Any

import pytest

from fixtures import clients
from fixtures.adapter import tls_context
from fixtures.cell import run_cell
from model.cell import Call, WsCall
from model.scenario import Scenario
from servers import Servers
from servers.frames import WsScript
from suites.ws_checks import Echoes

pytestmark = pytest.mark.selftest

CLIENT_CERT = ("{client_cert}", "{client_key}")
CASES = [  # (id, trust, client certificate)
    ("ca", "ca", None),
    ("off", "off", None),
    ("ca + client cert", "ca", CLIENT_CERT),
]
#: websocket-client's sslopt text per case (the others record tls_context's).
SSLOPT = {
    "ca": '{"ca_certs": CA}',
    "off": '{"cert_reqs": CERT_NONE, "check_hostname": False}',
    "ca + client cert": '{"ca_certs": CA, "certfile": CLIENT_CERT, "keyfile": CLIENT_KEY}',
}
#: The other path-taking clients: the options each case records (names, never paths).
PATHS: dict[str, dict[str, dict[str, object]]] = {
    "tornado-ws": {
        "ca": {"ca_certs": "CA file path"},
        "off": {"validate_cert": False},
        "ca + client cert": {"ca_certs": "CA file path", "client_cert": "CLIENT_CERT", "client_key": "CLIENT_KEY"},
    },
    "curl_cffi-ws": {
        "ca": {"verify": "CA file path"},
        "off": {"verify": False},
        "ca + client cert": {"verify": "CA file path", "cert": "(CLIENT_CERT, CLIENT_KEY)"},
    },
    "niquests-ws": {  # requests' words: verify= and cert=
        "ca": {"verify": "CA file path"},
        "off": {"verify": False},
        "ca + client cert": {"verify": "CA file path", "cert": "(CLIENT_CERT, CLIENT_KEY)"},
    },
}




@pytest.mark.parametrize("client", clients.of_family("ws"))
@pytest.mark.parametrize(("case", "trust", "cert"), CASES, ids=[c[0] for c in CASES])
def test_wss_echo_with_trust_and_client_cert(servers: Servers, adapters: Any, client: str, case: str, trust: str,
                                             cert: tuple[str, str] | None) -> None:
    adapter = adapters.get(client)  # the session's: in-process, or a runner of the column's environment
    if isinstance(adapter, str):
        pytest.skip(f"{client}: {adapter}")
    call = Call(trust=trust, client_cert=cert, ws=WsCall(send=("hello",), receive=1))
    scenario = Scenario("selftest.wss", "wss echo", "-", "MUST", Echoes(("hello",)), call, WsScript(),
                        origin="wss", protocol="ws")
    run = run_cell(scenario, client, adapter, servers)
    assert run.cell.verdict == "pass", run.cell.summary
    options = (run.cell.observed or {}).get("options", {})
    if client == "websocket-client":
        assert options["sslopt"] == SSLOPT[case]
    elif client in PATHS:
        assert {k: options.get(k) for k in PATHS[client][case]} == PATHS[client][case]
    else:
        files = servers.tls_kit().client_files if cert else None
        made = tls_context(Call(trust=trust, client_cert=files), servers.certs.ca_file if servers.certs else None)
        assert made is not None
        assert options["ssl"] == made[1]
    assert "/" not in repr(options), options  # names, not this run's temp paths
