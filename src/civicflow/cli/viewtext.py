"""Figures as text: a pipeline row, a quarterly review ranked, for one store or a city."""

from __future__ import annotations

from typing import Any

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


def review_text(review: Any, lang: str, top: int | None = None) -> str:
    zh = lang == "zh"
    level = label(review.level.value, lang)
    title = (
        f"{review.quarter} 季度观摩评比（按{level}）"
        if zh
        else f"Quarterly review {review.quarter}, by {level}"
    )
    lines = [title, "=" * 40]
    heading = "满意率" if zh else "satisfaction rate"
    lines += _ranked(heading, review.by_satisfaction, "n", top, lang=lang)
    heading = "参与率" if zh else "participation rate"
    lines += _ranked(heading, review.by_participation, "participants", top, lang=lang)
    heading = "事项满意率" if zh else "proposals by satisfaction"
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
        rate = f"{f.rate:.1%}" if f.rate is not None else "—"
        lines.append(
            f"  {getattr(f, name) or f.area_id:<40} {rate:>7}  "
            f"({label(count, lang)}={getattr(f, count)})"
        )
    if hidden:
        lines.append(
            f"  + {hidden} suppressed (fewer than k residents)"
            if lang == "en"
            else f"  另有 {hidden} 项隐去（评价或参与人数少于 k）"
        )
    return lines
