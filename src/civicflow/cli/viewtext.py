"""Figures as text: a pipeline row, a quarterly review ranked, for one store or a city."""

from __future__ import annotations

from typing import Any

from civicflow.cli.i18n import _, ngettext, percent
from civicflow.cli.output import label


def pipeline_row(p: Any) -> dict[str, Any]:
    return {
        "area_id": p.area_id,
        "stages": p.stages,
        "ask_to_decide_days": p.ask_to_decide.median_days,
        "decide_to_done_days": p.decide_to_done.median_days,
        "done_to_publish_days": p.done_to_publish.median_days,
        "p90_decide_to_done": p.decide_to_done.p90_days,
        "overdue": len(p.overdue),
    }


def review_text(review: Any, lang: str, top: int | None = None, *, proposals: bool = True) -> str:
    """The review ranked as text; ``proposals=False`` leaves the ranked proposals out.

    A proposal reads as its title, the first block of its id and its area, so that two
    proposals of one title can be told apart (``civicflow show`` takes the whole id).
    """
    level = label(review.level.value, lang)
    title = _("Quarterly review {quarter}, by {level}").format(quarter=review.quarter, level=level)
    lines = [title, "=" * 40]
    heading = _("satisfaction rate")
    lines += _ranked(heading, review.by_satisfaction, "n", top, lang=lang)
    heading = _("participation rate")
    lines += _ranked(heading, review.by_participation, "participants", top, lang=lang)
    if proposals:
        heading = _("proposals by satisfaction")
        lines += _ranked(heading, review.proposals, "n", top or 5, name="title", lang=lang)
    return "\n".join(lines) + "\n\n"


def _ranked(
    heading: str,
    figures: Any,
    count: str,
    top: int | None,
    *,
    name: str = "area_id",
    lang: str = "en",
) -> list[str]:
    shown = [f for f in figures if not f.suppressed]
    hidden = len(figures) - len(shown)
    items = (
        shown
        if top is None
        else shown[:top] + ([] if len(shown) <= 2 * top else ["...", *shown[-top:]])
    )
    lines = [f"\n{heading}:"]
    for f in items:
        if f == "...":
            lines.append("  ...")
            continue
        rate = percent(f.rate) if f.rate is not None else "—"
        lines.append(
            f"  {_name(f, name):<40} {rate:>7}  ({label(count, lang)}={getattr(f, count)})"
        )
    if hidden:
        said = ngettext(
            "+ {n} suppressed (fewer than k residents)",
            "+ {n} suppressed (fewer than k residents)",
            hidden,
        )
        lines.append("  " + said.format(n=hidden))
    return lines


def _name(figure: Any, name: str) -> str:
    if name != "title":
        return str(figure.area_id)
    short = str(figure.proposal_id).split("-", 1)[0]
    return f"{figure.title} ({short}, {figure.area_id})"
