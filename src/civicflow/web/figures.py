"""The views over HTTP: satisfaction, participation, pipeline and the quarterly review.

A figure from fewer than ``k`` residents is shown as suppressed (``suppressed``
true, its numbers null), as everywhere civicflow publishes figures. An endpoint answers
from what the views' worker has counted already (a request does not write); with
``fresh=true`` it first counts the log's newest records, so that a client reads its own
writes (catch-ups run one at a time in a process, and one with nothing new writes
nothing). The ``X-Views-Position`` header says up to which record the figures go.
No ``from __future__ import annotations``: see ``steps.py``.
"""

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from civicflow.views import Participation, Pipeline, Review, Satisfaction, Views

Level = Annotated[str, Query(description="district, street, community or compound")]
Quarter = Annotated[str | None, Query(description="like 2026Q3 (default: every quarter)")]
Fresh = Annotated[
    bool, Query(description="count the log's newest records first, to read your own writes")
]
POSITION_HEADER = "X-Views-Position"


def add_figures(router: APIRouter, views: Callable[[], Views]) -> None:
    """Add the views' endpoints."""
    Counted = Annotated[Views, Depends(views)]  # noqa: N806 (a type alias, read as one)

    @router.get("/views/satisfaction", tags=["views"])
    def satisfaction(
        v: Counted,
        response: Response,
        level: Level = "community",
        quarter: Quarter = None,
        fresh: Fresh = False,
    ) -> list[Satisfaction]:
        """Satisfaction per area of ``level`` and quarter."""
        return _counted(v, response, fresh).satisfaction(level=level, quarter=quarter)

    @router.get("/views/participation", tags=["views"])
    def participation(
        v: Counted,
        response: Response,
        level: Level = "community",
        quarter: Quarter = None,
        fresh: Fresh = False,
    ) -> list[Participation]:
        """Distinct participants per area of ``level`` and quarter, with council coverage."""
        return _counted(v, response, fresh).participation(level=level, quarter=quarter)

    @router.get("/views/pipeline", tags=["views"])
    def pipeline(
        v: Counted,
        response: Response,
        level: Level = "community",
        as_of: Annotated[date | None, Query(description="overdue as of (default: today)")] = None,
        fresh: Fresh = False,
    ) -> list[Pipeline]:
        """Proposals per stage, step durations and overdue work per area of ``level``."""
        return _counted(v, response, fresh).pipeline(level=level, as_of=as_of)

    @router.get("/views/review", tags=["views"])
    def review(
        v: Counted,
        response: Response,
        quarter: Annotated[str, Query(description="like 2026Q3")],
        level: Level = "community",
        fresh: Fresh = False,
    ) -> Review:
        """The quarterly review: areas and proposals ranked by satisfaction and participation."""
        return _counted(v, response, fresh).review(quarter, level=level)

    @router.get("/proposals/{proposal_id}/satisfaction", tags=["views"])
    def proposal_satisfaction(
        proposal_id: str, v: Counted, response: Response, fresh: Fresh = False
    ) -> list[Satisfaction]:
        """Satisfaction with one proposal, round by round."""
        return _counted(v, response, fresh).proposal_satisfaction(proposal_id)


def _counted(views: Views, response: Response, fresh: bool) -> Views:
    if fresh:
        views.catch_up()
    response.headers[POSITION_HEADER] = str(views.position)
    return views
