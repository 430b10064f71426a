"""What fails a comparison, a merge or an update: the diff table, merge conflicts, intermittent
cells and their expectations, the verdicts --update-expectations leaves out.

The diff and merge tests change one real cell of ``real_matrix`` to a known verdict and read
what ``python -m matrix`` says and exits with.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from matrix import diff
from matrix.__main__ import main
from matrix.files import write
from matrix.merge import MergeConflict, merge
from matrix.report import Matrix, markdown
from model import expect
from model.cell import VERDICTS, Cell, Expected, Variant, variants_of

pytestmark = pytest.mark.selftest

CELL = ("status.200", "httpx")


def edited(matrix: Matrix, key: tuple[str, str] = CELL, drop: bool = False, **fields: Any) -> Matrix:
    """A copy of ``matrix`` with one cell's fields set (or the cell dropped)."""
    data = copy.deepcopy(matrix.to_json())
    cells = []
    for cell in data["cells"]:
        if (cell["scenario"], cell["client"]) == key:
            if drop:
                continue
            cell.update(fields)
        cells.append(cell)
    data["cells"] = cells
    return Matrix.from_json(data)


def run_diff(tmp_path: Path, old: Matrix, new: Matrix, *flags: str) -> int:
    write(old, tmp_path / "old")
    write(new, tmp_path / "new")
    return main(["diff", str(tmp_path / "old" / "matrix.json"), str(tmp_path / "new" / "matrix.json"), *flags])


#: (old verdict, new verdict) -> the change's kind: the README's table, row by row.
TABLE = [
    ("pass", "fail", "regressed"), ("pass", "warn", "regressed"), ("pass", "timeout", "regressed"),
    ("pass", "error", "regressed"), ("pass", "unsupported", "regressed"),
    ("warn", "fail", "regressed"), ("info", "error", "regressed"), ("fail", "timeout", "regressed"),
    ("info", "timeout", "regressed"), ("unsupported", "error", "regressed"), ("timeout", "error", "regressed"),
    ("error", "timeout", "regressed"),
    ("fail", "pass", "improved"), ("timeout", "pass", "improved"), ("fail", "warn", "improved"),
    ("error", "info", "improved"), ("unsupported", "pass", "improved"),
    ("fail", "info", "changed"), ("info", "pass", "changed"), ("fail", "unsupported", "changed"),
    ("pass", "pass", "behaviour"), ("timeout", "timeout", "behaviour"),
]


@pytest.mark.parametrize("old, new, kind", TABLE)
def test_the_diff_table(real_matrix: Matrix, old: str, new: str, kind: str) -> None:
    before = edited(real_matrix, verdict=old, summary="before")
    after = edited(real_matrix, verdict=new, summary="after")
    found = diff.changes(before, after)
    assert [(c.scenario, c.client, c.kind) for c in found] == [(*CELL, kind)]
    assert bool(diff.gate(found, after)) == (kind == "regressed")
    assert bool(diff.gate(found, after, strict=True)) == (kind in ("regressed", "changed", "behaviour"))


@pytest.mark.parametrize("old, new, plain, strict", [
    ("pass", "error", 1, 1), ("pass", "pass", 0, 1), ("fail", "pass", 0, 0),
])
def test_the_diff_command_exits_by_the_table(real_matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             old: str, new: str, plain: int, strict: int) -> None:
    before = edited(real_matrix, verdict=old, summary="before")
    after = edited(real_matrix, verdict=new, summary="after")
    assert run_diff(tmp_path, before, after) == plain
    assert run_diff(tmp_path, before, after, "--strict") == strict
    assert diff.kind_of(before.cell(*CELL), after.cell(*CELL)) in capsys.readouterr().out


def test_every_verdict_pair_has_one_kind() -> None:
    for old in VERDICTS:
        for new in VERDICTS:
            assert not ((old, new) in diff.REGRESSIONS and (old, new) in diff.IMPROVEMENTS)
    assert ("pass", "pass") not in diff.REGRESSIONS


