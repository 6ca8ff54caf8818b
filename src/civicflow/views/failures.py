"""Database failures as civicflow errors: what a caller of ``Views`` may have to handle.

eventsourcing wraps most driver errors in its ``PersistenceError`` family, but not
all (SQLite's "file is not a database" comes straight from ``sqlite3`` while a
connection is made), so the drivers' own errors are translated too. A lost race
between counters is not a failure: ``Views.catch_up`` retries it before this applies.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import PersistenceError

from civicflow.errors import BackendUnavailableError, CivicflowError, ConfigurationError


@contextmanager
def storage_errors(doing: str) -> Iterator[None]:
    """Raise a failing database as ``BackendUnavailableError``, saying what it was ``doing``.

    Raises:
        BackendUnavailableError: the database failed or could not be reached.
    """
    try:
        yield
    except _database_errors() as error:
        raise BackendUnavailableError(f"the database failed while {doing}: {error}") from None


@contextmanager
def opening_errors() -> Iterator[None]:
    """Like ``storage_errors``, and bad settings or a missing driver also become typed errors.

    Raises:
        BackendUnavailableError: the database failed, could not be reached, or its driver
            is not installed.
        ConfigurationError: the settings do not describe a database (eventsourcing
            reports a missing or malformed setting as an ``OSError``).
    """
    try:
        with storage_errors("opening the views"):
            yield
    except CivicflowError:
        raise  # already typed (a BackendUnavailableError is also an OSError)
    except ImportError as error:
        raise BackendUnavailableError(
            f"cannot open the views: {error} (PostgreSQL needs the postgres extra: "
            "pip install 'civicflow[postgres]')"
        ) from None
    except (EventSourcingError, OSError, ValueError) as error:
        raise ConfigurationError(f"cannot configure the views' database: {error}") from None


def _database_errors() -> tuple[type[Exception], ...]:
    """eventsourcing's and the loaded drivers' errors (psycopg's once PostgreSQL is used).

    Evaluated only when an exception is on its way out, so psycopg is never imported
    here: if it is not loaded, none of its errors can have been raised.
    """
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return (PersistenceError, sqlite3.Error)
    return (PersistenceError, sqlite3.Error, psycopg.Error)
