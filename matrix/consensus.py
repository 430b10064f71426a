"""The consensus of a row: the behaviour most clients share, and the odd ones out.

A behaviour is a cell's verdict and summary. Cells that say nothing about the
library (``unsupported``: the API cannot express it or it is not installed;
``error``: our harness broke) take no part. A row has a consensus when one
behaviour is shared by more clients than any other. Where behaviours tie, the
consensus falls back to the verdict most clients share ("details differ"), and
the odd ones out are the clients with another verdict; where verdicts tie too,
there is no consensus and nobody is singled out. A row *disagrees* when its
clients show more than one behaviour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from model.cell import Cell

#: Verdicts that are not a behaviour of the library.
ABSTAIN = ("unsupported", "error")


@dataclass(frozen=True)
class Consensus:
    verdict: str | None
    summary: str | None
    count: int
    of: int
    odd: tuple[str, ...] = field(default_factory=tuple)
    disagree: bool = False

    def to_json(self) -> dict[str, object]:
        return {"verdict": self.verdict, "summary": self.summary, "count": self.count, "of": self.of,
                "odd": list(self.odd), "disagree": self.disagree}


def behaviour(cell: Cell) -> tuple[str, str]:
    return (cell.verdict, cell.summary)


def consensus(cells: Iterable[Cell]) -> Consensus:
    """The consensus of one row's cells."""
    voting = [c for c in cells if c.verdict not in ABSTAIN]
    if not voting:
        return Consensus(None, None, 0, 0)
    ranked = Counter(behaviour(c) for c in voting).most_common()
    top, count = ranked[0]
    disagree = len(ranked) > 1
    if not disagree or ranked[1][1] != count:
        odd = tuple(c.client for c in voting if behaviour(c) != top)
        return Consensus(top[0], top[1], count, len(voting), odd, disagree)
    verdicts = Counter(c.verdict for c in voting).most_common()
    verdict, vcount = verdicts[0]
    if len(verdicts) > 1 and verdicts[1][1] == vcount:
        return Consensus(None, None, 0, len(voting), (), True)
    odd = tuple(c.client for c in voting if c.verdict != verdict)
    return Consensus(verdict, "same verdict, details differ", vcount, len(voting), odd, True)
