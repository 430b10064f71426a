"""The HTML report in a real browser: headless Chromium (Debian's package) driven by Playwright.

The page is generated from real cells; the test checks that the table renders, that
filters narrow the rows and land in the URL, that a link with a filter opens that view,
and that a cell opens its detail with the reproducer and the pytest command.
Skipped, with the reason, when Chromium or Playwright is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matrix.files import write
from matrix.report import Matrix
from tests.browser import browser_problem, chromium, open_page

pytestmark = [pytest.mark.selftest, pytest.mark.skipif(bool(browser_problem()), reason=browser_problem() or "")]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def report(real_matrix: Matrix, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("html")
    write(real_matrix, folder)
    return folder / "matrix.html"


def test_table_filters_and_detail(browser: Any, report: Path, real_matrix: Matrix, tmp_path: Path) -> None:
    errors: list[str] = []
    with open_page(browser, report.as_uri()) as page:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        rows = page.locator("tr.r")
        assert rows.count() == len(real_matrix.scenarios)
        heads = page.locator("thead th[data-client]").all_inner_texts()
        assert any("requests" in h and real_matrix.clients[2]["version"] in h for h in heads)
        assert page.locator("tr.security").count() >= 1
        page.screenshot(path=str(tmp_path / "table.png"))

        page.fill("#f-q", "103")
        assert rows.count() == 1 and "q=103" in page.url
        page.fill("#f-q", "")
        page.select_option("#f-group", "status")
        narrowed = rows.count()
        assert 0 < narrowed < len(real_matrix.scenarios)
        page.check("#f-disagree")
        assert rows.count() < narrowed and "disagree=1" in page.url

        page.locator('tr[data-row="status.103-early-hints"] button[data-c="requests"]').click()
        dialog = page.locator("dialog#detail")
        assert dialog.is_visible()
        text = dialog.inner_text()
        for words in ("status.103-early-hints", "RFC 8297", "MUST", "sent (1 request)", "got", "reproducer",
                      "import requests", "pytest 'suites/test_status.py::test_scenario[status.103-early-hints-requests]'"):
            assert words in text, words
        assert "cell=status.103-early-hints" in page.url
        page.screenshot(path=str(tmp_path / "detail.png"))
        link = page.url
        page.locator("#detail-close").click()
        assert not dialog.is_visible()
    assert not errors, errors

    with open_page(browser, link) as page:  # a link opens the same view, detail included
        assert page.locator("tr.r").count() < narrowed
        assert page.locator("dialog#detail").is_visible()


def test_client_and_verdict_filters(browser: Any, report: Path) -> None:
    with open_page(browser, report.as_uri() + "#client=urllib&verdict=fail") as page:
        assert page.locator("thead th[data-client]").count() == 1
        cells = page.locator("tbody button.c")
        assert cells.count() >= 1
        assert all(t.split()[-1] in ("fail", "≠") or "fail" in t for t in cells.all_inner_texts())


def test_every_verdict_is_legible_in_its_cell(browser: Any, report: Path) -> None:
    """Each cell's text colour differs from its background (a white-on-white fail cell once hid)."""
    with open_page(browser, report.as_uri()) as page:
        styles = page.evaluate("""() => Array.from(document.querySelectorAll('tbody button.c')).map(b => {
            const s = getComputedStyle(b);
            return [b.className, s.color, s.backgroundColor, s.backgroundImage];
        })""")
    seen = set()
    for cls, color, background, image in styles:
        verdict = next(c for c in cls.split() if c.startswith("v-"))
        seen.add(verdict)
        painted = background not in ("rgba(0, 0, 0, 0)", "transparent") or image != "none"
        assert painted and color != background, (verdict, color, background)
    assert {"v-pass", "v-fail"} <= seen
