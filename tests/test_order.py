"""The order of the self-tests under xdist (tests/conftest.py): slow tests at the head of each
worker's first share, spread by cost; tests that share a module fixture kept together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import order_for_workers, shares

pytestmark = pytest.mark.selftest


@dataclass
class Def:
    scope: str


@dataclass
class Info:
    name2fixturedefs: dict[str, list[Def]] = field(default_factory=dict)


class Item:
    """What order_for_workers reads of a pytest item: its id, its cost mark, its fixtures."""

    def __init__(self, nodeid: str, cost: float = 0.0, module_fixtures: tuple[str, ...] = (), waits: float = 0.0) -> None:
        self.nodeid = nodeid
        self.marks = [pytest.mark.cost(cost).mark] if cost else []
        self.marks += [pytest.mark.waits(waits).mark] if waits else []
        self._fixtureinfo = Info({name: [Def("module")] for name in module_fixtures})

    def iter_markers(self, name: str) -> Any:
        return (m for m in self.marks if m.name == name)

    def __repr__(self) -> str:
        return self.nodeid


def test_shares_are_worksteals_first_cut() -> None:
    assert shares(10, 3) == [3, 3, 4] and shares(17, 3) == [5, 6, 6] and shares(1713, 3) == [571, 571, 571]


def test_slow_tests_head_the_shares_longest_first_and_groups_stay_whole() -> None:
    fast = [Item(f"tests/test_a.py::fast{i}") for i in range(12)]
    big, mid, small = Item("tests/test_b.py::big", 7), Item("tests/test_b.py::mid", 4), Item("tests/test_b.py::small", 1)
    run_a, run_b = (Item(f"tests/test_c.py::reads{i}", 3 if i == 0 else 0, ("one_run",)) for i in range(2))
    items = [*fast[:5], small, run_a, *fast[5:9], big, mid, run_b, *fast[9:]]
    ordered = order_for_workers(items, 3)  # type: ignore[arg-type]
    assert sorted(map(repr, ordered)) == sorted(map(repr, items)), "the same tests, each once"
    starts = [0, 5, 11]  # shares(17, 3) == [5, 6, 6]
    assert [ordered[s] for s in starts] == [big, mid, run_a], "each share starts with its longest"
    assert ordered[starts[2] + 1] is run_b, "the tests of one module fixture run one after the other"
    assert ordered[starts[2] + 2] is small, "the next slow test goes to the share that costs least (3 < 4 < 7)"
    assert [i for i in ordered if i in fast] == fast, "the fast tests keep the collection order"


def test_the_tests_that_wait_run_between_the_slow_ones_or_through_the_middle() -> None:
    fast = [Item(f"tests/test_a.py::fast{i}") for i in range(20)]
    slow = Item("tests/test_b.py::slow", 3)
    waits = [Item(f"tests/test_w.py::w{i}", waits=w) for i, w in enumerate((2, 2, 0.5))]
    items = [waits[0], *fast[:10], waits[1], slow, waits[2], *fast[10:]]
    ordered = order_for_workers(items, 2)  # type: ignore[arg-type]  # shares(24, 2) == [12, 12]
    first, second = ordered[:12], ordered[12:]
    assert first[0] is slow
    # longest first, each to the share that costs least so far (slow tests included): 0+2, 2+2 < 3, 3+0.5 < 4
    assert waits[0] in second and waits[1] in second and waits[2] in first
    assert first[1] is waits[2], "after a slow group, beside the other workers' heavy tests"
    for share in (first, second):
        at = [i for i, item in enumerate(share) if item in waits]
        assert at[0] > 0 and at[-1] < len(share) - 1, f"waits neither first nor last: {share}"
        assert all(b - a > 1 for a, b in zip(at, at[1:], strict=False)), f"waits apart: {share}"
    assert [i for i in ordered if i in fast] == fast


def test_a_run_without_workers_keeps_its_order(pytestconfig: pytest.Config) -> None:
    from tests.conftest import pytest_collection_modifyitems

    items = [Item("tests/test_a.py::x", 5), Item("tests/test_a.py::y")]
    kept = list(items)
    if getattr(pytestconfig, "workerinput", None) is None:
        pytest_collection_modifyitems(pytestconfig, items)  # type: ignore[arg-type]
        assert items == kept
    matrix = [Item("suites/test_status.py::test_scenario[x]"), Item("tests/test_a.py::x", 5)]
    kept = list(matrix)
    pytest_collection_modifyitems(pytestconfig, matrix)  # type: ignore[arg-type]
    assert matrix == kept, "a run that includes the matrix keeps its order"
