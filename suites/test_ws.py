"""WebSocket (RFC 6455, RFC 7692): echo, framing, pings, close, UTF-8, limits, handshake.

The columns are the WebSocket clients (family ``ws``). Families follow Autobahn's case
numbering and are generated from the tables below, one row per case:

    1.x  echo sizes and length forms            (echo server)
    2.x  pings of each size, ten in a row, unsolicited pongs
    3.x  each reserved bit on each frame type
    4.x  every reserved opcode
    5.x  fragmentation: whole, interleaved with control frames, out of order
    6.x  UTF-8: valid and invalid sequences, whole and split across fragments
    7.x  close: every valid code, every invalid one, bad bodies, who closes
    9.x  limits;  handshake, subprotocols, extensions, permessage-deflate, proxy, defaults

Two servers: the echo rows talk to the ``websockets`` library's server (``origin="ws"``),
which records each client frame as sent (RSV1, mask bit, length form, length on the
wire) beside its decoded payload; the rows where the server must misbehave talk to our
raw frame server (``"ws-raw"``), which sends exactly the frames declared here.

Every raw script ends the same way (``raw``): wait (up to a second) for the client's
Close frame, then send a Close 1000 ourselves, unless a Close was already sent. A
client that has acted (closed, or dropped the connection) ends that wait at once; so
that a client that ignores a bad frame does not wait for a message that never comes,
the rows that send one bad frame follow it with as many good messages as the client
reads (``refuses``). No cell waits a second unless a client hangs on to a connection.

The checks, and the wrong transcripts each graded row is tested against, are in
``suites/ws_checks.py``.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from model.cell import Call, WsCall
from model.scenario import Scenario
from model.script import Close
from servers.frames import BINARY, CLOSE, Await, Filled, WsScript, binary, close, cont, frame, ping, pong, text
from suites.ws_checks import (
    AFTER,
    MIB,
    Abnormal,
    AnswersClose,
    ClosesCleanly,
    Compresses,
    CompressesWithin,
    Defaults,
    DeflateEcho,
    DeflateOffered,
    Delivers,
    DeliversAll,
    Echoes,
    FailsConnection,
    HandshakeFields,
    IgnoresPong,
    ImposesLimit,
    NeverSends,
    PongEcho,
    Proxied,
    Redirect,
    RefusedWith,
    RejectsClose,
    SubprotocolIs,
)


def raw(*steps: Any, **handshake: Any) -> WsScript:
    """A raw-server script: the steps, then wait for the client's Close, then close 1000."""
    return WsScript(steps=(*steps, Await(CLOSE), close(1000)), **handshake)


def ws(*send: str | bytes, receive: int | None = None, **kw: Any) -> Call:
    """A WebSocket call: send these messages, read as many back (or ``receive``)."""
    return Call(ws=WsCall(send=tuple(send), receive=len(send) if receive is None else receive, **kw))


def row(sid: str, title: str, spec: str, level: Any, check: Any, call: Call, script: WsScript,
        origin: str = "ws-raw", **kw: Any) -> Scenario:
    return Scenario(sid, title, spec, level, check, call, script, origin=origin, protocol="ws", **kw)


def refuses(sid: str, title: str, spec: str, *bad: bytes, payload: str | bytes = b"") -> Scenario:
    """Frames the client MUST refuse, followed by two good messages it must not deliver
    (a client that drops the bad frame silently reads both and closes at once)."""
    return row(sid, title, spec, "MUST", FailsConnection(payload), ws(receive=2), raw(*bad, text(AFTER), text(AFTER)))


# -- 1.x echo: sizes and the length forms (RFC 6455 §5.2) ---------------------------

S52_LEN = ('RFC 6455 §5.2 ("the minimal number of bytes MUST be used to encode the length"), '
           "§5.3 (masking)")
#: length -> what it tests. ``compression=False``: the lengths go on the wire as they are.
LENGTHS = {0: "an empty payload", 1: "one byte", 125: "the largest 7-bit length", 126: "the smallest 16-bit length",
           127: "the 16-bit length beyond 126", 65535: "the largest 16-bit length",
           65536: "the smallest 64-bit length"}


