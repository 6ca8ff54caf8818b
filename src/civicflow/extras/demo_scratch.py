"""Where the demo builds: in-memory stores, each holding only what its stretch of work reads.

Every step goes through the commands and their rules in an in-memory store
sealing with the target's key; the target then gets the new records in one
streamed transaction (one transaction per step would cost a disk flush each).
A stretch's store is seeded with the directory (handed over, not replayed) and
the residents its proposals name, so neither memory nor time per stretch grows
with the community already registered.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import LRUCache

from civicflow.application.context import Clock
from civicflow.application.flow import CivicFlow
from civicflow.application.store import Store
from civicflow.domain.community.directory import DIRECTORY_ID, Directory
from civicflow.views.collecting import collector_paused

CACHED = 1000  # aggregates a scratch store keeps: the directory, a stretch's residents


class ScratchStore(Store):
    """civicflow's store, taking no snapshots: a stretch's store lives for one stretch.

    Automatic snapshots of the directory (its whole state every 100 events) would
    grow with the district squared; the target takes its own when it is read.
    """

    snapshotting_intervals: ClassVar[dict[Any, int]] = {}


class Scratch(CivicFlow):
    """A ``CivicFlow`` over a ``ScratchStore``."""

    store_class: ClassVar[type[Store]] = ScratchStore


class _DirectoryKept(LRUCache[UUID, Any]):
    """A scratch store's aggregate cache, which never lets the directory go.

    A stretch reads the directory for nearly every command, and its store holds none of
    the directory's history: the handover puts the aggregate here, where eviction would
    lose it. (It was snapshotted at each handover instead, in case: 90 ms each for a
    city's directory as JSON, and a city hands over once per district.)
    """

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self.directory: Any = None

    def get(self, key: UUID, *, evict: bool = False) -> Any:
        if key == DIRECTORY_ID and self.directory is not None:
            return self.directory
        return super().get(key, evict=evict)

    def put(self, key: UUID, value: Any) -> Any:
        if key == DIRECTORY_ID and value is not None:
            self.directory = value
            return None, None
        return super().put(key, value)


def scratch(target: CivicFlow, clock: Clock) -> CivicFlow:
    """An in-memory store sealing with the target's key (the records keep their seals)."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "AUDIT_KEY": target.env.get("AUDIT_KEY") or "",
        "AGGREGATE_CACHE_MAXSIZE": str(CACHED),
        # One writer, so a cached aggregate is never stale: a hit need not look for newer
        # events (the in-memory recorder scans the aggregate's whole history to find them,
        # and the directory's history grows with the district).
        "AGGREGATE_CACHE_FASTFORWARD": "n",
    }
    env.update({f"CIVICFLOW_{k}": v for k, v in env.items()})
    flow = Scratch(env, clock=clock)
    flow.repository.cache = _DirectoryKept(CACHED)
    return flow


@dataclass(frozen=True)
class Handover:
    """The directory as one stretch left it, for the next stretch's store.

    Its state is immutable, so the aggregate itself goes into the next store's
    cache, which keeps it (no replay of the directory's history, which grows with
    the district, and no snapshot of it).
    """

    directory: Directory

    @classmethod
    def of(cls, flow: CivicFlow) -> Handover:
        return cls(flow.repository.get(DIRECTORY_ID))

    def seed(self, flow: CivicFlow) -> None:
        """Give ``flow`` (a new scratch store, sealing with the same key) the directory."""
        cache = flow.repository.cache
        if cache is None:  # pragma: no cover - scratch() always gives one
            raise TypeError("a scratch store has an aggregate cache")
        cache.put(DIRECTORY_ID, self.directory)


def seed_residents(flow: CivicFlow, target: CivicFlow, residents: Iterable[UUID]) -> int:
    """Copy the records of ``residents`` (their aggregate ids) from the target into
    ``flow``; returns how many."""
    return flow.copy_aggregates_from(target, residents)


@contextmanager
def long_lived() -> Iterator[None]:
    """Keep every object alive now (the community: directory, compounds, residents) out of
    the garbage collector's passes until the block ends, and pause its automatic passes:
    ``let_go`` collects once after each store the block is done with.

    A full collection walks every tracked object, and the community lives to the end: its
    passes would grow with the city times its events (10.5 s of a city's 83 s to build,
    0.4 s of the district's 7 s). Frozen, it is skipped; but each stretch's own objects
    (its in-memory log, its aggregates) still set off passes as they grow: 2.4 s more of
    a city's 47 s, 0.1 s of the district's 4 s.
    """
    gc.collect()  # what is garbage already is not kept for the block's length
    gc.freeze()
    try:
        with collector_paused():
            yield
    finally:
        gc.unfreeze()


def let_go() -> None:
    """Collect what a finished store left (the caller holds it no longer): an
    application's objects refer to each other, so without the automatic passes its log
    would stay in memory until the block ends. What is still alive is kept (the
    community, the outcome so far), frozen as the block began: the next collection
    walks only the next store's objects.
    """
    gc.collect()
    gc.freeze()
