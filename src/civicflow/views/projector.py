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
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from civicflow.domain import lifecycle
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident
from civicflow.domain.lifecycle import Stage, Step
from civicflow.domain.proposal import Proposal
from civicflow.domain.values import Outcome
from civicflow.storage.mapper import PydanticMapper
from civicflow.views.tracker import Placement, StructureTracker

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper, Notification

ASK, DISCUSS, RATE = "ask", "discuss", "rate"
RECENT_QUARTERS = 2
_FromStored = Callable[[UUID, dict[str, Any]], None]
_UNROUTED: Any = object()


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


@dataclass(frozen=True)
class Rows:
    """What one batch writes, ready for the tables: taken from the projector at once,
    so that it can be written while the projector goes on counting.
    """

    proposals: list[tuple[Any, ...]]
    ratings: list[tuple[Any, ...]]
    participation: list[tuple[Any, ...]]
    structure: list[tuple[str, str, str]]
    homes: list[tuple[str, str]]
    sealed: bool = False  # ids and text already as an encrypted store keeps them


class Projector:
    """Applies events to the structure tracker and to the rows of the current batch."""

    def __init__(self, tracker: StructureTracker, proposals: dict[str, ProposalRow]) -> None:
        self.tracker = tracker
        self.proposals = proposals
        self.batch = Batch()
        self._by_uuid: dict[UUID, ProposalRow] = {}  # spares a str(UUID) per event
        self._routes: dict[str, _FromStored | None] = {}  # by topic
        self._written: dict[str, set[tuple[Any, ...]]] = {}  # quarter -> participation keys
        # Ratings are most of a log, and a view needs four of their fields: these,
        # backings and registrations (the next most common) are counted from their
        # stored fields (upcast, not validated again), sparing the building of a
        # pydantic event. Both ways give the same rows; a test holds it.
        self._from_stored: dict[type, _FromStored] = {
            Proposal.Rated: self._rated_stored,
            Proposal.Backed: self._backed_stored,
            Resident.Registered: tracker.register_from_stored,
        }
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

    def count(
        self, notification: Notification, mapper: Mapper[UUID], until: datetime | None = None
    ) -> bool:
        """Count one record of the log, in log order; False (nothing counted) if the
        event was recorded after ``until``.
        """
        from_stored = self._routes.get(notification.topic, _UNROUTED)
        if from_stored is _UNROUTED:
            from_stored = self._routes[notification.topic] = self._route(notification, mapper)
        if from_stored is None:
            event: Any = mapper.to_domain_event(notification)
            if until is not None and event.timestamp > until:
                return False
            self.apply(event)
            return True
        state = cast(PydanticMapper, mapper).current_state(notification)  # _route checked
        if until is not None and datetime.fromisoformat(state["timestamp"]) > until:
            return False
        proposal_id = notification.originator_id
        from_stored(proposal_id if isinstance(proposal_id, UUID) else UUID(proposal_id), state)
        return True

    def _route(self, notification: Notification, mapper: Mapper[UUID]) -> _FromStored | None:
        """How to count records of this topic: from their stored fields, or decoded."""
        if not isinstance(mapper, PydanticMapper):
            return None
        return self._from_stored.get(mapper.event_class(notification))

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

    def take_rows(self) -> Rows:
        """The rows changed since the last call, ready to write; then a fresh batch."""
        batch, self.batch = self.batch, Batch()
        tracker = self.tracker
        rows = Rows(
            proposals=[row.values() for row in batch.proposals.values()],
            ratings=list(batch.ratings.values()),
            participation=self._not_yet_written(batch.participation),
            structure=tracker.structure_rows(),
            homes=[(r, tracker.homes[r].model_dump_json()) for r in sorted(tracker.homes_changed)],
        )
        tracker.saved_structure = tracker.structure
        tracker.homes_changed.clear()
        return rows

    def _not_yet_written(self, participation: set[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # Who took part is written once per resident, kind, quarter and place; most
        # repeats fall in the quarters being counted, so the keys of the latest ones
        # are remembered (older repeats are left to the table's key).
        fresh = []
        for key in participation:
            seen = self._written.setdefault(key[2], set())
            if key not in seen:
                seen.add(key)
                fresh.append(key)
        while len(self._written) > RECENT_QUARTERS:
            del self._written[min(self._written)]
        return fresh

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
        self._backing(event.originator_id, event.occurred_at, event.resident)

    def _backed_stored(self, proposal_id: UUID, state: dict[str, Any]) -> None:
        self._backing(proposal_id, datetime.fromisoformat(state["occurred_at"]), state["resident"])

    def _backing(self, proposal_id: UUID, moment: datetime, resident: str) -> None:
        row = self._move(proposal_id, Step.BACK)
        self._took_part(resident, ASK, row, moment)

    def _discussed(self, event: Proposal.Discussed) -> None:
        row = self._moved(event)
        moment = event.occurred_at.astimezone(UTC)  # once, not once per attendee
        # With community rules off nobody is known to be a member: count every attendee.
        for resident in event.residents_present:
            self._took_part(resident, DISCUSS, row, moment)

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
        moment = event.occurred_at
        self._rating(
            event.originator_id,
            moment,
            _iso(moment),
            event.round,
            event.resident,
            event.level.value,
        )

    def _rated_stored(self, proposal_id: UUID, state: dict[str, Any]) -> None:
        text = state["occurred_at"]
        moment = datetime.fromisoformat(text)
        # Stored in UTC (the usual case), the text needs only isoformat's suffix.
        iso = f"{text[:-1]}+00:00" if text[-1] == "Z" else _iso(moment)
        self._rating(proposal_id, moment, iso, state["round"], state["resident"], state["level"])

    def _rating(  # noqa: PLR0917 - the fields of a rating, positional for speed
        self, proposal_id: UUID, moment: datetime, iso: str, round_: int, resident: str, level: str
    ) -> None:
        row = self._move(proposal_id, Step.RATE)
        where = self.tracker.place(row.scope_id, moment)
        key = (row.proposal_id, round_, resident)
        self.batch.ratings[key] = (*key, level, iso, where.quarter, *where.areas)
        self._took_part(resident, RATE, row, moment, known=where)

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
        return self._move(event.originator_id, event.step, event.branch())

    def _move(
        self, proposal_id: UUID, step: Step, branch: lifecycle.Branch | None = None
    ) -> ProposalRow:
        row = self._by_uuid.get(proposal_id)
        if row is None:
            row = self._by_uuid[proposal_id] = self.proposals[str(proposal_id)]
        row.stage = _next_stage(row.stage, step, branch)
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
def _next_stage(stage: str, step: lifecycle.Step, branch: lifecycle.Branch | None) -> str:
    return lifecycle.target_stage(Stage(stage), step, branch).value


def _iso(moment: datetime) -> str:
    # One zone for every stored moment, so that text order is time order.
    return (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat()