def length_row(n: int, what: str, kind: str) -> Scenario:
    data: str | bytes = "x" * n if kind == "text" else b"x" * n
    sid = f"ws.echo.{n}" if kind == "binary" and n in (125, 126, 65535, 65536) else f"ws.echo.len.{kind}-{n}"
    return row(sid, f"{kind.title()} of {n} bytes ({what}): sent with that length, echoed whole", S52_LEN, "MUST",
               Echoes((data,), lengths=True), ws(data, compression=False), WsScript(), "ws")


S56_ECHO = ('RFC 6455 §5.6 ("Data frames ... carry application-layer and/or extension-layer data"), §5.3 ("the client '
            'MUST mask all frames that it sends to the server")')


def echo(suffix: str, title: str, data: str | bytes, spec: str = S56_ECHO) -> Scenario:
    return row(f"ws.echo.{suffix}", title, spec, "MUST", Echoes((data,)), ws(data), WsScript(), "ws")


UTF8 = "κόσμε ☕ 𝄞 ✓"
ECHO = [
    echo("text", "A short text message echoed", "hello"),
    echo("binary", "A binary message echoed", bytes(range(256)) * 4),
    echo("empty", "An empty text message echoed", ""),
    echo("1mib", "A 1 MiB binary message echoed (library defaults)", b"m" * MIB, "RFC 6455 §5.2"),
    echo("utf8-multibyte", "Text with 2-, 3- and 4-byte UTF-8 sequences", UTF8),
    row("ws.echo.many", "Ten messages in a row, text and binary: each echoed, in order", S56_ECHO, "MUST",
        Echoes(tuple(f"m{i}" if i % 2 else bytes([i]) * 10 for i in range(10))),
        ws(*(f"m{i}" if i % 2 else bytes([i]) * 10 for i in range(10))), WsScript(), "ws"),
    *(length_row(n, what, kind) for kind in ("binary", "text") for n, what in LENGTHS.items()),
    row("ws.wss-trusted", "wss:// with the CA trusted the documented way: echo works", "RFC 6455 §4.1",
        "MUST", Echoes(("hello",)), Call(trust="ca", ws=WsCall(send=("hello",), receive=1)), WsScript(), "wss"),
    row("ws.wss-untrusted", "wss:// with library defaults against an unknown CA: must fail", "RFC 6455 §4.1",
        "MUST", RefusedWith(("tls-untrusted",)), ws("hello"), WsScript(), "wss", security=True),
]

# -- 2.x pings and pongs (RFC 6455 §5.5.2, §5.5.3) -----------------------------------

PING_DATA = bytes(range(125))
S552 = 'RFC 6455 §5.5.2 ("Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response")'
S553 = 'RFC 6455 §5.5.3 ("A Pong frame MAY be sent unsolicited. ... A response to an unsolicited Pong frame is not ' \
    'expected")'
PINGS = {  # id -> (title, payloads)
    "ws.ping-auto-pong": ("A ping without data: does the library answer by itself?", (b"",)),
    "ws.ping-payload-echoed": ("A ping with 125 bytes of data (the most a control frame holds): the pong carries "
                               "the same", (PING_DATA,)),
    "ws.ping.text-payload": ("A ping with 10 bytes of text data: the pong carries the same", (b"Hello, ws!",)),
    "ws.ping.binary-payload": ("A ping with binary data (0x00-0xff bytes): the pong carries the same",
                               (bytes([0, 255, 254, 253, 252, 251, 250, 128]),)),
    "ws.ping.one-byte": ("A ping with 1 byte of data: the pong carries the same", (b"\x01",)),
    "ws.ping.ten": ("Ten pings in a row: the last one at least is answered with its data",
                    tuple(b"ping %d" % i for i in range(10))),
}
PING_ROWS = [
    *(row(sid, title, S552, "MUST", PongEcho(payloads), ws(receive=1), raw(*map(ping, payloads), text(AFTER)))
      for sid, (title, payloads) in PINGS.items()),
    row("ws.unsolicited-pong", "An unsolicited pong: ignored, the next message arrives", S553, "MUST",
        IgnoresPong(), ws(receive=1), raw(pong(b"heartbeat"), text(AFTER))),
    row("ws.unsolicited-pong.125", "An unsolicited pong with 125 bytes: ignored, the next message arrives",
        S553, "MUST", IgnoresPong(), ws(receive=1), raw(pong(PING_DATA), text(AFTER))),
    refuses("ws.control-too-long", "A ping with 126 bytes of data: connection failed",
            'RFC 6455 §5.5 ("All control frames MUST have a payload length of 125 bytes or less")', ping(b"p" * 126)),
    refuses("ws.control-too-long.pong", "A pong with 126 bytes of data: connection failed",
            'RFC 6455 §5.5 ("All control frames MUST have a payload length of 125 bytes or less")', pong(b"p" * 126)),
]

