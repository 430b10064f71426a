"""Small pieces the scenarios' checks are built from.

Each returns words for a summary that stay the same from run to run (no ports,
tokens or timings), so that the expectations files can hold them.
"""

from __future__ import annotations

import re

from model.cell import Capture, Observation, wire_text
from model.script import TOKEN_PATH

PREFIX = re.compile(r"^(?:https?://[^/]+)?" + TOKEN_PATH)


def tail(capture: Capture) -> str:
    """The request target after the cell's route prefix: ``/a%20b?x=1``."""
    return PREFIX.sub("", capture.target, count=1) or "/"


def query(capture: Capture) -> str:
    return capture.target.split("?", 1)[1] if "?" in capture.target else ""


def framing(capture: Capture) -> str:
    """How a request body went on the wire, in words."""
    if capture.framing == "none":
        return "no body"
    if capture.framing == "content-length":
        return f"{len(capture.body)} bytes, Content-Length"
    if capture.framing == "chunked":
        return f"{len(capture.body)} bytes, chunked"
    return f"unparseable request ({capture.problem})"


def outcome(obs: Observation) -> str:
    """What the caller got, in words: ``got 200`` or ``raised X (kind)``."""
    if obs.error is not None:
        carried = f" carrying {obs.got.status}" if obs.got is not None else ""
        return f"raised {obs.error.short}{carried}"
    if obs.got is None:
        return "no response"
    return f"got {obs.got.status}"


def with_decoders(obs: Observation) -> str:
    """`` (brotli, zstandard installed)``: the optional decoders a row reporting defaults ran with."""
    found = obs.options.get("decoders")
    if found is None:
        return ""
    return " (no optional decoder installed)" if found == "none" else f" ({found} installed)"


def status_seen(obs: Observation) -> int | None:
    """The status the caller can see: returned, or carried by an http-status error."""
    if obs.got is None:
        return None
    if obs.error is not None and obs.error.kind != "http-status":
        return None
    return obs.got.status


def refused(obs: Observation) -> bool:
    """The library refused the call before a request reached the server."""
    return obs.error is not None and not obs.sent


#: One function for wire strings in reports and summaries (non-ASCII bytes as ``\\xNN``).
wire = wire_text

#: Python's own version in a product token: ``Python/3.11`` and ``Python-urllib/3.11`` only
#: (``python-requests/2.34.2`` is a library's version, and is kept).
PYTHON_IN_PRODUCT = re.compile(r"(?i)(\bpython(?:-urllib)?/)\d+\.\d+(?:\.\d+)?")


def unversioned(value: str) -> str:
    """A field value with Python's version written ``<py>`` (only in product tokens, so a
    library's own version, say aiohttp/3.10.x on Python 3.10, is kept): expectations then
    hold across Pythons."""
    return PYTHON_IN_PRODUCT.sub(r"\1<py>", value)


def fields(capture: Capture, elide: tuple[str, ...] = ("host",), port: bool = False) -> str:
    """A request's fields in order, ``Name: value; ...``; elided values shown as ``…``, the
    server's port as ``<port>`` when ``port``, Python's version as ``<py>``."""
    shown = []
    suffix = ":" + capture.server.rpartition(":")[2]
    for name, value in capture.headers:
        if name.lower() in elide:
            value = "…"
        elif port:
            value = value.replace(suffix, ":<port>")
        shown.append(f"{name}: {unversioned(value)}")
    return "; ".join(shown) or "no fields"
