"""Request bodies: they give a request its shape, and civicflow checks its values.

Field names and types only: enumerations, money, lengths, time zones and dates are
left to civicflow, so that a bad value gets the same ``InvalidInputError`` (and the
same 422) whichever door it came through. Unknown fields are refused.

``actor`` is in every body, and read only when the host trusts the body to name the
actor (``trust_body_actor=True``): with an authentication hook the actor is who the
hook says, and a body naming one is refused rather than silently ignored.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ACTOR = (
    "who did it (an opaque id); only when the server trusts the body's actor: "
    "with an authentication hook, leave it out"
)
OCCURRED_AT = "when it happened, ISO 8601 with a time zone (default: now)"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: str | None = Field(default=None, description=ACTOR)
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT)


class AreaIn(Body):
    area_id: str
    kind: str = Field(description="district, street, community or compound")
    name: str
    parent_id: str | None = None
    is_old: bool | None = Field(default=None, description="compounds only")
    has_property_management: bool | None = Field(default=None, description="compounds only")
    households: int | None = Field(default=None, description="compounds only")
    time_zone: str | None = Field(default=None, description="districts only (IANA name)")


class CouncilIn(Body):
    pass


class MemberIn(Body):
    member: str
    via: str = Field(description="self_nomination, recommendation or election")
    role: str | None = None


class ResidentsIn(Body):
    resident_ids: list[str] = Field(min_length=1)
    compound_id: str


class AskIn(Body):
    title: str
    details: str
    category: str
    area_id: str
    resident: str
    channel: str
    proposal_id: str | None = Field(default=None, description="a UUID (default: derived)")


class BackIn(Body):
    resident: str


class DiscussIn(Body):
    attendees: list[str]
    summary: str
    opinions: list[str] = []


class DecideIn(Body):
    outcome: str = Field(description="approved, rejected or deferred")
    vote: dict[str, Any] = Field(description='{"in_favour": n, "against": n, "abstain": n}')
    plan: str | None = None
    budget: dict[str, Any] | None = Field(
        default=None, description='{"amount": "3600", "funding_sources": ["district fund"]}'
    )
    responsible: str | None = None
    deadline: date | None = None
    reasons: str | None = None


class ProgressIn(Body):
    percent: int
    note: str
    spent: Decimal


class CompleteIn(Body):
    summary: str
    total_spent: Decimal
    evidence: list[str]


class PublishIn(Body):
    channels: list[str]
    summary: str


class RateIn(Body):
    resident: str
    level: str = Field(description="satisfied, basically_satisfied or dissatisfied")
    comment: str | None = None


class CloseIn(Body):
    pass


class WithdrawIn(Body):
    reason: str


class HeadOut(BaseModel):
    """A signed tree head of the log: what a receipt is checked against."""

    model_config = ConfigDict(extra="forbid")

    origin: str = Field(description="the log's name")
    size: int = Field(description="how many records the head covers")
    root: str = Field(description="the Merkle root of those records, base64")
