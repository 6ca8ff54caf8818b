"""What each structure command carries: typed keyword arguments, one ``TypedDict`` each.

The directory and resident aggregates take exactly these keys, so mypy follows a
call from the use case to the aggregate; values are raw input, validated by
pydantic when the aggregate builds its event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NotRequired, TypedDict

from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.councils import Role, Via
from civicflow.domain.community.policy import PolicyChange
from civicflow.domain.community.sponsorship import SponsorKind


class Change(TypedDict):
    """Every structure change says who recorded it and when it took effect."""

    actor: str
    occurred_at: datetime


class AddArea(Change):
    area_id: str
    kind: AreaKind | str
    name: str
    parent_id: NotRequired[str | None]
    is_old: NotRequired[bool | None]  # compounds only, as the next two
    has_property_management: NotRequired[bool | None]
    households: NotRequired[int | None]
    time_zone: NotRequired[str | None]  # districts only


class RenameArea(Change):
    area_id: str
    name: str


class ReassignCompound(Change):
    area_id: str
    community_id: str


class CountHouseholds(Change):
    area_id: str
    households: int


class CouncilChange(Change):
    compound_id: str


class JoinCouncil(CouncilChange):
    member: str
    via: Via | str
    role: NotRequired[Role | str | None]


class LeaveCouncil(CouncilChange):
    member: str


class SetPolicy(Change):
    area_id: str
    change: PolicyChange | Mapping[str, object]
    effective_from: datetime


class AssignSponsor(Change):
    area_id: str
    sponsor: str
    kind: SponsorKind | str


class EndSponsorship(Change):
    area_id: str
    sponsor: str


class Register(Change):
    resident_id: str
    compound_id: str


class Move(Change):
    compound_id: str
