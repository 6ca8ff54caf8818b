"""What each proposal command carries: typed keyword arguments, one ``TypedDict`` each.

Commands are imperative (``Rate``), events past tense (``Proposal.Rated``). The
application calls ``proposal.rate(**fields)`` with exactly these keys, so
mypy follows a call from the use case to the aggregate; values are raw input,
validated by pydantic when the aggregate builds its event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypedDict
from uuid import UUID

from civicflow.domain.community.policy import Policy
from civicflow.domain.values import Budget, Channel, Level, Outcome, PublicationChannel, Vote

Amount = Decimal | int | str


class Step(TypedDict):
    """Every step says who took it and when it happened in the world."""

    actor: str
    occurred_at: datetime


class Ask(Step):
    proposal_id: UUID | None
    title: str
    details: str
    category: str
    area_id: str
    resident: str
    channel: Channel | str


class Back(Step):
    resident: str


class Discuss(Step):
    attendees: Sequence[str]
    summary: str
    opinions: Sequence[str]
    members_present: Sequence[str] | None  # None: community rules are off
    council_size: int | None


class Decide(Step):
    outcome: Outcome | str
    vote: Vote | Mapping[str, int]
    plan: str | None
    budget: Budget | Mapping[str, Any] | None
    responsible: str | None
    deadline: date | None
    reasons: str | None
    policy: Policy  # in force when the council decided


class ReportProgress(Step):
    percent: int
    note: str
    spent: Amount


class Complete(Step):
    summary: str
    total_spent: Amount
    evidence: Sequence[str]


class Publish(Step):
    channels: Sequence[PublicationChannel | str]
    summary: str
    policy: Policy  # holds for the rating round a published result opens


class Rate(Step):
    resident: str
    level: Level | str
    comment: str | None


class CloseRating(Step):
    pass


class Withdraw(Step):
    reason: str
