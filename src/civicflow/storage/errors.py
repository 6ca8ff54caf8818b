"""Database failures as civicflow errors: the only place that knows the drivers' exceptions.

eventsourcing wraps most driver errors in its ``PersistenceError`` family, but
not all (SQLite's "file is not a database" comes straight from ``sqlite3`` while
a connection is made, and the views use psycopg directly), so the drivers' own
errors are translated here too, and nowhere else.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import (
    ConnectionUnavailableError,
    PersistenceError,
    RecordConflictError,
)
from eventsourcing.utils import TopicError
from pydantic import ValidationError

from civicflow.errors import (
    BackendUnavailableError,
    CivicflowError,
    ConfigurationError,
    SchemaMismatchError,
    UnreadableRecordError,
)
from civicflow.errors.reasons import because


@contextmanager
def storage_errors(doing: str = "using the event store") -> Iterator[None]:
    """Translate database failures; a lost race (``RecordConflictError``) passes through.

    A lost race is a duplicate primary key (of an event, a snapshot or a tracking
    record); any other refused write means a table is not as civicflow made it.

    Raises:
        SchemaMismatchError: a table does not have the shape civicflow expects
            (an extra NOT NULL column, a missing column, another constraint).
        ConfigurationError: the file named is not a database.
        BackendUnavailableError: the database failed or cannot be reached.
    """
    try:
        yield
    except RecordConflictError as error:
        mismatch = schema_mismatch(error)
        if mismatch is not None:
            raise mismatch from None
        raise
    except _database_errors() as error:
        raise (schema_mismatch(error) or _translated(doing, error)) from None


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
        with storage_errors(because("opening {what}", what=what)):
            yield
    except CivicflowError:
        raise  # already typed (a BackendUnavailableError is also an OSError)
    except ImportError as error:
        raise BackendUnavailableError(
            because(
                "cannot open {what}: {error} (PostgreSQL needs the postgres extra: "
                "pip install 'civicflow[postgres]')",
                what=what,
                error=str(error),
            )
        ) from None
    except (EventSourcingError, TopicError, OSError, ValueError) as error:
        said = because("cannot configure {what}: {error}", what=what, error=str(error))
        raise ConfigurationError(said) from None


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


def schema_mismatch(error: BaseException) -> SchemaMismatchError | None:
    """A ``SchemaMismatchError`` if ``error`` says a table does not have the expected shape.

    None for a lost race (a duplicate primary key, or eventsourcing's own refusal of
    a tracking position) and for failures that have nothing to do with the tables.
    """
    for candidate in (error, error.__cause__, error.__context__):
        if isinstance(candidate, sqlite3.Error):
            return _sqlite_mismatch(candidate)
        psycopg = sys.modules.get("psycopg")
        if psycopg is not None and isinstance(candidate, psycopg.Error):
            return _postgres_mismatch(candidate)
    return None


# SQLite's messages name the table (and column) in the same places every time.
_SQLITE_SHAPES = (
    re.compile(r"^table (?P<table>\S+) has \d+ columns but \d+ values were supplied$"),
    re.compile(r"^table (?P<table>\S+) has no column named \S+$"),
    re.compile(r"^no such column: (?P<table>)\S+$"),
)
_SQLITE_NAMED = re.compile(r"^(?:NOT NULL|UNIQUE) constraint failed: (?P<table>\w+)\.")


def _sqlite_mismatch(error: sqlite3.Error) -> SchemaMismatchError | None:
    message = str(error)
    if isinstance(error, sqlite3.IntegrityError):
        if getattr(error, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_PRIMARYKEY":
            return None  # a lost race
        named = _SQLITE_NAMED.match(message)  # a CHECK names its expression, not its table
        return SchemaMismatchError(named.group("table") if named else None, message)
    for shape in _SQLITE_SHAPES:
        found = shape.match(message)
        if found:
            return SchemaMismatchError(found.group("table") or None, message)
    return None


# PostgreSQL's SQLSTATEs for a table of another shape: integrity violations other than
# a duplicate key, a column that is missing, a value of the wrong type for its column,
# a COPY that finds the table has columns it does not fill.
_POSTGRES_SHAPES = ("23502", "23503", "23514", "23P01", "42703", "42804", "22P04")


def _postgres_mismatch(error: Any) -> SchemaMismatchError | None:
    diag = error.diag
    state = error.sqlstate or ""
    if state == "0A000" and "cached plan must not change result type" in str(error):
        # A statement this process prepared reads a table that has changed since.
        problem = "it changed while this process was using it; open the store again"
        return SchemaMismatchError(None, f"{problem} ({str(error).strip()})")
    if state == "23505" and diag.constraint_name == f"{diag.table_name}_pkey":
        return None  # a lost race
    if state != "23505" and state not in _POSTGRES_SHAPES:
        return None
    problem = (diag.message_primary or str(error)).strip()
    if diag.column_name:
        problem += f" (column {diag.column_name})"
    if diag.constraint_name:
        problem += f" (constraint {diag.constraint_name})"
    return SchemaMismatchError(diag.table_name, problem)


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
            said = because(
                "the file is not a database (or is damaged): {error}", error=str(candidate)
            )
            return ConfigurationError(said)
    failure = BackendUnavailableError(
        because("the database failed while {doing}: {error}", doing=doing, error=str(error))
    )
    failure.unsent = unsent(error)
    return failure


def unsent(error: BaseException) -> bool:
    """Whether ``error`` says no connection was had (a pool's wait timed out), so no
    statement was sent: a write that failed so wrote nothing.
    """
    pool = sys.modules.get("psycopg_pool")
    never_connected: tuple[type[BaseException], ...] = (ConnectionUnavailableError,)
    if pool is not None:
        never_connected = (ConnectionUnavailableError, pool.PoolTimeout)
    chain = (error, error.__cause__, error.__context__)
    return any(isinstance(candidate, never_connected) for candidate in chain)
