"""Turning events into view rows: one method per fact that a view counts.

The projector keeps in memory only what is as big as the views themselves (the
structure, one small row per proposal) and collects the rows one batch of the
log changes; the store writes them with the batch's tracking record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.utils import TopicError, resolve_topic

from civicflow.domain import lifecycle
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident
from civicflow.domain.lifecycle import Stage, Step
from civicflow.domain.proposal import Proposal
from civicflow.domain.values import Outcome
from civicflow.storage.mapper import PydanticMapper
from civicflow.storage.rawlog import Row
from civicflow.views.rows import Batch, ProposalRow, Rows
from civicflow.views.tracker import Placement, StructureTracker

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

ASK, DISCUSS, RATE = "ask", "discuss", "rate"
RECENT_QUARTERS = 2
_FromStored = Callable[[str, dict[str, Any]], None]  # (aggregate id as text, fields)
_Route = tuple[_FromStored, Callable[[Row], dict[str, Any]]]  # counting, and reading fields
_UNROUTED: Any = object()


class Projector:
    """Applies events to the structure tracker and to the rows of the current batch."""

    def __init__(self, tracker: StructureTracker, proposals: dict[str, ProposalRow]) -> None:
        self.tracker = tracker
        self.proposals = proposals
        self.batch = Batch()
        self._by_id: dict[str, ProposalRow] = {}  # by the id as read (see ``_row``)
        self._routes: dict[str, _Route | None] = {}  # by topic
        # Participation keys of the recent quarters, by quarter.
        self._written: dict[str, set[tuple[Any, ...]]] = {}
        # Ratings are most of a log, and a view needs four of their fields: these,
        # backings and registrations (the next most common) are counted from their
        # stored fields (upcast, not validated again), sparing the building of a
        # pydantic event. Both ways give the same rows; a test holds it.
        # So are the steps whose events carry large fields no view reads (a decision's
        # or a publication's policy, a report's evidence): validating those was most of
        # the cost of the rest of a log.
        self._from_stored: dict[type, _FromStored] = {
            Proposal.Rated: self._rated_stored,
            Proposal.Backed: self._backed_stored,
            Resident.Registered: tracker.register_from_stored,
            Proposal.Decided: self._decided_stored,
            Proposal.ProgressReported: self._progress_stored,
            Proposal.Done: self._done_stored,
            Proposal.Published: self._published_stored,
            Proposal.RatingClosed: self._closed_stored,
            Proposal.Withdrawn: self._withdrawn_stored,
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

    def let_go(self) -> None:
        """Forget how to count, so that the projector holds no reference to itself: let
        go, it and its state (a city's: 80 MB) are freed at once, not at the cyclic
        collector's next pass (which a protection pauses). Not to be used after.
        """
        self._routes.clear()
        self._from_stored.clear()
        self._handlers.clear()

    def count(self, row: Row, mapper: Mapper[UUID], until: datetime | None = None) -> bool:
        """Count one record of the log (a raw row, ``storage/rawlog.py``), in log order;
        False (nothing counted) if the event was recorded after ``until``.
        """
        route = self._routes.get(row[3], _UNROUTED)
        if route is _UNROUTED:
            route = self._routes[row[3]] = self._route(row[3], mapper)
        if route is None:
            event: Any = mapper.to_domain_event(_record(row))
            if until is not None and event.timestamp > until:
                return False
            self.apply(event)
            return True
        count_fields, read = route
        state = read(row)
        if until is not None and datetime.fromisoformat(state["timestamp"]) > until:
            return False
        count_fields(row[1], state)
        return True

    def _route(self, topic: str, mapper: Mapper[UUID]) -> _Route | None:
        """How to count records of this topic: from their stored fields, or decoded."""
        if not isinstance(mapper, PydanticMapper):
            return None
        try:
            cls = resolve_topic(topic)
        except TopicError:
            return None  # decoding it raises the error that says newer code wrote it
        counted = self._from_stored.get(cls)
        return None if counted is None else (counted, mapper.fields_reader(cls))

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
            homes=tracker.home_rows(),
        )
        tracker.saved_structure = tracker.structure
        return rows

    def _not_yet_written(self, participation: set[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # Who took part is written once per resident, kind, quarter and place; most
        # repeats fall in the quarters being counted, so the keys of the latest ones
        # are remembered (older repeats are left to the table's key), by quarter: a
        # late fact of an old quarter brings it back, and forgetting a quarter again
        # must not cost a pass over every key kept.
        by_quarter: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        for key in participation:
            by_quarter[key[2]].add(key)
        fresh: list[tuple[Any, ...]] = []
        for quarter, keys in by_quarter.items():
            known = self._written.setdefault(quarter, set())
            new = keys - known
            known |= new
            fresh += new
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
        self._backing(str(event.originator_id), event.occurred_at, event.resident)

    def _backed_stored(self, proposal_id: str, state: dict[str, Any]) -> None:
        self._backing(proposal_id, datetime.fromisoformat(state["occurred_at"]), state["resident"])

    def _backing(self, proposal_id: str, moment: datetime, resident: str) -> None:
        row = self._move(proposal_id, Step.BACK)
        self._took_part(resident, ASK, row, moment)

    def _discussed(self, event: Proposal.Discussed) -> None:
        row = self._moved(event)
        moment = event.occurred_at.astimezone(UTC)  # once, not once per attendee
        # With community rules off nobody is known to be a member: count every attendee.
        for resident in event.residents_present:
            self._took_part(resident, DISCUSS, row, moment)

    def _decided(self, event: Proposal.Decided) -> None:
        deadline = event.deadline.isoformat() if event.deadline else None
        self._decision(str(event.originator_id), event.outcome, _iso(event.occurred_at), deadline)

    def _decided_stored(self, proposal_id: str, state: dict[str, Any]) -> None:
        outcome = Outcome(state["outcome"])
        self._decision(proposal_id, outcome, _iso_text(state["occurred_at"]), state["deadline"])

    def _decision(self, proposal_id: str, outcome: Outcome, iso: str, deadline: str | None) -> None:
        row = self._move(proposal_id, Step.DECIDE, outcome)
        if outcome is not Outcome.DEFERRED and row.decided_at is None:
            row.decided_at = iso
        if outcome is Outcome.APPROVED:
            row.round = 1
            row.deadline = deadline
        if outcome is Outcome.REJECTED:
            row.finished_at = iso

    def _progress_stored(self, proposal_id: str, state: dict[str, Any]) -> None:
        self._move(proposal_id, Step.REPORT_PROGRESS)

    def _done(self, event: Proposal.Done) -> None:
        self._completion(str(event.originator_id), _iso(event.occurred_at))

    def _done_stored(self, proposal_id: str, state: dict[str, Any]) -> None:
        self._completion(proposal_id, _iso_text(state["occurred_at"]))

    def _completion(self, proposal_id: str, iso: str) -> None:
        row = self._move(proposal_id, Step.COMPLETE)
        row.done_at = row.done_at or iso

    def _published(self, event: Proposal.Published) -> None:
        self._publication(str(event.originator_id), _iso(event.occurred_at))

    def _published_stored(self, proposal_id: str, state: dict[str, Any]) -> None:
        self._publication(proposal_id, _iso_text(state["occurred_at"]))

    def _publication(self, proposal_id: str, iso: str) -> None:
        row = self._move(proposal_id, Step.PUBLISH)
        if row.done_at is not None and row.published_at is None:
            row.published_at = iso

    def _rated(self, event: Proposal.Rated) -> None:
        moment = event.occurred_at
        self._rating(
            str(event.originator_id),
            moment,
            _iso(moment),
            event.round,
            event.resident,
            event.level.value,
        )

    def _rated_stored(self, proposal_id: str, state: dict[str, Any]) -> None:
        # Most of a log: ``_rating`` and ``_took_part`` written out in one function.
        text = state["occurred_at"]
        moment = datetime.fromisoformat(text)
        row = self._by_id.get(proposal_id)
        if row is None:
            row = self._by_id[proposal_id] = self._row(proposal_id)
        row.stage = _next_stage(row.stage, Step.RATE, None)
        batch, tracker, scope, resident = self.batch, self.tracker, row.scope_id, state["resident"]
        batch.proposals[row.proposal_id] = row
        where = tracker.place(scope, moment)
        key = (row.proposal_id, state["round"], resident)
        iso = _iso_text(text, moment)
        batch.ratings[key] = (*key, state["level"], iso, where.quarter, *where.areas)
        home = tracker.home_of(resident, moment)
        if home is not None and home != scope:
            where = tracker.place(home, moment)
        batch.participation.add((resident, RATE, where.quarter, *where.areas))

    def _rating(  # noqa: PLR0917 - the fields of a rating, positional for speed
        self, proposal_id: str, moment: datetime, iso: str, round_: int, resident: str, level: str
    ) -> None:
        row = self._move(proposal_id, Step.RATE)
        where = self.tracker.place(row.scope_id, moment)
        key = (row.proposal_id, round_, resident)
        self.batch.ratings[key] = (*key, level, iso, where.quarter, *where.areas)
        self._took_part(resident, RATE, row, moment, known=where)

    def _closed(self, event: Proposal.RatingClosed) -> None:
        iso = _iso(event.occurred_at)
        self._closing(str(event.originator_id), event.passed, event.round, iso)

    def _closed_stored(self, proposal_id: str, state: dict[str, Any]) -> None:
        iso = _iso_text(state["occurred_at"])
        self._closing(proposal_id, state["passed"], state["round"], iso)

    def _closing(self, proposal_id: str, passed: bool, round_: int, iso: str) -> None:
        verdict = lifecycle.Verdict.PASSED if passed else lifecycle.Verdict.RECTIFY
        row = self._move(proposal_id, Step.CLOSE_RATING, verdict)
        if passed:
            row.finished_at = iso
        else:
            row.round = round_ + 1

    def _withdrawn(self, event: Proposal.Withdrawn) -> None:
        self._moved(event).finished_at = _iso(event.occurred_at)

    def _withdrawn_stored(self, proposal_id: str, state: dict[str, Any]) -> None:
        self._move(proposal_id, Step.WITHDRAW).finished_at = _iso_text(state["occurred_at"])

    def _moved(self, event: Proposal.Event) -> ProposalRow:
        """The proposal's row, with the stage this event leads to."""
        return self._move(str(event.originator_id), event.step, event.branch())

    def _move(
        self, proposal_id: str, step: Step, branch: lifecycle.Branch | None = None
    ) -> ProposalRow:
        row = self._by_id.get(proposal_id)
        if row is None:
            row = self._by_id[proposal_id] = self._row(proposal_id)
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

    def _row(self, proposal_id: str) -> ProposalRow:
        """The row of a proposal by its id as read: the text of its UUID, or (an id spelt
        otherwise in the database, which eventsourcing reads as the same UUID) parsed.
        """
        row = self.proposals.get(proposal_id)
        return row if row is not None else self.proposals[str(UUID(proposal_id))]


def _record(row: Row) -> Notification:
    """The record eventsourcing would have read for a raw row, for the mapper to decode."""
    position, aggregate_id, version, topic, data = row
    return Notification(
        id=position,
        originator_id=UUID(aggregate_id),
        originator_version=version,
        topic=topic,
        state=data,
    )


def _ignore(event: object) -> None:
    pass


@cache
def _next_stage(stage: str, step: lifecycle.Step, branch: lifecycle.Branch | None) -> str:
    return lifecycle.target_stage(Stage(stage), step, branch).value


def _iso(moment: datetime) -> str:
    # One zone for every stored moment, so that text order is time order.
    return (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat()


def _iso_text(text: str, moment: datetime | None = None) -> str:
    """``_iso`` of a stored moment from its text: stored in UTC (the usual case), the
    text needs only isoformat's suffix; otherwise it is parsed (``moment``, if known).
    """
    if text[-1] == "Z":
        return f"{text[:-1]}+00:00"
    return _iso(moment or datetime.fromisoformat(text))
