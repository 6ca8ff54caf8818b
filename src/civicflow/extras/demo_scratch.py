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

from eventsourcing.persistence import StoredEvent

from civicflow.application.context import Clock
from civicflow.application.flow import CivicFlow
from civicflow.application.store import Store
from civicflow.domain.community.directory import DIRECTORY_ID, Directory
from civicflow.domain.community.residents import resident_uuid

CACHED = 1000  # aggregates a scratch store keeps: the directory, a stretch's residents


class ScratchStore(Store):
    """civicflow's store, taking snapshots only when asked (the directory's handover).

    Automatic snapshots of the directory (its whole state every 100 events) would
    grow with the district squared; the target takes its own when it is read.
    """

    snapshotting_intervals: ClassVar[dict[Any, int]] = {}


class Scratch(CivicFlow):
    """A ``CivicFlow`` over a ``ScratchStore``."""

    store_class: ClassVar[type[Store]] = ScratchStore


def scratch(target: CivicFlow, clock: Clock) -> CivicFlow:
    """An in-memory store sealing with the target's key (the records keep their seals)."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "AUDIT_KEY": target.env.get("AUDIT_KEY") or "",
        "IS_SNAPSHOTTING_ENABLED": "y",  # for the directory's handover, never automatic
        "AGGREGATE_CACHE_MAXSIZE": str(CACHED),
        # One writer, so a cached aggregate is never stale: a hit need not look for newer
        # events (the in-memory recorder scans the aggregate's whole history to find them,
        # and the directory's history grows with the district).
        "AGGREGATE_CACHE_FASTFORWARD": "n",
    }
    env.update({f"CIVICFLOW_{k}": v for k, v in env.items()})
    return Scratch(env, clock=clock)


@dataclass(frozen=True)
class Handover:
    """The directory as one stretch left it, for the next stretch's store.

    Its state is immutable, so the aggregate itself goes into the next store's
    cache (no replay of the directory's history, which grows with the district);
    its snapshot is there too, in case the cache lets it go.
    """

    directory: Directory
    snapshot: StoredEvent  # stored, not as the event: a city's directory as JSON is large

    @classmethod
    def of(cls, flow: CivicFlow) -> Handover:
        directory: Directory = flow.repository.get(DIRECTORY_ID)
        snapshot = flow.mapper.to_stored_event(Directory.Snapshot.take(directory))
        return cls(directory, snapshot)

    def seed(self, flow: CivicFlow) -> None:
        """Give ``flow`` (a new scratch store, sealing with the same key) the directory."""
        if flow.snapshots is not None:  # a scratch store keeps snapshots
            flow.snapshots.recorder.insert_events([self.snapshot])
        cache = flow.repository.cache
        if cache is not None:
            cache.put(DIRECTORY_ID, self.directory)


def seed_residents(flow: CivicFlow, target: CivicFlow, residents: Iterable[str]) -> int:
    """Copy the records of ``residents`` from the target into ``flow``; returns how many."""
    return flow.copy_aggregates_from(target, [resident_uuid(r) for r in residents])


@contextmanager
def long_lived() -> Iterator[None]:
    """Keep every object alive now (the community: directory, compounds, residents) out of
    the garbage collector's passes until the block ends.

    A full collection walks every tracked object, and the community lives to the end: its
    passes would grow with the city times its events (10.5 s of a city's 83 s to build,
    0.4 s of the district's 7 s).
    """
    gc.collect()  # what is garbage already is not kept for the block's length
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
