"""WebSocket (RFC 6455, RFC 7692): echo, framing, pings, close, limits, handshake.

The columns are the WebSocket clients (family ``ws``). Grouped after Autobahn's
categories. Two servers: the echo rows talk to the ``websockets`` library's server
(``origin="ws"`` / ``"wss"``), the rows where the server must misbehave talk to
our raw frame server (``"ws-raw"``), which sends exactly the frames declared here
and records every frame the client sends (``Capture.frames``).

Every raw script ends the same way (``raw``): wait up to a second for the client's
Close frame, then send a Close 1000 ourselves, so a client that ignored a bad
frame still finishes well inside the cell deadline instead of hanging.

What the caller saw is in ``got.extra["ws"]`` (messages with type, length and
SHA-256, the close code and reason it could see, the subprotocol); what the client
put on the wire is in the capture (its handshake request and frames).
"""

from __future__ import annotations

import hashlib
from typing import Any

from model.cell import Call, Frame, Observation, WsCall
from model.checks import fields, outcome
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Close
from model.wrong import close_frame, ws_answer
from servers.frames import CLOSE, PING, PONG, Await, WsScript, binary, close, cont, frame, ping, pong, text

AFTER = "after"
PING_DATA = bytes(range(125))
#: A code point split across fragments: "€" is E2 82 AC.
EURO_SPLIT = (text(b"a\xe2\x82", fin=False), cont(b"\xacb"))
MIB = 1024 * 1024


def raw(*steps: Any, **handshake: Any) -> WsScript:
    """A raw-server script: the steps, then wait for the client's Close, then close 1000."""
    return WsScript(steps=(*steps, Await(CLOSE), close(1000)), **handshake)


def ws(*send: str | bytes, receive: int | None = None, **kw: Any) -> Call:
    """A WebSocket call: send these messages, read as many back (or ``receive``)."""
    return Call(ws=WsCall(send=tuple(send), receive=len(send) if receive is None else receive, **kw))


# -- what the cell shows, in words ---------------------------------------------


def view(obs: Observation) -> dict[str, Any]:
    return obs.got.extra.get("ws", {}) if obs.got is not None else {}


def frames(obs: Observation) -> tuple[Frame, ...]:
    return tuple(f for c in obs.sent for f in c.frames)


def messages(obs: Observation) -> list[dict[str, Any]]:
    return list(view(obs).get("messages", []))


def digest(data: str | bytes) -> tuple[str, int, str]:
    raw_bytes = data.encode("utf-8") if isinstance(data, str) else data
    return ("text" if isinstance(data, str) else "binary", len(raw_bytes), hashlib.sha256(raw_bytes).hexdigest())


def same(got: dict[str, Any], want: str | bytes) -> bool:
    return (got["type"], got["len"], got["sha256"]) == digest(want)


def client_close(obs: Observation) -> Frame | None:
    return next((f for f in frames(obs) if f.opcode == CLOSE), None)


def answered(obs: Observation) -> str:
    """The Close frame the client put on the wire, in words."""
    f = client_close(obs)
    if f is None:
        return "sent no close frame"
    return f"sent close {f.close_code}" if f.close_code is not None else "sent close (no code)"


def caller(obs: Observation) -> str:
    """What the caller saw at the end: the close code and reason, and any exception."""
    seen = view(obs).get("close")
    parts = []
    if seen is not None:
        reason = f" {seen['reason']!r}" if seen["reason"] else ""
        code = "(no code)" if seen["code"] is None else seen["code"]
        parts.append(f"caller saw close {code}{reason}")
    if obs.error is not None:
        parts.append(f"raised {obs.error.short}")
    return "; ".join(parts) or "no error"


def delivered(obs: Observation) -> str:
    got = messages(obs)
    if not got:
        return "nothing delivered"
    return "delivered " + ", ".join(f"{m['type']} {m['len']} bytes" for m in got)


def unmasked(obs: Observation) -> int:
    return sum(1 for f in frames(obs) if not f.masked)


# -- checks ------------------------------------------------------------------------


