"""What the WebSocket rows check, and how each check can be shown wrong.

A cell's two sides, for WebSocket:

    sent  the handshake request and every frame the client put on the wire, as the
          fixture server read it (``Capture.frames``: FIN, RSV, mask bit, length
          form, length on the wire, the payload as decoded);
    got   ``got.extra["ws"]``: what the library handed its caller (messages with
          type, length and SHA-256, the close code and reason, pings and pongs it
          showed), the steps it leaves to its caller (``leaves``), and any error.

Each check is a small frozen dataclass: called with an ``Observation`` it returns a
``Result``; ``wrong(scenario)`` returns transcripts that break what the row's title
names (the message cut short, the frame unmasked, no pong, the bad frame
delivered ...). ``tests/test_ws_checks.py`` feeds every graded row its wrong
transcripts and asserts none passes, and its right one (``right``) where the
check has one, and asserts it passes: a check that cannot fail, or cannot pass,
is caught there.

Where a library leaves a step to its caller by design (wsproto answers neither
pings nor Close frames), the checks that ask "does the library do it by itself?"
answer ``left_to_caller``: the verdict is ``unsupported`` with the library's words,
and no MUST is credited.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from model.cell import Capture, Failure, Frame, Got, Observation
from model.checks import fields, outcome
from model.scenario import Result, Scenario, bad, left_to_caller, ok

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
AFTER = "after"
MIB = 1024 * 1024
#: Codes a client uses when it fails the connection (RFC 6455 §7.4.1: 1002 protocol
#: error, 1007 inconsistent data).
FAILURE_CODES = (1002, 1007)

# -- what the cell shows, in words ---------------------------------------------


def view(obs: Observation) -> dict[str, Any]:
    return obs.got.extra.get("ws", {}) if obs.got is not None else {}


def frames(obs: Observation) -> tuple[Frame, ...]:
    return tuple(f for c in obs.sent for f in c.frames)


def data_frames(obs: Observation) -> list[Frame]:
    return [f for f in frames(obs) if f.opcode in (CONT, TEXT, BINARY)]


def messages(obs: Observation) -> list[dict[str, Any]]:
    return list(view(obs).get("messages", []))


def leaves(obs: Observation, step: str) -> str | None:
    """The library's words when it leaves ``step`` to its caller by design, or None."""
    return view(obs).get("leaves", {}).get(step)


def digest(data: str | bytes) -> tuple[str, int, str]:
    raw_bytes = data.encode("utf-8") if isinstance(data, str) else data
    return ("text" if isinstance(data, str) else "binary", len(raw_bytes), hashlib.sha256(raw_bytes).hexdigest())


def same(got: dict[str, Any], want: str | bytes) -> bool:
    return (got["type"], got["len"], got["sha256"]) == digest(want)


@cache
def filled(size: int, fill: bytes = b"a") -> tuple[str, int, str]:
    """``digest(fill * size)`` for a binary message, hashed a MiB at a time: the 16 MiB+1
    message is compared by its length and hash, never made again to be compared."""
    sha, piece = hashlib.sha256(), fill * MIB
    for start in range(0, size, MIB):
        sha.update(piece[:size - start])
    return ("binary", size, sha.hexdigest())


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
    if len(got) > 4:
        return f"delivered {len(got)} messages"
    return "delivered " + ", ".join(f"{m['type']} {m['len']} bytes" for m in got)


def unmasked(obs: Observation) -> int:
    return sum(1 for f in frames(obs) if not f.masked)


def minimal_form(n: int) -> int:
    """RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length"."""
    return 7 if n < 126 else 16 if n < 1 << 16 else 64


def wire(f: Frame) -> str:
    """A data frame's head in words: its length on the wire, length form, RSV1."""
    form = f", {f.length_form}-bit length" if f.length_form else ""
    rsv = ", RSV1 (compressed)" if f.rsv & 4 else ""
    return f"{f.on_wire} bytes{form}{rsv}"


# -- wrong transcripts ---------------------------------------------------------------


