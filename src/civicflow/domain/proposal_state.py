"""What a proposal is now: the state its events build, read by every query.

Kept apart from the aggregate so the aggregate module holds commands and
events only; the event types in the fields are resolved when ``proposal``
finishes loading (``model_rebuild`` there).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from civicflow.domain import lifecycle
from civicflow.domain.lifecycle import Stage
from civicflow.domain.values import Channel

if TYPE_CHECKING:
    from civicflow.domain.proposal import Proposal


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
    ratings: tuple[Proposal.Rated, ...] = ()
    rounds: tuple[Proposal.RatingClosed, ...] = ()
    withdrawal: Proposal.Withdrawn | None = None

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
