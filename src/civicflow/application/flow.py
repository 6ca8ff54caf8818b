"""``CivicFlow``: the application an embedding program creates, one per process.

It is the sum of seven groups of use cases (deliberation, delivery, the
community, its councils, its residents, the queries, the audit), each a class of its own over
one shared ``Context``; no group calls another. The eventsourcing application
underneath is ``store``; the members of it that embedding programs use
(``recorder``, ``mapper``, ``repository``, ``env``...) are passed through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar
from uuid import UUID

from eventsourcing.application import Repository
from eventsourcing.persistence import ApplicationRecorder, EventStore, Mapper
from eventsourcing.utils import EnvType

from civicflow.application.auditing import Auditing
from civicflow.application.boundary import public
from civicflow.application.community import CommunityCommands
from civicflow.application.context import Clock, Context, utc_now
from civicflow.application.councils import CouncilCommands
from civicflow.application.delivery import Delivery
from civicflow.application.queries import Queries
from civicflow.application.residents import ResidentCommands
from civicflow.application.steps import Deliberation
from civicflow.application.store import Store
from civicflow.audit.publishing import Transparency
from civicflow.audit.signing import Verifier
from civicflow.domain.community.policy import Policy
from civicflow.domain.eventmodel import PydanticAggregate
from civicflow.errors import ConfigurationError
from civicflow.errors.reasons import because
from civicflow.storage.opening import discard_store, prepare_store
from civicflow.storage.settings import application_env

F = TypeVar("F", bound="CivicFlow")


class CivicFlow(
    Deliberation,
    Delivery,
    CommunityCommands,
    CouncilCommands,
    ResidentCommands,
    Queries,
    Auditing,
):
    """Six-step community deliberation (问议定办晒评) as an event-sourced application.

    Args:
        env: eventsourcing settings; they override the process environment,
            which overrides civicflow's defaults (see ``docs/api.md``).
        clock: where "now" comes from; tests pass a fake one.
        max_clock_skew: how far in the future ``occurred_at`` may lie.
        policy: the rules used where no district or community set their own.
        rectification_threshold: shortcut for ``policy.rectification_threshold``.
        community_rules: check eligibility and quorum against the registered
            structure (default); False leaves that to the embedding application.
        max_attempts: how many times a command is re-run on fresh state after
            losing an optimistic-concurrency race before giving up.
        transparency: sign the log's tree head and append it to a public feed at
            every Publish step and checkpoint, and every N records or T minutes
            (``civicflow.Transparency``; see ``docs/audit.md``). None: no heads.

    Raises:
        ConfigurationError: a setting cannot be used, or the store is not a database.
        BackendUnavailableError: the database cannot be reached.
    """

    name: ClassVar[str] = Store.name
    store_class: ClassVar[type[Store]] = Store  # a subclass may tune snapshots or the cache

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
        transparency: Transparency | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ConfigurationError(because("max_attempts must be at least 1"))
        default_policy = _default_policy(policy, rectification_threshold)
        self.store = self.store_class(env)
        self._ctx = Context(
            self.store,
            clock=clock,
            max_clock_skew=max_clock_skew,
            default_policy=default_policy,
            community_rules=community_rules,
            max_attempts=max_attempts,
            transparency=transparency,
        )

    @classmethod
    def open(cls, url: str, *, create: bool = True, **options: Any) -> Self:
        """Open the store at ``url``: ``memory://``, ``sqlite:///path.db`` or ``postgresql://...``.

        ``create=False`` opens a store for reading: one that is not there (no such
        file, schema or events table) is refused, and nothing is written in its
        place. ``memory://`` is always a new, empty store. ``options`` are the
        constructor's; ``env`` among them adds settings.

        Raises:
            StoreNotFoundError: ``create`` is False and there is no store at ``url``.
            ConfigurationError: the URL is not one civicflow understands, or it names a
                database or a role that does not exist.
            BackendUnavailableError: the database cannot be reached.
        """
        env = application_env(url, cls.name, options.pop("env", None))
        prepare_store(env, cls.name, create=create)
        return cls(env, **options)

    @classmethod
    def import_into(
        cls,
        url: str,
        lines: Iterable[str],
        *,
        verifier: Verifier | None = None,
        progress: Callable[[int, int], None] | None = None,
        **options: Any,
    ) -> int:
        """Load an events export into the store at ``url``, made if missing; returns how many.

        All or nothing: the file is checked whole first (see ``import_events``), and a
        store this call made is removed again if the import fails. ``progress`` is
        ``import_events``'s.

        Raises:
            RuleViolationError: the store has events already.
            ImportRefusedError: a check failed; it names the first bad line.
            InvalidInputError: the export is malformed.
            ConfigurationError: the URL cannot be used.
            BackendUnavailableError: the database cannot be reached or failed; nothing
                was imported.
        """
        env = application_env(url, cls.name, options.pop("env", None))
        existed = prepare_store(env, cls.name)
        try:
            with cls(env, **options) as flow:
                return flow.import_events(lines, verifier=verifier, progress=progress)
        except BaseException:
            if not existed:
                discard_store(env, cls.name)
            raise

    # --- settings -----------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """Where "now" comes from."""
        return self._ctx.clock

    @property
    def community_rules(self) -> bool:
        """Whether steps are checked against the registered community."""
        return self._ctx.community_rules

    @property
    def default_policy(self) -> Policy:
        """The rules used where no district or community set their own."""
        return self._ctx.default_policy

    @property
    def rectification_threshold(self) -> Decimal:
        """The default threshold, used where no district or community set one."""
        return self._ctx.default_policy.rectification_threshold

    @property
    def max_attempts(self) -> int:
        """How often a command is re-run after a lost race."""
        return self._ctx.commands.max_attempts

    # --- the eventsourcing application underneath -----------------------------------------

    @property
    def env(self) -> EnvType:
        """The settings the store was opened with."""
        return self.store.env

    @property
    def recorder(self) -> ApplicationRecorder:
        """The store's recorder (the notification log, for views and tools)."""
        return self.store.recorder

    @property
    def mapper(self) -> Mapper[UUID]:
        """The mapper between events and stored records."""
        return self.store.mapper

    @property
    def repository(self) -> Repository[UUID]:
        """The repository of aggregates (with its cache)."""
        return self.store.repository

    @property
    def events(self) -> EventStore[UUID]:
        """The event store."""
        return self.store.events

    @property
    def snapshots(self) -> EventStore[UUID] | None:
        """The snapshot store, when snapshotting is on."""
        return self.store.snapshots

    @public
    def save(self, *aggregates: PydanticAggregate) -> None:
        """Save aggregates built outside the use cases (bulk loads, benchmarks).

        Raises:
            BackendUnavailableError: the database failed.
        """
        self.store.keep(*aggregates)

    @public
    def close(self) -> None:
        """Close the store's connections.

        Raises:
            BackendUnavailableError: the database failed while closing.
        """
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


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
        said = because("rectification_threshold must be in (0, 1], got {value!r}", value=threshold)
        raise ConfigurationError(said)
    return base.model_copy(update={"rectification_threshold": value})