def echoes(*sent: str | bytes) -> Check:
    """RFC 6455 §5.6: the messages come back whole, same type; §5.3: "The masking key
    ... the client MUST mask all frames that it sends to the server"."""

    def check(obs: Observation) -> Result:
        got = messages(obs)
        data = [f for f in frames(obs) if f.opcode in (0, 1, 2)]
        good = len(got) == len(sent) and all(same(g, s) for g, s in zip(got, sent, strict=False)) and obs.error is None
        if unmasked(obs):
            return bad(f"{unmasked(obs)} unmasked frame(s) sent; {delivered(obs)}")
        if good:
            kinds = ", ".join(f"{g['type']} {g['len']} bytes" for g in got)
            return ok(f"echoed {kinds} (sent in {len(data)} frame(s)); {answered(obs)}")
        return bad(f"{delivered(obs)}; {caller(obs)}")

    unmasked_frames = tuple(Frame(1 if isinstance(m, str) else 2, masked=False) for m in sent)
    return Checked(check, (ws_answer(*(m[:-1] if m else "x" for m in sent)),  # cut short
                           ws_answer(*sent, frames=unmasked_frames)))          # sent unmasked


def refused_with(kinds: tuple[str, ...]) -> Check:
    """The call fails (before any message) with one of these error kinds."""

    def check(obs: Observation) -> Result:
        if obs.error is None:
            return bad(f"connected; {delivered(obs)}")
        status = f", status {obs.got.status} visible" if obs.got is not None and obs.got.status not in (None, 101) else ""
        summary = f"refused: {obs.error.short}{status}; {delivered(obs)}"
        return Result(obs.error.kind in kinds and not messages(obs), summary)

    return Checked(check, (ws_answer("hello"), ws_answer(error="other")))


def connection_failed(obs: Observation) -> Result:
    """RFC 6455 §7.1.7: the client MUST _Fail the WebSocket Connection_: the bad frame,
    and the message sent after it, are never delivered; the Close code it sends (1002,
    1007 ...) is in the summary (it SHOULD send one, §7.1.7)."""
    summary = f"{delivered(obs)}; {answered(obs)}; {caller(obs)}"
    return Result(not messages(obs), summary)


fails_connection = Checked(connection_failed, (ws_answer(AFTER, frames=(close_frame(1000),)),))


def delivers(want: str | bytes, *, pong_needed: bool = False) -> Check:
    """The message arrives whole; with ``pong_needed``, the ping met on the way was answered."""

    def check(obs: Observation) -> Result:
        got = messages(obs)
        pongs = [f for f in frames(obs) if f.opcode == PONG]
        good = len(got) == 1 and same(got[0], want) and (pongs or not pong_needed)
        extra = f"; {len(pongs)} pong(s) sent" if pong_needed or pongs else ""
        return Result(bool(good), f"{delivered(obs)}{extra}; {caller(obs)}")

    pong = (Frame(PONG, payload=b"mid"),)
    wrong = [ws_answer(want[:-1], frames=pong), ws_answer(frames=pong)]
    if pong_needed:
        wrong.append(ws_answer(want))  # the ping met on the way never answered
    return Checked(check, tuple(wrong))


def pong_echo(payload: bytes) -> Check:
    """RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame
    in response"; §5.5.3: "A Pong frame sent in response to a Ping frame must have
    identical 'Application data' as found in the message body of the Ping frame"."""

    def check(obs: Observation) -> Result:
        pongs = [f for f in frames(obs) if f.opcode == PONG]
        shown = " (ping shown to the caller)" if view(obs).get("controls") else ""
        if not pongs:
            return bad(f"no pong sent{shown}; {delivered(obs)}")
        data = "same data" if pongs[0].payload == payload else f"other data ({len(pongs[0].payload)} bytes)"
        return Result(pongs[0].payload == payload, f"answered with a pong, {data}{shown}; {delivered(obs)}")

    return Checked(check, (ws_answer(AFTER), ws_answer(AFTER, frames=(Frame(PONG, payload=payload[:-1] or b"x"),))))


def pong_ignored(obs: Observation) -> Result:
    """RFC 6455 §5.5.3: "A Pong frame MAY be sent unsolicited ... A response to an
    unsolicited Pong frame is not expected." The next message still arrives."""
    answers = [f.name for f in frames(obs) if f.opcode in (PING, PONG)]
    summary = f"{delivered(obs)}" + (f"; answered with {', '.join(answers)}" if answers else "") + f"; {caller(obs)}"
    got = messages(obs)
    return Result(len(got) == 1 and same(got[0], AFTER) and not answers, summary)


ignores_pong = Checked(pong_ignored, (ws_answer(AFTER, frames=(Frame(PONG, payload=b"heartbeat"),)), ws_answer()))


def answers_close(*, forbidden: tuple[int | None, ...] = (1005, 1006, 1015)) -> Check:
    """RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send
    a Close frame, the endpoint MUST send a Close frame in response"; §7.4.1: 1005, 1006
    and 1015 "MUST NOT be set as a status code in a Close control frame by an endpoint"."""

    def check(obs: Observation) -> Result:
        f = client_close(obs)
        summary = f"{answered(obs)}; {caller(obs)}"
        return Result(f is not None and f.close_code not in forbidden, summary)

    return Checked(check, (ws_answer(), ws_answer(frames=(close_frame(forbidden[0]),))))