def transcript(*, sent: tuple[Frame, ...] = (), got: Sequence[str | bytes] = (),
               close: tuple[int | None, str] | None = None, error: str | None = None,
               controls: Sequence[str] = (), leaves_: dict[str, str] | None = None,
               status: int = 101, subprotocol: str | None = None, extensions: str | None = None,
               headers: tuple[tuple[str, str], ...] = ()) -> Observation:
    """An observation made by hand: the frames the server read, what the library handed over."""
    def msg(m: str | bytes) -> dict[str, Any]:
        kind, n, sha = digest(m)
        return {"type": kind, "len": n, "sha256": sha, "excerpt": ""}

    ws: dict[str, Any] = {"subprotocol": subprotocol, "extensions": extensions, "messages": [msg(m) for m in got],
                          "controls": [{"type": c, "len": 0} for c in controls],
                          "close": None if close is None else {"code": close[0], "reason": close[1]}}
    if leaves_:
        ws["leaves"] = leaves_
    capture = Capture("GET", "/", "HTTP/1.1", headers, b"", "none", b"", frames=sent)
    failure = None if error is None else Failure(error, f"lib.{error.title()}Error", "made by hand")
    return Observation(sent=(capture,), got=Got(status, extra={"ws": ws}), error=failure)


def masked(opcode: int, payload: bytes = b"", **kw: Any) -> Frame:
    """A client frame as the server reads it: masked, minimal length form, not compressed."""
    code = int.from_bytes(payload[:2], "big") if opcode == CLOSE and len(payload) >= 2 else None
    reason = payload[2:].decode("utf-8", "replace") if code is not None else ""
    return Frame(opcode, payload=payload, close_code=code, close_reason=reason,
                 length_form=minimal_form(len(payload)), wire_len=len(payload), **kw)


def close_frame(code: int | None) -> Frame:
    return masked(CLOSE, b"" if code is None else code.to_bytes(2, "big"))


def data_of(m: str | bytes) -> Frame:
    return masked(TEXT if isinstance(m, str) else BINARY, m.encode() if isinstance(m, str) else m)


def cut(m: str | bytes) -> str | bytes:
    """A message one byte (or one character) short."""
    return m[:-1] if m else ("x" if isinstance(m, str) else b"x")


# -- checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Echoes:
    """RFC 6455 §5.6: the messages come back whole, same type; §5.3: "The masking key ...
    the client MUST mask all frames that it sends to the server". With ``lengths``, §5.2:
    "the minimal number of bytes MUST be used to encode the length", and each frame must
    carry its own length on the wire (not compressed: the row asks for no compression)."""

    sent: tuple[str | bytes, ...]
    lengths: bool = False

    def __call__(self, obs: Observation) -> Result:
        got = messages(obs)
        data = data_frames(obs)
        shown = "; ".join(wire(f) for f in data[:3]) + (" ..." if len(data) > 3 else "")
        if unmasked(obs):
            return bad(f"{unmasked(obs)} unmasked frame(s) sent; {delivered(obs)}")
        whole = len(got) == len(self.sent) and all(same(g, s) for g, s in zip(got, self.sent, strict=False))
        if not whole or obs.error is not None:
            return bad(f"{delivered(obs)}; {caller(obs)}")
        kinds = ", ".join(f"{g['type']} {g['len']} bytes" for g in got)
        if self.lengths:
            wrong = [f for f in data if f.length_form != minimal_form(f.on_wire) or f.rsv & 4]
            if wrong or not data:
                return bad(f"echoed {kinds}, but sent as {shown or 'no frame'}")
            return ok(f"echoed {kinds}; sent as {shown}; {answered(obs)}")
        packed = [f for f in data if f.rsv & 4]
        how = f", {len(packed)} compressed to {sum(f.on_wire for f in packed)} bytes" if packed else ""
        return ok(f"echoed {kinds} (sent in {len(data)} frame(s){how}); {answered(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(sent=(*map(data_of, self.sent), close_frame(1000)), got=list(self.sent))

    def wrong(self, sc: Scenario) -> list[Observation]:
        out = [transcript(sent=tuple(map(data_of, self.sent)), got=[*self.sent[:-1], cut(self.sent[-1])]),
               transcript(sent=tuple(replace(data_of(m), masked=False) for m in self.sent), got=list(self.sent))]
        if self.lengths:
            small = tuple(replace(data_of(m), rsv=4, wire_len=5) for m in self.sent)
            out.append(transcript(sent=small, got=list(self.sent)))
            frames_ = tuple(map(data_of, self.sent))
            if all(f.length_form != 64 for f in frames_):  # a 64-bit length is the longest form there is
                loose = tuple(replace(f, length_form=64) for f in frames_)
                out.append(transcript(sent=loose, got=list(self.sent)))
        return out


@dataclass(frozen=True)
class RefusedWith:
    """The call fails (before any message) with one of these error kinds."""

    kinds: tuple[str, ...]

    def __call__(self, obs: Observation) -> Result:
        if obs.error is None:
            return bad(f"connected; {delivered(obs)}")
        status = f", status {obs.got.status} visible" if obs.got is not None and obs.got.status not in (None, 101) else ""
        summary = f"refused: {obs.error.short}{status}; {delivered(obs)}"
        return Result(obs.error.kind in self.kinds and not messages(obs), summary)

    def right(self, sc: Scenario) -> Observation:
        return transcript(error=self.kinds[0], status=0)

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(got=["hello"]), transcript(error="other"), transcript(got=["hello"], error=self.kinds[0])]


