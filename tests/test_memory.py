"""Self-tests of what keeps large payloads out of the run's memory (issue 13): each shortcut
gives what the long way gave.

    servers.frames.Filled          the bytes of the frame it stands for, in one write; the
                                   report describes it as it described those bytes
    fixtures.ws.Event              a message kept as length, hash and excerpt, as recorded before
    suites.ws_checks.filled        the digest of the repeated bytes, without making them
    matrix.files.json_pieces       the text json_text wrote
    conftest Recorder.shared       equal data, each short string once
    Adapter.apart                  httpx's capped read goes to a process of its own, httpx2's not
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import Recorder, return_large_blocks
from fixtures.clients import load
from fixtures.ws import Event, message
from matrix.files import json_pieces, json_text
from matrix.report import Matrix
from matrix.wire import served
from model.cell import Call, Cell
from servers.frames import BINARY, TEXT, Filled, Peer, WsScript, binary, text
from suites.ws_checks import digest, filled

pytestmark = pytest.mark.selftest

SIZES = (0, 1, 125, 126, 65535, 65536, 1024 * 1024 + 1, 2 * 1024 * 1024 + 7)


class Writer:
    """What the frame server's peer writes to, kept."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False


@pytest.mark.parametrize("size", SIZES)
def test_filled_writes_the_frame_it_stands_for(size: int) -> None:
    writer = Writer()
    Peer(None, writer).send_all([text("hi"), Filled(BINARY, size), Filled(TEXT, 3, ord("z"))])  # type: ignore[arg-type]
    assert writer.writes == [text("hi") + binary(b"a" * size) + text("zzz")]  # one write, as before


@pytest.mark.parametrize("size", SIZES)
def test_filled_reads_in_the_report_as_its_bytes(size: int) -> None:
    assert served(WsScript(steps=(Filled(BINARY, size),)), "ws") == served(WsScript(steps=(binary(b"a" * size),)), "ws")


@pytest.mark.parametrize("data", [b"", b"x" * 100, "h\u00e9llo", bytes(range(256)) * 5])
def test_event_records_what_the_bytes_gave(data: str | bytes) -> None:
    raw = data.encode() if isinstance(data, str) else data
    got = message(data).to_json()
    import hashlib

    assert got == {"type": "text" if isinstance(data, str) else "binary", "len": len(raw),
                   "sha256": hashlib.sha256(raw).hexdigest(), "excerpt": raw[:40].decode("utf-8", "backslashreplace")}
    assert Event("close", code=1000, reason="bye").to_json() == {"code": 1000, "reason": "bye"}


@pytest.mark.parametrize("size", SIZES)
def test_filled_digest(size: int) -> None:
    assert filled(size) == digest(b"a" * size)


def test_json_pieces_are_json_text() -> None:
    cells = [Cell("s.b", "c", "pass", "ok \u2028<x> \U0001f600"), Cell("s.a", "c", "fail", "no")]
    matrix = Matrix(run={"python": "3"}, clients=[{"id": "c", "library": "c", "version": "1"}],
                    scenarios=[{"id": "s.a", "group": "s", "title": "t", "spec": "RFC 1", "level": "MUST"}], cells=cells)
    text = "".join(json_pieces(matrix))
    assert text == json_text(matrix) and json.loads(text)["cells"][0]["scenario"] == "s.a"
    assert json.loads("".join(json_pieces(Matrix())))["cells"] == []


def test_shared_strings_keep_the_data() -> None:
    recorder = Recorder.__new__(Recorder)
    recorder.strings = {}
    one = json.loads('{"headers": [["Host", "a"]], "n": 1, "x": null, "long": "' + "y" * 300 + '"}')
    two = json.loads('{"headers": [["Host", "a"]], "n": 2}')
    a, b = recorder.shared(one), recorder.shared(two)
    assert (a, b) == (one, two)
    assert a["headers"][0][0] is b["headers"][0][0] and next(iter(a)) is next(iter(b))


def test_only_httpx_reads_a_bomb_apart() -> None:
    capped = Call("GET", read_cap=4)
    for cid in ("httpx", "httpx-async"):
        assert load(cid)().apart_for(capped) and load(cid)().apart_for(Call("GET")) is None
    for cid in ("httpx2", "httpx2-async", "requests", "aiohttp"):
        assert load(cid)().apart_for(capped) is None


def test_large_blocks_go_back_on_glibc() -> None:
    import platform

    assert return_large_blocks() == (platform.libc_ver()[0] == "glibc")
