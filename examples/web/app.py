"""A small FastAPI service that embeds civicflow the way a governance application would.

One ``CivicFlow`` application per process, opened when the service starts and closed when
it stops; a ``Views`` object next to it, kept up to date by a worker thread (live on
PostgreSQL, by polling elsewhere). Endpoints are thin: a pydantic body gives the request
its shape, civicflow checks every value and rule, and civicflow's typed errors become HTTP
statuses in exception handlers (see ``ERROR_STATUS``).

Run it with ``uvicorn examples.web.app:create_app --factory`` (see ``README.md``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from civicflow import (
    AreaView,
    AuditEntry,
    BackendUnavailableError,
    CivicFlow,
    CivicflowError,
    ConcurrencyError,
    Council,
    Home,
    InvalidInputError,
    MissingRegistrationError,
    NotEligibleError,
    Participation,
    Pipeline,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
    ProposalState,
    Review,
    RuleViolationError,
    Satisfaction,
    StepNotAllowedError,
    Verification,
    Views,
)

logger = logging.getLogger("civicflow.web")

DEFAULT_DB = "sqlite:///civicflow-web.db"
POLL_INTERVAL = 0.5  # seconds between catch-ups when the store cannot be followed live
RETRY_AFTER = 5  # seconds the views worker waits after a failure, and clients after a 503
SHUTDOWN_TIMEOUT = 10  # seconds to wait for the views worker at shutdown

# An error gets the status of the first class in its MRO listed here (others: 500).
ERROR_STATUS: dict[type[CivicflowError], int] = {
    ProposalNotFoundError: 404,
    MissingRegistrationError: 404,
    StepNotAllowedError: 409,
    RuleViolationError: 409,
    ConcurrencyError: 409,
    ProposalAlreadyExistsError: 409,
    NotEligibleError: 403,
    InvalidInputError: 422,
    BackendUnavailableError: 503,
}


# --- the application and its views, one of each per process -----------------------------


def create_app(
    store_url: str | None = None, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """The service on the store at ``store_url`` (default: ``CIVICFLOW_DB``, then a SQLite file).

    ``clock`` is civicflow's clock (tests pass a fake one). Every other setting of the store
    comes from the eventsourcing environment variables (see ``docs/api.md``).
    """
    url = store_url or os.environ.get("CIVICFLOW_DB") or DEFAULT_DB

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        flow = CivicFlow.open(url, **({"clock": clock} if clock is not None else {}))
        try:
            views = Views(flow)
        except BaseException:
            flow.close()
            raise
        stop = threading.Event()
        worker = threading.Thread(
            target=_keep_views_up_to_date, args=(views, stop), name="civicflow-views", daemon=True
        )
        app.state.flow, app.state.views, app.state.views_worker = flow, views, worker
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join(timeout=SHUTDOWN_TIMEOUT)
            if worker.is_alive():
                logger.warning("the views worker did not stop within %s s", SHUTDOWN_TIMEOUT)
            views.close()
            flow.close()

    app = FastAPI(
        title="civicflow web example",
        summary="Ask, Discuss, Decide, Do, Publish, Rate (问议定办晒评) over HTTP",
        lifespan=lifespan,
    )
    app.add_exception_handler(CivicflowError, _civicflow_error)
    app.add_exception_handler(RequestValidationError, _request_error)
    app.include_router(router)
    return app


def _keep_views_up_to_date(views: Views, stop: threading.Event) -> None:
    """Follow the log until ``stop``; a failure (database gone) is logged and retried."""
    while not stop.is_set():
        try:
            views.follow(stop, poll_interval=POLL_INTERVAL)
        except Exception:
            logger.exception("the views worker failed; retrying in %s s", RETRY_AFTER)
            stop.wait(RETRY_AFTER)


def _flow(request: Request) -> CivicFlow:
    flow: CivicFlow = request.app.state.flow
    return flow


def _views(request: Request) -> Views:
    views: Views = request.app.state.views
    return views


Flow = Annotated[CivicFlow, Depends(_flow)]
ViewsDep = Annotated[Views, Depends(_views)]


# --- errors -------------------------------------------------------------------------------


def error_body(error: CivicflowError) -> dict[str, Any]:
    """``{"error": class name, "message": str(error)}`` plus the error's structured attributes."""
    body: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
    for name, value in vars(error).items():
        if not name.startswith("_") and name not in body:
            body[name] = value
    if isinstance(error, InvalidInputError):
        body["errors"] = [{"field": field, "message": message} for field, message in error.errors]
    return jsonable_encoder(body)


def status_of(error: CivicflowError) -> int:
    """The HTTP status for a civicflow error (500 for one not in ``ERROR_STATUS``)."""
    return next(
        (ERROR_STATUS[cls] for cls in type(error).__mro__ if cls in ERROR_STATUS),
        500,
    )