# -- 3.x reserved bits, 4.x reserved opcodes (RFC 6455 §5.2) --------------------------

S52_RSV = ('RFC 6455 §5.2 ("If a nonzero value is received and none of the negotiated extensions defines the '
           'meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_")')
S52_OP = 'RFC 6455 §5.2 ("If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_")'
RSV_BITS = {"rsv1": 4, "rsv2": 2, "rsv3": 1, "rsv-all": 7}
#: frame type -> the frames that carry the bit (a continuation needs its first fragment)
CARRIERS = {
    "text": lambda rsv: (text("rsv", rsv=rsv),),
    "binary": lambda rsv: (binary(b"rsv", rsv=rsv),),
    "cont": lambda rsv: (text("frag", fin=False), cont("ment", rsv=rsv)),
    "ping": lambda rsv: (ping(b"rsv", rsv=rsv),),
    "pong": lambda rsv: (pong(b"rsv", rsv=rsv),),
}


def rsv_row(bit: str, value: int, kind: str) -> Scenario:
    sid = "ws.reserved-bits" if (bit, kind) == ("rsv1", "text") else f"ws.rsv.{bit}-{kind}"
    return refuses(sid, f"{bit.upper()} set on a {kind} frame without an extension: connection failed", S52_RSV,
                   *CARRIERS[kind](value))


RESERVED = [
    *(rsv_row(bit, value, kind) for bit, value in RSV_BITS.items() for kind in CARRIERS),
    *(row(f"ws.rsv.{bit}-close", f"{bit.upper()} set on a Close frame: the connection is failed, not closed "
          "normally (1002 or dropped, never 1000)", S52_RSV, "MUST", RejectsClose(1000), ws(receive=1),
          raw(frame(CLOSE, (1000).to_bytes(2, "big"), rsv=value))) for bit, value in RSV_BITS.items()),
    *(refuses("ws.unknown-opcode" if op == 3 else f"ws.opcode.{op:#x}",
              f"A frame with reserved {'data' if op < 8 else 'control'} opcode {op:#x}: connection failed",
              S52_OP, frame(op, b"reserved" if op < 8 else b"")) for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF)),
    refuses("ws.masked-server-frame", "A masked frame from the server: connection closed",
            'RFC 6455 §5.1 ("A client MUST close a connection if it detects a masked frame")',
            text("masked", mask=b"\x01\x02\x03\x04")),
    refuses("ws.masked-server-ping", "A masked ping from the server: connection closed",
            'RFC 6455 §5.1 ("A client MUST close a connection if it detects a masked frame")',
            ping(b"masked", mask=b"\x01\x02\x03\x04")),
]

# -- 5.x fragmentation (RFC 6455 §5.4) -------------------------------------------------

S54 = ('RFC 6455 §5.4 ("A fragmented message consists of a single frame with the FIN bit clear and an opcode '
       'other than 0, followed by zero or more frames with the FIN bit clear and the opcode set to 0, and terminated '
       'by a single frame with the FIN bit set and an opcode of 0")')
S54_CTRL = 'RFC 6455 §5.4 ("An endpoint MUST be capable of handling control frames in the middle of a fragmented message")'
S54_ORDER = ('RFC 6455 §5.4 ("the fragments of one message MUST NOT be interleaved between the fragments of '
             'another message")')
