"""A real browser for the page tests: Debian's chromium driven by Playwright.

No browser is downloaded: Playwright launches the system's ``/usr/bin/chromium``
(``apt-get install chromium``). Without it, or without Playwright, the browser
tests skip and say why, unless ``CIVICFLOW_REQUIRE_BROWSER=1`` (set by CI) turns
the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path(os.environ.get("CIVICFLOW_CHROMIUM", "/usr/bin/chromium"))
# Headless, and nothing that reaches out to the network or updates itself.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRE_BROWSER = os.environ.get("CIVICFLOW_REQUIRE_BROWSER") == "1"


def browser_problem() -> str | None:
    """Why no browser test can run here (None: they can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is None:
        return f"no chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def need_browser() -> None:
    """Skip the test without a browser; fail it instead in CI."""
    problem = browser_problem()
    if problem and REQUIRE_BROWSER:
        pytest.fail(f"CIVICFLOW_REQUIRE_BROWSER=1 but {problem}")
    if problem:
        pytest.skip(problem)


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system's chromium, headless, closed after use."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
