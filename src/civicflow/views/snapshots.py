"""One snapshot for every read of one answer, while another process counts.

What a query shows is decided from many reads (the protection reads every
count) and then read by another: on one snapshot (one read transaction, per
thread), both belong to one position of the log.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Snapshots:
    """``reading()`` and ``_read()`` for a views store whose ``transaction`` reads
    on a snapshot (SQLite in WAL mode; PostgreSQL in REPEATABLE READ)."""

    def transaction(self, *, commit: bool) -> Any:
        raise NotImplementedError  # pragma: no cover - every backend defines it

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Every read inside on one snapshot of the views (one read transaction).

        What is shown is decided from many queries (the protection reads every count)
        and then read by another: on one snapshot, both belong to one position of the
        log even while another process counts. Per thread: threads share the views.
        """
        if getattr(self._snapshot, "cursor", None) is not None:
            yield  # already reading on a snapshot
            return
        with self.transaction(commit=False) as cursor:
            self._snapshot.cursor = cursor
            try:
                yield
            finally:
                self._snapshot.cursor = None

    @contextmanager
    def _read(self) -> Iterator[Any]:
        """A cursor to read with: the snapshot's, inside ``reading``, else a new one."""
        cursor = getattr(self._snapshot, "cursor", None)
        if cursor is not None:
            yield cursor
            return
        with self.transaction(commit=False) as c:
            yield c

    @property
    def _snapshot(self) -> threading.local:
        local: threading.local | None = self.__dict__.get("_snapshot_local")
        if local is None:
            local = self.__dict__.setdefault("_snapshot_local", threading.local())
        return local