def close_code_rejected(obs: Observation) -> Result:
    """RFC 6455 §7.4.1: 1004 is reserved; a Close frame carrying it is invalid, and the
    client should fail the connection (1002, as Autobahn 7.9 expects), not echo it."""
    f = client_close(obs)
    summary = f"{answered(obs)}; {caller(obs)}"
    return Result(f is None or f.close_code == 1002, summary)


rejects_close_code = Checked(close_code_rejected, (ws_answer(frames=(close_frame(1004),)),))


def abnormal_close(obs: Observation) -> Result:
    """RFC 6455 §7.1.5: a connection lost without a Close frame is closed with code 1006:
    the caller must be able to tell it from a clean close."""
    seen = view(obs).get("close")
    told = obs.error is not None or (seen is not None and seen["code"] == 1006)
    return Result(told, f"{delivered(obs)}; {caller(obs)}")


abnormal = Checked(abnormal_close, (ws_answer("hi", close=(1000, "")),))


def clean_close(obs: Observation) -> Result:
    """RFC 6455 §7.1.2: the client starts the closing handshake with a Close frame
    (§5.5.1), masked (§5.3), and the library reports no error."""
    f = client_close(obs)
    good = f is not None and f.masked and f.close_code == 1000 and obs.error is None
    return Result(good, f"{delivered(obs)}; {answered(obs)}; {caller(obs)}")


closes_cleanly = Checked(clean_close, (ws_answer(), ws_answer(frames=(close_frame(1000, masked=False),)),
                                       ws_answer(frames=(close_frame(1000),), error="ws-closed")))


def too_big(*sizes: int) -> Check:
    """RFC 6455 §7.4.1: 1009 "indicates that an endpoint is terminating the connection
    because it has received a message that is too big for it to process". Each message
    is delivered whole, or refused with a Close 1009: never cut short, never another code."""

    def check(obs: Observation) -> Result:
        got = messages(obs)
        whole = all(same(g, b"a" * (n + 1)) for g, n in zip(got, sizes, strict=False))
        parts = [f"{n // MIB} MiB+1 {'delivered' if i < len(got) else 'refused'}" for i, n in enumerate(sizes)
                 if i <= len(got)]
        f = client_close(obs)
        refused = len(got) < len(sizes)
        good = whole and (not refused or (f is not None and f.close_code == 1009))
        return Result(good, f"{', '.join(parts)}; {answered(obs)}; {caller(obs)}")

    cut = ws_answer(b"a" * sizes[0], frames=(close_frame(1000),))                  # cut short
    other_code = ws_answer(frames=(close_frame(1002),))                            # refused, not with 1009
    return Checked(check, (cut, other_code))


def handshake_fields(obs: Observation) -> Result:
    """INFO: the handshake request's fields, in order (key and host values elided, the
    server's port shown as ``<port>``, Python's version as ``<py>``)."""
    if not obs.sent:
        return bad(f"nothing sent; {outcome(obs)}")
    return ok(fields(obs.sent[0], elide=("host", "sec-websocket-key"), port=True))


def subprotocol_is(offered: str, chosen: str | None) -> Check:
    """RFC 6455 §4.1: the client offers its subprotocols in Sec-WebSocket-Protocol; the
    one the server selected (or none) is what the caller is told, and the echo works."""

    def check(obs: Observation) -> Result:
        sent = obs.sent[0].header("Sec-WebSocket-Protocol") if obs.sent else None
        got = view(obs).get("subprotocol") or None
        summary = f"offered {sent!r}, caller told {got!r}; {delivered(obs)}; {caller(obs)}"
        return Result(sent is not None and got == chosen and len(messages(obs)) == 1 and obs.error is None, summary)

    return Checked(check, (ws_answer("hi", subprotocol="other"),))


def deflate_offered(obs: Observation) -> Result:
    """INFO: the extensions offered by default (RFC 7692 §5)."""
    offer = obs.sent[0].header("Sec-WebSocket-Extensions") if obs.sent else None
    agreed = view(obs).get("extensions")
    return ok(f"offered {offer!r}; negotiated {agreed!r}" if offer else "no extension offered")


