"""The application service: one method per use case, plus queries.

Embedding applications create one ``CivicFlow`` per process and call its
methods; every refused command raises a ``CivicflowError`` and writes nothing.
"""

from __future__ import annotations

import binascii
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import PersistenceError, RecordConflictError
from eventsourcing.utils import EnvType, get_topic
from pydantic import ValidationError

from civicflow.errors import (
    BackendUnavailableError,
    ConcurrencyError,
    ConfigurationError,
    InvalidInputError,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
)
from civicflow.persistence import OrjsonTranscoder, PydanticMapper, env_from_url
from civicflow.proposal import Proposal, ProposalState
from civicflow.values import Budget, Channel, Level, Outcome, PublicationChannel, Vote

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock: now, in UTC."""
    return datetime.now(UTC)


class CivicFlow(Application[UUID]):
    """Six-step community deliberation (问议定办晒评) as an event-sourced application.

    Args:
        env: eventsourcing settings; they override the process environment,
            which overrides the defaults below (see ``docs/api.md``).
        clock: where "now" comes from; tests pass a fake one.
        max_clock_skew: how far in the future ``occurred_at`` may lie.
        rectification_threshold: satisfaction rate below which a round sends
            the work back for rectification (整改).
        max_attempts: how many times a command is re-run on fresh state after
            losing an optimistic-concurrency race before giving up.
    """

    name = "CivicFlow"
    env: ClassVar[dict[str, str]] = {
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    # Snapshots bound replay cost for proposals with long histories (many ratings).
    snapshotting_intervals: ClassVar[dict[Any, int]] = {Proposal: 100}

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        clock: Clock = utc_now,
        max_clock_skew: timedelta = timedelta(minutes=5),
        rectification_threshold: Decimal | str | float = Decimal("0.8"),
        max_attempts: int = 50,
    ) -> None:
        self.clock = clock
        self.max_clock_skew = max_clock_skew
        self.rectification_threshold = _threshold(rectification_threshold)
        if max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        try:
            super().__init__(env)
        except (PersistenceError, ImportError, OSError) as error:
            raise BackendUnavailableError(f"cannot open the event store: {error}") from None
        except (EventSourcingError, binascii.Error, ValueError) as error:
            raise ConfigurationError(f"cannot configure the event store: {error}") from None

    @classmethod
    def open(cls, url: str, **options: Any) -> CivicFlow:
        """Open the store at ``url``: ``memory://``, ``sqlite:///path.db`` or ``postgresql://...``.

        Raises:
            ConfigurationError: the URL is not one civicflow understands.
            BackendUnavailableError: the database cannot be reached.
        """
        settings = {**env_from_url(url), **(options.pop("env", None) or {})}
        # eventsourcing reads CIVICFLOW_X before X: name both, so the URL beats the environment.
        env = {**settings, **{f"{cls.name.upper()}_{key}": v for key, v in settings.items()}}
        if "POSTGRES_SCHEMA" in env:
            _create_schema(env)
        return cls(env, **options)

    # --- Ask (问) ---------------------------------------------------------------

    def ask(
        self,
        *,
        title: str,
        details: str,
        category: str,
        area_id: str,
        resident: str,
        channel: Channel | str,
        actor: str | None = None,
        occurred_at: datetime | None = None,
        proposal_id: UUID | str | None = None,
    ) -> ProposalState:
        """Collect a resident's need as a new proposal.

        Raises:
            InvalidInputError: a value is missing, malformed or out of range.
            ProposalAlreadyExistsError: ``proposal_id`` is taken.
        """
        wanted_id = _uuid(proposal_id) if proposal_id is not None else None
        with _translated("ask"):
            proposal = Proposal.ask(
                wanted_id,
                title=title,
                details=details,
                category=category,
                area_id=area_id,
                resident=resident,
                channel=channel,
                actor=actor if actor is not None else resident,
                occurred_at=self._when(occurred_at),
            )
        try:
            self.save(proposal)
        except RecordConflictError:
            raise ProposalAlreadyExistsError(proposal.id) from None
        return proposal.state

    def back(
        self,
        proposal_id: UUID | str,
        *,
        resident: str,
        actor: str | None = None,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record that another resident backs the same need (once per resident)."""
        return self._command(
            proposal_id,
            "back",
            resident=resident,
            actor=actor if actor is not None else resident,
            occurred_at=self._when(occurred_at),
        )

    # --- Discuss (议) and Decide (定) -------------------------------------------

    def discuss(
        self,
        proposal_id: UUID | str,
        *,
        attendees: list[str] | tuple[str, ...],
        summary: str,
        opinions: list[str] | tuple[str, ...] = (),
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record one council session: who attended, a summary, the main opinions."""
        return self._command(
            proposal_id,
            "discuss",
            attendees=tuple(attendees),
            summary=summary,
            opinions=tuple(opinions),
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    def decide(
        self,
        proposal_id: UUID | str,
        *,
        outcome: Outcome | str,
        vote: Vote | dict[str, int],
        actor: str,
        plan: str | None = None,
        budget: Budget | dict[str, Any] | None = None,
        responsible: str | None = None,
        deadline: date | None = None,
        reasons: str | None = None,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record the council's decision: approved (plan, budget, responsible, deadline),
        rejected (reasons) or deferred (back to discussion), with its vote.
        """
        return self._command(
            proposal_id,
            "decide",
            outcome=outcome,
            vote=vote,
            plan=plan,
            budget=budget,
            responsible=responsible,
            deadline=deadline,
            reasons=reasons,
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    # --- Do (办) -------------------------------------------------------------------

    def report_progress(
        self,
        proposal_id: UUID | str,
        *,
        percent: int,
        note: str,
        spent: Decimal | int | str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record progress (percent never goes down in a round) and money spent so far."""
        return self._command(
            proposal_id,
            "report_progress",
            percent=percent,
            note=note,
            spent=spent,
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    def complete(
        self,
        proposal_id: UUID | str,
        *,
        summary: str,
        total_spent: Decimal | int | str,
        evidence: list[str] | tuple[str, ...],
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record that the work of this round is complete, with total spending and evidence."""
        return self._command(
            proposal_id,
            "complete",
            summary=summary,
            total_spent=total_spent,
            evidence=tuple(evidence),
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    # --- Publish (晒) and Rate (评) ----------------------------------------------

    def publish(
        self,
        proposal_id: UUID | str,
        *,
        channels: list[PublicationChannel | str] | tuple[PublicationChannel | str, ...],
        summary: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Show the result (planned against actual spending) or the rejection in public."""
        return self._command(
            proposal_id,
            "publish",
            channels=tuple(channels),
            summary=summary,
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    def rate(
        self,
        proposal_id: UUID | str,
        *,
        resident: str,
        level: Level | str,
        comment: str | None = None,
        actor: str | None = None,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record a resident's satisfaction with this round; a later rating replaces theirs."""
        return self._command(
            proposal_id,
            "rate",
            resident=resident,
            level=level,
            comment=comment,
            actor=actor if actor is not None else resident,
            occurred_at=self._when(occurred_at),
        )

    def close_rating(
        self, proposal_id: UUID | str, *, actor: str, occurred_at: datetime | None = None
    ) -> ProposalState:
        """End the rating round: closed if the satisfaction rate reaches the threshold,
        otherwise back to Do for rectification and a new round.
        """
        return self._command(
            proposal_id,
            "close_rating",
            threshold=self.rectification_threshold,
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    def withdraw(
        self,
        proposal_id: UUID | str,
        *,
        reason: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Abandon the proposal before it is done; final."""
        return self._command(
            proposal_id, "withdraw", reason=reason, actor=actor, occurred_at=self._when(occurred_at)
        )

    # --- queries ----------------------------------------------------------------

    def proposal(self, proposal_id: UUID | str, *, version: int | None = None) -> ProposalState:
        """The proposal's state now, or just after event number ``version``.

        Raises:
            ProposalNotFoundError: no such proposal (or it has fewer events).
        """
        if version is not None and (type(version) is not int or version < 1):
            raise InvalidInputError("version", [("version", "must be a whole number >= 1")])
        pid = _uuid(proposal_id)
        state = self._load(pid, version).state
        if version is not None and state.version != version:
            # eventsourcing returns the latest state for a version not reached yet
            raise ProposalNotFoundError(pid, version)
        return state

    def history(self, proposal_id: UUID | str) -> list[Proposal.Event]:
        """Every event of the proposal, oldest first.

        Raises:
            ProposalNotFoundError: no such proposal.
        """
        pid = _uuid(proposal_id)
        events: list[Proposal.Event] = list(self.events.get(pid))  # type: ignore[arg-type]
        if not events:
            raise ProposalNotFoundError(pid)
        return events

    # --- the mechanics ----------------------------------------------------------

    def _command(self, proposal_id: UUID | str, method: str, **fields: Any) -> ProposalState:
        """Run a command on fresh state, re-running it after a lost race."""
        pid = _uuid(proposal_id)
        for attempt in range(1, self.max_attempts + 1):
            proposal = self._load(pid)
            with _translated(method):
                getattr(proposal, method)(**fields)
            try:
                with _store_errors():
                    self.save(proposal)
            except RecordConflictError:
                _back_off(attempt)
                continue
            return proposal.state
        raise ConcurrencyError(pid, self.max_attempts)

    def _load(self, proposal_id: UUID, version: int | None = None) -> Proposal:
        try:
            with _store_errors():
                proposal: Proposal = self.repository.get(proposal_id, version=version)
        except AggregateNotFoundError:
            raise ProposalNotFoundError(proposal_id, version) from None
        return proposal

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # Another process may have snapshotted the same version; either copy will do.
        with suppress(RecordConflictError):
            super()._take_snapshots(processing_event)

    def _when(self, occurred_at: datetime | None) -> datetime:
        now = self.clock()
        if occurred_at is None:
            return now
        problem = _occurrence_problem(occurred_at, now + self.max_clock_skew)
        if problem:
            raise InvalidInputError("occurred_at", [("occurred_at", problem)])
        return occurred_at


def _occurrence_problem(occurred_at: object, latest: datetime) -> str:
    if not isinstance(occurred_at, datetime):
        return "must be a datetime"
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        return "must carry a time zone (a naive datetime is ambiguous)"
    if occurred_at > latest:
        return f"{occurred_at.isoformat()} is in the future"
    return ""


@contextmanager
def _store_errors() -> Iterator[None]:
    """A failing database is a typed error; a lost race (RecordConflictError) passes through."""
    try:
        yield
    except RecordConflictError:
        raise
    except PersistenceError as error:
        raise BackendUnavailableError(f"the event store failed: {error}") from None


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Turn pydantic's validation errors into civicflow's typed error."""
    try:
        yield
    except ValidationError as error:
        raise InvalidInputError.from_pydantic(what, error) from None


def _uuid(value: UUID | str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInputError(
            "proposal id", [("proposal_id", f"{value!r} is not a UUID")]
        ) from None


def _threshold(value: Decimal | str | float) -> Decimal:
    try:
        # via str() so that 0.8 means 0.8, not the binary float nearest to it
        threshold = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (ArithmeticError, ValueError, TypeError):
        threshold = Decimal(-1)
    if not Decimal(0) < threshold <= 1:
        raise ConfigurationError(f"rectification_threshold must be in (0, 1], got {value!r}")
    return threshold


def _back_off(attempt: int) -> None:
    # Jittered, capped exponential back-off so that racing writers spread out.
    time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))  # noqa: S311


def _create_schema(env: dict[str, str]) -> None:
    """PostgreSQL tables go in ``POSTGRES_SCHEMA``; eventsourcing expects it to exist."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        raise BackendUnavailableError(
            "PostgreSQL needs the postgres extra: pip install 'civicflow[postgres]'"
        ) from None
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        ) as conn:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(env["POSTGRES_SCHEMA"])
                )
            )
    except psycopg.Error as error:
        raise BackendUnavailableError(f"cannot open the event store: {error}") from None
