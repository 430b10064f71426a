"""Self-test fixtures: a small matrix of *real* cells, run the way the suite runs them.

Every matrix the self-tests write is checked against the documented format
(docs/matrix.schema.json, matrix.schema): ``Matrix.to_json`` validates what it returns for
the whole session (``schema_checked``); reports written by a pytest subprocess are read
back with ``checked_report``.

``real_matrix`` runs a few rows (the status group, the security rows, two method rows)
with four clients through fixtures.cell.run_cell against the session's fixture servers,
so the report writers are tested on cells that came from a real run.

Under xdist, ``order_for_workers`` puts the slow self-tests (``@pytest.mark.cost(seconds)``:
a pytest run, a browser, a serve process of their own) at the head of each worker's share,
spread so the shares cost about the same, the tests that wait on a timer
(``@pytest.mark.waits(seconds)``) in the middle of the shares, and the tests that share a
module fixture on one worker: the run does not end on one long test started last or on a row
of waits, and no module fixture (a browser, a serve on fixed ports, a pytest run several
tests read) is made twice.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator, Sequence
from itertools import islice
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


# -- the order of the self-tests under xdist ---------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cost(seconds): a slow self-test (a process of its own); xdist starts it first, "
                   "and spreads the slow ones over the workers (tests/conftest.py)")
    config.addinivalue_line(
        "markers", "waits(seconds): a self-test that mostly waits on a timer; xdist runs it in the middle of a "
                   "worker's share, beside work, neither at the crowded start nor in the tail (tests/conftest.py)")


def cost(item: pytest.Item, mark: str = "cost") -> float:
    """The test's ``cost`` (or ``waits``) mark in seconds (the largest, where a parameter's adds to its
    function's), else 0."""
    return max((float(m.args[0]) for m in item.iter_markers(mark)), default=0.0)


def units(items: Sequence[pytest.Item]) -> list[list[pytest.Item]]:
    """The items in groups that must run on one worker: those of a module that share a
    module-scoped fixture (made once per process). Each group keeps the collection order."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.setdefault(i, i) != i:
            i = parent[i]
        return i

    owner: dict[tuple[str, str], int] = {}
    for i, item in enumerate(items):
        info = getattr(item, "_fixtureinfo", None)
        for name, defs in (info.name2fixturedefs.items() if info else ()):
            if defs and defs[-1].scope == "module":
                key = (item.nodeid.split("::")[0], name)
                parent[find(i)] = find(owner.setdefault(key, i))
    groups: dict[int, list[pytest.Item]] = {}
    for i, item in enumerate(items):
        groups.setdefault(find(i), []).append(item)
    return list(groups.values())


def shares(total: int, workers: int) -> list[int]:
    """How many tests pytest-xdist's worksteal hands each worker at the start: the collection in
    order, cut into ``total // workers``, then the rest // (workers - 1), ... (scheduler/worksteal.py)."""
    sizes: list[int] = []
    for k in range(workers):
        sizes.append((total - sum(sizes)) // (workers - k))
    return sizes


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workers = getattr(config, "workerinput", {}).get("workercount", 0)  # on an xdist worker only
    if workers < 2:
        return
    if not all(item.nodeid.startswith("tests/") for item in items):
        return  # the self-tests only: a run of the matrix keeps its order
    items[:] = order_for_workers(items, workers)


def order_for_workers(items: Sequence[pytest.Item], workers: int) -> list[pytest.Item]:
    """The same tests, ordered so that each worker's first share starts with its slow tests.

    Every worker orders the collection the same way (xdist checks that the collections match).
    The slow groups go, longest first, to the share with the least cost so far (the longest
    processing time rule); the tests that wait go, the same way, to the shares, each share's
    between its slow groups (a core is free while they wait: beside the others' heavy tests, not
    in the tail, where nothing runs beside them, nor all workers at once); the other tests fill
    each share up to its size, in collection order. A worker that finishes early steals from the
    tail of another's share: fast tests."""
    sizes = shares(len(items), workers)
    slow: list[list[pytest.Item]] = []
    waiting: list[list[pytest.Item]] = []
    fast: list[list[pytest.Item]] = []
    for group in units(items):
        if any(cost(i) for i in group):
            slow.append(group)
        elif any(cost(i, "waits") for i in group):
            waiting.append(group)
        else:
            fast.append(group)
    heads = spread(slow, sizes, "cost")
    loads = [sum(cost(i) for g in head for i in g) for head in heads]  # a share with light heads takes more waits
    room = [size - sum(map(len, head)) for size, head in zip(sizes, heads, strict=True)]
    waits = spread(waiting, room, "waits", loads)
    rest = iter(item for group in fast for item in group)
    ordered: list[pytest.Item] = []
    for k, (size, head, wait) in enumerate(zip(sizes, heads, waits, strict=True)):
        used = sum(map(len, head)) + sum(map(len, wait))
        fill = list(islice(rest, max(0, size - used)))
        if head:
            ordered += between(head, wait)
            ordered += fill
        else:
            ordered += interleaved(fill, [i for g in wait for i in g], k / workers)
    ordered += list(rest)
    return ordered


def spread(groups: list[list[pytest.Item]], room: list[int], mark: str,
           load: list[float] | None = None) -> list[list[list[pytest.Item]]]:
    """``groups``, longest first, each into the share with the least cost so far (``load`` to
    start from) that has room: each share's groups, in that order."""
    placed: list[list[list[pytest.Item]]] = [[] for _ in room]
    load = list(load or [0.0] * len(room))
    for group in sorted(groups, key=lambda g: -sum(cost(i, mark) for i in g)):
        fits = [k for k in range(len(room)) if sum(map(len, placed[k])) + len(group) <= room[k]] or list(range(len(room)))
        k = min(fits, key=lambda k: (load[k], k))
        placed[k].append(group)
        load[k] += sum(cost(i, mark) for i in group)
    return placed


def between(slow: list[list[pytest.Item]], waits: list[list[pytest.Item]]) -> list[pytest.Item]:
    """The slow groups in order, the waiting ones dealt out after each (none before the first)."""
    out: list[pytest.Item] = []
    for n, group in enumerate(slow):
        out += group
        for wait in waits[n::len(slow)]:
            out += wait
    return out


def interleaved(fill: list[pytest.Item], waits: list[pytest.Item], phase: float) -> list[pytest.Item]:
    """``waits`` one by one among ``fill``, evenly from a tenth to four fifths of the way (``phase``,
    from 0 to 1, shifts them by a part of the spacing, so workers do not wait in step)."""
    if not waits:
        return fill
    step = 0.7 / len(waits)
    at = [int(len(fill) * (0.1 + step * (j + phase))) for j in range(len(waits))]
    out: list[pytest.Item] = []
    done = 0
    for pos, item in zip(at, waits, strict=True):
        out += fill[done:pos]
        out.append(item)
        done = max(done, pos)
    return out + fill[done:]