@dataclass(frozen=True)
class FailsConnection:
    """RFC 6455 §7.1.7: the client MUST _Fail the WebSocket Connection_: the bad frame, and
    the messages sent after it, are never delivered; the Close code it sends (1002, 1007
    ...) is in the summary (it SHOULD send one, §7.1.7)."""

    bad_payload: str | bytes = b""

    def __call__(self, obs: Observation) -> Result:
        return Result(not messages(obs), f"{delivered(obs)}; {answered(obs)}; {caller(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(sent=(close_frame(1002),), error="protocol-error")

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(got=[AFTER, AFTER], sent=(close_frame(1000),)), transcript(got=[self.bad_payload or "x"])]


@dataclass(frozen=True)
class Delivers:
    """The message arrives whole (RFC 6455 §5.4: "An endpoint MUST be capable of handling
    control frames in the middle of a fragmented message"); with ``pong_needed``, the ping
    met on the way was answered (§5.5.2) by the library itself."""

    want: str | bytes
    pong_needed: bool = False

    def __call__(self, obs: Observation) -> Result:
        got = messages(obs)
        pongs = [f for f in frames(obs) if f.opcode == PONG]
        whole = len(got) == 1 and same(got[0], self.want)
        extra = f"; {len(pongs)} pong(s) sent" if self.pong_needed or pongs else ""
        summary = f"{delivered(obs)}{extra}; {caller(obs)}"
        why = leaves(obs, "pong")
        if self.pong_needed and not pongs and why is not None:
            return left_to_caller(f"{why}; {summary}")
        return Result(whole and (bool(pongs) or not self.pong_needed), summary)

    def right(self, sc: Scenario) -> Observation:
        return transcript(got=[self.want], sent=(masked(PONG, b"mid"),) if self.pong_needed else ())

    def wrong(self, sc: Scenario) -> list[Observation]:
        out = [transcript(got=[cut(self.want)], sent=(masked(PONG, b"mid"),)), transcript(error="protocol-error")]
        if self.pong_needed:
            out.append(transcript(got=[self.want]))
        return out


@dataclass(frozen=True)
class DeliversAll:
    """Every message arrives whole, in order (RFC 7692 §7.2.2: compressed messages are
    decompressed with the agreed context rules)."""

    wants: tuple[str | bytes, ...]

    def __call__(self, obs: Observation) -> Result:
        got = messages(obs)
        whole = len(got) == len(self.wants) and all(same(g, w) for g, w in zip(got, self.wants, strict=False))
        return Result(whole, f"{delivered(obs)}; {caller(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(got=list(self.wants))

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(got=[*self.wants[:-1], cut(self.wants[-1])]), transcript(got=list(self.wants[:-1]),
                                                                                    error="protocol-error")]


