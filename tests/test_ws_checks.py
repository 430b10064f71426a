"""The WebSocket rows can fail, and credit only the library.

For every graded ws row (MUST or SHOULD), table-driven from ``suites.test_ws.SCENARIOS``:
its check is fed transcripts that break what the title names (``check.wrong``: the
message cut short, a frame unmasked, no pong, the bad frame delivered, a non-minimal
length, a compressed frame on a length row ...) and none may pass; and one right
transcript (``check.right``) that must pass, so no check fails everything either.

Then the wire: the echo server records frames as sent (mask bit, RSV1, length form),
and live cells show that no adapter answers a ping or a Close for a library that
leaves it to its caller (wsproto), and that websocket-client's clean-up puts no Close
of the adapter's on the wire.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Any

import pytest

from fixtures import clients
from fixtures.cell import run_cell
from model.cell import Frame
from model.scenario import Scenario, grade
from servers import Servers
from servers.frames import WireTap, frame
from servers.ws import as_sent
from suites import test_ws

pytestmark = pytest.mark.selftest

GRADED = [s for s in test_ws.SCENARIOS if s.level != "INFO"]


def by_id(sid: str) -> Scenario:
    return next(s for s in test_ws.SCENARIOS if s.id == sid)


def test_every_graded_ws_row_brings_wrong_answers() -> None:
    missing = [s.id for s in GRADED if not hasattr(s.check, "wrong") or not hasattr(s.check, "right")]
    assert not missing, f"graded ws rows whose check has no wrong/right transcripts: {missing}"
    assert len(test_ws.SCENARIOS) >= 150


@pytest.mark.parametrize("scenario", GRADED, ids=[s.id for s in GRADED])
def test_a_wrong_transcript_does_not_pass(scenario: Scenario) -> None:
    check: Any = scenario.check
    wrong = check.wrong(scenario)
    assert wrong
    for i, obs in enumerate(wrong):
        verdict, summary = grade(scenario, obs)
        assert verdict not in ("pass", "error"), f"{scenario.id}: wrong transcript {i} graded {verdict}: {summary}"
    verdict, summary = grade(scenario, check.right(scenario))
    assert verdict == "pass", f"{scenario.id}: the right transcript graded {verdict}: {summary}"


def test_a_library_that_leaves_pongs_to_its_caller_is_not_credited() -> None:
    """wsproto's ping rows read ``unsupported`` with the library's words, never pass."""
    from suites.ws_checks import AFTER, transcript

    scenario = by_id("ws.ping-auto-pong")
    obs = transcript(got=[AFTER], controls=["ping"], leaves_={"pong": "the library leaves answering pings"})
    assert grade(scenario, obs) == ("unsupported", "the library leaves answering pings; no pong sent "
                                                   "(ping shown to the caller); delivered text 5 bytes")
    close = by_id("ws.close.1000")
    obs = transcript(close=(1000, ""), leaves_={"close": "the library leaves answering a Close"})
    assert grade(close, obs)[0] == "unsupported"


# -- the wire as the echo server reads it ----------------------------------------------


def handshake() -> bytes:
    return b"GET /c/t1/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"


def test_the_tap_reads_each_frame_head_as_sent() -> None:
    mask = b"\x01\x02\x03\x04"
    stream = handshake() + b"".join([
        frame(2, b"x" * 125, mask=mask), frame(2, b"x" * 126, mask=mask), frame(2, b"x" * 65536, mask=mask),
        frame(1, b"packed", rsv=4, mask=mask), frame(1, b"bare"),  # the last one unmasked
    ])
    tap = WireTap()
    for i in range(0, len(stream), 7):  # in small pieces: heads split across reads
        tap.feed(stream[i:i + 7])
    heads = [(f.opcode, f.rsv, f.masked, f.length_form, f.wire_len) for f in tap.heads]
    assert heads == [(2, 0, True, 7, 125), (2, 0, True, 16, 126), (2, 0, True, 64, 65536), (1, 4, True, 7, 6),
                     (1, 0, False, 7, 4)]


def test_a_decoded_payload_keeps_the_head_it_came_with() -> None:
    heads = [Frame(1, rsv=4, length_form=7, wire_len=12), Frame(1, masked=False, length_form=7, wire_len=3)]
    decoded = [Frame(1, payload=b"x" * 10240)]
    merged = as_sent(heads, decoded)
    assert merged[0].rsv == 4 and merged[0].on_wire == 12 and len(merged[0].payload) == 10240
    assert merged[1].masked is False and merged[1].payload == b""


def test_the_echo_server_records_an_unmasked_frame_as_unmasked(servers: Servers) -> None:
    """A client that forgets the mask shows it (before, every echo frame read as masked)."""
    from servers.frames import WsScript, accept_for

    route = servers.registry.open(WsScript())
    try:
        host, port = servers.server("ws").authority.rsplit(":", 1)
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        with socket.create_connection((host, int(port)), timeout=2) as sock:
            sock.sendall(f"GET {route.prefix}/ HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                         f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                         .encode())
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(4096)
            assert accept_for(key).encode() in head
            sock.sendall(frame(1, b"no mask") + frame(8, struct.pack("!H", 1000), mask=os.urandom(4)))
            while sock.recv(4096):
                pass
        route.settle(2.0)
        captures, _ = route.snapshot()
    finally:
        servers.registry.close(route)
    sent = [f for c in captures for f in c.frames]
    assert sent and sent[0].opcode == 1 and sent[0].masked is False


# -- live cells: the adapters do no protocol work of their own --------------------------


def live(servers: Servers, sid: str, client: str) -> Any:
    cls = clients.load(client)
    if cls.missing():
        pytest.skip(f"{client}: {cls.missing()}")
    return run_cell(by_id(sid), client, cls(servers.certs.ca_file if servers.certs else None), servers).cell


@pytest.mark.parametrize("sid", ["ws.ping-auto-pong", "ws.ping-payload-echoed", "ws.fragmented-with-ping"])
def test_wsproto_pings_are_not_answered_by_the_adapter(servers: Servers, sid: str) -> None:
    cell = live(servers, sid, "wsproto")
    frames = [f for c in cell.observed["sent"] for f in c.get("frames", [])]
    assert not [f for f in frames if f["opcode"] == "pong"], frames
    assert cell.verdict == "unsupported" and "leaves answering pings to the caller" in cell.summary


def test_wsproto_close_is_not_answered_by_the_adapter(servers: Servers) -> None:
    cell = live(servers, "ws.close.4000-reason", "wsproto")
    frames = [f for c in cell.observed["sent"] for f in c.get("frames", [])]
    assert not [f for f in frames if f["opcode"] == "close"], frames
    assert cell.verdict == "unsupported" and "leaves answering a Close" in cell.summary


@pytest.mark.parametrize("sid", ["ws.close.invalid-code", "ws.reserved-bits", "ws.control-too-long"])
def test_websocket_client_cleanup_sends_no_close(servers: Servers, sid: str) -> None:
    """The library raises without a Close frame; the adapter's clean-up adds none."""
    cell = live(servers, sid, "websocket-client")
    frames = [f for c in cell.observed["sent"] for f in c.get("frames", [])]
    assert not [f for f in frames if f["opcode"] == "close"], frames
    assert "sent no close frame" in cell.summary
