"""The HTML report in a real browser: headless Chromium (Debian's package) driven by Playwright.

The page is generated from real cells; the tests check that the table renders, that
filters (the security filter too) narrow the rows and land in the URL, that a link with
a filter opens that view, that the scorecard's numbers link to their rows, that the
compare view shows only the rows where the picked clients differ, that a cell opens its
detail with both sides, the reproducer (the same text as matrix.reproduce writes) and the
pytest command; and that a matrix made of hostile strings renders as text, running none
of them. Skipped, with the reason, when Chromium or Playwright is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matrix.files import write
from matrix.report import Matrix
from tests.browser import browser_problem, chromium, open_page

pytestmark = [pytest.mark.selftest, pytest.mark.skipif(bool(browser_problem()), reason=browser_problem() or ""),
              pytest.mark.cost(0.5)]


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
        for shown in page.locator("tr.r").all():  # every row left has two verdicts among its clients
            verdicts = {b.get_attribute("class").split()[1] for b in shown.locator("button.c").all()}
            assert len(verdicts - {"v-unsupported", "v-error"}) > 1, verdicts

        page.locator('tr[data-row="status.103-early-hints"] button[data-c="requests"]').click()
        dialog = page.locator("dialog#detail")
        assert dialog.is_visible()
        text = dialog.inner_text()
        for words in ("status.103-early-hints", "RFC 8297", "MUST", "client sent (1 request)", "server sent",
                      "HTTP/1.1 103 Early Hints\\r\\n", "got", "reproducer", "import requests",
                      "python -m matrix serve status.103-early-hints",
                      "pytest 'suites/test_status.py::test_scenario[status.103-early-hints-requests]'"):
            assert words in text, words
        spec = dialog.locator("a", has_text="RFC 8297 §2").first
        assert spec.get_attribute("href") == "https://www.rfc-editor.org/rfc/rfc8297.html#section-2"
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


def test_the_page_reproducers_are_the_ones_python_writes(browser: Any, report: Path, real_matrix: Matrix) -> None:
    """report.js makes a snippet's head and joins its shared lines: the text must be reproduce.snippet's."""
    from matrix.reproduce import snippet

    rows = {s["id"]: s for s in real_matrix.scenarios}
    with open_page(browser, report.as_uri()) as page:
        for cell in real_matrix.cells:
            shown = page.evaluate("([s, c]) => clientmatrixSnippet(s, c)", [cell.scenario, cell.client])
            assert shown == snippet(rows[cell.scenario], cell.client, cell.to_json()), (cell.scenario, cell.client)


def test_scorecard_numbers_link_to_their_rows(browser: Any, report: Path, real_matrix: Matrix) -> None:
    from matrix.scorecard import scorecard

    cards = {c["client"]: c for c in scorecard(real_matrix)}
    with open_page(browser, report.as_uri()) as page:
        assert page.locator("#scorecard tbody tr").count() == len(cards)
        link = page.locator('#scorecard a[data-card="must"][data-client="urllib"]')
        assert link.inner_text() == str(len(cards["urllib"]["must"])) and cards["urllib"]["must"]
        link.click()
        assert "card=must" in page.url and "client=urllib" in page.url
        shown = page.locator("tr.r").evaluate_all("rows => rows.map(r => r.dataset.row)")
        assert shown == cards["urllib"]["must"]
        assert page.locator("thead th[data-client]").all_inner_texts()[0].startswith("urllib")


def test_security_filter(browser: Any, report: Path, real_matrix: Matrix) -> None:
    secure = [s["id"] for s in real_matrix.scenarios if s.get("security")]
    with open_page(browser, report.as_uri()) as page:
        page.check("#f-security")
        assert "security=1" in page.url
        shown = page.locator("tr.r").evaluate_all("rows => rows.map(r => r.dataset.row)")
        assert shown == secure and page.locator("tr.r.security").count() == len(secure)


def test_compare_view_shows_only_where_the_picked_clients_differ(browser: Any, report: Path,
                                                                 real_matrix: Matrix) -> None:
    picked = ["requests", "httpx"]
    index = real_matrix._index()
    differ = {}
    for s in real_matrix.scenarios:
        a, b = index[(s["id"], picked[0])], index[(s["id"], picked[1])]
        if a.verdict != b.verdict:
            differ[s["id"]] = "verdict"
        elif a.summary != b.summary:
            differ[s["id"]] = "behaviour"
    assert "verdict" in differ.values(), "the self-test matrix has a row where requests and httpx differ"
    with open_page(browser, report.as_uri()) as page:
        for cid in picked:
            page.check(f'#f-compare input[value="{cid}"]')
        assert "cmp=requests%2Chttpx" in page.url or "cmp=requests,httpx" in page.url
        assert page.locator("thead th[data-client]").evaluate_all("h => h.map(x => x.dataset.client)") == picked
        shown = page.locator("tr.r").evaluate_all(
            "rows => rows.map(r => [r.dataset.row, r.querySelector('td.by').textContent])")
        assert dict(shown) == differ
        assert page.locator("tr.r td.cons").first.inner_text().strip() != ""  # the spec's answer beside them
        link = page.url
    with open_page(browser, link) as page:  # the compare view is in the URL
        assert page.locator("tr.r").count() == len(differ)


# -- hostile data -----------------------------------------------------------------------------------

#: Each runs script if it ever becomes markup or code: they bump window.__pwned.
PAYLOADS = [
    '<script>window.__pwned=(window.__pwned||0)+1</script>',
    '<img src=x onerror="window.__pwned=(window.__pwned||0)+1">',
    '"><svg onload="window.__pwned=(window.__pwned||0)+1">',
    "'><iframe srcdoc=\"<script>parent.__pwned=1</script>\">",
    "<!--", "-->", "</script><script>window.__pwned=1</script>", "<![CDATA[", "\u2028\u2029",
    "javascript:window.__pwned=1", "${window.__pwned=1}", "{{constructor.constructor('window.__pwned=1')()}}",
]
HOSTILE = " ".join(PAYLOADS)


def hostile_matrix() -> Matrix:
    """Every field a stranger's matrix.json can fill, filled with markup and code."""
    from model.cell import SCHEMA_VERSION

    client = "evil<img src=x onerror=window.__pwned=1>"
    row = "evil.row<script>window.__pwned=1</script>"
    obs = {
        "sent": [{"method": HOSTILE, "target": HOSTILE, "version": HOSTILE, "headers": [[HOSTILE, HOSTILE]],
                  "framing": HOSTILE, "body_len": HOSTILE, "body_excerpt": HOSTILE, "trailers": [[HOSTILE, HOSTILE]],
                  "server": HOSTILE, "problem": HOSTILE,
                  "frames": [{"opcode": HOSTILE, "fin": HOSTILE, "rsv": HOSTILE, "masked": HOSTILE, "len": HOSTILE,
                              "excerpt": HOSTILE, "close_code": HOSTILE, "close_reason": HOSTILE}]}],
        "got": {"status": HOSTILE, "reason": HOSTILE, "headers": [[HOSTILE, HOSTILE]], "body_len": HOSTILE,
                "body_text": HOSTILE, "history": [HOSTILE], "url": HOSTILE, "text": HOSTILE, "extra": {HOSTILE: HOSTILE}},
        "error": {"kind": HOSTILE, "type": HOSTILE, "message": HOSTILE},
        "options": {HOSTILE: HOSTILE},
    }
    data = {
        "schema": SCHEMA_VERSION,
        "run": {"python": HOSTILE, "platform": HOSTILE, "started": HOSTILE, "duration_s": HOSTILE, "command": HOSTILE},
        "clients": [{"id": client, "library": HOSTILE, "version": HOSTILE, "mode": HOSTILE, "short": HOSTILE,
                     "python": HOSTILE, "base": client},
                    {"id": "requests", "library": "requests", "version": "1"}],
        "scenarios": [{"id": row, "group": HOSTILE, "title": "line one\nimport os; os.system('echo pwned') " + HOSTILE,
                       "spec": "RFC 9110 §1 " + HOSTILE, "level": HOSTILE, "module": HOSTILE, "security": True,
                       "protocol": "http",
                       "request": {"method": HOSTILE, "path": HOSTILE, "headers": [[HOSTILE, HOSTILE]], "origin": HOSTILE},
                       "response": [{"when": HOSTILE, "steps": [{"send": HOSTILE}, {HOSTILE: HOSTILE},
                                                                {"frame": {"opcode": HOSTILE}}]}]}],
        "cells": [{"scenario": row, "client": client, "verdict": "fail", "summary": HOSTILE, "observed": obs,
                   "expected": {"verdict": HOSTILE, "summary": HOSTILE}, "outcome": HOSTILE, "duration_ms": 1},
                  {"scenario": row, "client": "requests", "verdict": "pass", "summary": HOSTILE, "observed": obs,
                   "expected": None, "outcome": "passed", "duration_ms": 1}],
    }
    return Matrix.from_json(data)


