"""Running commands exactly once: on fresh state, re-run after a lost race, never twice.

Optimistic concurrency: a command loads the aggregate, acts on it and saves; if
another writer saved first, the save conflicts and the command runs again on
the new state (its rules judged again), up to ``max_attempts`` times. The first
attempt may act on this process's cached copy without reading the store at all:
a copy that fell behind cannot write (its next version is taken) and is never
allowed to refuse, so the store's state has the last word either way.

Exactly once: every command has an id (the caller's idempotency key, or a new
one), recorded in the same transaction as its events. Before running again
after a conflict or a failed write, and before running at all when the caller
gave an id, the command looks itself up: if it is recorded, the result it
recorded is returned instead. A write that fails in a way that leaves the
outcome unknown (the connection dropped around the commit) is retried the same
way; if the store stays unreachable, ``CommandOutcomeUnknownError`` names the
id to retry with.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID, uuid4

from eventsourcing.persistence import RecordConflictError
from pydantic import ValidationError

from civicflow.domain.eventmodel import PydanticAggregate
from civicflow.errors import (
    BackendUnavailableError,
    CivicflowError,
    CommandOutcomeUnknownError,
    ConcurrencyError,
    InvalidInputError,
)

if TYPE_CHECKING:
    from civicflow.application.store import Store

A = TypeVar("A", bound=PydanticAggregate)
R = TypeVar("R")
WRITE_FAILURES = 4  # failed writes a command retries before it says its outcome is unknown


@dataclass(frozen=True)
class CommandId:
    """A command's id, and whether the caller gave it (then it may be recorded already)."""

    id: UUID
    given: bool

    @classmethod
    def of(cls, value: UUID | str | None) -> CommandId:
        """The caller's id, or a new one.

        Raises:
            InvalidInputError: the value is not a UUID.
        """
        if value is None:
            return cls(uuid4(), given=False)
        try:
            return cls(value if isinstance(value, UUID) else UUID(str(value)), given=True)
        except ValueError:
            problem = f"{value!r} is not a UUID"
            raise InvalidInputError("command id", [("command_id", problem)]) from None


class Commands:
    """Runs commands against one store."""

    def __init__(self, store: Store, max_attempts: int) -> None:
        self.store = store
        self.max_attempts = max_attempts

    def update(
        self,
        aggregate_id: UUID,
        what: str,
        load: Callable[[], A],
        act: Callable[[A], object],
        command: CommandId | None = None,
        *,
        kind: type[A] | None = None,
    ) -> A:
        """Load, ``act`` and save once, re-running on fresh state after a lost race.

        With ``kind``, the first attempt acts on this process's cached copy of the
        aggregate (when it is a ``kind``) without reading the store: the save of a copy
        that fell behind conflicts, and a refusal is never judged on it, so either way
        the command runs again on fresh state, at no cost to ``max_attempts``.

        Raises:
            InvalidInputError: ``act`` built an event from malformed values.
            ConcurrencyError: every attempt lost its race.
            CommandOutcomeUnknownError: the store failed during a write and stayed failing.
            BackendUnavailableError: the store failed before anything was written.
        """
        run = _Run(self.store, command or CommandId.of(None), aggregate_id)
        cached = self._cached(aggregate_id, kind)
        attempt = 0
        while attempt < self.max_attempts:
            recorded = run.recorded()
            if recorded is not None:
                return recorded  # type: ignore[return-value]  # the aggregate this command left
            if cached is not None:
                aggregate, cached = cached, None
                if _acted(what, act, aggregate) and run.saved(aggregate):
                    return aggregate
                continue  # the copy was behind, or refused: judge again on the store's state
            aggregate = run.guarded(load)
            validated(what, functools.partial(act, aggregate))
            if run.saved(aggregate):
                return aggregate
            attempt += 1
            _back_off(attempt)
        raise ConcurrencyError(aggregate_id, self.max_attempts, what=run.kind)

    def _cached(self, aggregate_id: UUID, kind: type[A] | None) -> A | None:
        if kind is None:
            return None
        aggregate = self.store.cached(aggregate_id)
        # Another kind under this id (a proposal command given the directory's id, say):
        # the fresh load answers with the error it always gave.
        return aggregate if isinstance(aggregate, kind) else None

    def create(
        self,
        what: str,
        make: Callable[[], Sequence[A]],
        taken: Callable[[], Exception],
        command: CommandId,
    ) -> list[A]:
        """Build and save new aggregates once; an id already taken raises ``taken()``.

        ``make`` must build the same ids every time (from the command id, say): a
        write whose outcome is unknown is looked up by them.

        Raises:
            InvalidInputError: ``make`` got malformed values.
            CommandOutcomeUnknownError: the store failed during a write and stayed failing.
            BackendUnavailableError: the store failed before anything was written.
        """
        run: _Run | None = None
        while True:
            aggregates = list(validated(what, make))
            run = run or _Run(self.store, command, aggregates[0].id)
            recorded = run.recorded_all(aggregates)
            if recorded is not None:
                return recorded
            if run.saved(*aggregates):
                return aggregates
            if run.conflicted and run.recorded_all(aggregates) is None:
                raise taken()


