"""The whole page: head, style (screen and A4 print), sections, footer with the tree head."""

from __future__ import annotations

import html

from civicflow.domain.community.areas import AreaKind
from civicflow.extras.report import money, sections, svg
from civicflow.extras.report.cells import levels_legend
from civicflow.extras.report.data import Report
from civicflow.extras.report.drill import drill_down
from civicflow.extras.report.text import words

# Latin first, then the CJK faces common on Windows, macOS, Linux (Noto, WenQuanYi)
# and Android, so that names like 山阳区 render wherever one of them is installed.
FONTS = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", '
    "SimSun, sans-serif"
)

STYLE = f"""
:root{{--ink:#1f2933;--muted:#5f6b76;--rule:#d9dee3}}
body{{font-family:{FONTS};color:var(--ink);max-width:1180px;margin:1.5em auto;
padding:0 1em;line-height:1.4;font-size:14px}}
h1{{font-size:1.6em;margin:.2em 0}}h2{{font-size:1.25em;margin:1.4em 0 .4em;
border-bottom:2px solid var(--rule)}}h3,h4{{margin:.8em 0 .3em}}
table{{border-collapse:collapse;margin:.3em 0 .8em}}caption{{text-align:left;
font-weight:600;padding:.2em 0;white-space:nowrap}}
td.trend,td.name{{white-space:nowrap}}td,th{{padding:.25em .55em;
border-bottom:1px solid var(--rule);text-align:left;vertical-align:middle}}
th{{font-weight:600;font-size:.9em;color:var(--muted)}}
td.num{{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}}
td.id{{color:var(--muted);font-size:.85em}}.sub{{color:var(--muted);font-size:.85em}}
.suppressed{{color:var(--muted);font-style:italic}}.note,.none{{color:var(--muted)}}
.legend .key,.key{{margin-right:1em;white-space:nowrap}}.pair{{display:flex;gap:2em;flex-wrap:wrap}}
.dir.rising{{color:#2e7d32}}.dir.falling{{color:#c62828}}.dir{{font-size:.85em}}
details{{border-left:3px solid var(--rule);margin:.4em 0 .4em .2em;padding-left:.8em}}
details>summary{{cursor:pointer;padding:.3em 0}}summary .kind{{color:var(--muted);font-size:.85em}}
summary .title{{font-weight:600}}summary .sum{{color:var(--muted);margin-left:.6em}}
footer{{margin-top:2em;border-top:2px solid var(--rule);padding-top:.6em;font-size:.85em}}
footer code{{word-break:break-all}}svg.chart{{vertical-align:middle}}
@page{{size:A4;margin:14mm 12mm}}
@media print{{body{{max-width:none;margin:0;padding:0;font-size:8pt}}
td,th{{padding:.1em .3em}}svg.chart[data-chart=levels]{{width:70px}}
svg.chart[data-chart=trend]{{width:50px}}svg.chart[data-chart=stages]{{width:150px}}
*{{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
h2{{break-after:avoid}}tr,summary,.pipeline{{break-inside:avoid}}
details{{border-left:none;padding-left:0}}details>summary{{list-style:none}}
a{{color:inherit;text-decoration:none}}.id{{display:none}}}}
"""

# Opens the sections around a linked one: a closed <details> hides its target.
SCRIPT = (
    "function openTo(h){var e=h&&document.getElementById(decodeURIComponent(h.slice(1)));"
    "for(;e;e=e.parentElement){if(e.tagName==='DETAILS'){e.open=true}}}"
    "addEventListener('hashchange',function(){openTo(location.hash)});"
    "openTo(location.hash);"
)


def render(report: Report, lang: str = "en") -> str:
    """The review of ``report`` as one self-contained HTML page."""
    t = words(lang)
    title = f"{t['title']} {report.quarter}"
    districts = report.ranked(AreaKind.DISTRICT)
    subtitle = " · ".join(html.escape(d.name) for d in districts)
    body = "".join(
        (
            _summary(report, t, lang),
            sections.best_and_attention(report, t),
            sections.movers(report, t),
            sections.projects(report, t),
            money.spending(report, t),
            drill_down(report, t, lang),
        )
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-Hans" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f'<body data-quarter="{report.quarter}" data-k="{report.k}" data-lang="{lang}">'
        f"{svg.DEFS}<header><h1>{html.escape(title)}</h1><p>{subtitle}</p>"
        f'<p class="note">{html.escape(t["note"].format(k=report.k))}</p></header>'
        f"<main>{body}</main>{_footer(report, t)}<script>{SCRIPT}</script></body></html>\n"
    )


def _summary(report: Report, t: dict[str, str], lang: str) -> str:
    districts = report.ranked(AreaKind.DISTRICT)
    streets = report.ranked(AreaKind.STREET)
    district_flows = "".join(sections.pipeline(d, report, t, lang) for d in districts)
    return (
        f'<section id="summary"><h2>{t["summary"]}</h2>{levels_legend(t)}'
        f"{sections.area_table(districts, report, t, 'districts')}"
        f"<h3>{t['below-street']}</h3>{sections.area_table(streets, report, t, 'streets')}"
        f"{district_flows}</section>"
    )


def _footer(report: Report, t: dict[str, str]) -> str:
    head = (
        f'<p>{t["head"]}:</p><pre data-head="true"><code>{html.escape(report.head)}</code></pre>'
        if report.head
        else f'<p data-head="false">{t["no_head"]}</p>'
    )
    position = (
        f"<p>{t['generated'].format(position=report.position)}</p>"
        if report.position is not None
        else ""
    )
    return f"<footer>{head}{position}</footer>"
