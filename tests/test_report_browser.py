"""The quarterly review page in a real browser, in English and Chinese.

A small demo district (24 compounds, four quarters) is built once; its page is
written in both languages with k=10, so that some figures are suppressed. Each
test opens a page in chromium (``tests/browser.py``) and checks it as a reader
would: it loads with no error and fetches nothing, every chart draws, the
drill-down opens, and the figures read back from the DOM's data attributes are
the views' own for the quarter, suppressed ones shown as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from civicflow import CivicFlow
from civicflow.domain.community.areas import AreaKind
from civicflow.extras.demo import Size, build_into
from civicflow.extras.report import write_report
from civicflow.extras.report.text import STAGES, percent, words
from civicflow.views import Views, quarter_of
from tests.browser import chromium, need_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

QUARTER = "2026Q3"
QUARTERS = ("2025Q4", "2026Q1", "2026Q2", QUARTER)
K = 10  # above the demo's smallest groups: some figures of each kind are hidden
LANGS = ("en", "zh")
LEVELS = ("district", "street", "community", "compound")


@dataclass
class District:
    flow: CivicFlow
    views: Views
    pages: dict[str, Path]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    folder = tmp_path_factory.mktemp("report")
    with CivicFlow.open(f"sqlite:///{folder / 'demo.db'}") as flow:
        build_into(flow, size=Size.scaled(24))
        with Views(flow, k=K) as views:
            views.catch_up()
            pages = {lang: folder / f"review-{lang}.html" for lang in LANGS}
            for lang, path in pages.items():
                write_report(views, QUARTER, path, lang, source=flow)
            yield District(flow, views, pages)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    need_browser()
    with chromium() as found:
        yield found


@dataclass
class Opened:
    page: Page
    errors: list[str]
    fetched: list[str]


def open_page(browser: Browser, path: Path) -> Opened:
    """The page loaded, with every console error and every request beyond the file."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    opened = Opened(page, [], [])
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))

    def refuse(route: Any) -> None:
        opened.fetched.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(?!file:).*"), refuse)
    page.goto(path.as_uri())
    return opened


@pytest.fixture(params=LANGS)
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def opened(browser: Browser, district: District, lang: str) -> Iterator[Opened]:
    found = open_page(browser, district.pages[lang])
    yield found
    found.page.close()


def read(page: Page, selector: str) -> list[dict[str, Any]]:
    """Every element matching ``selector`` as its data attributes and text."""
    found: list[dict[str, Any]] = page.eval_on_selector_all(
        selector,
        # A cell's area and level are its row's.
        """els => els.map(e => {
            const row = e.closest('[data-area]');
            const where = row ? {area: row.dataset.area, level: row.dataset.level} : {};
            return {...where, ...e.dataset, text: e.textContent.trim()};
        })""",
    )
    return found


def test_the_page_loads_with_no_error_and_fetches_nothing(opened: Opened, lang: str) -> None:
    page = opened.page
    assert page.title() == f"{words(lang)['title']} {QUARTER}"
    assert page.locator("svg.chart").count() > 100
    assert opened.errors == []
    assert opened.fetched == []


def test_every_chart_draws(opened: Opened) -> None:
    page = opened.page
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    charts = page.eval_on_selector_all(
        "svg.chart",
        """els => els.map(e => {
            const box = e.getBoundingClientRect();
            const marks = [...e.querySelectorAll('rect, path, polyline')];
            const bars = [...e.querySelectorAll('rect')].map(r => r.getBBox().width);
            return {kind: e.dataset.chart, width: box.width, height: box.height,
                    marks: marks.length, filled: bars.reduce((a, b) => a + b, 0),
                    full: e.width.baseVal.value};
        })""",
    )
    assert {c["kind"] for c in charts} == {"levels", "trend", "stages", "money"}
    for chart in charts:
        assert chart["width"] > 0, chart
        assert chart["height"] > 0, chart
        assert chart["marks"] > 0 or chart["kind"] == "trend", chart
        if chart["kind"] in ("levels", "stages"):  # a stacked bar fills its width
            assert chart["filled"] == pytest.approx(chart["full"], abs=0.5), chart


def test_the_drill_down_opens_from_the_district_to_a_compound(opened: Opened) -> None:
    page = opened.page
    street = page.locator("details[data-level=street]").first
    assert street.evaluate("d => d.open") is False
    street.locator("summary").first.click()
    assert street.evaluate("d => d.open") is True
    assert street.locator("table[data-table=children-street] tr[data-area]").count() >= 1
    # A compound's name in the ranking at the top links to its section, deep inside.
    link = page.locator("#best a").first
    target = link.get_attribute("href") or ""
    link.click()
    section = page.locator(f"details[id='{target[1:]}']")
    assert section.evaluate("d => d.open") is True
    assert section.evaluate(
        "d => { for (let e = d; e; e = e.parentElement) "
        "if (e.tagName === 'DETAILS' && !e.open) return false; return true; }"
    )
    assert section.locator("summary").is_visible()