def deflate_echo(*sent: str | bytes) -> Check:
    """RFC 7692 §7: with permessage-deflate negotiated, compressed messages go both ways
    and come back intact."""

    def check(obs: Observation) -> Result:
        agreed = view(obs).get("extensions") or ""
        echo = echoes(*sent)(obs)
        good = "permessage-deflate" in agreed and echo.ok
        return Result(good, f"negotiated {'permessage-deflate' if 'permessage-deflate' in agreed else 'nothing'}; "
                            f"{echo.summary}")

    return Checked(check, (ws_answer(*sent, extensions=""),))


# -- the rows ------------------------------------------------------------------------

UTF8 = "κόσμε ☕ 𝄞 ✓"
DEFLATABLE = "hello websocket " * 640


def echo(suffix: str, title: str, data: str | bytes, spec: str = "RFC 6455 §5.6") -> Scenario:
    return Scenario(f"ws.echo.{suffix}", title, spec, "MUST", echoes(data), ws(data), WsScript(),
                    origin="ws", protocol="ws")


def refuses(sid: str, title: str, spec: str, bad_frame: bytes) -> Scenario:
    """A frame the client MUST refuse, followed by a good one it must not deliver."""
    return Scenario(sid, title, spec, "MUST", fails_connection, ws(receive=2),
                    raw(bad_frame, text(AFTER)), origin="ws-raw", protocol="ws")


def row(sid: str, title: str, spec: str, level: Any, check: Check, call: Call, script: WsScript,
        origin: str = "ws-raw", **kw: Any) -> Scenario:
    return Scenario(sid, title, spec, level, check, call, script, origin=origin, protocol="ws", **kw)