S55_FRAG = 'RFC 6455 §5.5 ("Control frames themselves MUST NOT be fragmented")'
FRAGMENTED = [  # (id, title, spec, frames, delivered message or None: connection must fail)
    ("ws.fragmented-text", "A text message in three fragments: delivered whole", S54,
     (text("Hel", fin=False), cont("lo, ", fin=False), cont("world")), "Hello, world"),
    ("ws.fragment.binary", "A binary message in two fragments: delivered whole", S54,
     (binary(b"\x00\x01", fin=False), cont(b"\x02\xff")), b"\x00\x01\x02\xff"),
    ("ws.fragment.one-byte", "A text message in 12 fragments of one byte: delivered whole", S54,
     (text("H", fin=False), *(cont(c, fin=False) for c in "ello, worl"), cont("d")), "Hello, world"),
    ("ws.fragment.empty", "Empty first and last fragments around the data: delivered whole", S54,
     (text("", fin=False), cont("middle", fin=False), cont("")), "middle"),
    ("ws.fragment.large", "A binary message in three 64 KiB fragments: delivered whole", S54,
     (binary(b"a" * 65536, fin=False), cont(b"b" * 65536, fin=False), cont(b"c" * 65536)),
     b"a" * 65536 + b"b" * 65536 + b"c" * 65536),
    ("ws.fragment.ping-between", "A ping between fragments: the message arrives whole", S54_CTRL,
     (text("Hello", fin=False), ping(b"mid"), cont(", world")), "Hello, world"),
    ("ws.fragment.pong-between", "A pong between fragments: the message arrives whole", S54_CTRL,
     (text("Hello", fin=False), pong(b"mid"), cont(", world")), "Hello, world"),
    ("ws.fragment.pings-between-each", "A ping between each of four fragments: the message arrives whole", S54_CTRL,
     (text("a", fin=False), ping(b"1"), cont("b", fin=False), ping(b"2"), cont("c", fin=False), ping(b"3"),
      cont("d")), "abcd"),
    ("ws.fragment.continuation-first", "A continuation frame (FIN set) with no message started: connection failed",
     S54, (cont("nothing to continue"),), None),
    ("ws.fragment.continuation-unfinished-first", "A continuation frame (FIN clear) with no message started: "
     "connection failed", S54, (cont("nothing", fin=False), cont("to continue")), None),
    ("ws.fragment.text-inside-text", "A new text frame while a text message is unfinished: connection failed",
     S54_ORDER, (text("one", fin=False), text("two"), cont("three")), None),
    ("ws.fragment.binary-inside-text", "A binary frame while a text message is unfinished: connection failed",
     S54_ORDER, (text("one", fin=False), binary(b"two"), cont("three")), None),
    ("ws.fragmented-control", "A fragmented ping (FIN clear): connection failed", S55_FRAG,
     (ping(b"frag", fin=False), cont(b"ment")), None),
    ("ws.fragment.pong-fragmented", "A fragmented pong (FIN clear): connection failed", S55_FRAG,
     (pong(b"frag", fin=False), cont(b"ment")), None),
    ("ws.fragment.close-fragmented", "A fragmented Close (FIN clear): the connection is failed, not closed "
     "normally", S55_FRAG, (frame(CLOSE, (1000).to_bytes(2, "big"), fin=False), cont(b"")), "close"),
]


def fragment_row(sid: str, title: str, spec: str, frames_: tuple[bytes, ...], want: str | bytes | None) -> Scenario:
    if want == "close":
        return row(sid, title, spec, "MUST", RejectsClose(1000), ws(receive=1), raw(*frames_))
    if want is None:
        return refuses(sid, title, spec, *frames_)
    return row(sid, title, spec, "MUST", Delivers(want), ws(receive=1), raw(*frames_))


FRAGMENT_ROWS = [
    *(fragment_row(*case) for case in FRAGMENTED),
    row("ws.fragmented-with-ping", "A ping between fragments: answered by the library, message whole", S54_CTRL,
        "MUST", Delivers("Hello, world", pong_needed=True), ws(receive=1),
        raw(text("Hello", fin=False), ping(b"mid"), cont(", world"))),
]

# -- 6.x UTF-8 (RFC 6455 §8.1; sequences after Markus Kuhn's UTF-8 decoder test) -------

S81 = ('RFC 6455 §8.1 ("When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte stream '
       'is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_")')
