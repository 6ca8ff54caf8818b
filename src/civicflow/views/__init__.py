"""Views: satisfaction, participation, pipeline and the quarterly review, from the log.

``Views`` sits next to a ``CivicFlow`` application. It pulls the notification log
in pages (SQLite has no subscription; PostgreSQL can also follow live), counts
each event exactly once thanks to eventsourcing's tracking records, and can be
rebuilt from scratch at any time, which is how a changed definition rolls out.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from civicflow.errors import ConfigurationError
from civicflow.storage import rawlog
from civicflow.storage.errors import storage_errors
from civicflow.storage.rawlog import Row
from civicflow.views.backend import open_for, private_memory
from civicflow.views.figures import Participation, Pipeline, Review, Satisfaction
from civicflow.views.projector import Projector
from civicflow.views.reading import Figures
from civicflow.views.tables import ViewTables
from civicflow.views.tracker import quarter_of
from civicflow.views.writer import BatchWriter, old_objects_left_alone

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.domain.community.structure import Structure

__all__ = [
    "Figures",
    "Participation",
    "Pipeline",
    "Review",
    "Satisfaction",
    "Views",
    "quarter_of",
]


class Views(Figures):
    """The figures of ``docs/views.md`` for the store of ``flow``.

    Args:
        flow: the application whose notification log the views count.
        settings: eventsourcing settings of the database that keeps the views;
            by default the events' own database (a private in-memory SQLite
            database when the events are kept in memory).
        k: the smallest number of residents a shown figure may come from.
        batch_size: notifications counted per transaction while catching up.

    Any number of processes may open and query views while another counts: opening
    only reads when the tables exist, each query reads one committed state, and a
    fault that passes (a locked file, a lost connection, a deadlock) is retried for
    a few seconds before it becomes a ``BackendUnavailableError``.

    Raises:
        ConfigurationError: ``k`` or ``batch_size`` is below 1, or the settings do not
            describe a database.
        ViewsSchemaError: newer code built the views (their schema stamp is newer than
            this code's); they are left untouched.
        ViewsEncryptionError: the views are encrypted under another key, or the store is not.
        BackendUnavailableError: the views' database failed, cannot be reached, or
            needs a driver that is not installed.
    """

    def __init__(
        self,
        flow: CivicFlow,
        *,
        settings: dict[str, str] | None = None,
        k: int = 5,
        batch_size: int = 2000,
        tables: ViewTables | None = None,
    ) -> None:
        if k < 1 or batch_size < 1:
            raise ConfigurationError("k and batch_size must be at least 1")
        super().__init__(tables or open_for(flow, settings), k=k, clock=flow.clock)
        self.flow = flow
        self.batch_size = batch_size
        self._lock = threading.Lock()
        # What the last catch-up counted with, and the position it left the views at.
        self._kept: tuple[int, Projector] | None = None
        # The structure a protection was decided with, once the projector is let go.
        self._kept_structure: tuple[object, Structure] | None = None
        self._following = 0  # follow() under way: its catch-ups resume from ``_kept``

    def close(self) -> None:
        """Release the views' database connections.

        Raises:
            BackendUnavailableError: the database failed while its connections closed.
        """
        with storage_errors("closing the views"):
            self.tables.close()

    def __enter__(self) -> Views:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- keeping views up to date -------------------------------------------------

    @property
    def position(self) -> int:
        """The id of the last notification counted (0 before any).

        Raises:
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        with storage_errors("reading the position"):
            return self._retried(self.tables.position, "reading the position")

    @classmethod
    def as_of(cls, flow: CivicFlow, moment: datetime, *, k: int = 5) -> Views:
        """The views as they stood at ``moment``: counted from the log recorded up to then.

        They live in a private in-memory database; close them when done.

        Raises:
            ConfigurationError: ``k`` is below 1.
            BackendUnavailableError: the event store failed while its log was read.
        """
        views = cls(flow, settings=private_memory(), k=k)
        try:
            views.catch_up(until=moment)
        except BaseException:
            views.close()
            raise
        return views

    def catch_up(
        self,
        limit: int | None = None,
        *,
        until: datetime | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Count the notifications recorded since the last catch-up; returns how many.

        Reads the log in pages of ``batch_size`` and commits each page with its
        tracking record, so memory stays bounded by the views, and a crash loses
        at most the page in progress (which is then counted again, once).
        ``progress(done, total)``, if given, is called after each page: how far into
        the log (in notification ids) this catch-up is, of how far it has to go.

        Raises:
            ConcurrencyError: other processes kept counting at the same time, so this
                one gave up; nothing it counted is lost, try again later.
            ViewsSchemaError: newer code has rebuilt the views since they were opened.
            SchemaMismatchError: a view table does not have the shape civicflow expects.
            NewerRecordError: the log holds a record newer code wrote; nothing past
                it is counted.
            BackendUnavailableError: the event store or the views' database failed, and
                still failed after a few seconds of retries (or failed for good); the
                pages already committed stay counted.
        """
        counted = [0]  # what committed batches hold, over every attempt
        start: list[int] = []  # where the first attempt started (progress counts from it)
        with self._lock, storage_errors("counting the log"):
            self._retried(
                lambda: self._count(limit, until, counted, progress, start),
                "counting the log",
                True,
            )
        return counted[0]

    def _count(
        self,
        limit: int | None,
        until: datetime | None,
        counted: list[int],
        progress: Callable[[int, int], None] | None = None,
        start: list[int] | None = None,
    ) -> None:
        current = self.tables.position()
        top = self.flow.recorder.max_notification_id() or 0
        if current >= top:
            return  # nothing new: spare loading every figure (follow() polls this)
        if start is not None and not start:
            start.append(current)
        first = start[0] if start else current
        projector, position = self._resume(current)
        writer = BatchWriter(self.tables)
        count, mapper = projector.count, self.flow.mapper
        try:
            left = None if limit is None else limit - counted[0]
            with old_objects_left_alone(), writer:
                for page in self._pages(position, left):
                    gc.freeze()
                    last, size = None, 0
                    for row in page:
                        if not count(row, mapper, until):
                            break
                        last, size = row[0], size + 1
                    if last is not None:
                        tracking = _tracking(self.tables.application_name, last)
                        writer.submit(projector.take_rows(), tracking, position, size)
                        position = last
                        if progress is not None:
                            progress(position - first, top - first)
                    if last != page[-1][0]:
                        break  # reached ``until``
        finally:
            counted[0] += writer.written
        self._kept, self._kept_structure = (position, projector), None

    def _structure_at(self, position: object) -> Structure:
        """The structure the last catch-up left, when the views are still where it left
        them (what it wrote at ``position``); else read from the tables.

        Views that do not follow the log keep only that structure, and let the rest of
        the catch-up's state go (every home, every proposal row: 40 MB for a city) while
        they decide a protection, the peak of their memory: the next catch-up reads it
        back from the tables, as a new process does.
        """
        kept, alone = self._kept, self._kept_structure
        if alone is not None and alone[0] == position:
            return alone[1]
        if kept is None or kept[0] != position:
            return super()._structure_at(position)
        structure = kept[1].tracker.saved_structure
        if not self._following and self._lock.acquire(blocking=False):  # none counting
            try:
                self._kept, self._kept_structure = None, (position, structure)
                kept[1].let_go()
            finally:
                self._lock.release()
        return structure

    def _resume(self, current: int) -> tuple[Projector, int]:
        """A projector standing at the views' position: the one the last catch-up left,
        if no other process has moved the views since, else one loaded from the tables
        (the structure, every home and every proposal row: the views' whole state).
        """
        kept, self._kept = self._kept, None  # given up if this catch-up fails
        if kept is not None and kept[0] == current:
            return kept[1], current
        tracker, rows, position = self.tables.load()
        return Projector(tracker, rows), position

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Forget every figure and count the whole log again; returns how many.

        ``progress(done, total)`` is called after each page counted (``catch_up``).

        The figures are deleted in one transaction: readers see the old ones until it
        commits, and wait for nothing.

        Raises:
            ConcurrencyError: other processes kept counting at the same time.
            ViewsSchemaError: newer code has rebuilt the views; they are left untouched.
            BackendUnavailableError: the event store or the views' database failed.
        """
        with self._lock, storage_errors("emptying the views"):
            self._kept = None
            self._retried(self.tables.empty, "emptying the views")
        return self.catch_up(progress=progress)

    def follow(self, stop: threading.Event, poll_interval: float = 0.5) -> None:
        """Keep catching up until ``stop`` is set: live on PostgreSQL, by polling elsewhere.

        Raises:
            ConcurrencyError: other processes kept counting at the same time.
            ViewsSchemaError, SchemaMismatchError, NewerRecordError: as ``catch_up``;
                following stops, and starting it again cannot help.
            BackendUnavailableError: the event store or the views' database failed;
                following stops, and may be started again.
        """
        self._following += 1
        try:
            subscribe = getattr(self.flow.recorder, "subscribe", None)
            if subscribe is not None and "postgres" in type(self.flow.recorder).__module__:
                with storage_errors("following the log"):
                    self._follow_live(stop)
                return
            while not stop.is_set():
                if not self.catch_up():
                    stop.wait(poll_interval)
        finally:
            self._following -= 1

    def _pages(self, after: int, limit: int | None) -> Iterator[Sequence[Row]]:
        """The log after ``after`` as raw rows (``storage/rawlog.py``: no record object
        nor UUID per row), in pages of ``batch_size``, ``limit`` rows at most.
        """
        remaining = limit
        while remaining is None or remaining > 0:
            size = self.batch_size if remaining is None else min(self.batch_size, remaining)
            page = next(rawlog.rows(self.flow.recorder, after, size), None)
            if not page:
                return
            yield page
            after = page[-1][0]
            if remaining is not None:
                remaining -= len(page)

    def _follow_live(self, stop: threading.Event) -> None:
        self.catch_up()
        with self.flow.recorder.subscribe(gt=self.position) as subscription:

            def stop_when_asked() -> None:
                stop.wait()
                subscription.stop()

            threading.Thread(target=stop_when_asked, daemon=True).start()
            for _ in subscription:
                # Count what arrived (and anything after it) in pages, with tracking.
                self.catch_up()
                if stop.is_set():
                    break


def _tracking(application_name: str, notification_id: int) -> Any:
    from eventsourcing.persistence import Tracking

    return Tracking(application_name=application_name, notification_id=notification_id)