@dataclass(frozen=True)
class PongEcho:
    """RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
    response"; §5.5.3: "A Pong frame sent in response to a Ping frame must have identical
    'Application data'". With several pings: "If an endpoint receives a Ping frame and has
    not yet sent Pong frame(s) in response to previous Ping frame(s), the endpoint MAY elect
    to send a Pong frame for only the most recently processed Ping frame": the last ping's
    data must come back."""

    payloads: tuple[bytes, ...]

    def __call__(self, obs: Observation) -> Result:
        pongs = [f.payload for f in frames(obs) if f.opcode == PONG]
        shown = " (ping shown to the caller)" if view(obs).get("controls") else ""
        last = self.payloads[-1]
        why = leaves(obs, "pong")
        if not pongs:
            if why is not None:
                return left_to_caller(f"{why}; no pong sent{shown}; {delivered(obs)}")
            return bad(f"no pong sent{shown}; {delivered(obs)}")
        if len(self.payloads) == 1:
            data = "same data" if pongs[0] == last else f"other data ({len(pongs[0])} bytes)"
            return Result(pongs[0] == last, f"answered with a pong, {data}{shown}; {delivered(obs)}")
        answered_ = sum(1 for p in self.payloads if p in pongs)
        return Result(last in pongs, f"{len(pongs)} pong(s) for {len(self.payloads)} pings, {answered_} with a ping's "
                                     f"data, the last {'answered' if last in pongs else 'not answered'}; "
                                     f"{delivered(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(sent=tuple(masked(PONG, p) for p in self.payloads), got=[AFTER])

    def wrong(self, sc: Scenario) -> list[Observation]:
        other = self.payloads[-1][:-1] if self.payloads[-1] else b"x"
        return [transcript(got=[AFTER]), transcript(sent=(masked(PONG, other),), got=[AFTER]),
                transcript(got=[AFTER], controls=["ping"])]


@dataclass(frozen=True)
class IgnoresPong:
    """RFC 6455 §5.5.3: "A Pong frame MAY be sent unsolicited ... A response to an
    unsolicited Pong frame is not expected." The next message still arrives."""

    def __call__(self, obs: Observation) -> Result:
        answers = [f.name for f in frames(obs) if f.opcode in (PING, PONG)]
        summary = delivered(obs) + (f"; answered with {', '.join(answers)}" if answers else "") + f"; {caller(obs)}"
        got = messages(obs)
        return Result(len(got) == 1 and same(got[0], AFTER) and not answers, summary)

    def right(self, sc: Scenario) -> Observation:
        return transcript(got=[AFTER])

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(got=[AFTER], sent=(masked(PONG, b"heartbeat"),)), transcript(error="protocol-error")]


@dataclass(frozen=True)
class AnswersClose:
    """RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send a
    Close frame, the endpoint MUST send a Close frame in response"; §7.4.1: 1005, 1006 and
    1015 "MUST NOT be set as a status code in a Close control frame by an endpoint"."""

    forbidden: tuple[int | None, ...] = (1005, 1006, 1015)

    def __call__(self, obs: Observation) -> Result:
        f = client_close(obs)
        summary = f"{answered(obs)}; {caller(obs)}"
        why = leaves(obs, "close")
        if f is None and why is not None:
            return left_to_caller(f"{why}; {summary}")
        return Result(f is not None and f.close_code not in self.forbidden, summary)

    def right(self, sc: Scenario) -> Observation:
        return transcript(sent=(close_frame(1000),), close=(1000, ""))

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(close=(1000, "")), transcript(sent=(close_frame(1005),), close=(1005, ""))]


@dataclass(frozen=True)
class RejectsClose:
    """A Close frame the client must not take as a normal close (an invalid code, a 1-byte
    body, a reason that is not UTF-8, RSV bits): it fails the connection (RFC 6455 §7.1.7),
    answering with one of ``allowed`` (1002 protocol error, as Autobahn 7.9 expects, or
    1007 for bad UTF-8) or dropping the TCP connection; never echoing ``code`` back, or
    answering with a normal 1000 as if all were well."""

    code: int | None = None
    allowed: tuple[int, ...] = (1002,)

    def __call__(self, obs: Observation) -> Result:
        f = client_close(obs)
        summary = f"{answered(obs)}; {caller(obs)}"
        return Result(f is None or f.close_code in self.allowed, summary)

    def right(self, sc: Scenario) -> Observation:
        return transcript(sent=(close_frame(self.allowed[0]),), error="protocol-error")

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(sent=(close_frame(self.code if self.code is not None else 1000),), close=(self.code, "")),
                transcript(sent=(close_frame(1000),), close=(1000, ""))]


@dataclass(frozen=True)
class NeverSends:
    """RFC 6455 §7.4.1: 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close
    control frame by an endpoint": a client handed one must not send it back."""

    code: int

    def __call__(self, obs: Observation) -> Result:
        sent = [f.close_code for f in frames(obs) if f.opcode == CLOSE]
        return Result(self.code not in sent, f"{answered(obs)}; {caller(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(sent=(close_frame(1002),))

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(sent=(close_frame(self.code),), close=(self.code, ""))]


