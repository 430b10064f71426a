"""Scenarios as declarative data, and how a cell is graded.

A scenario reads in one screen (after cache-tests and Autobahn):

    Scenario(
        id="methods.head", title="HEAD: the client does not wait for a body",
        spec="RFC 9110 §9.3.2", level="MUST",
        request=Call("HEAD"),
        response=Reply(200, headers=(("Content-Length", "10"),)),
        check=...,            # Observation -> Result
    )

A check returns ``Result(ok, summary)``; the level turns it into a verdict:

    level    ok      not ok
    MUST     pass    fail
    SHOULD   pass    warn
    INFO     info    info      (recorded, not graded)

A check may instead say the library leaves the step to its caller by design
(``left_to_caller``): the verdict is then ``unsupported``, whatever the level.

The summary is the short, *stable* description of the behaviour that the
expectations files hold: it must not contain ports, timings or tokens.
A failing server or a check that raises is the harness's bug: verdict ``error``.

Wrong answers (the guard, ``tests/test_wrong.py``): every graded row (MUST, SHOULD)
carries at least one made-up observation that breaks what its title names (the
body short, the header kept, the redirect not followed), and the guard asserts
that its check does not pass it. A check factory attaches them to the check it
returns (``Checked(check, wrong)``, built with ``model.wrong``), so every row the
factory makes has them; a row adds its own with ``Scenario(wrong=...)``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from model.cell import Call, Level, Observation, Verdict
from model.script import Response, Script


@dataclass(frozen=True)
class Result:
    ok: bool
    summary: str
    #: The library leaves what the row asks about to its caller by design (wsproto's
    #: pongs): nothing of the library's to grade, the verdict is ``unsupported``.
    unsupported: bool = False


def ok(summary: str) -> Result:
    return Result(True, summary)


def bad(summary: str) -> Result:
    return Result(False, summary)


def left_to_caller(summary: str) -> Result:
    """The library leaves this step to its caller by design: ``unsupported``, never credited."""
    return Result(False, summary, unsupported=True)


Check = Callable[[Observation], Result]


@dataclass(frozen=True)
class Checked:
    """A check with the wrong answers it must not pass: what its factory knows breaks it."""

    run: Callable[[Observation], Result]
    #: The wrong answers, or a function that makes them when the guard asks (a 4 MiB body
    #: cut short is a 4 MiB copy: made at import, every process held it for the run).
    wrong: tuple[Observation, ...] | Callable[[], tuple[Observation, ...]] = ()
    #: Optional: observations that must pass, the wrong answers' right twins (the guard
    #: then shows the check tells the two apart, not that it fails everything).
    right: tuple[Observation, ...] = ()

    def __call__(self, obs: Observation) -> Result:
        return self.run(obs)


def wrong_of(check: Check) -> tuple[Observation, ...]:
    """The wrong answers a check carries (none for a plain function)."""
    if not isinstance(check, Checked):
        return ()
    return check.wrong() if callable(check.wrong) else check.wrong


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    spec: str
    level: Level
    check: Check
    request: Call = field(default_factory=Call)
    response: Response | Script | None = None
    #: Which fixture server the request goes to: ``http``, ``https``, ``http-80`` (``:80`` written
    #: in the URL), ``http-80-implicit`` (the same server, no port in the URL) ...
    origin: str = "http"
    #: The protocol family whose clients are the columns of this row.
    protocol: str = "http"
    security: bool = False
    #: Environment variables set for this cell only (the run clears the user's proxy and
    #: CA variables). Values may name ``{origin:NAME}`` (a fixture server's origin) and
    #: ``{ca_file}`` (the run's trustme CA); see fixtures.cell.environment.
    env: tuple[tuple[str, str], ...] = ()
    #: This row's own cell deadline in seconds, when shorter than the run's (``--cell-timeout``):
    #: for rows where the server's part ends at once and a client still busy is hung
    #: (an HTTP/2 client that never ends a reset stream), so a hang costs one second, not three.
    deadline: float | None = None
    #: The row's cells mostly wait (a timeout, a dripping body): they may run side by side
    #: with one another (fixtures/ahead.py). Never with ``env``: that is process-wide.
    waits: bool = False
    #: Made-up observations that break what the title names, besides the check's own
    #: (``Checked.wrong``): the guard asserts that none of them passes (tests/test_wrong.py).
    wrong: tuple[Observation, ...] = ()

    @property
    def group(self) -> str:
        return self.id.split(".", 1)[0]

    def wrong_answers(self) -> tuple[Observation, ...]:
        """Every wrong answer of the row: its own, then its check's (``Checked.wrong``, or a
        check object's ``wrong(scenario)`` method, as the WebSocket checks have)."""
        if isinstance(self.check, Checked):
            return self.wrong + wrong_of(self.check)
        method = getattr(self.check, "wrong", None)
        return self.wrong + (tuple(method(self)) if callable(method) else ())

    def right_answers(self) -> tuple[Observation, ...]:
        """The check's right twins, which must pass: ``Checked.right``, or ``right(scenario)``."""
        if isinstance(self.check, Checked):
            return self.check.right
        method = getattr(self.check, "right", None)
        return (method(self),) if callable(method) else ()

    def meta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "title": self.title,
            "spec": self.spec,
            "level": self.level,
            "security": self.security,
            "protocol": self.protocol,
        }


LEVEL_VERDICT: dict[Level, Verdict] = {"MUST": "fail", "SHOULD": "warn", "INFO": "info"}


#: Origins a scenario aims at to be refused on purpose (servers/closed.py).
REFUSING_ORIGINS = ("closed",)


def unobserved(scenario: Scenario, obs: Observation) -> str | None:
    """Why this observation says nothing about the library (a harness failure), or None.

    A check only grades what happened; these cases never happened to the library:
    no response and no exception at all, or our own live server refusing the
    connection (the run's servers are up for the whole session).
    """
    if obs.got is None and obs.error is None:
        return "no response and no exception: the adapter returned nothing"
    if obs.error is not None and obs.error.kind == "connect-refused" and not obs.sent \
            and scenario.origin not in REFUSING_ORIGINS:
        return f"the fixture server refused the connection ({obs.error.short}): it should be listening"
    return None


def grade(scenario: Scenario, obs: Observation) -> tuple[Verdict, str]:
    """The verdict and summary of one observation."""
    if obs.server_errors:
        return "error", "fixture server error: " + obs.server_errors[0].splitlines()[-1][:200]
    why = unobserved(scenario, obs)
    if why is not None:
        return "error", why
    try:
        result = scenario.check(obs)
    except Exception:
        return "error", "check raised: " + traceback.format_exc(limit=2).splitlines()[-1][:200]
    if result.unsupported:
        return "unsupported", result.summary
    if scenario.level == "INFO":
        return "info", result.summary
    return ("pass" if result.ok else LEVEL_VERDICT[scenario.level]), result.summary
