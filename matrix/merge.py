"""Merging runs: many matrix.json files (library versions, Pythons) -> one matrix.

A client of a merged matrix is one column per client *and* version, and per Python
version where the inputs' Pythons differ:

    requests              one version, one Python in all inputs
    requests@2.31.0       several versions of requests among the inputs
    requests@2.31.0/py3.10  ... and several Pythons
    socket/py3.12         stdlib clients: their version is Python's, so only /py is added

Each column keeps ``base`` (the client id, for reproducers and pytest commands) and
``python``. Rows are the union of the inputs' scenarios, in first-seen order. Two inputs
that hold the same cell (row and column) must agree on it (verdict, summary, variants):
when they disagree, ``merge`` raises ``MergeConflict`` naming the cells, unless the caller
chose a side (``prefer="first"`` or ``"last"``: that input's cell is kept, and the run
notes how many were overridden). ``run`` lists the inputs (``merged``); it is incomplete
when an input is. A merged matrix can be merged again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from matrix.report import Matrix, MatrixFileError
from model.cell import Cell

#: How many conflicting cells the error names before it counts the rest.
NAMED = 10


class MergeConflict(MatrixFileError):
    """Two inputs disagree on a cell of the same column, and no side was preferred."""


def _same(a: Cell, b: Cell) -> bool:
    return (a.verdict, a.summary, a.variants) == (b.verdict, b.summary, b.variants)


def _python(matrix: Matrix, client: dict[str, Any]) -> str:
    return str(client.get("python") or matrix.run.get("python") or "?")


def _version_key(version: str) -> tuple[Any, ...]:
    """Natural order: 2.9.0 before 2.10.0."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.replace("-", ".").split("."))


def column_id(base: str, version: str, python: str, *, stdlib: bool, versions: bool, pythons: bool) -> str:
    out = base
    if versions and not stdlib:
        out += f"@{version}"
    if pythons:
        out += f"/py{python}"
    return out


def merge(matrices: Sequence[Matrix], sources: Sequence[str], prefer: str | None = None) -> Matrix:
    """Many runs -> one matrix; ``prefer`` (``first`` / ``last``) settles cells they disagree on."""
    if prefer not in (None, "first", "last"):
        raise ValueError(f"prefer must be 'first' or 'last', not {prefer!r}")
    entries = [(m, c) for m in matrices for c in m.clients]
    versions: dict[str, set[str]] = {}
    for _, c in entries:
        versions.setdefault(c.get("base", c["id"]), set()).add(str(c["version"]))
    pythons = {_python(m, c) for m, c in entries}
    order = list(dict.fromkeys(c.get("base", c["id"]) for _, c in entries))

    clients: dict[str, dict[str, Any]] = {}
    cells: dict[tuple[str, str], Cell] = {}
    origin: dict[tuple[str, str], str] = {}
    conflicts: list[str] = []
    for matrix, source in zip(matrices, sources, strict=True):
        renamed: dict[str, str] = {}
        for c in matrix.clients:
            base, python = c.get("base", c["id"]), _python(matrix, c)
            new = column_id(base, str(c["version"]), python, stdlib=c.get("library") == "python",
                            versions=len(versions[base]) > 1, pythons=len(pythons) > 1)
            renamed[c["id"]] = new
            clients[new] = {**c, "id": new, "base": base, "python": python}
        for cell in matrix.cells:
            new_cell = replace(cell, client=renamed.get(cell.client, cell.client))
            kept = cells.get(new_cell.key)
            if kept is not None and not _same(kept, new_cell):
                conflicts.append(f"{new_cell.scenario} [{new_cell.client}]: {origin[new_cell.key]} says "
                                 f"{kept.verdict}: {kept.summary}; {source} says {new_cell.verdict}: {new_cell.summary}")
                if prefer == "first":
                    continue
            cells[new_cell.key] = new_cell
            origin[new_cell.key] = source
    if conflicts and prefer is None:
        more = f" (and {len(conflicts) - NAMED} more)" if len(conflicts) > NAMED else ""
        raise MergeConflict(f"{len(conflicts)} cells differ between inputs for the same column{more}: "
                            + " | ".join(conflicts[:NAMED])
                            + ". Merge runs of different versions or Pythons, or choose with --prefer first|last")

    scenarios: dict[str, dict[str, Any]] = {}
    for matrix in matrices:
        for s in matrix.scenarios:
            scenarios.setdefault(s["id"], s)

    def position(c: dict[str, Any]) -> tuple[Any, ...]:
        return (order.index(c["base"]), _version_key(str(c["version"])), _version_key(c["python"]))

    runs: list[dict[str, Any]] = []
    for matrix, source in zip(matrices, sources, strict=True):
        inner = matrix.run.get("merged")
        runs += inner if inner else [{"source": source, **{k: matrix.run.get(k) for k in
                                                           ("python", "platform", "started", "command")}}]
    run: dict[str, Any] = {"merged": runs, "python": ", ".join(sorted(pythons, key=_version_key))}
    if conflicts:
        run["overridden"] = {"prefer": prefer, "cells": len(conflicts)}
    partial = [source for m, source in zip(matrices, sources, strict=True) if m.run.get("complete", True) is False]
    if partial:
        run.update(complete=False, incomplete_reason=f"merged from incomplete runs: {', '.join(map(str, partial))}",
                   not_run=[n for m in matrices for n in m.run.get("not_run") or []])
    return Matrix(
        run=run,
        clients=sorted(clients.values(), key=position),
        scenarios=list(scenarios.values()),
        cells=list(cells.values()),
        absent={family: dict(why) for m in matrices for family, why in m.absent.items()},
    )