@dataclass(frozen=True)
class Abnormal:
    """RFC 6455 §7.1.5: a connection lost without a Close frame is closed with code 1006:
    the caller must be able to tell it from a clean close."""

    def __call__(self, obs: Observation) -> Result:
        seen = view(obs).get("close")
        told = obs.error is not None or (seen is not None and seen["code"] == 1006)
        return Result(told, f"{delivered(obs)}; {caller(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(got=["hi"], close=(1006, ""))

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(got=["hi"], close=(1000, "")), transcript(got=["hi"])]


@dataclass(frozen=True)
class ClosesCleanly:
    """RFC 6455 §7.1.2: the client starts the closing handshake with a Close frame
    (§5.5.1), masked (§5.3), and the library reports no error."""

    def __call__(self, obs: Observation) -> Result:
        f = client_close(obs)
        good = f is not None and f.masked and f.close_code == 1000 and obs.error is None
        return Result(good, f"{delivered(obs)}; {answered(obs)}; {caller(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(got=["bye"], sent=(data_of("bye"), close_frame(1000)))

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(got=["bye"], sent=(data_of("bye"), replace(close_frame(1000), masked=False))),
                transcript(got=["bye"], sent=(data_of("bye"),)),
                transcript(got=["bye"], sent=(close_frame(1000),), error="ws-closed")]


@dataclass(frozen=True)
class ImposesLimit:
    """RFC 6455 §10.4: "Such an implementation SHOULD impose a limit on frame sizes and the
    total message size after reassembly from multiple frames." Messages of growing size:
    some refused (the code it closes with is in the summary: §7.4.1's 1009 "message too
    big" is the one meant), none cut short."""

    sizes: tuple[int, ...]

    def __call__(self, obs: Observation) -> Result:
        got = messages(obs)
        whole = all((g["type"], g["len"], g["sha256"]) == filled(n + 1) for g, n in zip(got, self.sizes, strict=False))
        parts = [f"{n // MIB} MiB+1 {'delivered' if i < len(got) else 'refused'}"
                 for i, n in enumerate(self.sizes) if i <= len(got)]
        refused = len(got) < len(self.sizes)
        return Result(whole and refused, f"{', '.join(parts)}; {answered(obs)}; {caller(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(got=[b"a" * (self.sizes[0] + 1)], sent=(close_frame(1009),), error="ws-too-big")

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(got=[b"a" * (n + 1) for n in self.sizes]),
                transcript(got=[b"a" * self.sizes[0]], error="ws-too-big")]


@dataclass(frozen=True)
class HandshakeFields:
    """INFO: the handshake request's fields, in order (key and host values elided, the
    server's port shown as ``<port>``, Python's version as ``<py>``)."""

    def __call__(self, obs: Observation) -> Result:
        if not obs.sent:
            return bad(f"nothing sent; {outcome(obs)}")
        return ok(fields(obs.sent[0], elide=("host", "sec-websocket-key"), port=True))


@dataclass(frozen=True)
class SubprotocolIs:
    """RFC 6455 §4.1: the client offers its subprotocols in Sec-WebSocket-Protocol; the one
    the server selected (or none) is what the caller is told, and the echo works."""

    chosen: str | None

    def __call__(self, obs: Observation) -> Result:
        sent = obs.sent[0].header("Sec-WebSocket-Protocol") if obs.sent else None
        got = view(obs).get("subprotocol") or None
        summary = f"offered {sent!r}, caller told {got!r}; {delivered(obs)}; {caller(obs)}"
        return Result(sent is not None and got == self.chosen and len(messages(obs)) == 1 and obs.error is None,
                      summary)

    def right(self, sc: Scenario) -> Observation:
        return transcript(got=["hi"], subprotocol=self.chosen, headers=(("Sec-WebSocket-Protocol", "chat"),))

    def wrong(self, sc: Scenario) -> list[Observation]:
        offered = (("Sec-WebSocket-Protocol", "chat"),)
        return [transcript(got=["hi"], subprotocol="other", headers=offered),
                transcript(subprotocol=self.chosen, headers=offered, error="ws-handshake")]


