"""Reading request bodies the way a server would: multipart/form-data, form-urlencoded, JSON.

Plain functions over captured bytes, for the body rows' checks (``suites/test_bodies.py``).
They parse strictly and say what they found; they never repair.

    RFC 2046 §5.1.1: "boundary := 0*69<bchars> bcharsnospace", and "The boundary delimiter
    MUST occur at the beginning of a line, i.e., following a CRLF, and the initial CRLF is
    considered to be attached to the boundary delimiter line rather than part of the
    preceding part."
    RFC 7578 §4.2: "Each part MUST contain a Content-Disposition header field where the
    disposition type is "form-data". The Content-Disposition header field MUST also contain
    an additional parameter of "name"".
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

#: RFC 2046 §5.1.1: bchars := bcharsnospace / " "
BCHARS = re.compile(r"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")
#: A parameter of a field value: name=token or name="quoted string" (RFC 9110 §5.6.6).
PARAM = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+\*?)\s*=\s*("(?:[^"\\\r\n]|\\.)*"|[^;\s]*)')


class Malformed(ValueError):
    """The body is not what its Content-Type says; the message says where."""


@dataclass(frozen=True)
class Part:
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def disposition(self) -> str:
        return self.header("Content-Disposition") or ""

    def param(self, name: str) -> str | None:
        """A Content-Disposition parameter, unquoted (``\\"`` unescaped); None when absent."""
        return params(self.disposition).get(name)


def params(value: str) -> dict[str, str]:
    """A field value's parameters (``; name="x"; filename*=...``), the first of each, unquoted."""
    out: dict[str, str] = {}
    for name, raw in PARAM.findall(value):
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        out.setdefault(name.lower(), raw)
    return out


def boundary_of(content_type: str | None) -> str:
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise Malformed(f"Content-Type is {content_type!r}, not multipart/form-data")
    found = params(content_type).get("boundary")
    if not found:
        raise Malformed("no boundary parameter")
    return found


def multipart(content_type: str | None, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body, strictly: CRLF line ends, a closing delimiter."""
    boundary = boundary_of(content_type).encode("latin-1")
    delimiter = b"--" + boundary
    if not body.startswith(delimiter + b"\r\n"):
        raise Malformed("the body does not start with the boundary delimiter")
    end = b"\r\n" + delimiter + b"--"
    if end not in body:
        raise Malformed("no closing delimiter")
    inner = body[len(delimiter) + 2:body.index(end)]
    parts = []
    for chunk in inner.split(b"\r\n" + delimiter + b"\r\n"):
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise Malformed("a part has no empty line after its header section")
        headers = []
        for line in head.split(b"\r\n"):
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                raise Malformed(f"a part header line is not a field: {line[:60]!r}")
            headers.append((name, value.strip(" \t")))
        parts.append(Part(tuple(headers), content))
    return parts


def valid_boundary(value: str) -> bool:
    return BCHARS.match(value) is not None


def strict_json(body: bytes) -> Any:
    """RFC 8259: UTF-8 text, no NaN or Infinity (``json.loads`` accepts those: refused here)."""

    def refuse(name: str) -> Any:
        raise Malformed(f"{name} is not JSON (RFC 8259 §6)")

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(f"not UTF-8: {exc}") from None
    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise Malformed(f"not JSON: {exc.msg}") from None


def same_json(a: Any, b: Any) -> bool:
    """Equal JSON values (NaN never equals anything)."""
    if isinstance(a, float) and math.isnan(a):
        return False
    return bool(a == b)
