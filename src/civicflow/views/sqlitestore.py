"""Views in SQLite: the events' own file, another file, or a private in-memory database."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from civicflow.views.tables import ViewTables


class SQLiteViews(ViewTables, SQLiteTrackingRecorder):
    """Views in a SQLite database (the events' own file, or another)."""

    _checkpointing_less: weakref.WeakSet[Any]  # connections set up as below
    _scrubbing = False  # while views are dropped for good (see ``reset``)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._checkpointing_less = weakref.WeakSet()
        super().__init__(*args, **kwargs)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        if not commit:
            # A read: a snapshot of the write-ahead log, which no writer blocks.
            with self.datastore.transaction(commit=False) as cursor:
                yield cursor
            return
        with self.datastore.get_connection(commit=True) as connection:
            if connection not in self._checkpointing_less:
                # Batches rewrite the same pages (this quarter's rows, the proposals)
                # again and again: copied back from the write-ahead log ten times less
                # often, most copies are spared. Only this connection's commits wait
                # for 10,000 pages; the application's keep SQLite's 1,000.
                connection.cursor().execute("PRAGMA wal_autocheckpoint = 10000")
                self._checkpointing_less.add(connection)
            with connection.cursor() as cursor:
                if self.sealing.stamp is not None:
                    # Views kept in clear, dropped for encrypted ones, are zeroed rather
                    # than left in free pages; other writes need not pay for zeroing.
                    cursor.execute(f"PRAGMA secure_delete = {int(self._scrubbing)}")
                # The write lock first: a deferred transaction that has read cannot wait
                # for the lock (SQLite answers "database is locked" at once), while
                # BEGIN IMMEDIATE waits for it as long as the lock timeout allows.
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()

    def lock_position(self, cursor: Any) -> None:
        pass  # every writing transaction already holds the file's write lock

    def insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def reset(self) -> None:
        self._scrubbing = True
        try:
            super().reset()
        finally:
            self._scrubbing = False
        if self.sealing.stamp is not None:
            # The dropped pages' last images stay in the write-ahead log until it is
            # written back and cut to nothing (if a reader holds on to it, this waits
            # for the lock timeout, then leaves that to the next checkpoint).
            with self.datastore.transaction(commit=False) as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.datastore.close()

    @property
    def writes_in_background(self) -> bool:
        # No: sqlite3 releases the GIL for each row's step and takes it back to bind
        # the next, so a writer thread mostly waits for the counting thread's GIL;
        # measured, a rebuild took a tenth longer. (And one in-memory database is
        # one connection, which threads must not share.)
        return False