S56 = 'RFC 6455 §5.6 ("The "Payload data" is text data encoded as UTF-8"): a valid text message is delivered'
UTF8_SEQUENCES = {  # name -> (bytes, valid)
    "dollar": (b"\x24", True), "cent": (b"\xc2\xa2", True), "euro": (b"\xe2\x82\xac", True),
    "u24b62": (b"\xf0\xa4\xad\xa2", True), "kosme": ("κόσμε".encode(), True), "nul": (b"\x00", True),
    "first-3-byte": (b"\xe0\xa0\x80", True), "last-before-surrogates": (b"\xed\x9f\xbf", True),
    "u10ffff": (b"\xf4\x8f\xbf\xbf", True), "ufffd": (b"\xef\xbf\xbd", True), "uffff": (b"\xef\xbf\xbf", True),
    "lone-continuation": (b"\x80", False), "continuations": (b"\x80\xbf\x80", False),
    "lonely-start": (b"\xc0\x20", False), "overlong-slash-2": (b"\xc0\xaf", False),
    "overlong-slash-3": (b"\xe0\x80\xaf", False), "overlong-slash-4": (b"\xf0\x80\x80\xaf", False),
    "surrogate-high": (b"\xed\xa0\x80", False), "surrogate-low": (b"\xed\xbf\xbf", False),
    "above-u10ffff": (b"\xf4\x90\x80\x80", False), "5-byte": (b"\xf8\x88\x80\x80\x80", False),
    "fe": (b"\xfe", False), "ff": (b"\xff", False), "truncated-3": (b"\xe2\x82", False),
    "truncated-4": (b"\xf0\xa4\xad", False),
}


def utf8_row(name: str, seq: bytes, valid: bool, split: bool) -> Scenario:
    sid = f"ws.utf8.{'valid' if valid else 'invalid'}.{name}{'.split' if split else ''}"
    payload = b"ab" + seq + b"cd"
    how = "split inside the sequence across two fragments" if split else "in one frame"
    frames_ = (text(payload[:3], fin=False), cont(payload[3:])) if split else (text(payload),)
    title = f"Text with {'valid' if valid else 'invalid'} UTF-8 {seq.hex(' ')} ({name}), {how}: " + \
        ("delivered" if valid else "connection failed")
    if valid:
        return row(sid, title, S56, "MUST", Delivers(payload.decode()), ws(receive=1), raw(*frames_))
    return refuses(sid, title, S81, *frames_, payload=payload.decode("latin-1"))


UTF8_ROWS = [
    *(utf8_row(name, seq, valid, split) for name, (seq, valid) in UTF8_SEQUENCES.items() for split in (False, True)),
    refuses("ws.invalid-utf8-text", "A text message that is not UTF-8: connection failed", S81,
            text(b"caf\xc3\x28 \xff")),
    row("ws.invalid-utf8-fragment-boundary", "A code point split across fragments: valid, delivered", S56, "MUST",
        Delivers("a€b"), ws(receive=1), raw(text(b"a\xe2\x82", fin=False), cont(b"\xacb"))),
]

# -- 7.x close (RFC 6455 §5.5.1, §7.1, §7.4) -------------------------------------------

S551 = ('RFC 6455 §5.5.1 ("If an endpoint receives a Close frame and did not previously send a Close frame, the '
        'endpoint MUST send a Close frame in response")')
S7412 = ('RFC 6455 §7.4.2 ("Status codes in the range 0-999 are not used"; 1000-2999 are "reserved for definition by '
         'this protocol", where 1004 and 1016 up are unassigned; nothing is defined past 4999)')
S741_NOT = ('RFC 6455 §7.4.1 (1005, 1006, 1015 "MUST NOT be set as a status code in a Close control frame by an '
            'endpoint")')
#: Valid codes a peer may send: §7.4.1, the IANA registry's 1012-1014, and the private ranges.
VALID_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999)
#: Invalid codes (Autobahn 7.9.x, and the reserved 1015 and values past 4999).
INVALID_CODES = (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)


