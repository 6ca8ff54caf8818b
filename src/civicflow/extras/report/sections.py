"""The page's sections above the drill-down: rankings, movers, projects, pipeline, money."""

from __future__ import annotations

from decimal import Decimal

from civicflow.domain.community.areas import AreaKind
from civicflow.extras.report import svg
from civicflow.extras.report.cells import (
    esc,
    name_cell,
    participation_cells,
    rank_cells,
    rate_cells,
    stage_legend,
    trend_cell,
)
from civicflow.extras.report.data import AreaFacts, Report
from civicflow.extras.report.pipeline import STEPS, AreaPipeline, Overdue
from civicflow.extras.report.text import STAGE_ORDER, days, percent
from civicflow.views import Satisfaction

AREA_MORE = ("participation", "coverage", "raised")
TOP = 10  # rows of the best and needing-attention tables, and movers each way


def area_table(areas: list[AreaFacts], report: Report, t: dict[str, str], figure: str) -> str:
    """Areas of one level, ranked, each with its figures for the quarter."""
    keys = ("rank", "move", "area", "id", "satisfaction", "rate", "n", "trend", *AREA_MORE)
    # The id column is left out in print: its header says so too, or columns would shift.
    head = "".join(f'<th class="id">{t[k]}</th>' if k == "id" else f"<th>{t[k]}</th>" for k in keys)
    rows = "".join(_area_row(area, report, t) for area in areas)
    return (
        f'<table class="areas" data-table="{figure}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _area_row(area: AreaFacts, report: Report, t: dict[str, str]) -> str:
    return (
        f'<tr data-area="{esc(area.id)}" data-level="{area.kind.value}">'
        + rank_cells(area, t)
        + name_cell(area)
        + f'<td class="id">{esc(area.id)}</td>'
        + rate_cells(area, t)
        + trend_cell(area, report, t)
        + participation_cells(area, t)
        + td(area.pipeline.proposals, "num", figure="raised", value=area.pipeline.proposals)
        + "</tr>"
    )


def best_and_attention(report: Report, t: dict[str, str]) -> str:
    """The best compounds, and those below the threshold: two lists that never share
    a row (issue 16 listed a compound at 83.3% as needing attention)."""
    compounds = [a for a in report.ranked(AreaKind.COMPOUND) if a.rank is not None]
    below = [a for a in compounds if _rate(a) < report.threshold]
    best = [a for a in compounds if _rate(a) >= report.threshold][:TOP]
    threshold = percent(report.threshold)
    worst = below[::-1][:TOP]
    attention = (
        area_table(worst, report, t, "attention")
        if worst
        else f'<p class="none">{t["none_attention"].format(threshold=threshold)}</p>'
    )
    return (
        f'<section id="best"><h2>{t["best"]}</h2>{area_table(best, report, t, "best")}</section>'
        f'<section id="attention"><h2>{t["attention"].format(threshold=threshold)}</h2>'
        f"{attention}</section>"
    )


def _rate(area: AreaFacts) -> Decimal:
    found = area.satisfaction
    return found.rate if found is not None and found.rate is not None else Decimal(0)


def movers(report: Report, t: dict[str, str]) -> str:
    """Compounds whose rank rose or fell most since the last quarter."""
    moved = [
        (a.previous_rank - a.rank, a)
        for a in report.ranked(AreaKind.COMPOUND)
        if a.rank is not None and a.previous_rank is not None and a.previous_rank != a.rank
    ]
    title = t["movers"].format(previous=report.quarters[-2])
    if not moved:
        return (
            f'<section id="movers"><h2>{title}</h2><p class="none">{t["no_movers"]}</p></section>'
        )
    up = [a for change, a in sorted(moved, key=lambda m: -m[0]) if change > 0][:TOP]
    down = [a for change, a in sorted(moved, key=lambda m: m[0]) if change < 0][:TOP]
    return (
        f'<section id="movers"><h2>{title}</h2><div class="pair">'
        f"<div><h3>▲ {t['up']}</h3>{area_table(up, report, t, 'movers-up')}</div>"
        f"<div><h3>▼ {t['down']}</h3>{area_table(down, report, t, 'movers-down')}</div>"
        "</div></section>"
    )


def projects(report: Report, t: dict[str, str]) -> str:
    """Projects rated this quarter, best first, each with its compound's name."""
    keys = ("rank", "proposal", "compound", "round", "satisfaction", "rate", "n")
    head = "".join(f"<th>{t[k]}</th>" for k in keys)
    rows = "".join(
        _project(place, found, report, t) for place, found in enumerate(report.proposals, 1)
    )
    return (
        f'<section id="projects"><h2>{t["proposals"]}</h2><table class="projects">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _project(place: int, found: Satisfaction, report: Report, t: dict[str, str]) -> str:
    hidden = found.suppressed
    attrs = (
        f'data-proposal="{esc(found.proposal_id)}" data-round="{found.round}" '
        f'data-suppressed="{str(hidden).lower()}"'
    )
    rate = t["suppressed"] if hidden or found.rate is None else percent(found.rate)
    n = t["suppressed"] if hidden else str(found.n)
    return (
        f"<tr {attrs}>{td('—' if hidden else place, 'num')}"
        f"{td(esc(found.title), title=found.proposal_id or '')}"
        f"{td(esc(report.names.get(found.area_id, found.area_id)), title=found.area_id)}"
        f"{td(found.round, 'num')}{td(svg.levels(found, found.title or ''), 'bar')}"
        f"{td(rate, 'num', figure='proposal-rate', value=found.rate)}"
        f"{td(n, 'num', figure='proposal-n', value=found.n)}</tr>"
    )


def td(
    text: object,
    cls: str = "",
    *,
    title: str = "",
    figure: str = "",
    value: object = None,
) -> str:
    """A cell; with ``figure``, carrying its exact value (empty for none)."""
    attrs = f' class="{cls}"' if cls else ""
    attrs += f' title="{esc(title)}"' if title else ""
    if figure:
        attrs += f' data-figure="{figure}" data-value="{"" if value is None else esc(value)}"'
    return f"<td{attrs}>{text}</td>"


def pipeline(area: AreaFacts, report: Report, t: dict[str, str], lang: str) -> str:
    """The quarter's stages, cycle times and overdue work of one area."""
    flow = area.pipeline
    where = f'data-area="{esc(area.id)}" data-level="{area.kind.value}"'
    label = t["pipeline"].format(quarter=report.quarter, as_of=report.as_of)
    return (
        f'<div class="pipeline" {where} data-proposals="{flow.proposals}">'
        f"<h4>{label}</h4><p>{svg.stages(flow.stages, STAGE_ORDER, label)} "
        f"{stage_legend(flow.stages, STAGE_ORDER, lang)}</p>"
        f"{_cycle(flow, report, t)}{_overdue(flow, report, t)}</div>"
    )


def _cycle(flow: AreaPipeline, report: Report, t: dict[str, str]) -> str:
    cells = "".join(
        td(_durations(flow, step), "num", figure=f"cycle-{step}", value=_count(flow, step))
        for step in STEPS
    )
    if not any(_count(flow, step) for step in STEPS):
        return ""  # no step taken here this quarter: nothing to time
    head = "".join(f"<th>{t[step]}</th>" for step in STEPS)
    title = t["cycle"].format(quarter=report.quarter)
    return f'<table class="cycle"><caption>{title}</caption><tr>{head}</tr><tr>{cells}</tr></table>'


def _count(flow: AreaPipeline, step: str) -> int:
    found = flow.cycle.get(step)
    return 0 if found is None else found.count


def _durations(flow: AreaPipeline, step: str) -> str:
    found = flow.cycle.get(step)
    if found is None or not found.count:
        return "—"
    middle, high = days(found.median_days), days(found.p90_days)
    return f"{middle} / {high} <span class='sub'>({found.count})</span>"


def _late(late: Overdue, report: Report, t: dict[str, str]) -> str:
    compound = late.compound or ""
    return (
        f'<tr data-overdue="{esc(late.proposal_id)}">{td(esc(late.title), title=late.proposal_id)}'
        f"{td(esc(report.names.get(compound, compound or '—')), title=compound)}"
        f"{td(esc(late.deadline or '—'))}{td(esc(late.responsible or t['unknown']))}</tr>"
    )


def _overdue(flow: AreaPipeline, report: Report, t: dict[str, str]) -> str:
    title = t["overdue"].format(as_of=report.as_of)
    if not flow.overdue:
        return f'<p class="none overdue">{title}: {t["no_overdue"]}</p>'
    rows = "".join(_late(late, report, t) for late in flow.overdue)
    head = "".join(f"<th>{t[k]}</th>" for k in ("proposal", "compound", "deadline", "responsible"))
    return f'<table class="overdue"><caption>{title}</caption><tr>{head}</tr>{rows}</table>'
