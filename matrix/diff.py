"""Comparing two matrices: which cells changed their verdict or behaviour, and which of them regressed.

    changes(old, new)   one Change per cell (scenario, client) whose verdict, summary or
                        variants differ, or that only one side has
    gate(found, new)    why ``python -m matrix diff`` fails (exit 1), one line per reason
    table(changes)      a readable table; to_json(changes) for ``--format json``

What a change is, by (old verdict, new verdict), is one table (``REGRESSIONS``, and the
README's copy of it):

    pass    -> fail, warn, timeout, error, unsupported    regressed
    warn    -> fail                                       regressed
    any     -> timeout  (a timeout newly appearing)       regressed
    any     -> error    (info -> error among them)        regressed
    the reverse of a regression                           improved
    any other change of verdict                           changed
    same verdict, another summary or other variants       behaviour
    a cell only the new run has                           added
    a cell only the old run has                           removed (regressed unless --common)

The gate fails on a regression, a removed cell, and a new run marked incomplete
(``run.complete: false``); with ``strict`` also on ``changed`` and ``behaviour``.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from typing import Any

from matrix.report import GLYPHS, Matrix
from model.cell import VERDICTS, Cell

#: (old verdict, new verdict) pairs that are a regression. Generated from the rules in the
#: module docstring, so the table and the rules cannot drift apart.
REGRESSIONS: frozenset[tuple[str, str]] = frozenset(
    {("pass", v) for v in ("fail", "warn", "timeout", "error", "unsupported")}
    | {("warn", "fail")}
    | {(v, "timeout") for v in VERDICTS if v != "timeout"}
    | {(v, "error") for v in VERDICTS if v != "error"}
)
#: The way back, where it is not itself a regression (timeout <-> error is one both ways).
IMPROVEMENTS: frozenset[tuple[str, str]] = frozenset((new, old) for old, new in REGRESSIONS) - REGRESSIONS
#: Kinds that fail the gate always, and those that fail it only with --strict.
FAILING = ("regressed", "removed")
STRICT = ("changed", "behaviour")


def kind_of(old: Cell | None, new: Cell | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    pair = (old.verdict, new.verdict)
    if pair in REGRESSIONS:
        return "regressed"
    if pair in IMPROVEMENTS:
        return "improved"
    return "changed" if old.verdict != new.verdict else "behaviour"


def outcomes(cell: Cell) -> tuple[Any, ...]:
    """What a diff compares: verdict, summary and (for a repeated cell) its variants."""
    return (cell.verdict, cell.summary, tuple(sorted((v.verdict, v.summary) for v in cell.variants)))


@dataclass(frozen=True)
class Change:
    scenario: str
    client: str
    old: Cell | None
    new: Cell | None

    @property
    def kind(self) -> str:
        return kind_of(self.old, self.new)

    def to_json(self) -> dict[str, Any]:
        def side(cell: Cell | None) -> dict[str, Any] | None:
            if cell is None:
                return None
            out: dict[str, Any] = {"verdict": cell.verdict, "summary": cell.summary}
            if cell.intermittent:
                out["variants"] = [v.to_json() for v in cell.variants]
            return out

        return {"scenario": self.scenario, "client": self.client, "kind": self.kind,
                "old": side(self.old), "new": side(self.new)}


def changes(old: Matrix, new: Matrix, common: bool = False) -> list[Change]:
    """Cells whose verdict, summary or variants differ; ``common``: only cells present in both runs."""
    before, after = old._index(), new._index()
    keys = before.keys() & after.keys() if common else before.keys() | after.keys()
    out = []
    for key in sorted(keys):
        a, b = before.get(key), after.get(key)
        if a is not None and b is not None and outcomes(a) == outcomes(b):
            continue
        out.append(Change(key[0], key[1], a, b))
    return out


def regressed(found: list[Change]) -> list[Change]:
    return [c for c in found if c.kind == "regressed"]


def gate(found: list[Change], new: Matrix, strict: bool = False) -> list[str]:
    """Why the comparison fails (exit 1), one line per reason; empty when it passes."""
    reasons = []
    kinds = FAILING + (STRICT if strict else ())
    for kind in kinds:
        n = sum(1 for c in found if c.kind == kind)
        if n:
            reasons.append(f"{n} cells {kind}" + (" (--strict)" if kind in STRICT else ""))
    if new.run.get("complete", True) is False:
        reasons.append(f"the new run is incomplete: {new.run.get('incomplete_reason') or 'stopped early'} "
                       f"({len(new.run.get('not_run') or [])} selected cells did not run)")
    return reasons


def _side(cell: Cell | None) -> str:
    if cell is None:
        return "(no cell)"
    text = f"{GLYPHS.get(cell.verdict, '?')} {cell.verdict}: {cell.summary}"
    if cell.intermittent:
        text += " [intermittent: " + "; ".join(f"{v.verdict} x{v.count}" for v in cell.variants) + "]"
    return text


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
    order = ("regressed", "removed", "changed", "behaviour", "improved", "added")
    for c in sorted(found, key=lambda c: (order.index(c.kind), c.scenario, c.client)):
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


def to_json(found: list[Change], reasons: list[str] | None = None) -> dict[str, Any]:
    return {"changes": [c.to_json() for c in found], "regressed": len(regressed(found)),
            "failed": bool(reasons), "reasons": reasons or []}
