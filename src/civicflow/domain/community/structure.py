"""The community structure as a value: what the directory knows, and what held when.

Pure queries over areas, councils, policies and sponsorships; no I/O. Every
query that depends on time takes the moment it is asked about.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from civicflow.domain.community.areas import Area, AreaKind
from civicflow.domain.community.councils import Council
from civicflow.domain.community.policy import Policy, PolicyChange
from civicflow.domain.community.sponsorship import Sponsorship
from civicflow.domain.timeline import Change


class Structure(BaseModel):
    """Areas, councils, policies and sponsorships, each with its history.

    Immutable; the dictionaries are replaced, never changed in place.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    areas: dict[str, Area] = {}
    councils: dict[str, tuple[Council, ...]] = {}
    policies: dict[str, tuple[Change[PolicyChange], ...]] = {}
    sponsorships: tuple[Sponsorship, ...] = ()

    # --- building new versions ----------------------------------------------------

    def with_area(self, area: Area) -> Structure:
        return self.model_copy(update={"areas": {**self.areas, area.id: area}})

    def with_council(self, council: Council, *, new: bool = False) -> Structure:
        terms = self.councils.get(council.compound_id, ())
        terms = (*terms, council) if new else (*terms[:-1], council)
        return self.model_copy(update={"councils": {**self.councils, council.compound_id: terms}})

    def with_policy(self, area_id: str, change: Change[PolicyChange]) -> Structure:
        changes = (*self.policies.get(area_id, ()), change)
        return self.model_copy(update={"policies": {**self.policies, area_id: changes}})

    # --- queries --------------------------------------------------------------------

    def latest_council(self, compound_id: str) -> Council | None:
        """The compound's most recent council, dissolved or not."""
        terms = self.councils.get(compound_id, ())
        return terms[-1] if terms else None

    def council_at(self, compound_id: str, moment: datetime) -> Council | None:
        """The compound's council at ``moment``, if it had one."""
        terms = self.councils.get(compound_id, ())
        return next((c for c in reversed(terms) if c.active_at(moment)), None)

    def open_sponsorship(self, sponsor: str, area_id: str) -> Sponsorship | None:
        """The sponsor's unfinished sponsorship of the area, if any."""
        return next(
            (
                s
                for s in self.sponsorships
                if (s.sponsor, s.area_id, s.end) == (sponsor, area_id, None)
            ),
            None,
        )

    def area_at(self, area_id: str, moment: datetime) -> Area | None:
        """The area, if it had been added by ``moment``."""
        area = self.areas.get(area_id)
        return area if area is not None and area.exists_at(moment) else None

    def ancestry(self, area_id: str, moment: datetime) -> tuple[str, ...]:
        """The area and the areas it sat in at ``moment``, narrowest first."""
        chain: list[str] = []
        current: str | None = area_id
        while current is not None and current not in chain and self.area_at(current, moment):
            chain.append(current)
            current = self.areas[current].parent_at(moment)
        return tuple(chain)

    def contains(self, scope_id: str, area_id: str, moment: datetime) -> bool:
        """Whether ``area_id`` lay within ``scope_id`` (or was it) at ``moment``."""
        return scope_id in self.ancestry(area_id, moment)

    def enclosing(self, area_id: str, kind: AreaKind, moment: datetime) -> str | None:
        """The area of ``kind`` that ``area_id`` lay in (or was) at ``moment``."""
        return next((a for a in self.ancestry(area_id, moment) if self.areas[a].kind is kind), None)

    def compounds_in(self, scope_id: str, moment: datetime) -> tuple[str, ...]:
        """The compounds lying within ``scope_id`` at ``moment``."""
        scope = self.area_at(scope_id, moment)
        if scope is not None and scope.kind is AreaKind.COMPOUND:
            return (
                scope_id,
            )  # most scopes, every command; nothing sits in a compound (check_parent)
        return tuple(
            sorted(
                area.id
                for area in self.areas.values()
                if area.kind is AreaKind.COMPOUND and self.contains(scope_id, area.id, moment)
            )
        )

    def compounds_within(self, moment: datetime) -> dict[str, tuple[str, ...]]:
        """``compounds_in`` of every area at once (an area with none is left out): each
        compound's ancestry read once, where asking area by area reads every compound's
        for each area (a city's review asks hundreds).
        """
        found: dict[str, list[str]] = {}
        for area in self.areas.values():
            if area.kind is AreaKind.COMPOUND:
                for enclosing in self.ancestry(area.id, moment):
                    found.setdefault(enclosing, []).append(area.id)
        return {area: tuple(sorted(compounds)) for area, compounds in found.items()}

    def council_members(self, scope_id: str, moment: datetime) -> frozenset[str]:
        """Members at ``moment`` of every council of a compound within ``scope_id``."""
        members: set[str] = set()
        for compound_id in self.compounds_in(scope_id, moment):
            council = self.council_at(compound_id, moment)
            if council is not None:
                members |= council.members_at(moment)
        return frozenset(members)

    def policy_at(self, area_id: str, moment: datetime, defaults: Policy) -> Policy:
        """The rules in force for ``area_id`` at ``moment``: district first, then community."""
        policy = defaults
        for kind in (AreaKind.DISTRICT, AreaKind.COMMUNITY):
            source = self.enclosing(area_id, kind, moment)
            for change in self.policies.get(source or "", ()):
                if change.effective <= moment and change.value is not None:
                    policy = policy.overridden(change.value)
        return policy

    def sponsors_at(self, area_id: str, moment: datetime) -> tuple[Sponsorship, ...]:
        """Sponsorships in force at ``moment`` for the area or any area it lay in."""
        chain = set(self.ancestry(area_id, moment))
        return tuple(s for s in self.sponsorships if s.area_id in chain and s.active_at(moment))

    def time_zone(self, area_id: str, moment: datetime) -> str | None:
        """The time zone of the district the area lay in at ``moment``."""
        district = self.enclosing(area_id, AreaKind.DISTRICT, moment)
        return self.areas[district].time_zone if district else None


class AreaView(BaseModel):
    """An area as it stood at one moment: what a reader of the structure wants to see."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: AreaKind
    name: str
    parent_id: str | None
    as_of: datetime
    is_old: bool | None = None
    has_property_management: bool | None = None
    households: int | None = None
    has_council: bool | None = None
    time_zone: str | None = None


def area_view(structure: Structure, area_id: str, moment: datetime) -> AreaView:
    """The view of ``area_id`` at ``moment`` (the area must exist then)."""
    area = structure.areas[area_id]
    compound = area.kind is AreaKind.COMPOUND
    return AreaView(
        id=area.id,
        kind=area.kind,
        name=area.name_at(moment) or area.id,
        parent_id=area.parent_at(moment),
        as_of=moment,
        is_old=area.is_old,
        has_property_management=area.has_property_management,
        households=area.households_at(moment),
        has_council=structure.council_at(area.id, moment) is not None if compound else None,
        time_zone=structure.time_zone(area.id, moment),
    )