def close_valid(code: int) -> Scenario:
    sid = {1000: "ws.close.1000"}.get(code, f"ws.close.valid-{code}")
    return row(sid, f"The server closes with valid code {code}: the client answers with a Close", S551, "MUST",
               AnswersClose(), ws(receive=1), raw(close(code)))


def close_invalid(code: int) -> Scenario:
    sid = "ws.close.invalid-code" if code == 1004 else f"ws.close.invalid-{code}"
    if code in (1005, 1006, 1015):
        return row(sid, f"A Close carrying {code}, which no endpoint may send: never sent back", S741_NOT, "MUST",
                   NeverSends(code), ws(receive=1), raw(frame(CLOSE, code.to_bytes(2, "big"))))
    return row(sid, f"A Close with invalid code {code}: connection failed (1002), not echoed", S7412, "SHOULD",
               RejectsClose(code), ws(receive=1), raw(frame(CLOSE, code.to_bytes(2, "big"))))


CLOSE_ROWS = [
    *(close_valid(code) for code in VALID_CODES),
    *(close_invalid(code) for code in INVALID_CODES),
    row("ws.close.4000-reason", "Close 4000 with a reason: which code does the client answer with?", S551, "MUST",
        AnswersClose(), ws(receive=1), raw(close(4000, "bye now"))),
    row("ws.close.reason-123", "Close 1000 with a 123-byte reason (the longest that fits): answered", S551, "MUST",
        AnswersClose(), ws(receive=1), raw(close(1000, "r" * 123))),
    refuses("ws.close.reason-124", "Close with a 124-byte reason (a 126-byte control frame): connection failed",
            'RFC 6455 §5.5 ("All control frames MUST have a payload length of 125 bytes or less")',
            frame(CLOSE, (1000).to_bytes(2, "big") + b"r" * 124)),
    row("ws.close.empty", "A Close without a code: answered with a Close, never 1005 on the wire "
        "(what code the caller sees is recorded)", S741_NOT, "MUST", AnswersClose(), ws(receive=1),
        raw(close())),
    row("ws.close.one-byte", "A Close with a 1-byte body (no room for a code): connection failed, not closed "
        "normally", 'RFC 6455 §5.5.1 ("the first two bytes of the body MUST be a 2-byte unsigned integer")',
        "SHOULD", RejectsClose(None), ws(receive=1), raw(frame(CLOSE, b"\x03"))),
    row("ws.close.reason-not-utf8", "A Close whose reason is not UTF-8: connection failed (1007 or 1002)", S81,
        "MUST", RejectsClose(1000, (1002, 1007)), ws(receive=1),
        raw(frame(CLOSE, (1000).to_bytes(2, "big") + b"caf\xc3\x28"))),
    row("ws.close.abrupt", "TCP closed without a Close frame: the caller can tell (1006 or an error)",
        'RFC 6455 §7.1.5 ("If _The WebSocket Connection is Closed_ and no Close control frame was received by the '
        'endpoint ..., _The WebSocket Connection Close Code_ is considered to be 1006")', "MUST", Abnormal(),
        ws(receive=2), WsScript(steps=(text("hi"), Close()))),
    row("ws.close.client-initiated", "The client closes: a masked Close 1000, no error",
        'RFC 6455 §7.1.2 ("To _Start the WebSocket Closing Handshake_ ..., an endpoint MUST send a Close control frame")',
        "MUST", ClosesCleanly(), ws("bye"), WsScript(), "ws"),
]

# -- limits --------------------------------------------------------------------------------

LIMIT_SIZES = (MIB, 4 * MIB, 16 * MIB)
LIMIT_ROWS = [
    row("ws.max-size-default", "1, 4 and 16 MiB+1 messages with library defaults: a limit is imposed, nothing cut "
        "short", 'RFC 6455 §10.4 ("Such an implementation SHOULD impose a limit on frame sizes and the total message '
        'size after reassembly"), §7.4.1 (1009)', "SHOULD", ImposesLimit(LIMIT_SIZES), ws(receive=3),
        raw(*(Filled(BINARY, n + 1) for n in LIMIT_SIZES))),
]

# -- handshake, subprotocols, extensions, permessage-deflate, proxy, defaults ---------------

