"""The drill-down: district, streets, communities, compounds, as nested sections.

Each area is a ``<details>`` section: its own figures, its pipeline for the
quarter, and the ranking of the areas one level below, each linked to its own
section further down. Plain HTML: the sections open without a script (a short
inline one only opens the sections around a linked one).
"""

from __future__ import annotations

from civicflow.domain.community.areas import AreaKind
from civicflow.extras.report.cells import (
    anchor,
    esc,
    level_cells,
    levels_legend,
    participation_cells,
    rate_cells,
    trend_cell,
)
from civicflow.extras.report.data import AreaFacts, Report
from civicflow.extras.report.sections import area_table, pipeline
from civicflow.extras.report.text import percent


def drill_down(report: Report, t: dict[str, str], lang: str) -> str:
    """Every district, opened, with its streets, communities and compounds inside."""
    roots = report.ranked(AreaKind.DISTRICT)
    body = "".join(_section(area, report, t, lang, opened=True) for area in roots)
    return (
        f'<section id="drill"><h2>{t["drill"]}</h2><p class="note">{t["drill_note"]}</p>'
        f"{levels_legend(t)}{body}</section>"
    )


def _section(area: AreaFacts, report: Report, t: dict[str, str], lang: str, opened: bool) -> str:
    children = report.children(area)
    below = "".join(_section(child, report, t, lang, opened=False) for child in children)
    ranking = ""
    if children:
        kind = children[0].kind.value
        ranking = f"<h4>{t['below-' + kind]}</h4>" + area_table(
            children, report, t, f"children-{area.kind.value}"
        )
    return (
        f'<details id="{anchor(area)}" class="area {area.kind.value}" '
        f'data-area="{esc(area.id)}" data-level="{area.kind.value}"{" open" if opened else ""}>'
        f"<summary>{_summary(area, t)}</summary><div class='inside'>"
        f"{_own_figures(area, report, t)}{pipeline(area, report, t, lang)}{ranking}{below}"
        "</div></details>"
    )


def _summary(area: AreaFacts, t: dict[str, str]) -> str:
    found = area.satisfaction
    if found is None:
        rate = t["no_ratings"]
    elif found.suppressed or found.rate is None:
        rate = t["suppressed"]
    else:
        rate = f"{percent(found.rate)} (N={found.n})"
    kind = t.get(area.kind.value, t["compound"] if area.kind is AreaKind.COMPOUND else "")
    return (
        f'<span class="kind">{esc(kind)}</span> <span class="title" title="{esc(area.id)}">'
        f"{esc(area.name)}</span> <span class='sum'>{esc(t['rate'])} {esc(rate)}</span>"
    )


def _own_figures(area: AreaFacts, report: Report, t: dict[str, str]) -> str:
    """The area's own row: bar, rate, N, the three levels, trend, participation."""
    head = "".join(
        f"<th>{t[k]}</th>"
        for k in (
            "satisfaction",
            "rate",
            "n",
            "satisfied",
            "basically_satisfied",
            "dissatisfied",
            "trend",
            "participation",
            "coverage",
        )
    )
    row = (
        rate_cells(area, t)
        + level_cells(area, t)
        + trend_cell(area, report, t)
        + participation_cells(area, t)
    )
    where = f'data-area="{esc(area.id)}" data-level="{area.kind.value}"'
    return f'<table class="own" data-table="own"><tr>{head}</tr><tr {where}>{row}</tr></table>'
