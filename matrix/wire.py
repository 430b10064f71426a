"""What the fixture server sends for a row, as report data: bytes for HTTP rows, frames for
WebSocket rows (``scenarios[].response`` in matrix.json, shown beside what the client sent).

    served(response, protocol)  -> list of {"when", "steps"}: one entry per scripted
                                   answer (the default, a sub-path, or "dynamic")

A step is one of::

    {"send": "HTTP/1.1 200 OK\\r\\n..."}   bytes, escaped (``escaped``): printable ASCII kept,
                                          every other byte as \\r \\n \\t or \\xNN
    {"frame": {"opcode", "fin", "rsv", "masked", "len", "excerpt"}}   a WebSocket frame
    {"sleep": 0.5} {"close": "FIN" | "RST"} {"hold": 10.0} {"await": "close"}
    {"stream": "a generated body (not stored)"}
    {"handshake": "HTTP/1.1 101 ..."}     a WebSocket upgrade answer, as the raw server writes it

Placeholders stay as the scenario wrote them (``{base}``, ``{origin:http-other}``): the
addresses are the run's. The step types are read by duck typing, so this module imports
nothing from ``servers/`` (the report side reads JSON only).
"""

from __future__ import annotations

import struct
from typing import Any

from model.script import reason_for

#: The most bytes of one send step kept in the report (a 1 MiB body is cut, and says so).
MAX_SEND = 2048
#: The most steps of one answer kept.
MAX_STEPS = 40
OPCODES = {0: "cont", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


def escaped(data: bytes, limit: int = MAX_SEND, size: int | None = None) -> str:
    """Bytes as text a stranger can read and nothing can execute: printable ASCII as is,
    CR/LF/TAB as ``\\r \\n \\t`` (a line break kept after ``\\n``), other bytes ``\\xNN``.
    ``size``: the length of the whole when ``data`` is only its start (a large body is not
    copied to be cut)."""
    out = []
    for b in data[:limit]:
        if b == 0x0A:
            out.append("\\n\n")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x09:
            out.append("\\t")
        elif b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    text = "".join(out)
    size = len(data) if size is None else size
    if size > limit:
        text += f"\n… ({size - limit} more bytes)"
    return text


def frames_of(data: bytes) -> list[dict[str, Any]] | None:
    """Parse ``data`` as whole WebSocket frames (RFC 6455 §5.2), or None if it is not that."""
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(data):
        if len(data) - i < 2:
            return None
        b0, b1 = data[i], data[i + 1]
        n, i = b1 & 0x7F, i + 2
        if n == 126:
            if len(data) - i < 2:
                return None
            n, i = struct.unpack_from("!H", data, i)[0], i + 2
        elif n == 127:
            if len(data) - i < 8:
                return None
            n, i = struct.unpack_from("!Q", data, i)[0], i + 8
        mask = None
        if b1 & 0x80:
            mask, i = data[i:i + 4], i + 4
        if len(data) - i < n or (mask is not None and len(mask) != 4):
            return None
        payload = data[i:i + min(n, 62)]  # what the excerpt shows (a 16 MiB payload is not copied)
        i += n
        if mask is not None:
            payload = bytes(c ^ mask[k % 4] for k, c in enumerate(payload))
        out.append(frame_item(b0, n, mask is not None, payload))
    return out


def frame_item(b0: int, n: int, masked: bool, start: bytes) -> dict[str, Any]:
    """One frame in report words, from its first byte, its length and the start of its payload."""
    opcode = b0 & 0xF
    item: dict[str, Any] = {"opcode": OPCODES.get(opcode, f"op{opcode:x}"), "fin": bool(b0 & 0x80),
                            "rsv": (b0 >> 4) & 7, "masked": masked, "len": n}
    if opcode == 8 and n >= 2:
        item["close_code"] = struct.unpack_from("!H", start)[0]
        item["excerpt"] = escaped(start[2:], 60, n - 2)
    else:
        item["excerpt"] = escaped(start, 60, n)
    return item


def _step(step: Any, ws: bool) -> list[dict[str, Any]]:
    name = type(step).__name__
    if isinstance(step, bytes):
        frames = frames_of(step) if ws else None
        return [{"frame": f} for f in frames] if frames else [{"send": escaped(step)}]
    if name == "Filled":  # a large frame the server makes as it sends it (servers.frames.Filled)
        return [{"frame": frame_item(step.head()[0], step.size, False, bytes([step.fill]) * min(step.size, 62))}]
    if name == "Send":
        return _step(step.data, ws)
    if name == "Sleep":
        return [{"sleep": step.seconds}]
    if name == "Close":
        return [{"close": "RST" if getattr(step, "reset", False) else "FIN"}]
    if name == "Hold":
        return [{"hold": step.seconds}]
    if name == "Stream":
        return [{"stream": "a body generated while it is sent (not stored)"}]
    if name == "Await":
        return [{"await": OPCODES.get(step.opcode, str(step.opcode))}]
    return [{"other": name}]


def _answer(response: Any, ws: bool) -> list[dict[str, Any]]:
    """One scripted answer's steps."""
    name = type(response).__name__
    steps: list[dict[str, Any]] = []
    if name == "Reply":
        for status, headers in response.interim:
            lines = [f"HTTP/1.1 {status} {reason_for(status)}"] + [f"{k}: {v}" for k, v in headers]
            steps.append({"send": escaped(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace"))})
        head = response.head(_Verbatim())
        steps.append({"send": escaped(head + response.body[:MAX_SEND], size=len(head) + len(response.body))})
        if response.close:
            steps.append({"close": "FIN"})
    elif name == "Raw":
        for s in response.steps:
            steps += _step(s, ws)
        if response.close:
            steps.append({"close": "FIN"})
    elif hasattr(response, "steps") and hasattr(response, "accept"):  # a WebSocket script
        if response.status != 101 or response.accept != "good" or response.subprotocol is not None:
            hs = f"status {response.status}, Sec-WebSocket-Accept {response.accept}"
            if response.subprotocol is not None:
                hs += f", Sec-WebSocket-Protocol {response.subprotocol}"
            steps.append({"handshake": hs})
        for s in response.steps:
            steps += _step(s, True)
        if not response.steps:
            steps.append({"echo": "echoes every message (the websockets library's server)"})
    elif name in ("H2Reply", "H2Raw"):
        steps += _h2_steps(response)
    else:
        steps.append({"other": name})
    merged: list[dict[str, Any]] = []
    for step in steps:  # consecutive writes read as one byte stream
        if "send" in step and merged and "send" in merged[-1]:
            merged[-1] = {"send": merged[-1]["send"] + step["send"]}
        else:
            merged.append(step)
    return merged[:MAX_STEPS]


def _h2_steps(response: Any) -> list[dict[str, Any]]:
    """An HTTP/2 answer (model.h2script) as steps: frames sent through h2 in words, the row's
    own frames (``Wire``) as their bytes for stream 1."""
    from model.cell import Capture
    from model.h2wire import error_name, setting_name

    out: list[dict[str, Any]] = []
    for a in response.actions(Capture("GET", "/", "HTTP/2", (), b"", "none", b"")):
        kind = type(a).__name__
        if kind == "Head":
            fields = "".join(f"; {k}: {v}" for k, v in a.fields)
            out.append({"h2": f"HEADERS :status {a.status}{fields}" + (" [END_STREAM]" if a.end else "")})
        elif kind == "Body":
            out.append({"h2": f"DATA {len(a.data)} bytes" + (" [END_STREAM]" if a.end else "")})
        elif kind == "Tail":
            out.append({"h2": "HEADERS (trailers) " + "; ".join(f"{k}: {v}" for k, v in a.fields) + " [END_STREAM]"})
        elif kind == "Reset":
            out.append({"h2": f"RST_STREAM {error_name(a.code)}"})
        elif kind == "GoAway":
            last = "this stream" if a.last_stream is None else a.last_stream
            out.append({"h2": f"GOAWAY {error_name(a.code)}, last stream {last}" + (", then close" if a.close else "")})
        elif kind == "Update":
            out.append({"h2": "SETTINGS " + ", ".join(f"{setting_name(k)}={v}" for k, v in a.settings)})
        elif kind == "Ping":
            out.append({"h2": f"PING {a.opaque!r}"})
        elif kind == "Wire":
            out.append({"send": escaped(a.bytes_for(1))})
        elif kind == "Flood":
            out.append({"flood": f"{a.count} times at most ({a.max_bytes} octets, {a.seconds} s): "
                                 + escaped(a.make(1), 64)})
        elif kind == "Await":
            out.append({"await": f"a frame of type {a.kind} with flags {a.flags} (at most {a.seconds} s)"})
        else:
            out += _step(a, False)
    return out


class _Verbatim:
    """A script context that leaves every placeholder as the scenario wrote it."""

    def fill(self, data: bytes) -> bytes:
        return data


def served(response: Any, protocol: str = "http") -> list[dict[str, Any]]:
    """What the server sends for a row's requests (see the module docstring)."""
    ws = protocol == "ws"
    if response is None:
        steps = [{"echo": "echoes every message"}] if ws else \
            [{"send": escaped(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")}]
        return [{"when": "every request", "steps": steps}]
    if hasattr(response, "routes") and hasattr(response, "default") and not hasattr(response, "accept"):
        if response.dynamic is not None:
            doc = (response.dynamic.__doc__ or "").strip().split("\n")[0]
            return [{"when": "dynamic", "steps": [{"dynamic": doc or "computed from each request"}]}]
        out = [{"when": path, "steps": _answer(r, ws)} for path, r in response.routes.items()]
        return out + [{"when": "default" if out else "every request", "steps": _answer(response.default, ws)}]
    return [{"when": "every request", "steps": _answer(response, ws)}]

