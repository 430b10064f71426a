"""The end-of-run matrix in the terminal: readable in 100 columns, with or without colour.

Rows are scenarios grouped by group; columns are clients, headed by a four-letter
short name explained in a legend. Each state has a glyph *and* a colour, so the
table reads on a monochrome terminal or a printout. Groups whose clients differ
(HTTP rows, WebSocket rows) get their own header line.
"""

from __future__ import annotations

from collections.abc import Callable

from matrix.report import GLYPHS, MEANING, Matrix, counts_line, glyph

COLOURS = {
    "pass": {"green": True},
    "fail": {"red": True, "bold": True},
    "warn": {"yellow": True},
    "info": {"cyan": True},
    "unsupported": {"light": True},
    "timeout": {"purple": True, "bold": True},
    "error": {"red": True, "bold": True},
}

Paint = Callable[[str, str], str]


def plain(text: str, verdict: str) -> str:
    return text


def render(matrix: Matrix, width: int = 100, paint: Paint = plain) -> list[str]:
    col = 5
    lines: list[str] = []
    index = matrix._index()
    protocols: dict[str, list[str]] = {}
    for s in matrix.scenarios:
        protocols.setdefault(s.get("protocol", "http"), []).append(s["group"])
    for protocol in protocols:
        cols = matrix.columns(protocol)
        if not cols:
            continue
        per_line = max(1, (width - 4) // col - 6)
        label_w = max(20, width - col * min(len(cols), per_line) - 2)
        for start in range(0, len(cols), per_line):
            part = cols[start:start + per_line]
            lines.append(" " * label_w + "".join(c["short"].center(col) for c in part))
            for group in dict.fromkeys(protocols[protocol]):
                lines.append(f"{group}")
                for s in matrix.scenarios:
                    if s["group"] != group:
                        continue
                    mark = "§" if s.get("security") else " "
                    label = f" {mark}{s['id']}"
                    if len(label) > label_w - 1:
                        label = label[: label_w - 2] + "…"
                    row = label.ljust(label_w)
                    for c in part:
                        cell = index.get((s["id"], c["id"]))
                        text = glyph(cell).center(col)
                        row += paint(text, cell.verdict) if cell else text
                    lines.append(row)
            lines.append("")
    lines.append(f"{len(matrix.cells)} cells: {counts_line(matrix)}")
    lines.append("clients: " + ", ".join(f"{c['short']}={c['id']} {c['version']}" for c in matrix.clients))
    marks = "   ".join(paint(f"{GLYPHS[v]} {v}", v) for v in MEANING)
    lines.append(f"legend:  {marks}   * differs from expectation   § security row")
    return lines
