"""What a run knows about its own completeness: the cells selected, those that came back, why it stopped.

    cell_key(nodeid, clients)   a cell test's node id -> (scenario id, client id), or None
    RunLog                      the selected cells (by node id), why the run stopped early
      .select(nodeid, key)      a cell collected and selected (serial: from the items;
                                xdist: from the node ids the workers collected)
      .lost(key, when, text)    a cell whose test reported no cell (a worker crash, a setup
                                error): an ``error`` cell that says why, so no cell is lost
      .section(recorded)        what ``matrix.json``'s ``run`` says of completeness:
                                ``complete``, and when not, ``incomplete_reason`` and
                                ``not_run`` (the cells selected but never run)

Plain data, no pytest: conftest.py's Recorder feeds it from pytest's hooks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from model.cell import Cell

#: What an error cell says when its test never reported one, by the phase that reported instead.
LOST = {
    "???": "worker crashed while running this cell",  # pytest-xdist's crash report
    "setup": "setup error before the cell ran",
    "call": "harness error: the test reported no cell",
    "teardown": "teardown error: the test reported no cell",
}
#: How many not-run cells a terminal or Markdown report names before it counts the rest.
NAMED = 10


def cell_key(nodeid: str, clients: Iterable[str]) -> tuple[str, str] | None:
    """``suites/test_x.py::test_scenario[<scenario>-<client>]`` -> (scenario, client), or None.

    Both ids may hold ``-``; the client is the longest selected client id the parameter ends with.
    """
    name = nodeid.rsplit("::", 1)[-1]
    if not name.startswith("test_scenario[") or not name.endswith("]"):
        return None
    param = name[len("test_scenario["):-1]
    for client in sorted(clients, key=len, reverse=True):
        if param.endswith(f"-{client}") and len(param) > len(client) + 1:
            return param[: -len(client) - 1], client
    return None


@dataclass
class RunLog:
    selected: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Why the run stopped before every selected cell ran (a signal, -x ...), or None.
    stop_reason: str | None = None

    def select(self, nodeid: str, key: tuple[str, str]) -> None:
        self.selected[nodeid] = key

    @staticmethod
    def lost(key: tuple[str, str], when: str, detail: str) -> Cell:
        """The error cell of a test that reported no cell; the summary is stable, the detail kept."""
        summary = LOST.get(when, f"{when} error: the test reported no cell")
        first = next((line.strip() for line in detail.splitlines() if line.strip()), "")
        observed: dict[str, Any] = {"sent": [], "got": None, "options": {},
                    "error": {"kind": "other", "type": "clientmatrix.harness", "message": first[:500]}}
        return Cell(key[0], key[1], "error", summary, observed, outcome="failed")

    def not_run(self, recorded: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Selected cells the run never recorded, in selection order."""
        done = set(recorded)
        return [key for key in dict.fromkeys(self.selected.values()) if key not in done]

    def section(self, recorded: Iterable[tuple[str, str]]) -> dict[str, Any]:
        missing = self.not_run(recorded)
        out: dict[str, Any] = {"complete": not missing and self.stop_reason is None,
                               "selected": len(set(self.selected.values()))}
        if not out["complete"]:
            out["incomplete_reason"] = self.stop_reason or f"{len(missing)} selected cells did not run"
            out["not_run"] = [{"scenario": s, "client": c} for s, c in missing]
        return out


def incomplete_lines(run: dict[str, Any]) -> list[str]:
    """What a report says of an incomplete run (nothing for a complete one, or an older file)."""
    if run.get("complete", True):
        return []
    missing = run.get("not_run") or []
    named = ", ".join(f"{m.get('scenario')} [{m.get('client')}]" for m in missing[:NAMED])
    more = f" and {len(missing) - NAMED} more" if len(missing) > NAMED else ""
    lines = [f"INCOMPLETE RUN: {run.get('incomplete_reason') or 'stopped early'}; "
             f"{len(missing)} of {run.get('selected', '?')} selected cells did not run."]
    if missing:
        lines.append(f"not run: {named}{more}")
    return lines
