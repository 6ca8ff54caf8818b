"""Running commands on aggregates: on fresh state, re-run after a lost race, errors typed.

Optimistic concurrency: a command loads the aggregate, acts on it and saves; if
another writer saved first, the save conflicts and the command runs again on
the new state (its rules judged again), up to ``max_attempts`` times.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.persistence import RecordConflictError
from pydantic import ValidationError

from civicflow.domain.eventmodel import PydanticAggregate
from civicflow.errors import ConcurrencyError, InvalidInputError

if TYPE_CHECKING:
    from civicflow.application.store import Store

A = TypeVar("A", bound=PydanticAggregate)
R = TypeVar("R")


class Commands:
    """Runs commands against one store."""

    def __init__(self, store: Store, max_attempts: int) -> None:
        self.store = store
        self.max_attempts = max_attempts

    def update(
        self, aggregate_id: UUID, what: str, load: Callable[[], A], act: Callable[[A], object]
    ) -> A:
        """Load, ``act`` and save, re-running on fresh state after a lost race.

        Raises:
            InvalidInputError: ``act`` built an event from malformed values.
            ConcurrencyError: every attempt lost its race.
        """
        for attempt in range(1, self.max_attempts + 1):
            aggregate = load()
            validated(what, functools.partial(act, aggregate))
            try:
                self.store.keep(aggregate)
            except RecordConflictError:
                _back_off(attempt)
                continue
            return aggregate
        raise ConcurrencyError(aggregate_id, self.max_attempts, type(aggregate).__name__.lower())

    def create(self, *aggregates: PydanticAggregate, taken: Callable[[], Exception]) -> None:
        """Save just-created aggregates at once; an id already taken raises ``taken()``."""
        try:
            self.store.keep(*aggregates)
        except RecordConflictError:
            raise taken() from None


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
