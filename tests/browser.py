"""Headless Chromium for the HTML report test: Debian's ``chromium`` driven by Playwright.

``browser_problem()`` says why a browser cannot run here (the test is then skipped with
that reason); ``chromium()`` launches it once, with the flags that keep it off the
network, and ``open_page(browser, url)`` opens a page in it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = os.environ.get("CLIENTMATRIX_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def browser_problem() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium is not installed ({CHROMIUM} not found): apt-get install -y chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed: pip install -r requirements.txt"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(browser: Any, url: str, width: int = 1400, height: int = 900) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(url)
        yield page
    finally:
        page.close()
