"""What a proposal is now: the state its events build, read by every query.

Kept apart from the aggregate so the aggregate module holds commands and
events only; the event types in the fields are resolved when ``proposal``
finishes loading (``model_rebuild`` there).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, computed_field

from civicflow.domain import lifecycle
from civicflow.domain.lifecycle import Stage
from civicflow.domain.values import Channel

if TYPE_CHECKING:
    from civicflow.domain.proposal import Proposal

# One rating, kept compactly: the Rated event's own fields, JSON-ready, in this order:
# version, recorded at, previous digest, actor, occurred at, resident, level, comment, round.
# A 1,000-rating proposal then loads from its snapshot without building 1,000 events.
RatingRow = tuple[int, str, str | None, str, str, str, str, str | None, int]
RESIDENT, LEVEL = 5, 6  # where a row holds who rated and how


class ProposalState(BaseModel):
    """What a proposal is now: every fact recorded about it, by step.

    Immutable: each event produces a new state, so a state handed out by a
    query can never change under its reader.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    version: int
    stage: Stage
    title: str
    details: str
    category: str
    area_id: str
    asked_by: str
    channel: Channel
    asked_at: datetime
    stage_entered_at: datetime
    recorded_at: datetime
    round: int = 0
    backers: tuple[str, ...] = ()
    discussions: tuple[Proposal.Discussed, ...] = ()
    decisions: tuple[Proposal.Decided, ...] = ()
    progress: tuple[Proposal.ProgressReported, ...] = ()
    percent: int = 0
    spent: Decimal = Decimal(0)
    completions: tuple[Proposal.Done, ...] = ()
    publications: tuple[Proposal.Published, ...] = ()
    # This round's latest rating per resident; serialized as ``ratings`` (the snapshot
    # alone keeps the rows: ``Proposal.snapshot_state``).
    rating_rows: tuple[RatingRow, ...] = Field(default=(), exclude=True, repr=False)
    # The Rated event class, set where the events are defined (``proposal``, which imports
    # this module, so this one cannot import it): how ``ratings`` turns rows into events.
    rated_event: ClassVar[Any] = None
    rounds: tuple[Proposal.RatingClosed, ...] = ()
    withdrawal: Proposal.Withdrawn | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ratings(self) -> tuple[Proposal.Rated, ...]:
        """This round's ratings, the latest per resident, in the order they were given.

        Built from ``rating_rows`` when read (and remembered for the same rows): loops
        over a large proposal's ratings should read the rows, or read this once.
        """
        return _materialized(self.id, self.rating_rows)

    @property
    def decision(self) -> Proposal.Decided | None:
        """The latest decision, if any (a deferral is followed by another)."""
        return self.decisions[-1] if self.decisions else None

    @property
    def rating_closes_at(self) -> datetime | None:
        """When the open rating round stops accepting ratings (None: no round open)."""
        if self.stage is not Stage.RATING:
            return None
        return self.stage_entered_at + self.publications[-1].policy.rating_window

    @property
    def is_final(self) -> bool:
        """Whether no step can follow."""
        return self.stage in lifecycle.FINAL_STAGES


def rating_row(rating: Proposal.Rated) -> RatingRow:
    """A rating as the state keeps it (``ProposalState.rating_rows``)."""
    return (
        rating.originator_version,
        rating.timestamp.isoformat(),
        rating.previous_digest,
        rating.actor,
        rating.occurred_at.isoformat(),
        rating.resident,
        rating.level.value,
        rating.comment,
        rating.round,
    )


def with_rating(rows: tuple[RatingRow, ...], row: RatingRow) -> tuple[RatingRow, ...]:
    """``rows`` with ``row`` last, in place of an earlier row of the same resident."""
    # A resident has one row at most: find it in C (map, index), not in a Python loop.
    residents = list(map(itemgetter(RESIDENT), rows))
    if row[RESIDENT] in residents:
        at = residents.index(row[RESIDENT])
        rows = rows[:at] + rows[at + 1 :]
    return (*rows, row)


def _rating(proposal_id: UUID, row: RatingRow) -> Proposal.Rated:
    version, timestamp, previous, actor, occurred_at, resident, level, comment, round_ = row
    rating: Proposal.Rated = ProposalState.rated_event.model_validate(
        {
            "originator_id": proposal_id,
            "originator_version": version,
            "timestamp": timestamp,
            "previous_digest": previous,
            "actor": actor,
            "occurred_at": occurred_at,
            "resident": resident,
            "level": level,
            "comment": comment,
            "round": round_,
        }
    )
    return rating


_REMEMBERED: dict[int, tuple[tuple[RatingRow, ...], tuple[Proposal.Rated, ...]]] = {}
_REMEMBER_AT_MOST = 64


def _materialized(proposal_id: UUID, rows: tuple[RatingRow, ...]) -> tuple[Proposal.Rated, ...]:
    # Keyed by the rows' identity and holding them, so a key is never reused while kept.
    remembered = _REMEMBERED.get(id(rows))
    if remembered is not None and remembered[0] is rows:
        return remembered[1]
    ratings = tuple(_rating(proposal_id, row) for row in rows)
    if len(_REMEMBERED) >= _REMEMBER_AT_MOST:
        _REMEMBERED.clear()
    _REMEMBERED[id(rows)] = (rows, ratings)
    return ratings
