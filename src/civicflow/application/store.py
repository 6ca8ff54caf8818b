"""What every civicflow use case shares: configuration, time, retries, error translation.

``Service`` is the eventsourcing application underneath ``CivicFlow``: it owns
the store settings, the clock, the default policy and the retry loop that
re-runs a command on fresh state after a lost optimistic-concurrency race.
"""

from __future__ import annotations

import binascii
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import (
    InternalError,
    Mapper,
    PersistenceError,
    RecordConflictError,
)
from eventsourcing.utils import EnvType, get_topic
from pydantic import ValidationError

from civicflow.audit.ledger import Ledger
from civicflow.domain import integrity
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.policy import Policy
from civicflow.domain.community.residents import Resident
from civicflow.domain.eventmodel import PydanticAggregate
from civicflow.domain.proposal import Proposal
from civicflow.errors import (
    BackendUnavailableError,
    ConcurrencyError,
    ConfigurationError,
    InvalidInputError,
)
from civicflow.storage.mapper import OrjsonTranscoder, PydanticMapper
from civicflow.storage.settings import env_from_url, postgres_password

logger = logging.getLogger("civicflow")
Clock = Callable[[], datetime]
A = TypeVar("A", bound=PydanticAggregate)
R = TypeVar("R")


def utc_now() -> datetime:
    """The real clock: now, in UTC."""
    return datetime.now(UTC)


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    # eventsourcing's default projector asserts a runtime-checkable Protocol for every
    # event, which costs more than applying it; every civicflow event can mutate.
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class Service(Application[UUID]):
    """The configured event-sourced application that civicflow's use cases run on."""

    env: ClassVar[dict[str, str]] = {
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "AGGREGATE_CACHE_MAXSIZE": "10000",
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    # Snapshots bound replay cost: proposals collect many ratings, the directory many changes.
    snapshotting_intervals: ClassVar[dict[Any, int]] = {
        Proposal: 100,
        Directory: 100,
        Resident: 100,
        Ledger: 100,
    }
    snapshotting_projectors: ClassVar[dict[Any, Any]] = dict.fromkeys(
        (Proposal, Directory, Resident, Ledger), _project
    )

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        clock: Clock = utc_now,
        max_clock_skew: timedelta = timedelta(minutes=5),
        policy: Policy | None = None,
        rectification_threshold: Decimal | str | float | None = None,
        community_rules: bool = True,
        max_attempts: int = 50,
    ) -> None:
        self.clock = clock
        self.max_clock_skew = max_clock_skew
        self.default_policy = _default_policy(policy, rectification_threshold)
        self.community_rules = community_rules
        if max_attempts < 1:
            raise ConfigurationError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self._construct(env)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # eventsourcing names an application after its class, and the name picks the
        # tables and the settings prefix: a subclass made to add methods must keep
        # reading the same store, so it inherits the name unless it sets its own.
        name = cls.__dict__.get("name")
        super().__init_subclass__(**kwargs)
        if name is None:
            cls.name = next(b.__dict__["name"] for b in cls.__mro__[1:] if "name" in b.__dict__)

    def _construct(self, env: EnvType | None) -> None:
        for attempt in range(1, 6):
            try:
                super().__init__(env)
            except InternalError:
                # Two processes opening one PostgreSQL store at once race on eventsourcing's
                # CREATE OR REPLACE FUNCTION ("tuple concurrently updated"): try again.
                if attempt == 5:
                    raise BackendUnavailableError(
                        "cannot open the event store: it stayed "
                        "busy with other processes opening it"
                    ) from None
                _back_off(attempt + 3)
            except (PersistenceError, ImportError, OSError) as error:
                raise BackendUnavailableError(f"cannot open the event store: {error}") from None
            except (EventSourcingError, binascii.Error, ValueError) as error:
                raise ConfigurationError(f"cannot configure the event store: {error}") from None
            else:
                return

    def construct_mapper(self) -> Mapper[UUID]:
        """civicflow's pydantic mapper, sealing records when ``AUDIT_KEY`` is set."""
        mapper = super().construct_mapper()
        if isinstance(mapper, PydanticMapper):
            mapper.audit_key = integrity.audit_key(self.env.get("AUDIT_KEY"))
        return mapper

    @property
    def rectification_threshold(self) -> Decimal:
        """The default threshold, used where no district or community set one."""
        return self.default_policy.rectification_threshold

    @classmethod
    def open(cls: type[S], url: str, **options: Any) -> S:
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

    # --- time ---------------------------------------------------------------------

    def _when(self, occurred_at: datetime | None) -> datetime:
        """When a step happened in the world: given, or now; never in the future."""
        now = self.clock()
        if occurred_at is None:
            return now
        problem = _occurrence_problem(occurred_at, now + self.max_clock_skew)
        if problem:
            raise InvalidInputError("occurred_at", [("occurred_at", problem)])
        return occurred_at

    # --- running commands -----------------------------------------------------------

    def _retrying(
        self, aggregate_id: UUID, load: Callable[[], A], method: str, fields: dict[str, Any]
    ) -> A:
        """Run ``method`` on fresh state, re-running it after a lost race."""
        for attempt in range(1, self.max_attempts + 1):
            aggregate = load()
            self._translating(method, getattr(aggregate, method), **fields)
            try:
                with _store_errors():
                    self.save(aggregate)
            except RecordConflictError:
                _back_off(attempt)
                continue
            self._remember(aggregate)
            return aggregate
        raise ConcurrencyError(aggregate_id, self.max_attempts, type(aggregate).__name__.lower())

    def _save_new(self, *aggregates: PydanticAggregate, taken: Callable[[], Exception]) -> None:
        """Save just-created aggregates at once; an id already taken raises ``taken()``."""
        try:
            with _store_errors():
                self.save(*aggregates)
        except RecordConflictError:
            raise taken() from None
        for aggregate in aggregates:
            self._remember(aggregate)

    def _remember(self, aggregate: PydanticAggregate) -> None:
        # The aggregate just saved is exactly the stored state: caching it spares the next
        # command from reading back and re-applying its own events. (Events from other
        # processes still arrive by fast-forward, so the cache never goes stale.)
        cache = self.repository.cache
        if cache is not None and self.repository.fastforward:
            cache.put(aggregate.id, aggregate)

    def _get(self, aggregate_id: UUID, version: int | None = None) -> Any:
        """Load an aggregate (``AggregateNotFoundError`` passes through)."""
        with _store_errors():
            return self.repository.get(aggregate_id, version=version, projector_func=_project)

    def _translating(self, what: str, function: Callable[..., R], **fields: Any) -> R:
        """Call ``function``, turning pydantic's validation errors into ``InvalidInputError``."""
        try:
            return function(**fields)
        except ValidationError as error:
            raise InvalidInputError.from_pydantic(what, error) from None

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The events are committed by now, so a failing snapshot must not fail the
        # command (a caller would retry and duplicate it). Snapshots only save time;
        # another process may also have taken the same one already.
        try:
            super()._take_snapshots(processing_event)
        except PersistenceError as error:
            logger.warning("snapshot not taken, replay will be slower: %s", error)


S = TypeVar("S", bound=Service)


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


def _default_policy(policy: Policy | None, threshold: Decimal | str | float | None) -> Policy:
    base = policy or Policy()
    if threshold is None:
        return base
    try:
        # via str() so that 0.8 means 0.8, not the binary float nearest to it
        value = Decimal(str(threshold)) if isinstance(threshold, float) else Decimal(threshold)
    except (ArithmeticError, ValueError, TypeError):
        value = Decimal(-1)
    if not Decimal(0) < value <= 1:
        raise ConfigurationError(f"rectification_threshold must be in (0, 1], got {threshold!r}")
    return base.model_copy(update={"rectification_threshold": value})


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
            password=postgres_password(env),
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
