"""Self-tests of the pieces summaries are built from: what they keep, what they mask."""

from __future__ import annotations

import pytest

from model.cell import Capture
from model.checks import tail, unversioned

UNVERSIONED = [
    ("Python/3.11 aiohttp/3.14.5", "Python/<py> aiohttp/3.14.5"),
    ("Python-urllib/3.13", "Python-urllib/<py>"),
    ("Python/3.10 aiohttp/3.10.11", "Python/<py> aiohttp/3.10.11"),  # a library's 3.10 is not Python's
    ("python-requests/2.34.2", "python-requests/2.34.2"),
    ("python-urllib3/2.8.0", "python-urllib3/2.8.0"),
    ("Python/3.12.1 websockets/17.4", "Python/<py> websockets/17.4"),
]


@pytest.mark.parametrize("value,shown", UNVERSIONED)
def test_only_pythons_own_version_is_masked(value: str, shown: str) -> None:
    assert unversioned(value) == shown


@pytest.mark.parametrize("target,rest", [
    ("/c/t12/a%20b?x=1", "/a%20b?x=1"),
    ("http://127.0.0.1:8080/c/t3/next", "/next"),
    ("/c/t7", "/"),
])
def test_the_route_prefix_never_reaches_a_summary(target: str, rest: str) -> None:
    assert tail(Capture("GET", target, "HTTP/1.1", (), b"", "none", b"")) == rest
