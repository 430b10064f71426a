"""The scorecard: per column, what a person choosing a library asks first.

    CATEGORIES   must (a MUST broken: fail), should (a SHOULD broken: warn),
                 security (a security row not met: fail, warn or timeout),
                 unsupported, timeout
    scorecard(matrix) -> [{"client", "cells", "must": [row ids], ...}] in column order

The HTML page (a count per column, each linking to its rows), the terminal and
matrix.md show the same numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matrix.report import Matrix

#: (key, heading, what it counts)
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("must", "MUST broken", "rows whose MUST the column breaks (fail)"),
    ("should", "SHOULD broken", "rows whose SHOULD the column breaks (warn)"),
    ("security", "security failed", "security rows the column does not meet (fail, warn or timeout)"),
    ("unsupported", "unsupported", "rows the column's API cannot express (or not installed)"),
    ("timeout", "timeouts", "rows where the column did not finish within the cell deadline"),
)
KEYS = tuple(k for k, _, _ in CATEGORIES)


def category(cell_verdict: str, level: str, security: bool) -> list[str]:
    """The scorecard categories one cell counts in."""
    out = []
    if cell_verdict == "fail" and level == "MUST":
        out.append("must")
    if cell_verdict == "warn" and level == "SHOULD":
        out.append("should")
    if security and cell_verdict in ("fail", "warn", "timeout"):
        out.append("security")
    if cell_verdict in ("unsupported", "timeout"):
        out.append(cell_verdict)
    return out


def scorecard(matrix: Matrix) -> list[dict[str, Any]]:
    rows = {s["id"]: s for s in matrix.scenarios}
    out: dict[str, dict[str, Any]] = {c["id"]: {"client": c["id"], "cells": 0, **{k: [] for k in KEYS}}
                                      for c in matrix.clients}
    order = {s["id"]: i for i, s in enumerate(matrix.scenarios)}
    for cell in sorted(matrix.cells, key=lambda c: order.get(c.scenario, len(order))):
        card = out.get(cell.client)
        row = rows.get(cell.scenario)
        if card is None or row is None:
            continue
        card["cells"] += 1
        for key in category(cell.verdict, str(row.get("level")), bool(row.get("security"))):
            card[key].append(cell.scenario)
    return [card for card in out.values() if card["cells"]]
