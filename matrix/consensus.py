"""A row's reference: the spec's answer first, then the majority.

A graded row (level MUST or SHOULD) has a right answer: ``pass``. Its reference is
the spec, and a column is the odd one out when it does *not* meet it (fail, warn,
timeout): a column that meets the spec is never singled out, however few do. Among the
cells that meet the spec, behaviours may still differ ("followed, 2 requests" and
"followed, 3 requests"): the majority behaviour among those equally graded cells is
shown, and the others are marked as differing in detail, not as odd ones out.

An INFO row has no right answer: its reference is the majority behaviour (verdict
and summary), and the odd ones out are the columns with another behaviour. Where
behaviours tie, nobody is singled out.

Cells that say nothing about the library take no part (``unsupported``: the API
cannot express it or it is not installed; ``error``: our harness broke).

A row *disagrees* when its voting cells have more than one verdict; it *differs*
when they have more than one behaviour (verdict or summary).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from model.cell import Cell

#: Verdicts that are not a behaviour of the library.
ABSTAIN = ("unsupported", "error")
GRADED = ("MUST", "SHOULD")


@dataclass(frozen=True)
class Consensus:
    #: "spec" (a graded row: the answer is ``pass``) or "majority" (an INFO row).
    kind: str
    verdict: str | None
    #: The behaviour most of the cells with ``verdict`` share (None on a tie).
    summary: str | None
    #: How many voting cells have ``verdict`` (and, for "majority", ``summary`` too).
    count: int
    of: int
    #: Columns that differ from the reference: not meeting the spec, or another behaviour (INFO).
    odd: tuple[str, ...] = field(default_factory=tuple)
    #: Columns with the reference's verdict whose behaviour differs from the majority among them.
    detail: tuple[str, ...] = field(default_factory=tuple)
    #: More than one verdict among the voting cells.
    disagree: bool = False
    #: More than one behaviour (verdict or summary) among the voting cells.
    differs: bool = False

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "verdict": self.verdict, "summary": self.summary, "count": self.count,
                "of": self.of, "odd": list(self.odd), "detail": list(self.detail), "disagree": self.disagree,
                "differs": self.differs}


def behaviour(cell: Cell) -> tuple[str, str]:
    return (cell.verdict, cell.summary)


def _majority(summaries: list[str]) -> str | None:
    """The summary most of them share, or None on a tie (or none)."""
    ranked = Counter(summaries).most_common(2)
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def consensus(cells: Iterable[Cell], level: str = "INFO") -> Consensus:
    """The reference of one row's cells (``level``: the row's level)."""
    voting = [c for c in cells if c.verdict not in ABSTAIN]
    disagree = len({c.verdict for c in voting}) > 1
    differs = len({behaviour(c) for c in voting}) > 1
    if level in GRADED:
        meeting = [c for c in voting if c.verdict == "pass"]
        summary = _majority([c.summary for c in meeting])
        odd = tuple(c.client for c in voting if c.verdict != "pass")
        detail = tuple(c.client for c in meeting if summary is not None and c.summary != summary)
        return Consensus("spec", "pass", summary, len(meeting), len(voting), odd, detail, disagree, differs)
    if not voting:
        return Consensus("majority", None, None, 0, 0)
    ranked = Counter(behaviour(c) for c in voting).most_common(2)
    top, count = ranked[0]
    if len(ranked) > 1 and ranked[1][1] == count:
        return Consensus("majority", None, None, 0, len(voting), (), (), disagree, differs)
    odd = tuple(c.client for c in voting if behaviour(c) != top)
    return Consensus("majority", top[0], top[1], count, len(voting), odd, (), disagree, differs)
