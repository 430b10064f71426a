"""The HTML report: ``matrix.html``, one self-contained file (no network, no CDN).

    page(matrix) -> str     the whole document
    page_data(matrix)       what the page's script renders: clients, per-family columns,
                            the scorecard, rows (scenario meta, spec links, what the server
                            sent, the reference, cells by client), glyphs

The matrix goes into the page once, as JSON in a ``<script type="application/json">``
(``script_json``: every ``<``, ``>``, ``&``, U+2028 and U+2029 written as a ``\\uXXXX``
escape, so no data can end the element or open a comment, and the JSON stays valid).
``assets/report.js`` (a small vanilla script) renders it with DOM calls and
``textContent`` only, never markup made from data: the tables, the scorecard, the
filters and the compare view (their state in the URL fragment, so a link points at a
view) and a cell's detail; ``assets/report.css`` styles it.

Kept small as the matrix grows (4,000 cells stay well under 2.5 MB, tests/test_reports.py):
the table's data (``page_data``) is plain JSON, a cell's ``expected`` only where it differs
from the cell; what a cell's detail shows (``details``: the observation, header fields
interned in ``pairs``, and the reproducer's body as indexes into ``lines``, the distinct
snippet lines; its head is made by the page from the row and client, like the pytest
command) is gzip'd JSON in base64 (``packed``) in a second, inert block, unpacked by the
browser's own ``DecompressionStream`` when the page loads.
"""

from __future__ import annotations

import base64
import gzip
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from matrix.consensus import consensus
from matrix.report import GLYPHS, MEANING, Matrix, run_line, spec_links
from matrix.reproduce import SERVE_PORTS, body
from matrix.scorecard import CATEGORIES, scorecard
from model.cell import VERDICTS, Cell

ASSETS = Path(__file__).with_name("assets")
#: The page loads nothing: its own inline style and script only (links still open).
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
#: Fields of a captured request the detail shows (the hash, raw bytes and connection number are left out).
SENT_FIELDS = ("method", "target", "version", "headers", "framing", "body_len", "body_excerpt", "trailers",
               "server", "problem", "frames", "tls", "h2")
#: The most HTTP/2 frames a cell's detail shows (matrix.json keeps them all).
H2_FRAMES = 60


def _key(value: Any) -> Any:
    """A hashable key equal only for equal JSON values (typed, so 1, 1.0 and true differ):
    the page is built at the end of every run, and json.dumps per value cost about a second."""
    if isinstance(value, (list, tuple)):
        return ("l", *map(_key, value))
    if isinstance(value, dict):
        return ("d", *sorted((k, _key(v)) for k, v in value.items()))
    return (type(value).__name__, value)


class Interner:
    """Each distinct value once in ``items``; ``index(value)`` is its position."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._seen: dict[Any, int] = {}

    def index(self, value: Any) -> int:
        # A header field (two strings, most of what is interned) keys in one step: ("p", name,
        # value) cannot equal a typed key of anything else (a list's items are tuples).
        if type(value) is list and len(value) == 2 and type(value[0]) is str and type(value[1]) is str:
            key: Any = ("p", value[0], value[1])
        else:
            key = _key(value)
        if key not in self._seen:
            self._seen[key] = len(self.items)
            self.items.append(value)
        return self._seen[key]


def trim(observed: dict[str, Any] | None, pairs: Interner) -> dict[str, Any]:
    """The observation as the detail shows it: header lists as indexes into ``pairs``."""
    if not observed:
        return {}
    out = dict(observed)

    def fields(items: Any) -> list[int]:
        return [pairs.index(list(p)) for p in items or []]

    sent = []
    for s in observed.get("sent") or []:
        one = {k: s[k] for k in SENT_FIELDS if s.get(k) not in (None, "", [])}
        one["headers"] = fields(s.get("headers"))
        if "trailers" in one:
            one["trailers"] = fields(one["trailers"])
        if "h2" in one and len(one["h2"].get("frames", [])) > H2_FRAMES:
            frames = one["h2"]["frames"]
            one["h2"] = {**one["h2"], "frames": frames[:H2_FRAMES],
                         "dropped": one["h2"].get("dropped", 0) + len(frames) - H2_FRAMES}
        sent.append(one)
    out["sent"] = sent
    got = observed.get("got")
    if isinstance(got, dict):
        out["got"] = {**got, "headers": fields(got.get("headers"))}
    return out


def cell_data(cell: Cell) -> dict[str, Any]:
    """What the table needs of a cell (its detail is in ``details``)."""
    data = cell.to_json()
    out: dict[str, Any] = {"v": cell.verdict, "m": cell.summary}
    if cell.intermittent:
        out["n"] = data.get("variants")
    if cell.outcome != "passed":
        out["o"] = cell.outcome
    if cell.expected is not None and (cell.expected.verdict, cell.expected.summary) != (cell.verdict, cell.summary):
        out["e"] = data["expected"]
    elif cell.expected is None:
        out["e"] = None  # no expectation recorded
    return out


def details(matrix: Matrix) -> dict[str, Any]:
    """What a cell's detail shows beyond the table: the observation (``x``, header fields as
    indexes into ``pairs``) and the reproducer's body (``r``, indexes into ``lines``)."""
    return json.loads("".join(details_pieces(matrix)))  # type: ignore[no-any-return]


