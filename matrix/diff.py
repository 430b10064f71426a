"""Comparing two matrices: which cells changed their verdict or behaviour.

    changes(old, new)   one Change per cell (scenario, client) whose verdict or summary
                        differs, or that only one side has
    table(changes)      a readable table; to_json(changes) for ``--format json``

A change is ``regressed`` when the old verdict was ``pass`` and the new one is
``fail``, ``warn`` or ``timeout``: ``python -m matrix diff`` then exits 1, so CI can
gate on it. ``improved`` is the way back; any other difference is ``changed``;
``added`` and ``removed`` are cells one side does not have.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from typing import Any

from matrix.report import GLYPHS, Matrix
from model.cell import Cell

BAD = ("fail", "warn", "timeout")


@dataclass(frozen=True)
class Change:
    scenario: str
    client: str
    old: Cell | None
    new: Cell | None

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        if self.old.verdict == "pass" and self.new.verdict in BAD:
            return "regressed"
        if self.old.verdict in BAD and self.new.verdict == "pass":
            return "improved"
        return "changed"

    def to_json(self) -> dict[str, Any]:
        def side(cell: Cell | None) -> dict[str, str] | None:
            return {"verdict": cell.verdict, "summary": cell.summary} if cell else None

        return {"scenario": self.scenario, "client": self.client, "kind": self.kind,
                "old": side(self.old), "new": side(self.new)}


def changes(old: Matrix, new: Matrix, common: bool = False) -> list[Change]:
    """Cells whose verdict or summary differ; ``common``: only cells present in both runs."""
    before, after = old._index(), new._index()
    keys = before.keys() & after.keys() if common else before.keys() | after.keys()
    out = []
    for key in sorted(keys):
        a, b = before.get(key), after.get(key)
        if a is not None and b is not None and (a.verdict, a.summary) == (b.verdict, b.summary):
            continue
        out.append(Change(key[0], key[1], a, b))
    return out


def regressed(found: list[Change]) -> list[Change]:
    return [c for c in found if c.kind == "regressed"]


def _side(cell: Cell | None) -> str:
    return "(no cell)" if cell is None else f"{GLYPHS[cell.verdict]} {cell.verdict}: {cell.summary}"


def table(found: list[Change], old: Matrix, new: Matrix, width: int | None = None) -> list[str]:
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 140)
    if not found:
        return ["no cell changed its verdict or behaviour"]
    versions = {c["id"]: c["version"] for c in old.clients}
    lines = []
    sid_w = max(len(c.scenario) for c in found)
    cid_w = max(len(c.client) for c in found)
    head = f"{'change':<10} {'scenario':<{sid_w}} {'client':<{cid_w}}  old -> new"
    lines += [head, "-" * min(width, max(len(head), 40))]
    indent = 10 + sid_w + cid_w + 4
    for c in sorted(found, key=lambda c: (c.kind != "regressed", c.scenario, c.client)):
        text = f"{_side(c.old)}  ->  {_side(c.new)}"
        body = textwrap.wrap(text, max(30, width - indent)) or [""]
        lines.append(f"{c.kind:<10} {c.scenario:<{sid_w}} {c.client:<{cid_w}}  {body[0]}")
        lines += [" " * indent + more for more in body[1:]]
    counts: dict[str, int] = {}
    for c in found:
        counts[c.kind] = counts.get(c.kind, 0) + 1
    lines.append("")
    lines.append(f"{len(found)} cells changed: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    moved = [f"{c['id']} {versions[c['id']]} -> {c['version']}" for c in new.clients
             if c["id"] in versions and versions[c["id"]] != c["version"]]
    if moved:
        lines.append("versions: " + ", ".join(moved))
    return lines


def to_json(found: list[Change]) -> dict[str, Any]:
    return {"changes": [c.to_json() for c in found], "regressed": len(regressed(found))}
