"""Trying again after a fault that passes, and after a race lost to another counter.

Several processes read and count the same views. What one of them meets because
another is busy (a locked SQLite file, a PostgreSQL deadlock or serialization
failure) or because the database dropped its connection is tried again after a
pause that doubles each time, for a few seconds at most; what is left then is a
``BackendUnavailableError`` that says so. A batch counted from figures another
counter has moved on since is a lost race, not a fault: counted again at once, and
after ``MOVED_RETRIES`` such losses in a row the counter gives up with a
``ConcurrencyError``. A fault that does not pass (a missing table) is not retried.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from typing import TypeVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.persistence import RecordConflictError

from civicflow.errors import BackendUnavailableError, ConcurrencyError
from civicflow.storage.errors import schema_mismatch, transient
from civicflow.views.tables import ViewsMovedError

T = TypeVar("T")

MOVED_RETRIES = 20
FAULT_BUDGET = 5.0  # seconds spent retrying faults before giving up
FIRST_PAUSE = 0.02
LONGEST_PAUSE = 0.5
VIEWS_ID = uuid5(NAMESPACE_URL, "civicflow:views")


def retried(
    action: Callable[[], T],
    doing: str,
    *,
    races: bool = False,
    recover: Callable[[], None] | None = None,
    progress: Callable[[], int] | None = None,
) -> T:
    """``action()``, tried again after transient faults (and lost races, if ``races``).

    ``recover`` is called after each fault, before the pause (to drop dead connections).
    ``progress`` counts what the attempts kept (batches committed): while it grows,
    faults are not one lasting fault, and the budget and the pause start again.

    Raises:
        BackendUnavailableError: a transient fault lasted longer than ``FAULT_BUDGET``.
        ConcurrencyError: with ``races``, other counters won ``MOVED_RETRIES`` times in a row.
    """
    started = time.monotonic()
    pause, faults, lost = FIRST_PAUSE, 0, 0
    kept = progress() if progress is not None else 0
    while True:
        try:
            return action()
        except Exception as error:
            if transient(error):
                fault: Exception = error
            elif (mismatch := schema_mismatch(error)) is not None:
                raise mismatch from None  # a table of another shape: no retry can help
            elif races and isinstance(error, (ViewsMovedError, RecordConflictError)):
                lost += 1
                if lost >= MOVED_RETRIES:
                    raise ConcurrencyError(VIEWS_ID, MOVED_RETRIES, "views") from None
                continue
            else:
                raise
        faults += 1
        if progress is not None and progress() != kept:
            started, pause, kept = time.monotonic(), FIRST_PAUSE, progress()
        waited = time.monotonic() - started
        if waited + pause > FAULT_BUDGET:
            raise BackendUnavailableError(
                f"the views' database kept failing while {doing} ({faults} attempts over "
                f"{waited:.1f} s; the last: {_first_line(fault)}); it may be restarting or "
                "overloaded: try again later"
            ) from None
        if recover is not None:
            with contextlib.suppress(Exception):  # a recovery that fails changes nothing
                recover()
        time.sleep(pause * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not secrets
        pause = min(pause * 2, LONGEST_PAUSE)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
