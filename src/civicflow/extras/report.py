"""The quarterly review as one self-contained HTML page with charts (plotly, inlined).

For people who would rather look than read tables: satisfaction and
participation by area, the best and worst compounds, and the pipeline. The
page needs no network: plotly's script is embedded once.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from civicflow.errors import ConfigurationError
from civicflow.views import Figures

TEXT = {
    "en": {
        "title": "Quarterly review",
        "satisfaction": "Satisfaction rate by street",
        "participation": "Participation rate by street",
        "best": "Best compounds",
        "worst": "Compounds needing attention",
        "pipeline": "Proposals by stage (district)",
        "suppressed": "figures from fewer than {k} residents are suppressed",
        "area": "area",
        "rate": "rate",
        "n": "ratings",
    },
    "zh": {
        "title": "季度观摩评比",
        "satisfaction": "各街道满意率",
        "participation": "各街道参与率",
        "best": "满意率最高的楼院",
        "worst": "需要关注的楼院",
        "pipeline": "各阶段事项数（全区）",
        "suppressed": "少于 {k} 位居民的数字不予显示",
        "area": "区域",
        "rate": "满意率",
        "n": "评价数",
    },
}


def write_report(views: Figures, quarter: str, out: Path, lang: str = "en") -> None:
    """Write the review of ``quarter`` to ``out`` as self-contained HTML.

    Raises:
        ConfigurationError: plotly is not installed (``pip install 'civicflow[report]'``).
    """
    try:
        import plotly.graph_objects as go
        from plotly.offline import get_plotlyjs
    except ImportError:
        raise ConfigurationError(
            "the HTML report needs plotly: pip install 'civicflow[report]'"
        ) from None
    t = TEXT.get(lang, TEXT["en"])
    charts = [
        _bars(go, views.satisfaction(level="street", quarter=quarter), t["satisfaction"]),
        _bars(go, views.participation(level="street", quarter=quarter), t["participation"]),
        _pipeline(go, views, t["pipeline"]),
    ]
    compounds = [
        f for f in views.review(quarter, level="compound").by_satisfaction if not f.suppressed
    ]
    body = "".join(f"<section>{c}</section>" for c in charts)
    body += _table(t["best"], compounds[:10], t) + _table(t["worst"], compounds[-10:][::-1], t)
    page = _PAGE.format(
        lang=lang,
        title=html.escape(f"{t['title']} {quarter}"),
        note=html.escape(t["suppressed"].format(k=views.k)),
        script=get_plotlyjs(),
        body=body,
    )
    out.write_text(page, encoding="utf-8")


def _bars(go: Any, figures: list[Any], title: str) -> str:
    shown = [f for f in figures if not f.suppressed and f.rate is not None]
    figure = go.Figure(
        go.Bar(
            x=[f.area_id for f in shown],
            y=[float(f.rate) for f in shown],
            text=[f"{float(f.rate):.0%}" for f in shown],
        )
    )
    figure.update_layout(title=title, yaxis={"tickformat": ".0%"}, height=380)
    return str(figure.to_html(full_html=False, include_plotlyjs=False))


def _pipeline(go: Any, views: Figures, title: str) -> str:
    stages: dict[str, int] = {}
    for area in views.pipeline(level="district"):
        for stage, count in area.stages.items():
            stages[stage] = stages.get(stage, 0) + count
    figure = go.Figure(go.Bar(x=list(stages), y=list(stages.values())))
    figure.update_layout(title=title, height=340)
    return str(figure.to_html(full_html=False, include_plotlyjs=False))


def _table(title: str, figures: list[Any], t: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(f.area_id)}</td><td>{float(f.rate):.1%}</td><td>{f.n}</td></tr>"
        for f in figures
    )
    return (
        f"<section><h2>{html.escape(title)}</h2><table><tr><th>{t['area']}</th>"
        f"<th>{t['rate']}</th><th>{t['n']}</th></tr>{rows}</table></section>"
    )


_PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
section{{margin:1.5em 0}}table{{border-collapse:collapse}}td,th{{padding:.3em .8em;
border-bottom:1px solid #ddd;text-align:left}}.note{{color:#666}}</style>
<script>{script}</script></head>
<body><h1>{title}</h1><p class="note">{note}</p>{body}</body></html>
"""