S41 = "RFC 6455 §4.1"
S41_STATUS = ('RFC 6455 §4.1 ("If the status code received from the server is not 101, the client handles the '
              'response per HTTP procedures")')
S41_ACCEPT = ('RFC 6455 §4.1 ("If the response lacks a |Sec-WebSocket-Accept| header field or the '
              '|Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of ..., the client MUST '
              '_Fail the WebSocket Connection_")')
S41_PROTO = ('RFC 6455 §4.1 ("If the response includes a |Sec-WebSocket-Protocol| header field and this header field '
             'indicates the use of a subprotocol that was not present in the client\'s handshake ..., the client MUST '
             '_Fail the WebSocket Connection_")')
S41_OFFER = ('RFC 6455 §4.1 ("The request MAY include a header field with the name |Sec-WebSocket-Protocol|"; '
             'the server\'s choice, or none, is what the connection uses)')
S41_EXT = ('RFC 6455 §4.1 ("If the response includes a |Sec-WebSocket-Extensions| header field and this header '
           'field indicates the use of an extension that was not present in the client\'s handshake ..., the client '
           'MUST _Fail the WebSocket Connection_")')
DEFLATABLE = "hello websocket " * 640


def deflated(*messages: bytes, takeover: bool = True) -> tuple[bytes, ...]:
    """Server frames compressed per RFC 7692 §7.2.1 (RSV1, the 00 00 ff ff tail removed);
    with ``takeover``, one compression context for all messages (the default)."""
    out, c = [], zlib.compressobj(wbits=-15)
    for m in messages:
        if not takeover:
            c = zlib.compressobj(wbits=-15)
        out.append(frame(0x1, (c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH))[:-4], rsv=4))
    return tuple(out)