@dataclass(frozen=True)
class DeflateOffered:
    """INFO: the extensions offered by default (RFC 7692 §5)."""

    def __call__(self, obs: Observation) -> Result:
        offer = obs.sent[0].header("Sec-WebSocket-Extensions") if obs.sent else None
        agreed = view(obs).get("extensions")
        return ok(f"offered {offer!r}; negotiated {agreed!r}" if offer else "no extension offered")


def compression(obs: Observation) -> str:
    """How the client's data frames went: compressed (RSV1) or not, sizes before and after."""
    data = data_frames(obs)
    packed = [f for f in data if f.rsv & 4]
    if not packed:
        return f"the client compressed none of its {len(data)} data frame(s)"
    return (f"the client compressed {len(packed)} of {len(data)} data frame(s) (RSV1): "
            f"{sum(len(f.payload) for f in packed)} -> {sum(f.on_wire for f in packed)} bytes")


@dataclass(frozen=True)
class DeflateEcho:
    """RFC 7692 §7: with permessage-deflate negotiated, messages go both ways and come back
    intact; whether the client compressed its own (RSV1 and the size on the wire) is in
    the summary (RFC 7692 lets a sender leave a message uncompressed)."""

    sent: tuple[str | bytes, ...]

    def __call__(self, obs: Observation) -> Result:
        agreed = view(obs).get("extensions") or ""
        echo = Echoes(self.sent)(obs)
        negotiated = "permessage-deflate" in agreed
        return Result(negotiated and echo.ok, f"negotiated {'permessage-deflate' if negotiated else 'nothing'}; "
                                              f"{echo.summary}; {compression(obs)}")

    def right(self, sc: Scenario) -> Observation:
        return transcript(sent=tuple(replace(data_of(m), rsv=4, wire_len=40) for m in self.sent), got=list(self.sent),
                          extensions="permessage-deflate")

    def wrong(self, sc: Scenario) -> list[Observation]:
        return [transcript(sent=tuple(map(data_of, self.sent)), got=list(self.sent)),
                transcript(sent=tuple(map(data_of, self.sent)), got=[cut(m) for m in self.sent],
                           extensions="permessage-deflate")]


@dataclass(frozen=True)
class Compresses:
    """INFO: with permessage-deflate negotiated, does the client compress what it sends?"""

    def __call__(self, obs: Observation) -> Result:
        agreed = view(obs).get("extensions") or "nothing"
        return ok(f"negotiated {'permessage-deflate' if 'permessage-deflate' in agreed else 'nothing'}; "
                  f"{compression(obs)}; {delivered(obs)}")


def inflate(payloads: list[bytes], wbits: int, *, reset: bool) -> list[bytes] | str:
    """RFC 7692 §7.2.2: decompress each message (the tail 00 00 ff ff appended), with a
    window of ``2**wbits``, a fresh context per message when ``reset``; or why it failed."""
    out, d = [], zlib.decompressobj(-wbits)
    try:
        for p in payloads:
            if reset:
                d = zlib.decompressobj(-wbits)
            out.append(drip(d, p + b"\x00\x00\xff\xff") if wbits < 15 else d.decompress(p + b"\x00\x00\xff\xff"))
    except zlib.error as exc:
        return str(exc)
    return out


def drip(d: Any, data: bytes, step: int = 32, limit: int = 4 * MIB) -> bytes:
    """Inflate ``step`` bytes at a time. zlib checks a distance against its window only
    for what is not in the current output buffer: inflated in one call, a reference past
    the window still resolves. In small steps, every reference past ``step`` bytes must be
    in the window, so one that reaches further back fails ("invalid distance too far back")."""
    out = bytearray()
    while len(out) < limit:
        piece = d.decompress(data, step)
        out += piece
        data = d.unconsumed_tail
        if not piece and not data:
            break
    return bytes(out)


