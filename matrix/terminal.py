"""The end-of-run matrix in the terminal: readable in 100 columns, with or without colour.

    labels(clients)        four-letter column headers, unique (a merged matrix has several
                           versions of one client), explained in the legend
    render(matrix, width)  the lines to print

Each protocol family (http, ws) is its own block of columns, its security rows first
(a "security" section), then its rows by group. When a family has more clients than
fit in ``width``, its columns wrap into several blocks. Each state has a glyph *and*
a colour, so the table reads on a monochrome terminal or a printout. No line is wider
than ``width`` (colour codes aside).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from matrix.report import DIFFERS, GLYPHS, MEANING, Matrix, counts_line, glyph

COLOURS = {
    "pass": {"green": True},
    "fail": {"red": True, "bold": True},
    "warn": {"yellow": True},
    "info": {"cyan": True},
    "unsupported": {"light": True},
    "timeout": {"purple": True, "bold": True},
    "error": {"red": True, "bold": True},
}
#: Width of one client column, and the least room kept for the scenario ids.
COL = 5
MIN_LABEL = 28
SECURITY = "§"

Paint = Callable[[str, str], str]


def plain(text: str, verdict: str) -> str:
    return text


def labels(clients: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Client id -> a unique header of at most four characters."""
    clients = list(clients)
    shorts = [str(c.get("short") or c["id"])[:4] for c in clients]
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for c, short in zip(clients, shorts, strict=True):
        if shorts.count(short) == 1:
            out[c["id"]] = short
            continue
        seen[short] = seen.get(short, 0) + 1
        out[c["id"]] = f"{short[:3]}{'123456789abcdefghijklmnopqrstuvwxyz'[(seen[short] - 1) % 35]}"
    return out


def flow(items: list[tuple[str, str]], width: int, first: str, indent: int) -> list[str]:
    """Items (plain text, painted text) laid out in lines of at most ``width`` visible columns."""
    lines: list[str] = []
    line, seen = first, len(first)
    for text, painted in items:
        if seen > indent and seen + len(text) > width:
            lines.append(line.rstrip())
            line, seen = " " * indent, indent
        line += painted
        seen += len(text)
    lines.append(line.rstrip())
    return lines


def _items(texts: list[str]) -> list[tuple[str, str]]:
    """Comma-separated items for ``flow`` (no colour)."""
    return [(t + ", ",) * 2 for t in texts[:-1]] + [(t, t) for t in texts[-1:]]


def sections(matrix: Matrix, family: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """A family's rows: the security rows first, then every row by group."""
    rows = [s for s in matrix.scenarios if s.get("protocol", "http") == family]
    out: list[tuple[str, list[dict[str, Any]]]] = []
    security = [s for s in rows if s.get("security")]
    if security:
        out.append(("security", security))
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in rows:
        groups.setdefault(s["group"], []).append(s)
    return out + list(groups.items())


def render(matrix: Matrix, width: int = 100, paint: Paint = plain) -> list[str]:
    lines: list[str] = []
    index = matrix._index()
    names = labels(matrix.clients)
    for family in matrix.families():
        cols = matrix.columns(family)
        if not cols:
            continue
        parts = sections(matrix, family)
        longest = max(len(s["id"]) for _, rows in parts for s in rows) + 3
        per_line = max(1, (width - MIN_LABEL) // COL)
        label_w = max(min(longest, width - COL * min(len(cols), per_line)), 12)
        for start in range(0, len(cols), per_line):
            chunk = cols[start:start + per_line]
            title = f"{family.upper()} clients" + (f" ({start + 1}-{start + len(chunk)} of {len(cols)})"
                                                   if len(cols) > per_line else "")
            lines.append(title[:label_w].ljust(label_w) + "".join(names[c["id"]].center(COL) for c in chunk).rstrip())
            for name, rows in parts:
                lines.append(name)
                for s in rows:
                    label = f" {SECURITY if s.get('security') else ' '}{s['id']}"
                    if len(label) > label_w - 1:
                        label = label[: label_w - 2] + "…"
                    row = label.ljust(label_w)
                    for c in chunk:
                        cell = index.get((s["id"], c["id"]))
                        text = glyph(cell).center(COL)
                        row += paint(text, cell.verdict) if cell else text
                    lines.append(row.rstrip())
            lines.append("")
        for client, why in matrix.absent.get(family, {}).items():
            note = f"- {client} (not a column: unsupported): {why}"
            lines.append(note if len(note) <= width else note[:width - 1] + "…")
        if matrix.absent.get(family):
            lines.append("")
    counts = counts_line(matrix).split(", ")
    lines += flow(_items(counts), width, f"{len(matrix.cells)} cell{'' if len(matrix.cells) == 1 else 's'}: ", 4)
    clients = [f"{names[c['id']]}={c['id']}" + ("" if str(c["version"]) in c["id"] else f" {c['version']}")
               for c in matrix.clients]
    lines += flow(_items(clients), width, "clients: ", 9)
    marks = [(f"{GLYPHS[v]} {v}   ", paint(f"{GLYPHS[v]} {v}", v) + "   ") for v in MEANING]
    marks += [(f"{DIFFERS} differs from expectation   ",) * 2, (f"{SECURITY} security row",) * 2]
    lines += flow(marks, width, "legend:  ", 9)
    return lines