def expected_cells(views: Views) -> dict[tuple[str, str, str], tuple[str, bool]]:
    """What every figure cell must say: (figure, level, area) -> (value, suppressed)."""
    want: dict[tuple[str, str, str], tuple[str, bool]] = {}
    for level in LEVELS:
        for f in views.satisfaction(level=level, quarter=QUARTER):
            for figure, value in (
                ("sat-rate", f.rate),
                ("sat-n", f.n),
                ("sat-satisfied", f.satisfied),
                ("sat-basically_satisfied", f.basically_satisfied),
                ("sat-dissatisfied", f.dissatisfied),
            ):
                want[(figure, level, f.area_id)] = (_text(value), f.suppressed)
        for p in views.participation(level=level, quarter=QUARTER):
            want[("part-rate", level, p.area_id)] = (_text(p.rate), p.suppressed)
            want[("coverage", level, p.area_id)] = (_text(p.council_coverage), False)
        shown = [f for f in views.review(QUARTER, level=level).by_satisfaction if not f.suppressed]
        for place, f in enumerate(shown, 1):
            want[("rank", level, f.area_id)] = (str(place), False)
    return want


def _text(value: object) -> str:
    return "" if value is None else str(value)


def test_the_figures_on_the_page_are_the_views_for_the_quarter(
    opened: Opened, district: District, lang: str
) -> None:
    want = expected_cells(district.views)
    seen: dict[tuple[str, str, str], tuple[str, bool]] = {}
    for cell in read(opened.page, "tr[data-area] > td[data-figure]"):
        key = (cell["figure"], cell["level"], cell["area"])
        got = (cell.get("value", ""), cell.get("suppressed") == "true")
        assert seen.setdefault(key, got) == got, key  # the same figure reads the same
        if cell["figure"] == "sat-rate" and cell.get("value"):
            assert cell["text"] == percent(Decimal(cell["value"]))  # one rounding everywhere
    for key, value in want.items():
        if key in seen:
            assert seen[key] == value, key
    ranked = {key for key in want if key[0] == "rank"}
    assert ranked <= set(seen)  # every ranked area is on the page
    assert {k for k in seen if k[0] == "rank" and seen[k][0]} <= ranked
    compounds = {k for k in want if k[0] == "sat-rate" and k[1] == "compound"}
    assert compounds <= set(seen)


def test_suppressed_figures_show_as_suppressed_never_as_numbers(
    opened: Opened, district: District, lang: str
) -> None:
    word = words(lang)["suppressed"]
    hidden = [c for c in read(opened.page, "td[data-figure]") if c.get("suppressed") == "true"]
    assert {c["figure"] for c in hidden} >= {"sat-rate", "sat-n", "part-rate"}
    for cell in hidden:
        assert cell["text"] == word
        assert "value" not in cell
    views = district.views
    suppressed = [
        f.area_id for f in views.satisfaction(level="compound", quarter=QUARTER) if f.suppressed
    ]
    assert suppressed
    for area in suppressed:
        row = opened.page.locator(f"#drill tr[data-level=compound][data-area='{area}']")
        assert row.locator("rect[data-part=suppressed]").count() >= 1
    projects = read(opened.page, "tr[data-proposal][data-suppressed=true] td[data-figure]")
    assert projects
    assert all(c["text"] == word for c in projects)


def test_the_projects_pipeline_and_money_are_those_of_the_quarter(
    opened: Opened, district: District
) -> None:
    views, flow = district.views, district.flow
    review = views.review(QUARTER, level=AreaKind.COMPOUND)
    rows = read(opened.page, "tr[data-proposal] td[data-figure=proposal-rate]")
    assert [r.get("value", "") for r in rows] == [_text(p.rate) for p in review.proposals]
    asked = [p for p in views.proposals() if quarter_of(_moment(p.asked_at)) == QUARTER]
    district_flow = read(opened.page, "#summary .pipeline[data-level=district]")
    assert [int(d["proposals"]) for d in district_flow] == [len(asked)]
    for cell in read(opened.page, "#money td[data-figure=spent]"):
        assert cell["value"]  # read from the proposal's completion
    for row in opened.page.locator("#money tr[data-money]").all():
        state = flow.proposal(row.get_attribute("data-money") or "")
        spent = row.locator("td[data-figure=spent]").get_attribute("data-value")
        assert Decimal(spent or "") == state.completions[-1].total_spent
        assert quarter_of(state.completions[0].occurred_at) == QUARTER


def _moment(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_the_chinese_page_speaks_chinese_and_names_cjk_fonts(
    browser: Browser, district: District
) -> None:
    opened = open_page(browser, district.pages["zh"])
    page = opened.page
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    stages = read(page, ".key[data-stage]")
    assert stages
    for key in stages:
        assert STAGES["zh"][key["stage"]] in key["text"]
        assert STAGES["en"][key["stage"]] not in key["text"]
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in font
    assert "WenQuanYi Zen Hei" in font
    page.close()


def test_the_page_prints_on_a4(browser: Browser, district: District) -> None:
    opened = open_page(browser, district.pages["en"])
    opened.page.emulate_media(media="print")
    pdf = opened.page.pdf(prefer_css_page_size=True, print_background=True)
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]", pdf)
    opened.page.close()
