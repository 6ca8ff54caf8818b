"""Table cells and rows, each carrying the figure it shows in data attributes.

A cell says what it is (``data-figure``) and its exact value (``data-value``: the
views' decimal or count, empty when there is none); a suppressed one says so
(``data-suppressed``) and shows the word, never a number. Its row says of which
area and level (``data-area``, ``data-level`` on the ``<tr>``: once, not in every
cell, which keeps a district of 300 compounds light). The browser tests read the
page back through these attributes and compare it with the views.
"""

from __future__ import annotations

import html
from decimal import Decimal

from civicflow.extras.report import svg
from civicflow.extras.report.data import AreaFacts, Report
from civicflow.extras.report.text import percent, stage_name
from civicflow.views import Participation, Satisfaction


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def anchor(area: AreaFacts) -> str:
    """The id of an area's section (ids may hold any character: escaped once here)."""
    return esc(f"area-{area.kind.value}-{area.id}")


def cell(
    figure: str,
    value: object,
    shown: str,
    *,
    suppressed: bool = False,
    t: dict[str, str],
) -> str:
    """One ``<td>`` of a figure: the exact value in ``data-value``, the text shown."""
    base = f'data-figure="{figure}"'
    if suppressed:
        return f'<td class="num suppressed" {base} data-suppressed="true">{t["suppressed"]}</td>'
    data = "" if value is None else esc(value)
    return f'<td class="num" {base} data-value="{data}">{shown}</td>'


def rate_cells(area: AreaFacts, t: dict[str, str]) -> str:
    """Rate, N and the stacked bar of the quarter's satisfaction."""
    found = area.satisfaction
    hidden = found is not None and found.suppressed
    rate = None if found is None else found.rate
    n = None if found is None else found.n
    label = f"{area.name}: {_levels_text(found, t)}"
    return (
        f'<td class="bar">{svg.levels(found, label)}</td>'
        + cell("sat-rate", rate, _rate(rate, t), suppressed=hidden, t=t)
        + cell("sat-n", n, str(n or 0), suppressed=hidden, t=t)
    )


def _rate(rate: Decimal | None, t: dict[str, str]) -> str:
    return t["no_ratings"] if rate is None else percent(rate)


def _levels_text(found: Satisfaction | None, t: dict[str, str]) -> str:
    if found is None:
        return t["no_ratings"]
    if found.suppressed:
        return t["suppressed"]
    return ", ".join(f"{t[level]} {getattr(found, level)}" for level in svg.LEVELS)


def level_cells(area: AreaFacts, t: dict[str, str]) -> str:
    """The three counts behind the bar, for the area's own summary."""
    found = area.satisfaction
    hidden = found is not None and found.suppressed
    return "".join(
        cell(
            f"sat-{level}",
            None if found is None else getattr(found, level),
            str(getattr(found, level) or 0) if found is not None else "0",
            suppressed=hidden,
            t=t,
        )
        for level in svg.LEVELS
    )


def trend_cell(area: AreaFacts, report: Report, t: dict[str, str]) -> str:
    """The rate over the last four quarters, with the direction since the last one."""
    rates = [None if f is None or f.suppressed else f.rate for f in area.trend]
    label = " · ".join(
        f"{q} {'—' if r is None else percent(r)}"
        for q, r in zip(report.quarters, rates, strict=True)
    )
    now, before = rates[-1], rates[-2]
    direction, text = "none", "—"
    if now is not None and before is not None:
        change = (now - before) * 100
        direction = "rising" if change > 0 else "falling" if change < 0 else "steady"
        arrow = {"rising": "▲", "falling": "▼", "steady": "="}[direction]
        text = f"{arrow} {change:+.1f}"
    history = ",".join("" if r is None else str(r) for r in rates)
    return (
        f'<td class="trend" data-figure="trend" '
        f'data-value="{history}" data-direction="{direction}">{svg.trend(rates, label)} '
        f'<span class="dir {direction}">{text}</span></td>'
    )


def participation_cells(area: AreaFacts, t: dict[str, str]) -> str:
    """Participation rate (participants / registered residents) and council coverage."""
    found: Participation | None = area.participation
    hidden = found is not None and found.suppressed
    rate = None if found is None else found.rate
    shown = "—" if rate is None else percent(rate)
    if found is not None and not hidden and found.participants is not None:
        shown += f' <span class="sub">{found.participants}/{found.residents}</span>'
    coverage = None if found is None else found.council_coverage
    covered = "—" if coverage is None or found is None else percent(coverage)
    if found is not None:
        covered += f' <span class="sub">{found.compounds_with_council}/{found.compounds}</span>'
    return cell("part-rate", rate, shown, suppressed=hidden, t=t) + cell(
        "coverage", coverage, covered, t=t
    )


def rank_cells(area: AreaFacts, t: dict[str, str]) -> str:
    """The area's rank at its level, and how it moved since the last quarter."""
    move = (
        None if area.rank is None or area.previous_rank is None else area.previous_rank - area.rank
    )
    moved = "—" if move is None else f"▲ {move}" if move > 0 else f"▼ {-move}" if move else "="
    return cell("rank", area.rank, str(area.rank or "—"), t=t) + cell("move", move, moved, t=t)


def name_cell(area: AreaFacts, link: bool = True) -> str:
    """The registered name (linked to its section), with the id on hover."""
    name = esc(area.name)
    shown = f'<a href="#{anchor(area)}">{name}</a>' if link else name
    return f'<td class="name" title="{esc(area.id)}">{shown}</td>'


def stage_legend(counts: dict[str, int], order: tuple[str, ...], lang: str) -> str:
    """The stages drawn in a bar, each with its count, in the page's language."""
    parts = [
        f'<span class="key" data-stage="{esc(stage)}" data-value="{counts[stage]}">'
        f"{svg.swatch(svg.STAGE_COLOURS.get(stage, '#bdbdbd'))} {esc(stage_name(stage, lang))} "
        f"{counts[stage]}</span>"
        for stage in (*order, *sorted(set(counts) - set(order)))
        if counts.get(stage)
    ]
    return " ".join(parts)


def levels_legend(t: dict[str, str]) -> str:
    """What the colours of a satisfaction bar mean, and the hatching."""
    keys = [f"{svg.swatch(svg.COLOURS[level])} {t[level]}" for level in svg.LEVELS]
    hatch = (
        '<svg class="swatch" width="10" height="10" aria-hidden="true">'
        '<rect width="10" height="10" fill="url(#hatch)"/></svg>'
    )
    keys.append(f"{hatch} {t['suppressed']}")
    return '<p class="legend">' + " ".join(f'<span class="key">{k}</span>' for k in keys) + "</p>"
