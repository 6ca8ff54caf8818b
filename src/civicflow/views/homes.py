"""Residents' homes as the views keep them in memory: compact spans, and their stored JSON.

A view needs each resident's homes to place a fact where the resident lived, and to
count who was registered where at a quarter's end. Kept as a pydantic ``Home`` each (a
model, its set of fields, a ``Change`` per registration, an offset object per moment),
they cost about 1.2 KB a resident: 90 MB of a city's views for 75,000 residents. The
views keep instead a tuple of (UTC instant, compound) spans per resident, shared
between residents registered to one compound at one moment (a district registers a
compound's residents together), and make a ``Home``'s JSON only when a batch writes it.

The table ``cf_view_homes`` keeps a ``Home``'s JSON, as before; its moments are
written in UTC, like every moment the views store, and read back as the same instants.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from datetime import UTC, datetime
from operator import itemgetter

from civicflow.domain.community.residents import Home
from civicflow.domain.timeline import Change

Span = tuple[datetime, str | None]  # from this instant (UTC) on, this compound (None: out)
Spans = tuple[Span, ...]  # in time order, as the resident's events recorded them

_instant = itemgetter(0)


class SpanMaker:
    """Makes spans, sharing equal ones: the last instant and first span made are reused."""

    def __init__(self) -> None:
        self._moment = datetime.min.replace(tzinfo=UTC)
        self._first: Spans = ()

    def first(self, moment: datetime, compound: str | None) -> Spans:
        """The spans of a resident registered to ``compound`` from ``moment``."""
        last = self._first
        span = self.span(moment, compound)
        if last and last[0] == span:
            return last
        self._first = (span,)
        return self._first

    def span(self, moment: datetime, compound: str | None) -> Span:
        if moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        if moment == self._moment:
            moment = self._moment
        self._moment = moment
        return moment, None if compound is None else sys.intern(compound)


def compound_at(spans: Spans, moment: datetime) -> str | None:
    """The compound of the span in force at ``moment`` (None before the first, or out);
    ``moment`` in UTC, where comparing is fastest (see ``tracker.py``).
    """
    if len(spans) == 1:  # most residents never move: spare the search
        return spans[0][1] if spans[0][0] <= moment else None
    index = bisect_right(spans, moment, key=_instant)  # as Home.compound_at does
    return spans[index - 1][1] if index else None


def home_json(resident_id: str, spans: Spans) -> str:
    """The stored form of a resident's homes: a ``Home``'s JSON."""
    changes = tuple(Change[str].model_construct(effective=t, value=v) for t, v in spans)
    return Home.model_construct(resident_id=resident_id, homes=changes).model_dump_json()


def spans_of(stored: str, maker: SpanMaker) -> tuple[str, Spans]:
    """(resident id, spans) from a ``Home``'s JSON, as ``cf_view_homes`` keeps it."""
    home = Home.model_validate_json(stored)
    changes = home.homes
    if len(changes) == 1:
        return home.resident_id, maker.first(changes[0].effective, changes[0].value)
    return home.resident_id, tuple(maker.span(c.effective, c.value) for c in changes)
