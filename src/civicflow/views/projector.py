"""Turning events into view rows: one method per fact that a view counts.

The projector keeps in memory only what is as big as the views themselves (the
structure, one small row per proposal) and collects the rows one batch of the
log changes; the store writes them with the batch's tracking record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import cache
from operator import attrgetter
from typing import Any
from uuid import UUID

from civicflow import lifecycle
from civicflow.directory import Directory
from civicflow.lifecycle import Stage
from civicflow.proposal import Proposal
from civicflow.resident import Resident
from civicflow.values import Outcome
from civicflow.views.tracker import Placement, StructureTracker

ASK, DISCUSS, RATE = "ask", "discuss", "rate"


@dataclass
class ProposalRow:
    """One proposal as the pipeline view sees it."""

    proposal_id: str
    title: str
    category: str
    scope_id: str
    compound: str | None
    community: str | None
    street: str | None
    district: str | None
    stage: str
    asked_at: str
    round: int = 0
    decided_at: str | None = None
    deadline: str | None = None
    done_at: str | None = None
    published_at: str | None = None
    finished_at: str | None = None

    def values(self) -> tuple[Any, ...]:
        return _row_values(self)


_row_values = attrgetter(*(f.name for f in fields(ProposalRow)))


@dataclass
class Batch:
    """The rows one stretch of the log changes."""

    proposals: dict[str, ProposalRow] = field(default_factory=dict)
    ratings: dict[tuple[str, int, str], tuple[Any, ...]] = field(default_factory=dict)
    participation: set[tuple[Any, ...]] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.proposals) + len(self.ratings) + len(self.participation)


class Projector:
    """Applies events to the structure tracker and to the rows of the current batch."""

    def __init__(self, tracker: StructureTracker, proposals: dict[str, ProposalRow]) -> None:
        self.tracker = tracker
        self.proposals = proposals
        self.batch = Batch()
        self._by_uuid: dict[UUID, ProposalRow] = {}  # spares a str(UUID) per event
        self._handlers: dict[type, Callable[[Any], object]] = {
            Proposal.Asked: self._asked,
            Proposal.Backed: self._backed,
            Proposal.Discussed: self._discussed,
            Proposal.Decided: self._decided,
            Proposal.Done: self._done,
            Proposal.Published: self._published,
            Proposal.Rated: self._rated,
            Proposal.RatingClosed: self._closed,
            Proposal.Withdrawn: self._withdrawn,
            Proposal.ProgressReported: self._moved,
        }

    def apply(self, event: object) -> None:
        """Count one event of the log, in log order."""
        handler = self._handlers.get(type(event))
        if handler is None:
            handler = self._handlers[type(event)] = self._handler_for(event)
        handler(event)

    def _handler_for(self, event: object) -> Callable[[Any], object]:
        if isinstance(event, Directory.Event):
            return self.tracker.apply_directory_event
        if isinstance(event, Resident.Event):
            return self.tracker.apply_resident_event
        return _ignore  # events no view counts (snapshots, other aggregates)

    def take_batch(self) -> Batch:
        """The rows changed since the last call, and a fresh batch for what follows."""
        batch, self.batch = self.batch, Batch()
        return batch

    # --- proposal facts -------------------------------------------------------------

    def _asked(self, event: Proposal.Asked) -> None:
        where = self.tracker.place(event.area_id, event.occurred_at)
        row = ProposalRow(
            proposal_id=str(event.originator_id),
            title=event.title,
            category=event.category,
            scope_id=event.area_id,
            compound=where.areas[0] or None,
            community=where.areas[1] or None,
            street=where.areas[2] or None,
            district=where.areas[3] or None,
            stage=Stage.ASKED.value,
            asked_at=_iso(event.occurred_at),
        )
        self._touch(row)
        self._took_part(event.resident, ASK, row, event.occurred_at)

    def _backed(self, event: Proposal.Backed) -> None:
        row = self._moved(event)
        self._took_part(event.resident, ASK, row, event.occurred_at)

    def _discussed(self, event: Proposal.Discussed) -> None:
        row = self._moved(event)
        # With community rules off nobody is known to be a member: count every attendee.
        for resident in event.residents_present:
            self._took_part(resident, DISCUSS, row, event.occurred_at)

    def _decided(self, event: Proposal.Decided) -> None:
        row = self._moved(event)
        if event.outcome is not Outcome.DEFERRED and row.decided_at is None:
            row.decided_at = _iso(event.occurred_at)
        if event.outcome is Outcome.APPROVED:
            row.round = 1
            row.deadline = event.deadline.isoformat() if event.deadline else None
        if event.outcome is Outcome.REJECTED:
            row.finished_at = _iso(event.occurred_at)

    def _done(self, event: Proposal.Done) -> None:
        row = self._moved(event)
        row.done_at = row.done_at or _iso(event.occurred_at)

    def _published(self, event: Proposal.Published) -> None:
        row = self._moved(event)
        if row.done_at is not None and row.published_at is None:
            row.published_at = _iso(event.occurred_at)

    def _rated(self, event: Proposal.Rated) -> None:
        row = self._moved(event)
        where = self.tracker.place(row.scope_id, event.occurred_at)
        key = (row.proposal_id, event.round, event.resident)
        self.batch.ratings[key] = (
            *key,
            event.level.value,
            _iso(event.occurred_at),
            where.quarter,
            *where.areas,
        )
        self._took_part(event.resident, RATE, row, event.occurred_at, known=where)

    def _closed(self, event: Proposal.RatingClosed) -> None:
        row = self._moved(event)
        if event.passed:
            row.finished_at = _iso(event.occurred_at)
        else:
            row.round = event.round + 1

    def _withdrawn(self, event: Proposal.Withdrawn) -> None:
        self._moved(event).finished_at = _iso(event.occurred_at)

    def _moved(self, event: Proposal.Event) -> ProposalRow:
        """The proposal's row, with the stage this event leads to."""
        row = self._by_uuid.get(event.originator_id)
        if row is None:
            row = self._by_uuid[event.originator_id] = self.proposals[str(event.originator_id)]
        row.stage = _next_stage(row.stage, event.step, event.branch())
        self.batch.proposals[row.proposal_id] = row
        return row

    def _touch(self, row: ProposalRow) -> None:
        self.proposals[row.proposal_id] = row
        self.batch.proposals[row.proposal_id] = row

    def _took_part(
        self,
        resident: str,
        kind: str,
        row: ProposalRow,
        moment: datetime,
        known: Placement | None = None,
    ) -> None:
        # A resident counts where they lived at the time; without a known home,
        # where the proposal is. ``known`` is the proposal's placement at this moment,
        # reused when the home is the proposal's own compound (the usual case).
        area = self.tracker.home_of(resident, moment) or row.scope_id
        where = (
            known
            if known is not None and area == row.scope_id
            else self.tracker.place(area, moment)
        )
        self.batch.participation.add((resident, kind, where.quarter, *where.areas))


def _ignore(event: object) -> None:
    pass


@cache
def _next_stage(stage: str, step: lifecycle.Step, branch: str) -> str:
    return lifecycle.target_stage(Stage(stage), step, branch).value


def _iso(moment: datetime) -> str:
    # One zone for every stored moment, so that text order is time order.
    return moment.astimezone(UTC).isoformat()