@dataclass(frozen=True)
class CompressesWithin:
    """RFC 7692 §7.1.1.2 / §7.1.2.2: the agreed ``client_no_context_takeover`` or
    ``client_max_window_bits`` binds the client's compressor: "the client MUST start
    compressing each new message with an empty LZ77 sliding window" / "the client MUST NOT
    use an LZ77 sliding window longer than the size specified". The server inflates each
    compressed message the way the agreement allows (a fresh context each, or a window of
    ``2**wbits``): a client that broke it does not inflate to what it sent."""

    sent: tuple[str | bytes, ...]
    wbits: int = 15
    reset: bool = False
    needs: str = ""  # the offer parameter without which the row cannot apply

    def __call__(self, obs: Observation) -> Result:
        offer = (obs.sent[0].header("Sec-WebSocket-Extensions") or "") if obs.sent else ""
        if self.needs and self.needs not in offer:
            return left_to_caller(f"the client does not offer {self.needs} (offered {offer or 'nothing'!r})")
        data = data_frames(obs)
        packed = [f.payload for f in data if f.rsv & 4]
        if obs.error is not None or len(data) != len(self.sent):
            return bad(f"{len(data)} data frame(s) sent; {caller(obs)}")
        if not packed:
            return ok(f"sent {len(data)} message(s) uncompressed; {caller(obs)}")
        got = inflate(packed, self.wbits, reset=self.reset)
        want = [m.encode() if isinstance(m, str) else m for m, f in zip(self.sent, data, strict=False) if f.rsv & 4]
        if isinstance(got, str):
            return bad(f"{len(packed)} compressed message(s) do not inflate within the agreement: {got}")
        return Result(got == want, f"{len(packed)} compressed message(s) inflate within the agreement"
                                   + ("" if got == want else " but differ from what was sent") + f"; {caller(obs)}")

    def right(self, sc: Scenario) -> Observation:
        frames_ = []
        for m in self.sent:
            c = zlib.compressobj(wbits=-max(self.wbits, 9))
            body = (m.encode() if isinstance(m, str) else m)
            frames_.append(replace(data_of(m), payload=(c.compress(body) + c.flush(zlib.Z_SYNC_FLUSH))[:-4], rsv=4))
        return transcript(sent=tuple(frames_), headers=(("Sec-WebSocket-Extensions", f"permessage-deflate; {self.needs}"),))

    def wrong(self, sc: Scenario) -> list[Observation]:
        c = zlib.compressobj(wbits=-15)
        frames_ = []
        for m in self.sent:  # one context for all, full window: what the agreement forbids
            body = m.encode() if isinstance(m, str) else m
            frames_.append(replace(data_of(m), payload=(c.compress(body) + c.flush(zlib.Z_SYNC_FLUSH))[:-4], rsv=4))
        offer = (("Sec-WebSocket-Extensions", f"permessage-deflate; {self.needs}"),)
        return [transcript(sent=tuple(frames_), headers=offer), transcript(headers=offer, error="protocol-error")]


@dataclass(frozen=True)
class Redirect:
    """INFO: RFC 6455 §4.1: "the server might redirect the client using a 3xx status code
    (but clients are not required to follow them)": followed or not, and where."""

    def __call__(self, obs: Observation) -> Result:
        targets = [c.target.split("/", 3)[-1] for c in obs.sent]
        hops = f"{len(obs.sent)} handshake(s)"
        if messages(obs):
            return ok(f"followed ({hops}); {delivered(obs)}; {caller(obs)}")
        status = obs.got.status if obs.got is not None else None
        return ok(f"not followed ({hops}{', last /' + targets[-1] if targets else ''}); status {status}; "
                  f"{caller(obs)}")


@dataclass(frozen=True)
class Proxied:
    """INFO: HTTP_PROXY / HTTPS_PROXY set in the environment: does the WebSocket go through
    the proxy (a CONNECT to the server, RFC 9110 §9.3.6), straight to the server, or fail?"""

    def __call__(self, obs: Observation) -> Result:
        methods = [c.method for c in obs.sent]
        via = "through the proxy (CONNECT)" if "CONNECT" in methods else "straight to the server" if methods else "nowhere"
        return ok(f"went {via}; {delivered(obs)}; {caller(obs)}")


@dataclass(frozen=True)
class Defaults:
    """INFO: the library's keep-alive ping and timeout defaults, read from its public API
    (RFC 6455 §5.5.2: "A Ping frame may serve either as a keepalive or as a means to verify
    that the remote endpoint is still responsive")."""

    def __call__(self, obs: Observation) -> Result:
        found = view(obs).get("defaults")
        if found is None:
            return bad(f"no defaults reported; {caller(obs)}")
        return ok("; ".join(f"{k}={v}" for k, v in found.items()))
