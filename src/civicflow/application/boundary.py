"""The error boundary every public call goes through, and the base of the use-case groups.

Whatever the store or a stored record does wrong, a caller sees a
``CivicflowError``: storage failures, records this code cannot read, and a
conflicting write that no retry absorbed are all translated here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from eventsourcing.persistence import RecordConflictError

from civicflow.application.context import Context
from civicflow.errors import BackendUnavailableError
from civicflow.storage.errors import reading_errors, storage_errors

P = ParamSpec("P")
R = TypeVar("R")


def public(method: Callable[P, R]) -> Callable[P, R]:
    """Mark a use case as public: only ``CivicflowError`` leaves it."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with storage_errors(), reading_errors():
                return method(*args, **kwargs)
        except RecordConflictError as error:
            raise BackendUnavailableError(f"the event store refused a write: {error}") from None

    return call


class UseCases:
    """A group of use cases: it holds the shared context and nothing else."""

    _ctx: Context
