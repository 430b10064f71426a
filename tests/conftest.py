"""Self-test fixtures: a small matrix of *real* cells, run the way the suite runs them.

Every matrix the self-tests write is checked against the documented format
(docs/matrix.schema.json, matrix.schema): ``Matrix.to_json`` validates what it returns for
the whole session (``schema_checked``); reports written by a pytest subprocess are read
back with ``checked_report``.

``real_matrix`` runs a few rows (the status group, the security rows, two method rows)
with four clients through fixtures.cell.run_cell against the session's fixture servers,
so the report writers are tested on cells that came from a real run.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures import clients as registry
from matrix.report import Matrix
from matrix.reproduce import row_meta
from matrix.schema import validate
from model.cell import Cell
from suites import test_methods, test_status

CLIENTS = ("socket", "urllib", "requests", "httpx")


def _rows() -> list[tuple[Any, str]]:
    rows = [(s, "suites/test_status.py") for s in test_status.SCENARIOS]
    rows += [(s, "suites/test_methods.py") for s in test_methods.SCENARIOS
             if s.security or s.id in ("methods.delete", "methods.lowercase")]
    return rows


@pytest.fixture(scope="session")
def real_matrix(servers: Any, adapters: Any) -> Matrix:
    from fixtures.cell import run_cell

    cells: list[Cell] = []
    scenarios = []
    for scenario, module in _rows():
        scenarios.append(row_meta(scenario, f"{module}::test_scenario[{scenario.id}-x]"))
        for client in CLIENTS:
            cells.append(run_cell(scenario, client, adapters.get(client), servers).cell)
    return Matrix(
        run={"python": platform.python_version(), "platform": platform.platform(), "started": "self-test",
             "duration_s": 0, "command": "pytest tests"},
        clients=[registry.load(c).meta() for c in CLIENTS],
        scenarios=scenarios,
        cells=cells,
    )


def checked_report(path: Path) -> dict[str, Any]:
    """A matrix.json a run wrote, read and validated against the documented format."""
    data = json.loads(path.read_text(encoding="utf-8"))
    problems = validate(data)
    assert not problems, f"{path} breaks docs/matrix.schema.json: {problems}"
    return data


@pytest.fixture(scope="session", autouse=True)
def schema_checked() -> Iterator[None]:
    """Every matrix a self-test writes (or renders) is valid against docs/matrix.schema.json."""
    original = Matrix.to_json

    def to_json(self: Matrix) -> dict[str, Any]:
        data = original(self)
        problems = validate(data)
        assert not problems, f"a written matrix breaks docs/matrix.schema.json: {problems}"
        return data

    Matrix.to_json = to_json  # type: ignore[method-assign]
    yield
    Matrix.to_json = original  # type: ignore[method-assign]