def test_a_hostile_matrix_renders_as_text_and_runs_nothing(browser: Any, tmp_path: Path) -> None:
    from matrix.html import page

    # page(), not write(): this matrix breaks the documented format on purpose (strings for numbers)
    (tmp_path / "matrix.html").write_text(page(hostile_matrix()), encoding="utf-8")
    page_url = (tmp_path / "matrix.html").as_uri()
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    with open_page(browser, "about:blank") as page:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_url)
        assert page.locator("tr.r").count() == 1, "the page rendered its one row"
        assert "<script>window.__pwned" in page.locator("tr.r").inner_text(), "the title, as text"
        page.locator("#f-compare input").first.check()
        page.locator("#f-compare input").nth(1).check()
        page.check("#f-security")
        assert page.locator("tr.r").count() == 1, "the compare view shows the row (fail against pass)"
        page.locator("tr.r button.c").first.click()
        page.wait_for_timeout(200)
        detail = page.evaluate("document.querySelector('dialog .inner').textContent")
        assert "<script>window.__pwned" in detail and "onerror=" in detail, "hostile strings are shown as text"
        snippet = page.evaluate("([s, c]) => clientmatrixSnippet(s, c)", [hostile_matrix().scenarios[0]["id"], "requests"])
        pwned = page.evaluate("window.__pwned")
        injected = page.evaluate("document.querySelectorAll('script:not(#matrix-data):not(#matrix-details), img, svg, "
                                 "iframe').length")
    assert pwned is None and not dialogs and not errors, (pwned, dialogs, errors)
    assert injected == 1, "only the page's own script element"
    assert [u for u in requests if not u.startswith(("file:", "about:", "data:"))] == [], "nothing loaded"
    for line in snippet.splitlines():  # a line break in a title stays inside its comment
        assert line.startswith("#") or "os.system" not in line, line


def test_compare_takes_two_to_four_clients_of_one_family(browser: Any, tmp_path: Path) -> None:
    from matrix.html import page
    from tests.test_terminal import synthetic

    matrix = synthetic()  # 8 HTTP and 6 WebSocket clients
    (tmp_path / "m.html").write_text(page(matrix), encoding="utf-8")
    url = (tmp_path / "m.html").as_uri()
    with open_page(browser, url + "#cmp=socket,urllib,requests,httpx") as page_:
        assert page_.locator("#f-compare input:checked").count() == 4
        assert page_.locator("#f-compare input:disabled").count() == len(matrix.clients) - 4
    with open_page(browser, url + "#cmp=requests") as page_:  # one client is no comparison: the full table
        assert page_.locator("tr.r").count() == len(matrix.scenarios)
    with open_page(browser, url + "#cmp=requests,websockets") as page_:
        assert "same protocol" in page_.locator("#tables").inner_text()