SCENARIOS = [
    # echo
    echo("text", "A short text message echoed", "hello"),
    echo("binary", "A binary message echoed", bytes(range(256)) * 4),
    echo("empty", "An empty text message echoed", ""),
    echo("125", "125 bytes: the largest 7-bit payload length", b"x" * 125, "RFC 6455 §5.2"),
    echo("126", "126 bytes: the 16-bit payload length", b"x" * 126, "RFC 6455 §5.2"),
    echo("65535", "65535 bytes: the largest 16-bit payload length", b"x" * 65535, "RFC 6455 §5.2"),
    echo("65536", "65536 bytes: the 64-bit payload length", b"x" * 65536, "RFC 6455 §5.2"),
    echo("1mib", "A 1 MiB binary message echoed", b"m" * MIB, "RFC 6455 §5.2"),
    echo("utf8-multibyte", "Text with 2-, 3- and 4-byte UTF-8 sequences", UTF8, "RFC 6455 §5.6"),
    row("ws.wss-trusted", "wss:// with the CA trusted the documented way: echo works", "RFC 6455 §4.1",
        "MUST", echoes("hello"), Call(trust="ca", ws=WsCall(send=("hello",), receive=1)), WsScript(), "wss"),
    row("ws.wss-untrusted", "wss:// with library defaults against an unknown CA: must fail", "RFC 6455 §4.1",
        "MUST", refused_with(("tls-untrusted",)), ws("hello"), WsScript(), "wss", security=True),
    # framing from the server
    row("ws.fragmented-text", "A text message in three fragments: delivered whole", "RFC 6455 §5.4", "MUST",
        delivers("Hello, world"), ws(receive=1),
        raw(text("Hel", fin=False), cont("lo, ", fin=False), cont("world"))),
    row("ws.fragmented-with-ping", "A ping between fragments: answered, message whole", "RFC 6455 §5.4", "MUST",
        delivers("Hello, world", pong_needed=True), ws(receive=1),
        raw(text("Hello", fin=False), ping(b"mid"), cont(", world"))),
    refuses("ws.reserved-bits", "RSV1 set without a negotiated extension: connection failed", "RFC 6455 §5.2",
            text("rsv", rsv=4)),
    refuses("ws.unknown-opcode", "A frame with reserved opcode 0x3: connection failed", "RFC 6455 §5.2",
            frame(0x3, b"what")),
    refuses("ws.masked-server-frame", "A masked frame from the server: connection closed", "RFC 6455 §5.1",
            text("masked", mask=b"\x01\x02\x03\x04")),
    refuses("ws.control-too-long", "A ping with 126 bytes of data: connection failed", "RFC 6455 §5.5",
            ping(b"p" * 126)),
    refuses("ws.fragmented-control", "A fragmented ping (FIN clear): connection failed", "RFC 6455 §5.5",
            ping(b"frag", fin=False)),
    refuses("ws.invalid-utf8-text", "A text message that is not UTF-8: connection failed", "RFC 6455 §8.1",
            text(b"caf\xc3\x28 \xff")),
    row("ws.invalid-utf8-fragment-boundary", "A code point split across fragments: valid, delivered",
        "RFC 6455 §5.6", "MUST", delivers("a€b"), ws(receive=1), raw(*EURO_SPLIT)),
    # pings
    row("ws.ping-auto-pong", "A ping from the server: does the library answer by itself?", "RFC 6455 §5.5.2",
        "MUST", pong_echo(b""), ws(receive=1), raw(ping(b""), Await(PONG), text(AFTER))),
    row("ws.unsolicited-pong", "An unsolicited pong: ignored, the next message arrives", "RFC 6455 §5.5.3",
        "MUST", ignores_pong, ws(receive=1), raw(pong(b"heartbeat"), text(AFTER))),
    row("ws.ping-payload-echoed", "A ping with 125 bytes of data: the pong carries the same", "RFC 6455 §5.5.3",
        "MUST", pong_echo(PING_DATA), ws(receive=1), raw(ping(PING_DATA), Await(PONG), text(AFTER))),
    # close
    row("ws.close.1000", "The server closes with 1000: the client answers with a Close", "RFC 6455 §5.5.1",
        "MUST", answers_close(), ws(receive=1), raw(close(1000))),
    row("ws.close.4000-reason", "Close 4000 with a reason: which code does the client answer with?",
        "RFC 6455 §5.5.1", "MUST", answers_close(), ws(receive=1), raw(close(4000, "bye now"))),
    row("ws.close.empty", "A Close without a code: answered with a Close, never 1005 on the wire "
        "(what code the caller sees is recorded)",
        "RFC 6455 §7.1.5", "MUST", answers_close(), ws(receive=1), raw(close())),
    row("ws.close.invalid-code", "A Close with reserved code 1004: connection failed (1002), not echoed",
        "RFC 6455 §7.4.1", "SHOULD", rejects_close_code, ws(receive=1), raw(close(1004))),
    row("ws.close.abrupt", "TCP closed without a Close frame: the caller can tell (1006 or an error)",
        "RFC 6455 §7.1.5", "MUST", abnormal, ws(receive=2), WsScript(steps=(text("hi"), Close()))),
    row("ws.close.client-initiated", "The client closes: a masked Close 1000, no error", "RFC 6455 §7.1.2",
        "MUST", closes_cleanly, ws("bye"), WsScript(), "ws"),
    # limits
    row("ws.max-size-default", "1 MiB+1 then 4 MiB+1 messages: delivered whole or refused with 1009",
        "RFC 6455 §7.4.1", "SHOULD", too_big(MIB, 4 * MIB), ws(receive=2),
        raw(binary(b"a" * (MIB + 1)), binary(b"a" * (4 * MIB + 1)))),
    # handshake
    row("ws.handshake-headers", "The handshake fields each library sends (Origin, extensions, User-Agent)",
        "RFC 6455 §4.1", "INFO", handshake_fields, ws("hi"), WsScript(), "ws"),
    row("ws.handshake-non-101", "The server answers 200 instead of 101: the client must fail", "RFC 6455 §4.1",
        "MUST", refused_with(("ws-handshake",)), ws(receive=1), raw(text("hello"), status=200)),
    row("ws.handshake-bad-accept", "A wrong Sec-WebSocket-Accept: the client must fail", "RFC 6455 §4.1",
        "MUST", refused_with(("ws-handshake",)), ws(receive=1), raw(text("hello"), accept="bad"), security=True),
    row("ws.subprotocol-accepted", "Two subprotocols offered, the server picks one: the caller is told",
        "RFC 6455 §4.1", "MUST", subprotocol_is("chat, superchat", "chat"),
        ws("hi", subprotocols=("chat", "superchat")), WsScript(subprotocol="chat"), "ws"),
    row("ws.subprotocol-unoffered", "The server picks a subprotocol the client did not offer: must fail",
        "RFC 6455 §4.1", "MUST", refused_with(("ws-handshake",)), ws(receive=1, subprotocols=("chat",)),
        raw(text("hello"), subprotocol="other")),
    row("ws.subprotocol-missing", "A subprotocol offered, the server picks none: connected, none reported",
        "RFC 6455 §4.1", "MUST", subprotocol_is("chat", None), ws("hi", subprotocols=("chat",)),
        WsScript(), "ws"),
    row("ws.deflate-offered", "Is permessage-deflate offered by default?", "RFC 7692 §5", "INFO",
        deflate_offered, ws("hi"), WsScript(), "ws"),
    row("ws.deflate-echo", "permessage-deflate asked for: compressed echo works", "RFC 7692 §7", "MUST",
        deflate_echo(DEFLATABLE, DEFLATABLE.encode()), ws(DEFLATABLE, DEFLATABLE.encode(), compression=True),
        WsScript(), "ws"),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
