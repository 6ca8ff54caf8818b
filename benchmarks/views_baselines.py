"""The baselines the views benchmark holds a rebuild to, and incremental catch-up.

- **raw**: the stored records read as plain rows (one query per page, as
  ``storage/rawlog.py`` reads them) and each record's bytes parsed with
  ``orjson.loads``: the floor of any view that reads every record.
- **bare**: eventsourcing alone reading and decoding a log of its own of the same
  number of events (default mapper and JSON transcoder, dataclass events with the
  fields of a rating), through ``select_notifications`` and ``to_domain_event``.
- **catch-up**: the views counted from nothing in steps of ``step`` events, each
  step a ``catch_up(limit=step)`` of one ``Views`` kept open (as ``follow`` does),
  against a rebuild: the cost per event of keeping up, against counting at once.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from civicflow import CivicFlow
from civicflow.storage import rawlog
from civicflow.storage.settings import env_from_url
from civicflow.views import Views

PAGE = 2000
RATINGS_PER_POLL = 1000


class Poll(Aggregate):
    """A bare aggregate whose events carry a rating's fields."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title

    @event("Rated")
    def rate(self, resident: str, level: str, comment: str | None, round: int, at: str) -> None:
        pass


class BareLog(Application[UUID]):
    """eventsourcing's defaults, no snapshots, no cache: a log written fast, read as is."""

    name = "BareViewsBench"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "", "SQLITE_LOCK_TIMEOUT": "30"}
    snapshotting_intervals: ClassVar[dict[Any, int]] = {}


def open_bare(url: str) -> BareLog:
    return BareLog(env=env_from_url(url))


def build_bare(url: str, events: int) -> int:
    """Write ``events`` events into eventsourcing's own log at ``url``."""
    app, written = open_bare(url), 0
    try:
        while written < events:
            poll = Poll(title=f"poll {written}")
            for n in range(min(RATINGS_PER_POLL, events - written) - 1):
                poll.rate(f"r-{n}", "satisfied", None, 1, "2025-07-26T23:25:07.112661Z")
            written += len(poll.pending_events)
            app.save(poll)
    finally:
        app.close()
    return written


def read_and_decode(app: Application[UUID]) -> int:
    """Every notification of ``app``'s log, page by page, decoded to its domain event."""
    after, count = 0, 0
    while True:
        page = app.recorder.select_notifications(after, PAGE, inclusive_of_start=False)
        if not page:
            return count
        for notification in page:
            app.mapper.to_domain_event(notification)
        count += len(page)
        after = page[-1].id


def raw_read(flow: CivicFlow) -> int:
    """Every record of civicflow's log as a plain row, its bytes parsed by orjson."""
    count = 0
    for page in rawlog.rows(flow.recorder, 0, PAGE):
        for row in page:
            orjson.loads(row[4])
        count += len(page)
    return count


def catch_up_in_steps(flow: CivicFlow, views: Views, step: int) -> int:
    """Empty the views, then count the whole log again ``step`` events at a time."""
    views.tables.empty()
    follower = Views(flow, batch_size=PAGE)
    try:
        counted = 0
        while True:
            found = follower.catch_up(limit=step)
            if not found:
                return counted
            counted += found
    finally:
        follower.close()
