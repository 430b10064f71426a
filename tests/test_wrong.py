"""The guard: every graded row can fail, and for the reason its title names.

For every MUST or SHOULD row of every suite (``suites/test_*.py``, found at test
time, so rows other people add are covered the day they land), each wrong answer
the row carries (``Scenario.wrong_answers()``: the row's own ``wrong`` and its
check's: ``Checked.wrong``, made with ``model.wrong``, or a check object's
``wrong(scenario)``, as the WebSocket checks of ``suites/ws_checks.py`` have) is fed to the row's check,
and the verdict must be the row's failing one (``fail`` for MUST, ``warn`` for
SHOULD): not ``pass``, and not ``error`` (a check that raises on a wrong answer
proves nothing).

A graded row without a wrong answer fails here. ``EXEMPT`` lists the rows that
may have none, each with its reason; an exemption for a row that no longer
exists, or that has wrong answers after all, fails too, so the list stays true.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from model.scenario import LEVEL_VERDICT, Scenario, grade

SUITES = Path(__file__).resolve().parent.parent / "suites"

#: Graded rows that carry no wrong answer, and why. Keep it short: a reason must hold.
EXEMPT: dict[str, str] = {}


def graded() -> list[Scenario]:
    rows: list[Scenario] = []
    for path in sorted(SUITES.glob("test_*.py")):
        module = importlib.import_module(f"suites.{path.stem}")
        rows += [s for s in getattr(module, "SCENARIOS", []) if s.level != "INFO"]
    return rows


ROWS = graded()


@pytest.mark.parametrize("scenario", ROWS, ids=[s.id for s in ROWS])
def test_every_wrong_answer_fails_the_row(scenario: Scenario) -> None:
    answers = scenario.wrong_answers()
    if scenario.id in EXEMPT:
        assert not answers, f"{scenario.id} has wrong answers now: drop its exemption"
        return
    assert answers, (f"{scenario.id} ({scenario.level}) has no wrong answer: give its check factory a "
                     "Checked(check, wrong=...) or the row Scenario(wrong=...) (see model/wrong.py)")
    failing = LEVEL_VERDICT[scenario.level]
    for i, obs in enumerate(answers):
        verdict, summary = grade(scenario, obs)
        assert verdict == failing, f"wrong answer {i} of {scenario.id} gave {verdict}: {summary}"


def test_exemptions_name_graded_rows() -> None:
    ids = {s.id for s in ROWS}
    stale = sorted(set(EXEMPT) - ids)
    assert not stale, f"EXEMPT names rows that are not graded rows: {stale}"
    assert all(reason.strip() for reason in EXEMPT.values())


def test_the_guard_catches_a_check_that_cannot_fail() -> None:
    """A row whose check passes everything is caught by its own wrong answer."""
    from model.cell import Call
    from model.scenario import Checked, ok
    from model.wrong import answer

    blind = Scenario("x.blind", "A body: exact", "RFC 0", "MUST",
                     Checked(lambda obs: ok("looks fine"), (answer(200, b"shor"),)), Call())
    verdict, _ = grade(blind, blind.wrong_answers()[0])
    assert verdict == "pass"  # what test_every_wrong_answer_fails_the_row reports as a failure


def test_a_fresh_interpreter_call_round_trips() -> None:
    """fixtures.fresh hands the call to the child as JSON: every field a row uses comes back."""
    from fixtures.fresh import call_from_json, call_to_json, got_from_json, got_to_json
    from model.cell import Call, Got

    call = Call("POST", "/p", url="https://127.0.0.1:1/c/t1/p", headers=(("X-A", "1"),), body=b"\x00\xff",
                trust="ca", client_cert=("c.pem", "k.pem"), fresh=True, lookup=("X-A",))
    assert call_from_json(call_to_json(call)) == call
    got = Got(200, "OK", (("A", "b"),), b"\x00body", (301,), "u", {"warnings": ["W: x"]}, "text")
    assert got_from_json(got_to_json(got)) == got


RIGHT = [s for s in ROWS if s.right_answers()]


@pytest.mark.parametrize("scenario", RIGHT, ids=[s.id for s in RIGHT])
def test_every_right_twin_passes_the_row(scenario: Scenario) -> None:
    """Where a check also carries right answers, they pass: the check tells right from wrong,
    it does not fail everything."""
    for i, obs in enumerate(scenario.right_answers()):
        verdict, summary = grade(scenario, obs)
        assert verdict == "pass", f"right answer {i} of {scenario.id} gave {verdict}: {summary}"