class _Run:
    """One command's attempts: its id, and what the store said to its writes."""

    def __init__(self, store: Store, command: CommandId, aggregate_id: UUID) -> None:
        self.store = store
        self.command = command.id
        self.aggregate_id = aggregate_id
        self.look_up = command.given  # the caller's id may be recorded already
        # With the caller's id, an earlier call may have recorded the command: once
        # the store fails, what became of it is unknown, whichever call wrote it.
        self.uncertain = command.given
        self.failure: BackendUnavailableError | None = None
        self.failures = 0
        self.conflicted = False
        self.kind = "aggregate"

    def recorded(self) -> PydanticAggregate | None:
        """The aggregate as this command left it, if the command is recorded."""
        if not self.look_up:
            return None
        version = self.guarded(lambda: self.store.recorded_version(self.command, self.aggregate_id))
        if version is None:
            return None
        return self.guarded(lambda: self.store.load(self.aggregate_id, version))  # type: ignore[no-any-return]

    def recorded_all(self, aggregates: Sequence[A]) -> list[A] | None:
        """New aggregates as this command recorded them, if it is recorded."""
        if self.recorded() is None:
            return None
        return [self.guarded(functools.partial(self._load, a)) for a in aggregates]

    def _load(self, aggregate: A) -> A:
        loaded: A = self.store.load(aggregate.id, aggregate.version)
        return loaded

    def saved(self, *aggregates: PydanticAggregate) -> bool:
        """Save; False when the save must be looked up and maybe run again."""
        self.kind = type(aggregates[0]).__name__.lower()
        try:
            self.store.keep(*aggregates, command=self.command)
        except RecordConflictError:
            self.conflicted = self.look_up = True  # a lost race, or this very command
            return False
        except BackendUnavailableError as error:
            if error.unsent and self.failure is None and not self.uncertain:
                raise  # nothing reached the store, and no earlier write is in doubt
            self.failure, self.look_up, self.uncertain = error, True, True
            self.failures += 1
            if self.failures >= WRITE_FAILURES:
                raise CommandOutcomeUnknownError(self.command, str(error)) from None
            time.sleep(0.1 * 2**self.failures)
            return False
        return True

    def guarded(self, read: Callable[[], R]) -> R:
        """Read; once a write failed, a failing read leaves the outcome unknown."""
        try:
            return read()
        except BackendUnavailableError as error:
            if self.failure is None and not self.uncertain:
                raise
            raise CommandOutcomeUnknownError(self.command, str(error)) from None


def _acted(what: str, act: Callable[[A], object], aggregate: A) -> bool:
    """``act`` on a cached copy; False if it refused (the store's state may not refuse)."""
    try:
        validated(what, functools.partial(act, aggregate))
    except CivicflowError:
        return False
    return True


def validated(what: str, make: Callable[[], R]) -> R:
    """``make()``, with pydantic's validation errors as ``InvalidInputError`` about ``what``.

    Raises:
        InvalidInputError: a value is missing, malformed or out of range.
    """
    try:
        return make()
    except ValidationError as error:
        raise InvalidInputError.from_pydantic(what, error) from None


def _back_off(attempt: int) -> None:
    # Jittered, capped exponential back-off so that racing writers spread out.
    time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))  # noqa: S311