async def _civicflow_error(request: Request, error: CivicflowError) -> JSONResponse:
    code = status_of(error)
    headers = {}
    if isinstance(error, BackendUnavailableError):
        headers["Retry-After"] = str(RETRY_AFTER)
    elif isinstance(error, ConcurrencyError):
        headers["Retry-After"] = "1"  # nothing was written; another attempt will likely pass
    if code >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, error)
    return JSONResponse(error_body(error), status_code=code, headers=headers)


async def _request_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """A body or parameter of the wrong shape: the same body as ``InvalidInputError``."""
    pairs = [
        (".".join(str(part) for part in item["loc"]), str(item["msg"])) for item in error.errors()
    ]
    return JSONResponse(
        error_body(InvalidInputError("request", pairs)) | {"error": "RequestValidationError"},
        status_code=422,
    )


# --- request bodies -----------------------------------------------------------------------
# They give requests their shape only: civicflow validates the values (enumerations, money,
# lengths, time zones) and answers with an InvalidInputError naming each field.


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepIn(Body):
    actor: str
    occurred_at: datetime | None = None


class ResidentStep(Body):
    actor: str | None = None  # defaults to the resident
    occurred_at: datetime | None = None


class AreaIn(StepIn):
    area_id: str
    kind: str
    name: str
    parent_id: str | None = None
    is_old: bool | None = None
    has_property_management: bool | None = None
    households: int | None = None
    time_zone: str | None = None


class CouncilIn(StepIn):
    pass


class MemberIn(StepIn):
    member: str
    via: str
    role: str | None = None


class ResidentsIn(StepIn):
    resident_ids: list[str] = Field(min_length=1)
    compound_id: str


class AskIn(ResidentStep):
    title: str
    details: str
    category: str
    area_id: str
    resident: str
    channel: str
    proposal_id: str | None = None


class BackIn(ResidentStep):
    resident: str


class DiscussIn(StepIn):
    attendees: list[str]
    summary: str
    opinions: list[str] = []


class DecideIn(StepIn):
    outcome: str
    vote: dict[str, Any]
    plan: str | None = None
    budget: dict[str, Any] | None = None
    responsible: str | None = None
    deadline: date | None = None
    reasons: str | None = None


class ProgressIn(StepIn):
    percent: int
    note: str
    spent: Decimal


class CompleteIn(StepIn):
    summary: str
    total_spent: Decimal
    evidence: list[str]


class PublishIn(StepIn):
    channels: list[str]
    summary: str


class RateIn(ResidentStep):
    resident: str
    level: str
    comment: str | None = None


class CloseIn(StepIn):
    pass


class WithdrawIn(StepIn):
    reason: str


# --- endpoints ----------------------------------------------------------------------------

router = APIRouter()

# Structure: areas, councils, residents.


@router.post("/areas", status_code=201, tags=["structure"])
def add_area(body: AreaIn, flow: Flow) -> AreaView:
    """Add a district, street, community or compound."""
    return flow.add_area(**body.model_dump())


@router.post("/councils/{compound}", status_code=201, tags=["structure"])
def form_council(compound: str, body: CouncilIn, flow: Flow) -> Council:
    """Form the compound's council (one at a time)."""
    return flow.form_council(compound, **body.model_dump())


@router.post("/councils/{compound}/members", status_code=201, tags=["structure"])
def join_council(compound: str, body: MemberIn, flow: Flow) -> Council:
    """Seat a member on the compound's council."""
    return flow.join_council(compound, **body.model_dump())


@router.post("/residents", status_code=201, tags=["structure"])
def register_residents(body: ResidentsIn, flow: Flow) -> list[Home]:
    """Register many residents to one compound, all or none."""
    return flow.register_residents(**body.model_dump())


# The six steps (问 议 定 办 晒 评); each returns the proposal just after it.


@router.post("/proposals", status_code=201, tags=["steps"])
def ask(body: AskIn, flow: Flow, response: Response) -> ProposalState:
    """Ask (问): collect a resident's need as a new proposal."""
    state = flow.ask(**body.model_dump())
    response.headers["Location"] = f"/proposals/{state.id}"
    return state


@router.post("/proposals/{proposal_id}/backings", tags=["steps"])
def back(proposal_id: str, body: BackIn, flow: Flow) -> ProposalState:
    """Another resident of the scope backs the need."""
    return flow.back(proposal_id, **body.model_dump())


@router.post("/proposals/{proposal_id}/discussions", tags=["steps"])
def discuss(proposal_id: str, body: DiscussIn, flow: Flow) -> ProposalState:
    """Discuss (议): one council session."""
    return flow.discuss(proposal_id, **body.model_dump())


