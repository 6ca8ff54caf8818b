"""Regenerate the review page's screenshots in docs/: ``python docs/screenshots.py``.

Builds the demo district with 24 compounds in a temporary folder, writes its
quarterly review for 2026Q3 in English and Chinese, as ``civicflow report`` does,
opens each page in the system's chromium (``apt-get install chromium
fonts-wqy-zenhei``; Playwright downloads nothing), and
saves the top of each page as ``docs/report-en.png`` and ``docs/report-zh.png``.
The same seed gives the same district, so the pictures change only when the
page does.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from civicflow import CivicFlow
from civicflow.extras.demo import Size, build_into
from civicflow.extras.report import write_report
from civicflow.views import Views

DOCS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUARTER = "2026Q3"
WIDTH, HEIGHT = 1200, 1500


def pages(folder: Path) -> dict[str, Path]:
    """The demo district's review in both languages, written into ``folder``."""
    written = {}
    with CivicFlow.open(f"sqlite:///{folder / 'demo.db'}") as flow:
        build_into(flow, size=Size.scaled(24))
        with Views(flow, k=10) as views:
            views.catch_up()
            for lang in ("en", "zh"):
                written[lang] = folder / f"review-{lang}.html"
                write_report(views, QUARTER, written[lang], lang, source=flow)
    return written


def shoot(written: dict[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for lang, page_file in written.items():
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.goto(page_file.as_uri())
            target = DOCS / f"report-{lang}.png"
            page.screenshot(path=str(target))
            sys.stdout.write(f"{target}\n")
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        shoot(pages(Path(folder)))


if __name__ == "__main__":
    main()
