"""Before eventsourcing opens a store: is it there, may it be made, and undoing a new one.

Opening a store with eventsourcing makes it: the SQLite file, the PostgreSQL tables.
Reading must never do that, so a store opened with ``create=False`` is looked for
first, with a connection that cannot make anything (SQLite read-only, PostgreSQL
catalogue queries), and refused when it is not there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from civicflow.errors import StoreNotFoundError
from civicflow.errors.reasons import because
from civicflow.storage import postgres
from civicflow.storage.errors import opening_errors

SQLITE_EVENTS = "stored_events"  # eventsourcing's SQLite tables keep fixed names
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def prepare_store(env: Mapping[str, str], name: str, *, create: bool = True) -> bool:
    """Make ready to open the store ``env`` names; returns whether it existed already.

    With ``create``, a missing PostgreSQL schema is made; without, a store that is
    not there is refused before anything is written. A store kept in memory never
    exists before it is opened, and leaves nothing behind: it is always allowed.

    Raises:
        StoreNotFoundError: not ``create``, and there is no store there.
        ConfigurationError: the database or the role does not exist, or the file is
            not a database.
        BackendUnavailableError: the database cannot be reached.
    """
    with opening_errors():
        module = env.get("PERSISTENCE_MODULE", "")
        if "postgres" in module:
            return postgres.prepare(env, create=create, events_table=_pg_events(name))
        if "sqlite" in module and not _in_memory(env):
            return _sqlite_exists(env["SQLITE_DBNAME"], create=create)
        return False


def discard_store(env: Mapping[str, str], name: str) -> None:
    """Remove a store that ``prepare_store`` found missing and opening then made.

    Raises:
        ConfigurationError: the database or the role does not exist.
        BackendUnavailableError: the database cannot be reached.
    """
    with opening_errors("the new store to remove it"):
        module = env.get("PERSISTENCE_MODULE", "")
        if "postgres" in module:
            prefix = name.lower()
            tables = tuple(f"{prefix}_{kind}" for kind in ("events", "snapshots", "tracking"))
            postgres.discard(env, tables)
        elif "sqlite" in module and not _in_memory(env):
            for suffix in SQLITE_SUFFIXES:
                Path(env["SQLITE_DBNAME"] + suffix).unlink(missing_ok=True)


def _pg_events(name: str) -> str:
    return f"{name.lower()}_events"  # eventsourcing names the table after the application


def _in_memory(env: Mapping[str, str]) -> bool:
    return "mode=memory" in env.get("SQLITE_DBNAME", "")


def kept_in_memory(env: Mapping[str, str]) -> bool:
    """Whether the store of ``env`` lives in its application's memory (``memory://``, or
    an in-memory SQLite database): it ends when the application closes."""
    module = env.get("PERSISTENCE_MODULE", "")
    return "postgres" not in module and ("sqlite" not in module or _in_memory(env))


def _sqlite_exists(path: str, *, create: bool) -> bool:
    if not Path(path).is_file():
        if create:
            return False
        raise StoreNotFoundError(because("file {path}", path=path), "does not exist")
    # Read-only: looking must not turn an empty file into a database.
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        found = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SQLITE_EVENTS,)
        ).fetchone()
    if found is None and not create:
        raise StoreNotFoundError(because("file {path}", path=path), "holds no civicflow events")
    return found is not None


def recovering(factory: object) -> None:
    """After eventsourcing opened a store: a PostgreSQL pool learns to drop dead connections.

    See ``civicflow.storage.pgpool``; imported here only for PostgreSQL, so that a
    SQLite user never loads psycopg.
    """
    if "postgres" in type(factory).__module__:
        from civicflow.storage import pgpool

        pgpool.recovering(factory)
