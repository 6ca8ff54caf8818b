"""Turning events into view rows: one method per fact that a view counts.

The projector keeps in memory only what is as big as the views themselves (the
structure, one small row per proposal) and collects the rows one batch of the
log changes; the store writes them with the batch's tracking record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from civicflow import lifecycle
from civicflow.lifecycle import Stage
from civicflow.proposal import Proposal
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
        return tuple(asdict(self).values())


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
        if self.tracker.apply(event):
            return
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

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
            compound=where.compound,
            community=where.community,
            street=where.street,
            district=where.district,
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
            *_areas(where),
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
        row = self.proposals[str(event.originator_id)]
        row.stage = lifecycle.target_stage(Stage(row.stage), event.step, event.branch()).value
        self._touch(row)
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
        self.batch.participation.add((resident, kind, where.quarter, *_areas(where)))


def _areas(where: Placement) -> tuple[str, ...]:
    # '' rather than NULL above a scope: NULLs never collide in a primary key.
    return (where.compound or "", where.community or "", where.street or "", where.district or "")


def _iso(moment: datetime) -> str:
    # One zone for every stored moment, so that text order is time order.
    return moment.astimezone(UTC).isoformat()
