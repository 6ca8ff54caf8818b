"""Writing batches of view rows in order, on a thread of their own.

Counting a page is Python work; writing the page before is database work (SQLite
runs in C with the GIL released, PostgreSQL in its server process). Done one after
the other, a catch-up takes their sum; with the writing handed to a thread, about
the longer of the two. Each batch is still one transaction with its tracking record,
written in log order, so exactly-once and crash safety are those of writing inline.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eventsourcing.persistence import Tracking

    from civicflow.views.rows import Rows
    from civicflow.views.tables import ViewTables

_Job = tuple["Rows", "Tracking", int, int]


class BatchWriter:
    """Writes submitted batches in order; inline where threads cannot share the database.

    Use as a context manager: leaving it waits for every submitted batch, and raises
    the first error writing met (later batches are then not written, as inline).
    """

    def __init__(self, tables: ViewTables) -> None:
        self.tables = tables
        self._jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=1)  # one batch ahead
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.written = 0  # notifications in the batches committed so far
        if tables.writes_in_background:
            self._thread = threading.Thread(target=self._run, name="civicflow-views-writer")

    def __enter__(self) -> BatchWriter:
        if self._thread is not None:
            self._thread.start()
        return self

    def submit(self, rows: Rows, tracking: Tracking, counted_from: int, size: int = 0) -> None:
        """Write (or queue) one batch of ``size`` notifications; raises an earlier error at once.

        Raises:
            ViewsMovedError: another process counted past an earlier batch's start.
            PersistenceError: writing this or an earlier batch failed (or whatever
                other error writing met); ``Views`` translates it.
        """
        self._raise_error()
        # Sealed here, on the counting thread: on the writer's, the cipher's many short
        # calls, each letting go of the GIL, made the two threads wait on each other
        # (measured on PostgreSQL: a rebuild took half as long again, against a sixth).
        rows = self.tables.sealing.rows(rows)
        if self._thread is None:
            self._write((rows, tracking, counted_from, size))
        else:
            self._jobs.put((rows, tracking, counted_from, size))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
        if exc is None:
            self._raise_error()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is None:  # after a failure, later batches must not be written
                try:
                    self._write(job)
                except BaseException as error:
                    self._error = error

    def _write(self, job: _Job) -> None:
        rows, tracking, counted_from, size = job
        self.tables.write(rows, tracking, counted_from)
        self.written += size

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error


@contextmanager
def old_objects_left_alone() -> Iterator[None]:
    """While counting, the cyclic garbage collector looks at each page's objects only.

    A page allocates thousands of objects, which sets off collections that also walk
    everything alive before it: the views' rows and structure, and the embedding
    application's objects. Frozen at each page (``gc.freeze``), those are skipped, and
    they are handed back to the collector at the end. Counting makes no reference
    cycles, so nothing is left for the collector that it would have freed meanwhile
    but another thread's older cyclic garbage, which then waits for the end.
    """
    try:
        yield
    finally:
        gc.unfreeze()
