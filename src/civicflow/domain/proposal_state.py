"""What a proposal is now: the state its events build, read by every query.

Kept apart from the aggregate so the aggregate module holds commands and
events only; the event types in the fields are resolved when ``proposal``
finishes loading (``model_rebuild`` there).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Final
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, computed_field

from civicflow.domain import lifecycle
from civicflow.domain.lifecycle import Stage
from civicflow.domain.values import Channel

if TYPE_CHECKING:
    from civicflow.domain.proposal import Proposal

# One rating as a row of the Rated event's own fields, JSON-ready, in this order:
# version, recorded at, previous digest, actor, occurred at, resident, level, comment, round.
# Snapshots of class version 2 kept these rows; the state now keeps them by column.
RatingRow = tuple[int, str, str | None, str, str, str, str, str | None, int]
RESIDENT: Final = 5  # where a row holds who rated
LEVEL: Final = 6  # and how
# A level as one letter of ``rating_levels``, and back.
LEVEL_CODES = {"satisfied": "s", "basically_satisfied": "b", "dissatisfied": "d"}
LEVELS = {code: level for level, code in LEVEL_CODES.items()}
# The rating columns of a round nobody has rated yet.
NO_RATINGS: dict[str, Any] = {"rating_residents": (), "rating_levels": "", "rating_rest": ()}


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
    # This round's latest rating per resident, by column, in the order given: who rated,
    # a letter per level (``LEVEL_CODES``), and the other fields of each ``Rated`` event as
    # one JSON array. Parsing a 1,000-rating snapshot then builds 2,000 strings, not 10,000
    # objects, and counting levels is ``str.count``. Serialized as ``ratings`` (only the
    # snapshot keeps the columns: ``Proposal.snapshot_state``).
    rating_residents: tuple[str, ...] = Field(default=(), exclude=True, repr=False)
    rating_levels: str = Field(default="", exclude=True, repr=False)
    rating_rest: tuple[str, ...] = Field(default=(), exclude=True, repr=False)
    # The Rated event class, set where the events are defined (``proposal``, which imports
    # this module, so this one cannot import it): how ``ratings`` turns rows into events.
    rated_event: ClassVar[Any] = None
    rounds: tuple[Proposal.RatingClosed, ...] = ()
    withdrawal: Proposal.Withdrawn | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ratings(self) -> tuple[Proposal.Rated, ...]:
        """This round's ratings, the latest per resident, in the order they were given.

        Built from the columns when read (and remembered for the same columns): loops
        over a large proposal's ratings should read the rows, or read this once.
        """
        return _materialized(self)

    @property
    def rating_rows(self) -> tuple[RatingRow, ...]:
        """This round's ratings as rows (``RatingRow``), built when read."""
        return tuple(map(_row, self.rating_residents, self.rating_levels, self.rating_rest))

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
    """A rating as a row (``RatingRow``)."""
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


def snapshot_data(state: ProposalState) -> dict[str, Any]:
    """The state as JSON-ready data, for ``Proposal.Snapshot``: its ratings by column."""
    columns = {name: getattr(state, name) for name in NO_RATINGS}
    return {**state.model_dump(mode="json", exclude={"ratings"}), **columns}


def state_from_snapshot(data: dict[str, Any]) -> ProposalState:
    """The state a snapshot holds (``Proposal.snapshot_state`` output, upcast)."""
    fields = dict(data)
    columns = {name: fields.pop(name, empty) for name, empty in NO_RATINGS.items()}
    state = ProposalState.model_validate(fields)
    # The ratings were validated as events when recorded, and the audit checks each
    # snapshot against a replay: 2,000 strings are taken as they are, not validated again.
    return state.model_copy(
        update={
            "rating_residents": tuple(columns["rating_residents"]),
            "rating_levels": columns["rating_levels"],
            "rating_rest": tuple(columns["rating_rest"]),
        }
    )


def upcast_events_to_rows(state: dict[str, Any]) -> None:
    """Snapshot version 1 to 2: each rating's whole event to a row of its fields."""
    ratings = [ProposalState.rated_event.model_validate(r) for r in state.pop("ratings", [])]
    state["rating_rows"] = [rating_row(rating) for rating in ratings]


def upcast_rows_to_columns(state: dict[str, Any]) -> None:
    """Snapshot version 2 to 3: rows of the ratings' fields to the state's columns."""
    state.update(rating_columns(state.pop("rating_rows", [])))


def rating_columns(rows: Iterable[RatingRow]) -> dict[str, Any]:
    """Rows as the state's three rating columns (JSON-ready: lists)."""
    rows = list(rows)
    return {
        "rating_residents": [row[RESIDENT] for row in rows],
        "rating_levels": "".join(LEVEL_CODES[row[LEVEL]] for row in rows),
        "rating_rest": [_rest(row) for row in rows],
    }


def with_rating(state: ProposalState, rating: Proposal.Rated) -> dict[str, Any]:
    """The columns with ``rating`` last, in place of an earlier rating of the same resident."""
    residents, levels, rest = state.rating_residents, state.rating_levels, state.rating_rest
    # A resident has one rating at most: found in C (tuple.index), not in a Python loop.
    try:
        at = residents.index(rating.resident)
    except ValueError:
        pass
    else:
        residents = residents[:at] + residents[at + 1 :]
        levels = levels[:at] + levels[at + 1 :]
        rest = rest[:at] + rest[at + 1 :]
    # tuple + tuple copies once, in C: half the time of (*a, b), which builds a list first.
    return {
        "rating_residents": residents + (rating.resident,),  # noqa: RUF005
        "rating_levels": levels + LEVEL_CODES[rating.level.value],
        "rating_rest": rest + (_rest(rating_row(rating)),),  # noqa: RUF005
    }


def _rest(row: RatingRow) -> str:
    # The fields that only a materialized rating needs, as one JSON array.
    return orjson.dumps((*row[:RESIDENT], *row[LEVEL + 1 :])).decode()


def _row(resident: str, code: str, rest: str) -> RatingRow:
    version, timestamp, previous, actor, occurred_at, comment, round_ = orjson.loads(rest)
    return (
        version,
        timestamp,
        previous,
        actor,
        occurred_at,
        resident,
        LEVELS[code],
        comment,
        round_,
    )


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


_Columns = tuple[tuple[str, ...], str, tuple[str, ...]]
_REMEMBERED: dict[int, tuple[_Columns, tuple[Proposal.Rated, ...]]] = {}
_REMEMBER_AT_MOST = 64


def _materialized(state: ProposalState) -> tuple[Proposal.Rated, ...]:
    # Keyed by the identity of the ``rest`` column and holding it, so a key is never reused
    # while kept; the other two columns must be the same too.
    columns = (state.rating_residents, state.rating_levels, state.rating_rest)
    remembered = _REMEMBERED.get(id(state.rating_rest))
    if remembered is not None and _same(remembered[0], columns):
        return remembered[1]
    ratings = tuple(_rating(state.id, row) for row in state.rating_rows)
    if len(_REMEMBERED) >= _REMEMBER_AT_MOST:
        _REMEMBERED.clear()
    _REMEMBERED[id(state.rating_rest)] = (columns, ratings)
    return ratings


def _same(kept: _Columns, columns: _Columns) -> bool:
    residents, levels, rest = columns
    return kept[0] is residents and kept[1] == levels and kept[2] is rest