def details_pieces(matrix: Matrix) -> Iterator[str]:
    """``details`` as JSON text, one row's cells at a time (the page never holds every cell's
    trimmed observation at once, nor their text as one string): ``{"cells": {row: {client:
    {"x", "r"}}}, "pairs": [...], "lines": [...]}``."""
    clients = {c["id"]: c for c in matrix.clients}
    rows = {s["id"]: s for s in matrix.scenarios}
    by_row: dict[str, list[Cell]] = {}
    for cell in matrix.cells:
        if cell.scenario in rows and cell.client in clients:
            by_row.setdefault(cell.scenario, []).append(cell)
    pairs, lines = Interner(), Interner()
    yield '{"cells":{'
    for i, (scenario, cells) in enumerate(by_row.items()):
        row = rows[scenario]
        shown = {}
        for cell in cells:
            base = clients[cell.client].get("base", cell.client)
            shown[cell.client] = {"x": trim(cell.observed, pairs),
                                  "r": [lines.index(line) for line in body(row, base, cell.to_json())]}
        yield f"{',' if i else ''}{_compact(scenario)}:{_compact(shown)}"
    yield f'}},"pairs":{_compact(pairs.items)},"lines":{_compact(lines.items)}}}'


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def packed(data: Any) -> str:
    """``data`` as gzip'd JSON in base64 (deterministic: no timestamp): letters, digits, ``+/=``.
    ``data`` may be JSON text in pieces (``details_pieces``): compressed as they come."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        for piece in data if isinstance(data, Iterator) else [_compact(data)]:
            gz.write(piece.encode())
    return base64.b64encode(out.getvalue()).decode("ascii")


def unpacked(text: str) -> Any:
    """The inverse of ``packed`` (tests read a page's details with it)."""
    return json.loads(gzip.decompress(base64.b64decode(text)))


def page_data(matrix: Matrix) -> dict[str, Any]:
    index = matrix._index()
    columns = {f: [c["id"] for c in matrix.columns(f)] for f in matrix.families()}  # once, not per row
    rows = []
    for s in matrix.scenarios:
        protocol = s.get("protocol", "http")
        cols = columns[protocol]
        cells = {cid: index[(s["id"], cid)] for cid in cols if (s["id"], cid) in index}
        rows.append({
            **{k: s.get(k) for k in ("id", "group", "title", "spec", "level", "module")},
            "links": spec_links(str(s.get("spec", ""))),
            "security": bool(s.get("security")),
            "protocol": protocol,
            "request": s.get("request") or {},
            "response": s.get("response") or [],
            "ref": consensus(cells.values(), str(s.get("level"))).to_json(),
            "cells": {cid: cell_data(c) for cid, c in cells.items()},
        })
    return {
        "run": matrix.run,
        "clients": matrix.clients,
        "columns": columns,
        "scorecard": scorecard(matrix),
        "categories": [list(c) for c in CATEGORIES],
        "rows": rows,
        "verdicts": list(VERDICTS),
        "glyphs": GLYPHS,
        "ports": SERVE_PORTS,
    }


#: What script_json escapes: the characters that could end the <script> element, start a
#: comment or a character reference, or (U+2028/9) end a line in older JavaScript.
UNSAFE = re.compile("[<>&\u2028\u2029]")


def script_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: still valid JSON (each unsafe
    character as its ``\\uXXXX`` escape, which only occurs inside strings)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def absent_note(matrix: Matrix) -> str:
    """Clients that are not columns of a family, and why, said once (``Matrix.absent``)."""
    e = html.escape
    return "".join(f'<div class="absent">Not columns of the {e(family)} rows (unsupported): '
                   + "; ".join(f"<b>{e(c)}</b>: {e(why)}" for c, why in clients.items()) + "</div>\n"
                   for family, clients in matrix.absent.items())


def page(matrix: Matrix) -> str:
    e = html.escape
    legend = "".join(f'<span><span class="verdict v-{v}">{GLYPHS[v]} {v}</span> {e(MEANING[v].split(": ", 1)[1])}</span>'
                     for v in VERDICTS)
    legend += ('<span><b>*</b> after a glyph: differs from the recorded expectation</span>'
               '<span><b>~</b> after a glyph: intermittent over --repeat runs</span>'
               '<span><span class="sec">§</span> security row</span>'
               '<span><b>≠</b> dashed: odd one out (does not meet the spec; INFO rows: not the majority)</span>')
    packed_details = packed(details_pieces(matrix))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>clientmatrix: {len(matrix.cells)} cells</title>
<style>
{(ASSETS / "report.css").read_text(encoding="utf-8")}</style>
</head>
<body>
<header>
<h1>clientmatrix</h1>
<div class="run">{e(run_line(matrix))}</div>
<div class="legend" aria-label="legend">{legend}</div>
<section id="scorecard" aria-label="scorecard"></section>
{absent_note(matrix)}</header>
<form class="filters" role="search" aria-label="filters">
<label>group <select id="f-group"></select></label>
<label>client <select id="f-client"></select></label>
<label>verdict <select id="f-verdict"></select></label>
<label><input type="checkbox" id="f-security"> security rows only</label>
<label><input type="checkbox" id="f-disagree"> only rows where verdicts differ</label>
<label>search <input type="search" id="f-q" placeholder="id or title"></label>
<span class="compare-pick">compare <span id="f-compare"></span></span>
<button type="button" id="f-reset">reset</button>
<span class="count" id="shown"></span>
</form>
<main id="tables"></main>
<dialog id="detail" aria-label="cell detail"><div class="inner"></div></dialog>
<script type="application/json" id="matrix-data">{script_json(page_data(matrix))}</script>
<script type="application/octet-stream" id="matrix-details" data-encoding="gzip+base64">{packed_details}</script>
<script>
{(ASSETS / "report.js").read_text(encoding="utf-8")}</script>
</body>
</html>
"""
