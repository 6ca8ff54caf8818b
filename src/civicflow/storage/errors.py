"""Database failures as civicflow errors: the only place that knows the drivers' exceptions.

eventsourcing wraps most driver errors in its ``PersistenceError`` family, but
not all (a SQLite file that is not a database fails while a connection opens),
so both are translated here and nowhere else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
from eventsourcing.persistence import PersistenceError, RecordConflictError
from eventsourcing.utils import TopicError
from pydantic import ValidationError

from civicflow.errors import BackendUnavailableError, ConfigurationError, UnreadableRecordError


@contextmanager
def storage_errors(what: str = "the event store") -> Iterator[None]:
    """Translate database failures; a lost race (``RecordConflictError``) passes through.

    Raises:
        ConfigurationError: the store is not a database civicflow can use.
        BackendUnavailableError: the database failed or cannot be reached.
    """
    try:
        yield
    except RecordConflictError:
        raise
    except (PersistenceError, sqlite3.Error) as error:
        raise _translated(what, error) from None


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


def _translated(what: str, error: Exception) -> Exception:
    cause = error.__cause__ or error.__context__ or error
    if _not_a_database(error) or _not_a_database(cause):
        return ConfigurationError(f"{what} is not a database (or is damaged): {cause}")
    return BackendUnavailableError(f"{what} failed: {error}")


def _not_a_database(error: BaseException) -> bool:
    return isinstance(error, sqlite3.DatabaseError) and "not a database" in str(error)
