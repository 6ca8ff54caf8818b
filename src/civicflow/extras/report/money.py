"""Money: planned against actual spending per project completed in the quarter, and
totals per area (the budget is in the Decide step, the total spent in the Do step's
completion: read from the store, ``pipeline.spending``)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from civicflow.domain.community.areas import AreaKind
from civicflow.extras.report import svg
from civicflow.extras.report.cells import esc
from civicflow.extras.report.data import Report
from civicflow.extras.report.pipeline import Money
from civicflow.extras.report.sections import td
from civicflow.extras.report.text import money

TOTALLED = (AreaKind.DISTRICT, AreaKind.STREET, AreaKind.COMMUNITY)


def spending(report: Report, t: dict[str, str]) -> str:
    """Planned against spent per project completed in the quarter, and per area."""
    title = t["money"].format(quarter=report.quarter)
    if not report.money:
        why = t["money_unknown"] if report.money is None else t["no_money"]
        return f'<section id="money"><h2>{title}</h2><p class="none">{why}</p></section>'
    most = max(max(m.planned or Decimal(0), m.spent) for m in report.money)
    keys = ("proposal", "compound", "planned", "spent", "difference")
    head = "".join(f"<th>{t[k]}</th>" for k in keys)
    rows = "".join(_row(m, report, most) for m in report.money)
    return (
        f'<section id="money"><h2>{title}</h2>{_legend(t)}<table class="money"><thead><tr>'
        f"{head}<th></th></tr></thead><tbody>{rows}</tbody></table>{_totals(report, t)}</section>"
    )


def _legend(t: dict[str, str]) -> str:
    keys = (
        f'<span class="key">{svg.swatch(svg.COLOURS[part])} {t[part]}</span>'
        for part in ("planned", "spent")
    )
    return f'<p class="legend">{" ".join(keys)}</p>'


def _row(m: Money, report: Report, most: Decimal) -> str:
    compound = m.places.get(AreaKind.COMPOUND, "")
    planned = "—" if m.planned is None else money(m.planned)
    difference = "—" if m.planned is None else money(m.spent - m.planned)
    return (
        f'<tr data-money="{esc(m.proposal_id)}">{td(esc(m.title), title=m.proposal_id)}'
        f"{td(esc(report.names.get(compound, compound)), title=compound)}"
        f"{td(planned, 'num', figure='planned', value=m.planned)}"
        f"{td(money(m.spent), 'num', figure='spent', value=m.spent)}{td(difference, 'num')}"
        f"{td(svg.spending(m.planned, m.spent, most, m.title), 'bar')}</tr>"
    )


def _totals(report: Report, t: dict[str, str]) -> str:
    """Projects, planned and spent summed per district, street and community."""
    totals: dict[tuple[AreaKind, str], list[Money]] = defaultdict(list)
    for m in report.money or ():
        for kind in TOTALLED:
            if kind in m.places:
                totals[(kind, m.places[kind])].append(m)
    keys = ("area", "projects", "planned", "spent", "difference")
    head = "".join(f"<th>{t[k]}</th>" for k in keys)
    ordered = sorted(totals.items(), key=lambda item: (TOTALLED.index(item[0][0]), item[0][1]))
    rows = "".join(_total(kind, area, found, report, t) for (kind, area), found in ordered)
    title = t["money_totals"].format(quarter=report.quarter)
    return f'<table class="money-totals"><caption>{title}</caption><tr>{head}</tr>{rows}</table>'


def _total(kind: AreaKind, area: str, found: list[Money], report: Report, t: dict[str, str]) -> str:
    planned = sum((m.planned or Decimal(0) for m in found), Decimal(0))
    spent = sum((m.spent for m in found), Decimal(0))
    name = f"{t[kind.value]} · {report.names.get(area, area)}"
    return (
        f'<tr data-total="{esc(area)}" data-level="{kind.value}">{td(esc(name), title=area)}'
        f"{td(len(found), 'num')}{td(money(planned), 'num', figure='planned-total', value=planned)}"
        f"{td(money(spent), 'num', figure='spent-total', value=spent)}"
        f"{td(money(spent - planned), 'num')}</tr>"
    )
