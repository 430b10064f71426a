"""Self-tests of fixtures/ahead.py: waiting cells overlap, and nothing else changes.

The same cells come out whether a waiting row runs ahead or one cell after another; the
row's waits overlap; a cell that sets process-wide state never runs beside anything; and
no waiting row sets any.
"""

from __future__ import annotations

import importlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import fixtures.ahead as ahead_module
from fixtures.ahead import Ahead
from fixtures.cell import run_cell
from model.scenario import Scenario
from suites import test_timeouts

pytestmark = pytest.mark.selftest

SUITES = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "suites").glob("test_*.py"))
CLIENTS = ["socket", "http.client", "requests", "httpx"]


def every_scenario() -> list[Scenario]:
    return [s for name in SUITES for s in importlib.import_module(f"suites.{name}").SCENARIOS]


def test_no_waiting_row_sets_process_wide_state() -> None:
    both = [s.id for s in every_scenario() if s.waits and s.env]
    assert not both, f"rows that wait side by side must not set environment variables: {both}"


@pytest.mark.waits(2)
def test_a_waiting_row_gives_the_same_cells_in_less_time(servers: Any, adapters: Any) -> None:
    row = next(s for s in test_timeouts.SCENARIOS if s.id == "timeout.slow-drip")
    assert row.waits
    start = time.perf_counter()
    one_by_one = {c: run_cell(row, c, adapters.get(c), servers).cell for c in CLIENTS}
    serial = time.perf_counter() - start
    runner = Ahead(servers, adapters.get)
    try:
        start = time.perf_counter()
        side_by_side = {c: runner.run(row, c, CLIENTS, 3.0).cell for c in CLIENTS}
        overlapped = time.perf_counter() - start
    finally:
        runner.close()
    assert {c: (x.verdict, x.summary) for c, x in side_by_side.items()} == \
           {c: (x.verdict, x.summary) for c, x in one_by_one.items()}
    # Four cells that each sleep about 0.35 s: side by side they take about one cell's time.
    assert overlapped < serial * 0.6, f"{overlapped:.2f} s side by side against {serial:.2f} s one by one"


def test_a_cell_with_env_waits_for_every_cell_in_flight(servers: Any, adapters: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    waiting = next(s for s in test_timeouts.SCENARIOS if s.id == "timeout.read")
    with_env = Scenario("self.env", "sets a variable", "-", "INFO", waiting.check, env=(("CM_SELFTEST", "1"),))
    in_flight = 0
    seen: list[int] = []
    lock = threading.Lock()

    def counted(scenario: Scenario, *args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight
        with lock:
            if scenario.env:
                seen.append(in_flight)
            in_flight += 1
        try:
            if scenario.env:
                return None
            return run_cell(scenario, *args, **kwargs)
        finally:
            with lock:
                in_flight -= 1

    monkeypatch.setattr(ahead_module, "run_cell", counted)
    runner = Ahead(servers, adapters.get)
    try:
        runner.run(waiting, CLIENTS[0], CLIENTS, 3.0)  # the other three now run ahead
        runner.run(with_env, "requests", ["requests"], 3.0)
    finally:
        runner.close()
    assert seen == [0], "a cell setting environment variables ran beside other cells"
