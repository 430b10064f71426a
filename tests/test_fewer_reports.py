"""conftest.send_fewer_reports: an xdist worker leaves out only what nobody reads.

A passing setup or teardown with nothing captured stays in the worker; every call report,
every failure, error or skip, and any report with captured output or a longrepr still
goes to the controller. ``--junitxml`` and ``--durations`` keep every report.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import send_fewer_reports

pytestmark = pytest.mark.selftest


class WorkerInteractor:  # the name xdist's worker plugin has; it is what the shim looks for
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def sendevent(self, name: str, **kwargs: Any) -> None:
        self.sent.append((name, kwargs))


class Config:
    def __init__(self, plugin: object, **options: Any) -> None:
        self.plugin, self.options = plugin, options
        self.pluginmanager = self

    def get_plugins(self) -> list[object]:
        return [object(), self.plugin]

    def getoption(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def report(when: str, outcome: str = "passed", **more: Any) -> dict[str, Any]:
    return {"when": when, "outcome": outcome, "sections": [], "longrepr": None, **more}


CASES = [
    (report("setup"), False),
    (report("teardown"), False),
    (report("call"), True),
    (report("setup", "failed", longrepr="boom"), True),
    (report("teardown", "failed", longrepr="boom"), True),
    (report("setup", "skipped", longrepr=("f", 1, "skip")), True),
    (report("setup", sections=[["Captured stdout setup", "hello"]]), True),
    (report("teardown", sections=[["Captured log teardown", "x"]]), True),
]


@pytest.mark.parametrize(("data", "sent"), CASES)
def test_only_passing_silent_setup_and_teardown_stay_in_the_worker(data: dict[str, Any], sent: bool) -> None:
    worker = WorkerInteractor()
    send_fewer_reports(Config(worker))  # type: ignore[arg-type]
    worker.sendevent("testreport", data=data)
    worker.sendevent("logstart", nodeid="n", location=("f", 1, "n"))
    assert [name for name, _ in worker.sent] == (["testreport"] if sent else []) + ["logstart"]


@pytest.mark.parametrize("option", [{"xmlpath": "out.xml"}, {"durations": 10}, {"durations": 0}])
def test_junitxml_and_durations_keep_every_report(option: dict[str, Any]) -> None:
    worker = WorkerInteractor()
    send_fewer_reports(Config(worker, **option))  # type: ignore[arg-type]
    worker.sendevent("testreport", data=report("setup"))
    assert len(worker.sent) == 1
