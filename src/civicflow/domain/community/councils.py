"""Party-masses councils (党群议事会): one per compound at a time, members over time."""

from __future__ import annotations

from datetime import datetime

# Defined with the other plain enums (kinds.py), re-exported where the concept lives.
from civicflow.domain.kinds import Role as Role  # noqa: PLC0414
from civicflow.domain.kinds import Via as Via  # noqa: PLC0414
from civicflow.domain.values import Frozen


class Membership(Frozen):
    """One stint of one member on a council."""

    member: str
    via: Via
    role: Role | None = None
    joined: datetime
    left: datetime | None = None

    def active_at(self, moment: datetime) -> bool:
        """Whether the member sat on the council at ``moment``."""
        return self.joined <= moment and (self.left is None or moment < self.left)


class Council(Frozen):
    """One council of a compound, from its forming to its dissolution."""

    compound_id: str
    formed: datetime
    dissolved: datetime | None = None
    memberships: tuple[Membership, ...] = ()

    def active_at(self, moment: datetime) -> bool:
        """Whether the council existed at ``moment``."""
        return self.formed <= moment and (self.dissolved is None or moment < self.dissolved)

    def members_at(self, moment: datetime) -> frozenset[str]:
        """Who sat on the council at ``moment``."""
        if not self.active_at(moment):
            return frozenset()
        return frozenset(m.member for m in self.memberships if m.active_at(moment))

    def as_of(self, moment: datetime) -> Council:
        """The council as it stood at ``moment``: later seats and endings left out."""
        seats = tuple(
            seat
            if seat.left is None or seat.left <= moment
            else seat.model_copy(update={"left": None})
            for seat in self.memberships
            if seat.joined <= moment
        )
        dissolved = self.dissolved if self.dissolved and self.dissolved <= moment else None
        return self.model_copy(update={"memberships": seats, "dissolved": dissolved})

    @property
    def last_change(self) -> datetime:
        """The latest moment at which the council or one of its seats changed."""
        moments = [self.formed]
        for seat in self.memberships:
            moments.extend(m for m in (seat.joined, seat.left) if m is not None)
        return max(moments)

    def current_membership(self, member: str) -> Membership | None:
        """The member's open stint, if they are on the council now."""
        return next((m for m in self.memberships if m.member == member and m.left is None), None)