@router.post("/proposals/{proposal_id}/decision", tags=["steps"])
def decide(proposal_id: str, body: DecideIn, flow: Flow) -> ProposalState:
    """Decide (定): approved with a plan, rejected with reasons, or deferred."""
    return flow.decide(proposal_id, **body.model_dump())


@router.post("/proposals/{proposal_id}/progress", tags=["steps"])
def report_progress(proposal_id: str, body: ProgressIn, flow: Flow) -> ProposalState:
    """Do (办): how far the work is and what it has cost so far."""
    return flow.report_progress(proposal_id, **body.model_dump())


@router.post("/proposals/{proposal_id}/completion", tags=["steps"])
def complete(proposal_id: str, body: CompleteIn, flow: Flow) -> ProposalState:
    """Do (办): the work of this round is complete."""
    return flow.complete(proposal_id, **body.model_dump())


@router.post("/proposals/{proposal_id}/publication", tags=["steps"])
def publish(proposal_id: str, body: PublishIn, flow: Flow) -> ProposalState:
    """Publish (晒): show the result (or the rejection) in public; opens a rating round."""
    return flow.publish(proposal_id, **body.model_dump())


@router.post("/proposals/{proposal_id}/ratings", tags=["steps"])
def rate(proposal_id: str, body: RateIn, flow: Flow) -> ProposalState:
    """Rate (评): a resident's satisfaction with this round."""
    return flow.rate(proposal_id, **body.model_dump())


@router.post("/proposals/{proposal_id}/rating-close", tags=["steps"])
def close_rating(proposal_id: str, body: CloseIn, flow: Flow) -> ProposalState:
    """End the rating round after its window: closed, or back to Do for rectification."""
    return flow.close_rating(proposal_id, **body.model_dump())


@router.post("/proposals/{proposal_id}/withdrawal", tags=["steps"])
def withdraw(proposal_id: str, body: WithdrawIn, flow: Flow) -> ProposalState:
    """Abandon the proposal before it is done; final."""
    return flow.withdraw(proposal_id, **body.model_dump())


# Queries and audit.


@router.get("/proposals/{proposal_id}", tags=["queries"])
def proposal(proposal_id: str, flow: Flow, version: int | None = None) -> ProposalState:
    """The proposal now, or just after event number ``version``."""
    return flow.proposal(proposal_id, version=version)


@router.get("/proposals/{proposal_id}/history", tags=["audit"])
def history(proposal_id: str, flow: Flow) -> list[AuditEntry]:
    """The audit trail: every event with actor, both times, stages, and a line in zh and en."""
    return flow.audit_trail(proposal_id)


@router.get("/verify", tags=["audit"])
def verify(flow: Flow) -> Verification:
    """Check every seal, chain and checkpoint of the store (``ok`` when nothing is wrong)."""
    return flow.verify()


# Views. The worker keeps them up to date; ``fresh`` (the default) first counts whatever it
# has not counted yet, so that a client reads its own writes. ``X-Views-Position`` tells
# how far into the log the figures go.

Level = Annotated[str, Query(description="district, street, community or compound")]
Quarter = Annotated[str | None, Query(description="like 2026Q3; every quarter if omitted")]
Fresh = Annotated[bool, Query(description="catch up with the log before answering")]


def _counted(views: Views, response: Response, fresh: bool) -> Views:
    if fresh:
        views.catch_up()
    response.headers["X-Views-Position"] = str(views.position)
    return views


@router.get("/views/satisfaction", tags=["views"])
def satisfaction(
    views: ViewsDep,
    response: Response,
    level: Level = "community",
    quarter: Quarter = None,
    fresh: Fresh = True,
) -> list[Satisfaction]:
    """Satisfaction per area of ``level`` and quarter."""
    return _counted(views, response, fresh).satisfaction(level=level, quarter=quarter)


@router.get("/views/participation", tags=["views"])
def participation(
    views: ViewsDep,
    response: Response,
    level: Level = "community",
    quarter: Quarter = None,
    fresh: Fresh = True,
) -> list[Participation]:
    """Distinct participants per area of ``level`` and quarter, with council coverage."""
    return _counted(views, response, fresh).participation(level=level, quarter=quarter)


@router.get("/views/pipeline", tags=["views"])
def pipeline(
    views: ViewsDep,
    response: Response,
    level: Level = "community",
    as_of: date | None = None,
    fresh: Fresh = True,
) -> list[Pipeline]:
    """Proposals per stage, step durations and overdue work per area of ``level``."""
    return _counted(views, response, fresh).pipeline(level=level, as_of=as_of)


@router.get("/views/review", tags=["views"])
def review(
    views: ViewsDep,
    response: Response,
    quarter: Annotated[str, Query(description="like 2026Q3")],
    level: Level = "community",
    fresh: Fresh = True,
) -> Review:
    """The quarterly review: areas and proposals ranked by satisfaction and participation."""
    return _counted(views, response, fresh).review(quarter, level=level)
