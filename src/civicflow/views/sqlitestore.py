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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._checkpointing_less = weakref.WeakSet()
        super().__init__(*args, **kwargs)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.get_connection(commit=commit) as connection:
            if commit and connection not in self._checkpointing_less:
                # Batches rewrite the same pages (this quarter's rows, the proposals)
                # again and again: copied back from the write-ahead log ten times less
                # often, most copies are spared. Only this connection's commits wait
                # for 10,000 pages; the application's keep SQLite's 1,000.
                connection.cursor().execute("PRAGMA wal_autocheckpoint = 10000")
                self._checkpointing_less.add(connection)
            with connection.transaction(commit=commit) as cursor:
                yield cursor

    def insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def close(self) -> None:
        self.datastore.close()

    @property
    def writes_in_background(self) -> bool:
        # No: sqlite3 releases the GIL for each row's step and takes it back to bind
        # the next, so a writer thread mostly waits for the counting thread's GIL;
        # measured, a rebuild took a tenth longer. (And one in-memory database is
        # one connection, which threads must not share.)
        return False

    def create_table(self) -> None:
        self.refuse_newer_views()  # before creating anything newer code may have dropped
        super().create_table()
        with self.transaction(commit=True) as c:
            self.create_view_tables(c)
