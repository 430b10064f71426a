"""Merging runs: many matrix.json files (library versions, Pythons) -> one matrix.

A client of a merged matrix is one column per client *and* version, and per Python
version where the inputs' Pythons differ:

    requests              one version, one Python in all inputs
    requests@2.31.0       several versions of requests among the inputs
    requests@2.31.0/py3.10  ... and several Pythons
    socket/py3.12         stdlib clients: their version is Python's, so only /py is added

Each column keeps ``base`` (the client id, for reproducers and pytest commands) and
``python``. Rows are the union of the inputs' scenarios, in first-seen order. A cell
that two inputs both hold for the same column is taken from the later input.
``run`` lists the inputs (``merged``). A merged matrix can be merged again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from matrix.report import Matrix
from model.cell import Cell


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


def merge(matrices: Sequence[Matrix], sources: Sequence[str]) -> Matrix:
    entries = [(m, c) for m in matrices for c in m.clients]
    versions: dict[str, set[str]] = {}
    for _, c in entries:
        versions.setdefault(c.get("base", c["id"]), set()).add(str(c["version"]))
    pythons = {_python(m, c) for m, c in entries}
    order = list(dict.fromkeys(c.get("base", c["id"]) for _, c in entries))

    clients: dict[str, dict[str, Any]] = {}
    cells: dict[tuple[str, str], Cell] = {}
    for matrix in matrices:
        renamed: dict[str, str] = {}
        for c in matrix.clients:
            base, python = c.get("base", c["id"]), _python(matrix, c)
            new = column_id(base, str(c["version"]), python, stdlib=c.get("library") == "python",
                            versions=len(versions[base]) > 1, pythons=len(pythons) > 1)
            renamed[c["id"]] = new
            clients[new] = {**c, "id": new, "base": base, "python": python}
        for cell in matrix.cells:
            new_cell = replace(cell, client=renamed.get(cell.client, cell.client))
            cells[new_cell.key] = new_cell

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
    return Matrix(
        run={"merged": runs, "python": ", ".join(sorted(pythons, key=_version_key))},
        clients=sorted(clients.values(), key=position),
        scenarios=list(scenarios.values()),
        cells=list(cells.values()),
        absent={family: dict(why) for m in matrices for family, why in m.absent.items()},
    )
