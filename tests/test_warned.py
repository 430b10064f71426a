"""fixtures.adapter.warned: which warnings a cell records on ``got.extra["warnings"]``.

A library's warning during the call is the cell's (urllib3's InsecureRequestWarning); a
ResourceWarning is not: it is raised by a finalizer whenever the collector reaches an
object, which may be any earlier cell's, so recording it made cells vary from run to run.
"""

from __future__ import annotations

import warnings

import pytest

from fixtures.adapter import Outcome, warned
from model.cell import Call, Got

pytestmark = pytest.mark.selftest

CASES = [
    (UserWarning, "Unverified HTTPS request", ["UserWarning: Unverified HTTPS request"]),
    (DeprecationWarning, "old API", ["DeprecationWarning: old API"]),
    (ResourceWarning, "unclosed <socket.socket fd=7>", []),
]


@pytest.mark.parametrize(("category", "message", "recorded"), CASES)
def test_a_cell_records_the_calls_warnings_but_not_a_finalizers(category: type[Warning], message: str,
                                                                recorded: list[str]) -> None:
    out = Outcome(got=Got(status=200))
    with warned(out, Call("GET", record_warnings=True)):
        # From a library's file: the warning's filename must not be this repository's.
        warnings.warn_explicit(message, category, "/usr/lib/python3/site-packages/lib/x.py", 1)
    assert out.got is not None and out.got.extra.get("warnings", []) == recorded
