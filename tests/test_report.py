"""The review page without a browser: what issue 16 found, the quarter's pipeline and
money, the tree head in the footer, the city page, and the page's weight."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from civicflow import CivicFlow
from civicflow.audit.feed import read_feed
from civicflow.audit.keys import load_verifier
from civicflow.domain.community.areas import AreaKind
from civicflow.extras.demo import Size, build
from civicflow.extras.report import Report, gather, render_report
from civicflow.extras.report.data import previous
from civicflow.extras.report.text import STAGES, percent
from civicflow.views import Views, quarter_of
from tests.test_cli import civicflow, ok

QUARTER = "2026Q3"


@pytest.fixture(scope="module")
def district() -> Iterator[tuple[CivicFlow, Views]]:
    with CivicFlow() as flow, Views(flow, k=10) as views:
        build(flow, size=Size.scaled(24))
        views.catch_up()
        yield flow, views


@pytest.fixture(scope="module")
def report(district: tuple[CivicFlow, Views]) -> Report:
    flow, views = district
    return gather(views, QUARTER, flow)


def rows_of(page: str, table: str) -> list[str]:
    found = re.search(rf'data-table="{table}".*?</table>', page, re.S)
    assert found is not None, table
    return re.findall(r"<tr data-area=.*?</tr>", found.group(0), re.S)


def rate_in(row: str) -> Decimal:
    found = re.search(r'data-figure="sat-rate" data-value="([0-9.]+)"', row)
    assert found is not None
    return Decimal(found.group(1))


def test_no_compound_needs_attention_and_is_among_the_best(
    district: tuple[CivicFlow, Views], report: Report
) -> None:
    page = render_report(district[1], QUARTER, source=district[0])
    best, attention = rows_of(page, "best"), rows_of(page, "attention")
    assert best
    assert attention
    assert all(rate_in(row) >= report.threshold for row in best)
    assert all(rate_in(row) < report.threshold for row in attention)
    assert [rate_in(r) for r in attention] == sorted(rate_in(r) for r in attention)


def test_rates_read_the_same_in_text_and_beside_charts(district: tuple[CivicFlow, Views]) -> None:
    assert percent(Decimal("0.0625")) == "6.2%"  # half to even, one decimal, everywhere
    assert percent(Decimal("0.8333")) == "83.3%"
    page = render_report(district[1], QUARTER, source=district[0])
    cells = re.findall(r'data-figure="sat-rate" data-value="([0-9.]+)">([^<]+)<', page)
    assert cells
    assert all(text == percent(Decimal(value)) for value, text in cells)


def test_the_pipeline_is_the_quarters_not_all_time(
    district: tuple[CivicFlow, Views], report: Report
) -> None:
    views = district[1]
    rows = views.proposals()
    asked = [r for r in rows if quarter_of(datetime.fromisoformat(r.asked_at)) == QUARTER]
    [shanyang] = report.levels[AreaKind.DISTRICT].values()
    assert shanyang.pipeline.proposals == len(asked) < len(rows)
    stages: dict[str, int] = {}
    for row in asked:
        stages[row.stage] = stages.get(row.stage, 0) + 1
    assert shanyang.pipeline.stages == stages
    all_time = views.pipeline(level="district")[0].stages
    assert sum(all_time.values()) == len(rows)


def test_the_chinese_page_names_stages_in_chinese(district: tuple[CivicFlow, Views]) -> None:
    page = render_report(district[1], QUARTER, "zh", source=district[0])
    keys = re.findall(r'data-stage="([a-z]+)" data-value="\d+">(.*?)</span>', page)
    assert keys
    for stage, text in keys:
        assert STAGES["zh"][stage] in text
        assert STAGES["en"][stage] not in text


def test_money_is_planned_against_spent_per_completed_project(
    district: tuple[CivicFlow, Views], report: Report
) -> None:
    flow = district[0]
    assert report.money
    for spent in report.money:
        state = flow.proposal(spent.proposal_id)
        decision = [d for d in state.decisions if d.budget is not None][-1]
        assert decision.budget is not None
        assert spent.planned == decision.budget.amount
        assert quarter_of(state.completions[0].occurred_at) == QUARTER
        assert spent.spent in {c.total_spent for c in state.completions}
    without = render_report(district[1], QUARTER)  # views alone: no money, said so
    assert "Spending is read from the store" in without


def test_the_page_is_self_contained_and_light(district: tuple[CivicFlow, Views]) -> None:
    page = render_report(district[1], QUARTER, source=district[0])
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    assert "<script src" not in page
    assert len(page.encode()) < 400_000  # 24 compounds; plotly alone weighed 4.8 MB


def test_quarters_before_wrap_the_year() -> None:
    assert previous("2026Q1", 3) == ("2025Q2", "2025Q3", "2025Q4")
    assert previous("2026Q3", 1) == ("2026Q2",)


def test_the_command_prints_the_published_head_in_the_footer(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    assert civicflow(f"demo --compounds 4 --json --db {db}").code == 0
    target = tmp_path / "review.html"
    ok(f"report --quarter {QUARTER} --out {target} --db {db}")
    keys = tmp_path / "demo.db.keys"
    last = read_feed(keys / "feed.jsonl", load_verifier(keys / "signing.pub"))[-1]
    footer = target.read_text(encoding="utf-8").split("<footer>")[1]
    assert last.body().strip() in footer


def test_the_city_page_covers_every_district(tmp_path: Path) -> None:
    registry = tmp_path / "city.toml"
    assert civicflow(f"demo --city {registry} --compounds 6 --districts 2 --json").code == 0
    target = tmp_path / "city.html"
    ran = civicflow(f"report --quarter {QUARTER} --out {target} --city {registry} --k 1")
    assert ran.code == 0, ran.err
    page = target.read_text(encoding="utf-8")
    districts = re.findall(r'<details id="area-district-([^"]+)"', page)
    assert sorted(districts) == ["district-1", "district-2"]  # ranked by satisfaction
    assert 'id="money"' in page
    assert "Spending is read from the store" not in page  # read from each district