def test_a_disappeared_cell_fails_unless_common(real_matrix: Matrix, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    fewer = edited(real_matrix, drop=True)
    assert run_diff(tmp_path, real_matrix, fewer) == 1
    assert "removed" in capsys.readouterr().out
    assert run_diff(tmp_path, real_matrix, fewer, "--common") == 0
    assert run_diff(tmp_path, fewer, real_matrix) == 0  # a new cell is news, not a regression


def test_an_incomplete_new_run_fails_the_diff(real_matrix: Matrix, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    partial = copy.deepcopy(real_matrix)
    partial.run = {**partial.run, "complete": False, "incomplete_reason": "interrupted (Ctrl-C)",
                   "not_run": [{"scenario": "status.404", "client": "socket"}]}
    assert run_diff(tmp_path, real_matrix, partial, "--common") == 1
    out = capsys.readouterr().out
    assert "the new run is incomplete: interrupted (Ctrl-C)" in out
    assert run_diff(tmp_path, partial, real_matrix) == 0


def test_diff_json_says_why_it_failed(real_matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_diff(tmp_path, real_matrix, edited(real_matrix, verdict="error", summary="x"), "--format", "json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["failed"] and data["regressed"] == 1 and data["reasons"] == ["1 cells regressed"]


# -- merge ------------------------------------------------------------------------


def test_merge_refuses_two_runs_that_disagree_on_a_cell(real_matrix: Matrix, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    other = edited(real_matrix, verdict="fail", summary="got 500")
    with pytest.raises(MergeConflict) as caught:
        merge([real_matrix, other], ["a.json", "b.json"])
    assert "status.200 [httpx]" in str(caught.value) and "a.json says pass" in str(caught.value)
    assert "b.json says fail: got 500" in str(caught.value) and "--prefer" in str(caught.value)
    write(real_matrix, tmp_path / "a")
    write(other, tmp_path / "b")
    files = [str(tmp_path / "a" / "matrix.json"), str(tmp_path / "b" / "matrix.json")]
    assert main(["merge", *files, "-o", str(tmp_path / "m.json")]) == 2
    assert "status.200 [httpx]" in capsys.readouterr().err
    for prefer, verdict in (("first", "pass"), ("last", "fail")):
        assert main(["merge", *files, "-o", str(tmp_path / "m.json"), "--prefer", prefer]) == 0
        merged = Matrix.read(tmp_path / "m.json")
        assert merged.cell(*CELL).verdict == verdict  # type: ignore[union-attr]
        assert merged.run["overridden"] == {"prefer": prefer, "cells": 1}


def test_merge_accepts_runs_that_agree_and_keeps_an_incomplete_mark(real_matrix: Matrix) -> None:
    assert len(merge([real_matrix, copy.deepcopy(real_matrix)], ["a", "b"]).cells) == len(real_matrix.cells)
    partial = copy.deepcopy(real_matrix)
    partial.run = {**partial.run, "complete": False, "incomplete_reason": "x", "not_run": []}
    assert merge([real_matrix, partial], ["a", "b"]).run["complete"] is False


# -- repeats and intermittent expectations ------------------------------------------------


def test_variants_count_each_outcome_most_frequent_first() -> None:
    got = variants_of([("pass", "a"), ("fail", "b"), ("fail", "b"), ("pass", "a"), ("timeout", "t"), ("fail", "b")])
    assert got == (Variant("fail", "b", 3), Variant("pass", "a", 2), Variant("timeout", "t", 1))
    assert variants_of([("pass", "a")] * 3) == (Variant("pass", "a", 3),)


def intermittent(real_matrix: Matrix) -> Cell:
    cell = real_matrix.cell(*CELL)
    assert cell is not None
    return Cell(cell.scenario, cell.client, "pass", "got 200", cell.observed,
                variants=(Variant("pass", "got 200", 4), Variant("timeout", "no answer", 1)))


def test_an_intermittent_cell_is_marked_in_every_report(real_matrix: Matrix, tmp_path: Path) -> None:
    m = copy.deepcopy(real_matrix)
    m.cells = [intermittent(real_matrix) if c.key == CELL else c for c in m.cells]
    write(m, tmp_path)
    back = Matrix.read(tmp_path / "matrix.json").cell(*CELL)
    assert back is not None and back.intermittent and back.variants[1] == Variant("timeout", "no answer", 1)
    assert "(intermittent: pass x4: got 200; timeout x1: no answer)" in markdown(m)
    html = (tmp_path / "matrix.html").read_text()
    assert '"n":[{"verdict":"pass","summary":"got 200","count":4}' in html
    from matrix.terminal import render
    assert any("✓~" in line for line in render(m))


def test_an_intermittent_expectation_accepts_any_of_its_outcomes() -> None:
    exp = Expected("pass", "got 200", (("timeout", "no answer"),))
    assert expect.diff(exp, "pass", "got 200") is None
    assert expect.diff(exp, "timeout", "no answer") is None
    assert expect.diff(exp, "fail", "got 500") is not None
    both = (Variant("pass", "got 200", 2), Variant("timeout", "no answer", 1))
    assert expect.diff(exp, "pass", "got 200", both) is None
    problem = expect.diff(Expected("pass", "got 200"), "pass", "got 200", both)
    assert problem is not None and "timeout: no answer (1x)" in problem and "intermittent" in problem


def test_update_records_an_intermittent_cell_as_its_set_of_outcomes(tmp_path: Path) -> None:
    cell = Cell("a", "requests", "pass", "A", variants=(Variant("pass", "A", 3), Variant("fail", "B", 1)))
    meta = {"requests": {"library": "requests", "version": "2"}}
    expect.update(tmp_path, [cell], meta)
    loaded = expect.load(tmp_path, "requests").cells["a"]
    assert loaded == Expected("pass", "A", (("fail", "B"),))
    # a later steady run that one of the outcomes covers keeps the set
    expect.update(tmp_path, [Cell("a", "requests", "fail", "B")], meta)
    assert expect.load(tmp_path, "requests").cells["a"] == loaded
    # one that none covers replaces it
    expect.update(tmp_path, [Cell("a", "requests", "warn", "C")], meta)
    assert expect.load(tmp_path, "requests").cells["a"] == Expected("warn", "C")


def test_update_leaves_out_timeouts_and_errors_unless_asked(tmp_path: Path) -> None:
    meta = {"requests": {"library": "requests", "version": "2"}}
    cells = [Cell("t", "requests", "timeout", "no answer"), Cell("e", "requests", "error", "harness error"),
             Cell("p", "requests", "pass", "ok"),
             Cell("i", "requests", "pass", "ok", variants=(Variant("pass", "ok", 2), Variant("timeout", "x", 1)))]
    assert [expect.left_out(c) for c in cells] == ["verdict timeout", "verdict error", None, "verdict timeout"]
    expect.update(tmp_path, cells, meta)
    assert set(expect.load(tmp_path, "requests").cells) == {"p"}
    expect.update(tmp_path, cells, meta, include=("timeout",))
    assert set(expect.load(tmp_path, "requests").cells) == {"p", "t", "i"}
    assert expect.left_out(cells[1], ("timeout", "error")) is None


# -- what a run selected, and what it lost ---------------------------------------------


@pytest.mark.parametrize("nodeid, key", [
    ("suites/test_ws.py::test_scenario[ws.close.4000-reason-socket-ws]", ("ws.close.4000-reason", "socket-ws")),
    ("suites/test_ws.py::test_scenario[ws.echo-websocket-client]", ("ws.echo", "websocket-client")),
    ("suites/test_x.py::test_scenario[status.200-httpx-async]", ("status.200", "httpx-async")),
    ("suites/test_x.py::test_scenario[status.200-httpx]", ("status.200", "httpx")),
    ("suites/test_x.py::test_scenario[no-client]", None),
    ("tests/test_y.py::test_something[status.200-httpx]", None),
])
def test_a_node_id_names_its_cell(nodeid: str, key: tuple[str, str] | None) -> None:
    from fixtures import clients
    from matrix.runlog import cell_key

    assert cell_key(nodeid, clients.CLIENTS) == key


def test_the_run_log_tells_complete_from_incomplete() -> None:
    from matrix.runlog import RunLog

    log = RunLog()
    log.select("a", ("s", "c1"))
    log.select("b", ("s", "c2"))
    assert log.section([("s", "c1"), ("s", "c2")]) == {"complete": True, "selected": 2}
    part = log.section([("s", "c1")])
    assert part["complete"] is False and part["not_run"] == [{"scenario": "s", "client": "c2"}]
    log.stop_reason = "interrupted (Ctrl-C)"
    assert log.section([("s", "c1"), ("s", "c2")])["incomplete_reason"] == "interrupted (Ctrl-C)"
    lost = log.lost(("s", "c2"), "setup", "E   ServerUnavailable: cannot bind\nmore")
    assert (lost.verdict, lost.summary, lost.outcome) == ("error", "setup error before the cell ran", "failed")
    assert lost.observed is not None and lost.observed["error"]["message"] == "E   ServerUnavailable: cannot bind"
