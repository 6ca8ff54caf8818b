"""The quarterly review (每季度观摩评比) as one self-contained HTML page.

What a district office shows at its review meeting: every area by its registered
name, how satisfied residents are (not only a rate), the change over four
quarters and the ranking's movers, a drill-down from the district to each
compound, the quarter's pipeline and overdue work, planned against actual
spending, and the log's published tree head for the printed copy.

The charts are inline SVG drawn here: the page fetches nothing, runs no library,
and prints on A4. Modules: ``data`` gathers the figures, ``pipeline`` the
quarter's proposals and money, ``svg`` draws, ``cells``, ``sections``, ``drill``
and ``page`` lay out, ``text`` holds the words in English and Chinese.
"""

from __future__ import annotations

from pathlib import Path

from civicflow.audit.notes import TreeHead
from civicflow.extras.report.data import ProposalSource, Report, gather
from civicflow.extras.report.page import render
from civicflow.views import Figures

__all__ = ["ProposalSource", "Report", "gather", "render", "render_report", "write_report"]


def render_report(
    views: Figures,
    quarter: str,
    lang: str = "en",
    *,
    source: ProposalSource | None = None,
    head: TreeHead | None = None,
) -> str:
    """The review of ``quarter`` as HTML text.

    Args:
        views: the figures (one store's views, or a city's).
        quarter: like ``2026Q3``.
        lang: ``en`` or ``zh``.
        source: where to read each completed project's budget and spending and who
            answers for overdue work (a ``CivicFlow``); without it the page says
            spending was not available.
        head: the log's last published tree head (``flow.last_head``), printed in
            the footer.

    Raises:
        InvalidInputError: ``quarter`` is not like 2026Q3.
        BackendUnavailableError: the views' database or the store failed.
    """
    report = gather(views, quarter, source, None if head is None else head.body())
    return render(report, lang)


def write_report(
    views: Figures,
    quarter: str,
    out: Path,
    lang: str = "en",
    *,
    source: ProposalSource | None = None,
    head: TreeHead | None = None,
) -> None:
    """Write the review of ``quarter`` to ``out`` as self-contained HTML (UTF-8).

    Raises:
        InvalidInputError: ``quarter`` is not like 2026Q3.
        BackendUnavailableError: the views' database or the store failed.
    """
    out.write_text(render_report(views, quarter, lang, source=source, head=head), "utf-8")
