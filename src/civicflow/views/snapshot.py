"""Reads that see one committed state of the views, however many queries they take.

A figure's protection is decided from every count of the views (``publication.py``)
and the figure then read: both must come from one position of the log, or a reader
could see counts one batch later than the protection that decided what to hide. A
``reading()`` block holds one read transaction (SQLite's snapshot of the write-ahead
log; PostgreSQL's repeatable read) that every read of the same thread inside it shares.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Snapshots:
    """``reading()`` for the view tables (which define ``transaction``)."""

    def transaction(self, *, commit: bool) -> Any:
        raise NotImplementedError  # pragma: no cover - every backend defines it

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A read transaction: the one this thread holds open, else a new one."""
        local = self.__dict__.setdefault("_reader", threading.local())
        held = getattr(local, "cursor", None)
        if held is not None:
            yield held
            return
        with self.transaction(commit=False) as cursor:
            local.cursor = cursor
            try:
                yield cursor
            finally:
                local.cursor = None