#: A message whose repeats are 600 bytes apart: past a 512-byte window (client_max_window_bits=9).
FAR = random.Random(6455).randbytes(600).hex()[:600] * 3
PMD = "permessage-deflate"
HANDSHAKE_ROWS = [
    row("ws.handshake-headers", "The handshake fields each library sends (Origin, extensions, User-Agent)", S41,
        "INFO", HandshakeFields(), ws("hi"), WsScript(), "ws"),
    row("ws.handshake-non-101", "The server answers 200 instead of 101: the client must fail", S41_STATUS, "MUST",
        RefusedWith(("ws-handshake",)), ws(receive=1), raw(text("hello"), status=200)),
    row("ws.handshake-403", "The server answers 403 Forbidden: the client fails, the status visible", S41_STATUS,
        "MUST",
        RefusedWith(("ws-handshake", "http-status")), ws(receive=1), raw(status=403)),
    *(row(f"ws.handshake-redirect-{status}", f"The upgrade answered {status} to another path of the same server: "
          "followed?", 'RFC 6455 §4.1 ("clients are not required to follow them")', "INFO", Redirect(),
          ws(receive=1), WsScript(status=status, headers=(("Location", "{base}/next"),),
                                  paths=(("/next", raw(text("redirected"))),))) for status in (302, 307)),
    row("ws.handshake-bad-accept", "A wrong Sec-WebSocket-Accept: the client must fail", S41_ACCEPT, "MUST",
        RefusedWith(("ws-handshake",)), ws(receive=1), raw(text("hello"), accept="bad"), security=True),
    row("ws.subprotocol-accepted", "Two subprotocols offered, the server picks one: the caller is told", S41_OFFER,
        "MUST", SubprotocolIs("chat"), ws("hi", subprotocols=("chat", "superchat")), WsScript(subprotocol="chat"),
        "ws"),
    row("ws.subprotocol-unoffered", "The server picks a subprotocol the client did not offer: must fail", S41_PROTO,
        "MUST", RefusedWith(("ws-handshake",)), ws(receive=1, subprotocols=("chat",)),
        raw(text("hello"), subprotocol="other")),
    row("ws.subprotocol-missing", "A subprotocol offered, the server picks none: connected, none reported", S41_OFFER,
        "MUST", SubprotocolIs(None), ws("hi", subprotocols=("chat",)), WsScript(), "ws"),
    row("ws.extension-unoffered", "The server names an extension the client did not offer: must fail", S41_EXT,
        "MUST", RefusedWith(("ws-handshake",)), ws(receive=1, compression=False),
        raw(text("hello"), extensions="x-clientmatrix-unknown")),
    row("ws.deflate.unoffered", "The server agrees to permessage-deflate the client did not offer: must fail",
        S41_EXT, "MUST", RefusedWith(("ws-handshake",)), ws(receive=1, compression=False),
        raw(text("hello"), extensions=PMD)),
    row("ws.deflate-offered", "Is permessage-deflate offered by default?", "RFC 7692 §5", "INFO", DeflateOffered(),
        ws("hi"), WsScript(), "ws"),
    row("ws.deflate-echo", "permessage-deflate asked for: negotiated, the echo intact (RSV1 and sizes recorded)",
        "RFC 7692 §7", "MUST", DeflateEcho((DEFLATABLE, DEFLATABLE.encode())),
        ws(DEFLATABLE, DEFLATABLE.encode(), compression=True), WsScript(), "ws"),
    row("ws.deflate.client-compresses", "permessage-deflate negotiated: does the client compress what it sends?",
        'RFC 7692 §6.1 ("An endpoint uses the following algorithm to compress a message")', "INFO", Compresses(),
        ws(DEFLATABLE, compression=True), WsScript(), "ws"),
    row("ws.deflate.context-takeover", "Two compressed messages, the second using the first's window (the "
        "default): both delivered", 'RFC 7692 §7.2.2 (the decompressor keeps the LZ77 window unless '
        '"server_no_context_takeover" was agreed)', "MUST", DeliversAll(("hello websocket", "hello websocket")),
        ws(receive=2, compression=True), raw(*deflated(b"hello websocket", b"hello websocket"), extensions=PMD)),
    row("ws.deflate.server-no-context-takeover", "server_no_context_takeover agreed, each message compressed "
        "alone: both delivered", 'RFC 7692 §7.1.1.1 ("server_no_context_takeover")', "MUST",
        DeliversAll(("hello websocket", "hello websocket")), ws(receive=2, compression=True),
        raw(*deflated(b"hello websocket", b"hello websocket", takeover=False),
            extensions=f"{PMD}; server_no_context_takeover")),
    row("ws.deflate.client-no-context-takeover", "client_no_context_takeover agreed: each message the client "
        "sends inflates alone", 'RFC 7692 §7.1.1.2 ("the client MUST start compressing each new message with an '
        'empty LZ77 sliding window")', "MUST", CompressesWithin((DEFLATABLE, DEFLATABLE), reset=True),
        ws(DEFLATABLE, DEFLATABLE, receive=0, compression=True),
        raw(Await(CLOSE), extensions=f"{PMD}; client_no_context_takeover")),
    row("ws.deflate.client-max-window-bits", "client_max_window_bits=9 agreed: what the client sends inflates "
        "within a 512-byte window", 'RFC 7692 §7.1.2.2 ("the client MUST NOT use an LZ77 sliding window longer than '
        'the size specified")', "MUST", CompressesWithin((FAR,), wbits=9, needs="client_max_window_bits"),
        ws(FAR, receive=0, compression=True), raw(Await(CLOSE), extensions=f"{PMD}; client_max_window_bits=9")),
    row("ws.proxy-from-env", "HTTP_PROXY and HTTPS_PROXY set: does the WebSocket go through the proxy?",
        "RFC 9110 §9.3.6 (CONNECT)", "INFO", Proxied(), ws("hello"), WsScript(), "ws",
        env=(("HTTP_PROXY", "{origin:proxy}"), ("HTTPS_PROXY", "{origin:proxy}"), ("http_proxy", "{origin:proxy}"),
             ("https_proxy", "{origin:proxy}"))),
    row("ws.defaults.keepalive", "The library's keep-alive ping and timeout defaults", "RFC 6455 §5.5.2", "INFO",
        Defaults(), Call(ws=WsCall(send=("hi",), receive=1, report_defaults=True)), WsScript(), "ws"),
]

SCENARIOS = [*ECHO, *PING_ROWS, *RESERVED, *FRAGMENT_ROWS, *UTF8_ROWS, *CLOSE_ROWS, *LIMIT_ROWS, *HANDSHAKE_ROWS]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
