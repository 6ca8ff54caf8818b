"""Database failures as civicflow errors: the only place that knows the drivers' exceptions.

eventsourcing wraps most driver errors in its ``PersistenceError`` family, but
not all (SQLite's "file is not a database" comes straight from ``sqlite3`` while
a connection is made, and the views use psycopg directly), so the drivers' own
errors are translated here too, and nowhere else.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import PersistenceError, RecordConflictError
from eventsourcing.utils import TopicError
from pydantic import ValidationError

from civicflow.errors import (
    BackendUnavailableError,
    CivicflowError,
    ConfigurationError,
    UnreadableRecordError,
)


@contextmanager
def storage_errors(doing: str = "using the event store") -> Iterator[None]:
    """Translate database failures; a lost race (``RecordConflictError``) passes through.

    Raises:
        ConfigurationError: the file named is not a database.
        BackendUnavailableError: the database failed or cannot be reached.
    """
    try:
        yield
    except RecordConflictError:
        raise
    except _database_errors() as error:
        raise _translated(doing, error) from None


@contextmanager
def opening_errors(what: str = "the event store") -> Iterator[None]:
    """Like ``storage_errors``, and bad settings or a missing driver become typed errors too.

    Raises:
        ConfigurationError: the settings do not describe a usable database
            (eventsourcing reports a missing or malformed setting as an ``OSError``).
        BackendUnavailableError: the database failed, cannot be reached, or its
            driver is not installed.
    """
    try:
        with storage_errors(f"opening {what}"):
            yield
    except CivicflowError:
        raise  # already typed (a BackendUnavailableError is also an OSError)
    except ImportError as error:
        raise BackendUnavailableError(
            f"cannot open {what}: {error} (PostgreSQL needs the postgres extra: "
            "pip install 'civicflow[postgres]')"
        ) from None
    except (EventSourcingError, OSError, ValueError) as error:
        raise ConfigurationError(f"cannot configure {what}: {error}") from None


@contextmanager
def reading_errors() -> Iterator[None]:
    """Translate a record that cannot be decoded into ``UnreadableRecordError``.

    Raises:
        UnreadableRecordError: a stored record is damaged or of an unknown kind.
    """
    try:
        yield
    except (ValidationError, TopicError, orjson.JSONDecodeError) as error:
        first_line = str(error).splitlines()[0]
        raise UnreadableRecordError(f"a stored record cannot be read: {first_line}") from None


def transient(error: BaseException) -> bool:
    """Whether ``error`` is a fault that passes: a lost connection, a lock or a deadlock.

    SQLite's "database is locked" and "busy"; on PostgreSQL every ``OperationalError``
    (a terminated or lost connection, a deadlock, a serialization failure, a lock or
    pool timeout). A missing table or a damaged file is no such fault: trying again
    would meet it again.
    """
    if isinstance(error, CivicflowError):
        return False  # already judged and translated
    psycopg = sys.modules.get("psycopg")
    context = None if error.__suppress_context__ else error.__context__
    for candidate in (error, error.__cause__, context):
        if isinstance(candidate, sqlite3.OperationalError):
            return any(word in str(candidate) for word in ("locked", "busy"))
        if psycopg is not None and isinstance(candidate, psycopg.OperationalError):
            return True
    return False


def _database_errors() -> tuple[type[Exception], ...]:
    """eventsourcing's and the loaded drivers' errors (psycopg's once PostgreSQL is used).

    Evaluated only when an exception is on its way out, so psycopg is never imported
    here: if it is not loaded, none of its errors can have been raised.
    """
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return (PersistenceError, sqlite3.Error)
    return (PersistenceError, sqlite3.Error, psycopg.Error)


def _translated(doing: str, error: Exception) -> CivicflowError:
    for candidate in (error, error.__cause__, error.__context__):
        if isinstance(candidate, sqlite3.DatabaseError) and "not a database" in str(candidate):
            return ConfigurationError(f"the file is not a database (or is damaged): {candidate}")
    return BackendUnavailableError(f"the database failed while {doing}: {error}")
