"""The HTML report: ``matrix.html``, one self-contained file (no network, no CDN).

    page(matrix) -> str     the whole document
    page_data(matrix)       what the page's script renders: clients, per-family columns,
                            rows (scenario meta, consensus, cells by client), glyphs

The matrix goes into the page once, as JSON in a ``<script type="application/json">``;
``assets/report.js`` (a small vanilla script) renders the tables, the filters (kept in
the URL fragment, so a link can point at a view) and a cell's detail; ``assets/report.css``
styles it. Each cell carries its reproducer and pytest command (matrix.reproduce) and
each row its consensus (matrix.consensus). Observations are trimmed to what the
detail shows, so ~2,000 cells stay a few megabytes at most.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from matrix.consensus import consensus
from matrix.report import GLYPHS, MEANING, Matrix, run_line
from matrix.reproduce import pytest_command, snippet
from model.cell import VERDICTS, Cell

ASSETS = Path(__file__).with_name("assets")
#: Fields of a captured request the detail shows (the hash, raw bytes and connection number are left out).
SENT_FIELDS = ("method", "target", "version", "headers", "framing", "body_len", "body_excerpt", "trailers",
               "server", "problem")


def trim(observed: dict[str, Any] | None) -> dict[str, Any]:
    if not observed:
        return {}
    out = dict(observed)
    out["sent"] = [{k: s[k] for k in SENT_FIELDS if s.get(k) not in (None, "", [])} for s in observed.get("sent") or []]
    return out


def cell_data(row: dict[str, Any], cell: Cell, base: str) -> dict[str, Any]:
    data = cell.to_json()
    return {
        "v": cell.verdict,
        "m": cell.summary,
        "o": cell.outcome,
        "e": data["expected"],
        "x": trim(cell.observed),
        "n": data.get("variants") if cell.intermittent else None,
        "p": pytest_command(row, base),
        "r": snippet(row, base, data),
    }


def page_data(matrix: Matrix) -> dict[str, Any]:
    index = matrix._index()
    clients = {c["id"]: c for c in matrix.clients}
    columns = {f: [c["id"] for c in matrix.columns(f)] for f in matrix.families()}  # once, not per row
    rows = []
    for s in matrix.scenarios:
        protocol = s.get("protocol", "http")
        cols = columns[protocol]
        cells = {cid: index[(s["id"], cid)] for cid in cols if (s["id"], cid) in index}
        rows.append({
            **{k: s.get(k) for k in ("id", "group", "title", "spec", "level", "module")},
            "security": bool(s.get("security")),
            "protocol": protocol,
            "cons": consensus(cells.values()).to_json(),
            "cells": {cid: cell_data(s, c, clients[cid].get("base", cid)) for cid, c in cells.items()},
        })
    return {
        "run": matrix.run,
        "clients": matrix.clients,
        "columns": columns,
        "rows": rows,
        "verdicts": list(VERDICTS),
        "glyphs": GLYPHS,
    }


def _script_json(data: Any) -> str:
    """JSON that cannot end its <script> element early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def page(matrix: Matrix) -> str:
    e = html.escape
    legend = "".join(f'<span><span class="verdict v-{v}">{GLYPHS[v]} {v}</span> {e(MEANING[v].split(": ", 1)[1])}</span>'
                     for v in VERDICTS)
    legend += ('<span><b>*</b> after a glyph: differs from the recorded expectation</span>'
               '<span><b>~</b> after a glyph: intermittent over --repeat runs</span>'
               '<span><span class="sec">§</span> security row</span>'
               '<span><b>≠</b> dashed: odd one out (differs from the consensus)</span>')
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>clientmatrix: {len(matrix.cells)} cells</title>
<style>
{(ASSETS / "report.css").read_text(encoding="utf-8")}</style>
</head>
<body>
<header>
<h1>clientmatrix</h1>
<div class="run">{e(run_line(matrix))}</div>
<div class="legend" aria-label="legend">{legend}</div>
</header>
<form class="filters" role="search" aria-label="filters">
<label>group <select id="f-group"></select></label>
<label>client <select id="f-client"></select></label>
<label>verdict <select id="f-verdict"></select></label>
<label><input type="checkbox" id="f-disagree"> only rows where clients disagree</label>
<label>search <input type="search" id="f-q" placeholder="id or title"></label>
<button type="button" id="f-reset">reset</button>
<span class="count" id="shown"></span>
</form>
<main id="tables"></main>
<dialog id="detail" aria-label="cell detail"><div class="inner"></div></dialog>
<script type="application/json" id="matrix-data">{_script_json(page_data(matrix))}</script>
<script>
{(ASSETS / "report.js").read_text(encoding="utf-8")}</script>
</body>
</html>
"""
