"""The community directory: areas, councils, policies and sponsorships, with their history.

One aggregate holds the whole structure of the places an application serves.
Structure changes are rare and small, while every proposal command needs a
consistent view of them at one moment; one aggregate (cached, snapshotted)
gives that view in a single load.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, Unpack
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, Field, field_validator

from civicflow.domain.community import commands, rules
from civicflow.domain.community.areas import DEFAULT_TIME_ZONE, Area, AreaKind
from civicflow.domain.community.councils import Council, Membership, Role, Via
from civicflow.domain.community.policy import PolicyChange
from civicflow.domain.community.sponsorship import SponsorKind, Sponsorship
from civicflow.domain.community.structure import Structure
from civicflow.domain.eventmodel import AggregateSnapshot, PydanticAggregate, keep_topics
from civicflow.domain.timeline import Change
from civicflow.domain.values import ActorId, ShortText
from civicflow.errors import RuleViolationError

DIRECTORY_ID: UUID = uuid5(NAMESPACE_URL, "civicflow:directory")


class Directory(PydanticAggregate):
    """Every place, council, policy and sponsorship the application knows."""

    class Event(PydanticAggregate.Event):
        """Base of directory events: who recorded the change and when it took effect."""

        actor: ActorId
        occurred_at: AwareDatetime

        def apply(self, aggregate: Any) -> None:
            aggregate.state = self.evolve(aggregate.state)

        def evolve(self, state: Structure) -> Structure:
            """The structure after this change."""
            raise NotImplementedError  # every concrete event overrides this

    class Opened(Event, PydanticAggregate.Created):
        """The directory started keeping the structure."""

        def apply(self, aggregate: Any) -> None:
            aggregate.state = Structure()

    class AreaAdded(Event):
        """A district, street, community or compound was added."""

        area_id: ActorId
        kind: AreaKind
        name: ShortText
        parent_id: ActorId | None = None
        is_old: bool | None = None
        has_property_management: bool | None = None
        households: int | None = Field(default=None, ge=0)
        time_zone: str | None = None

        @field_validator("time_zone")
        @classmethod
        def _known_zone(cls, value: str | None) -> str | None:
            if value is not None:
                try:
                    ZoneInfo(value)
                except (ZoneInfoNotFoundError, ValueError):
                    raise ValueError(f"unknown time zone {value!r}") from None
            return value

        def evolve(self, state: Structure) -> Structure:
            at = self.occurred_at
            area = Area(
                id=self.area_id,
                kind=self.kind,
                added_at=at,
                names=(Change[str](effective=at, value=self.name),),
                parents=(Change[str](effective=at, value=self.parent_id),)
                if self.parent_id
                else (),
                households=(Change[int](effective=at, value=self.households),)
                if self.households is not None
                else (),
                is_old=self.is_old,
                has_property_management=self.has_property_management,
                time_zone=self.time_zone,
            )
            return state.with_area(area)

    class AreaRenamed(Event):
        """An area took a new name."""

        area_id: ActorId
        name: ShortText

        def evolve(self, state: Structure) -> Structure:
            area = state.areas[self.area_id]
            change = Change[str](effective=self.occurred_at, value=self.name)
            return state.with_area(area.model_copy(update={"names": (*area.names, change)}))

    class CompoundReassigned(Event):
        """A compound moved to another community."""

        area_id: ActorId
        community_id: ActorId

        def evolve(self, state: Structure) -> Structure:
            area = state.areas[self.area_id]
            change = Change[str](effective=self.occurred_at, value=self.community_id)
            return state.with_area(area.model_copy(update={"parents": (*area.parents, change)}))

    class HouseholdsCounted(Event):
        """A compound's registered households were counted again."""

        area_id: ActorId
        households: int = Field(ge=0)

        def evolve(self, state: Structure) -> Structure:
            area = state.areas[self.area_id]
            change = Change[int](effective=self.occurred_at, value=self.households)
            return state.with_area(
                area.model_copy(update={"households": (*area.households, change)})
            )

    class CouncilFormed(Event):
        """A compound formed its party-masses council (党群议事会)."""

        compound_id: ActorId

        def evolve(self, state: Structure) -> Structure:
            council = Council(compound_id=self.compound_id, formed=self.occurred_at)
            return state.with_council(council, new=True)

    class CouncilDissolved(Event):
        """A compound's council was dissolved; every seat ends with it."""

        compound_id: ActorId

        def evolve(self, state: Structure) -> Structure:
            council = state.councils[self.compound_id][-1]  # the command checked it exists
            ended = tuple(
                m if m.left is not None else m.model_copy(update={"left": self.occurred_at})
                for m in council.memberships
            )
            return state.with_council(
                council.model_copy(update={"dissolved": self.occurred_at, "memberships": ended})
            )

    class MemberJoined(Event):
        """Someone took a seat on a compound's council."""

        compound_id: ActorId
        member: ActorId
        via: Via
        role: Role | None = None

        def evolve(self, state: Structure) -> Structure:
            council = state.councils[self.compound_id][-1]  # the command checked it exists
            seat = Membership(
                member=self.member, via=self.via, role=self.role, joined=self.occurred_at
            )
            memberships = (*council.memberships, seat)
            return state.with_council(council.model_copy(update={"memberships": memberships}))

    class MemberLeft(Event):
        """A member left a compound's council."""

        compound_id: ActorId
        member: ActorId

        def evolve(self, state: Structure) -> Structure:
            council = state.councils[self.compound_id][-1]  # the command checked it exists
            memberships = tuple(
                m.model_copy(update={"left": self.occurred_at})
                if m.member == self.member and m.left is None
                else m
                for m in council.memberships
            )
            return state.with_council(council.model_copy(update={"memberships": memberships}))

    class PolicySet(Event):
        """A district or community set some of its rules, from ``effective_from`` on."""

        area_id: ActorId
        change: PolicyChange
        effective_from: AwareDatetime

        def evolve(self, state: Structure) -> Structure:
            return state.with_policy(
                self.area_id, Change[PolicyChange](effective=self.effective_from, value=self.change)
            )

    class SponsorAssigned(Event):
        """A district cadre or department began to sponsor a community or compound (分包)."""

        sponsor: ActorId
        kind: SponsorKind
        area_id: ActorId

        def evolve(self, state: Structure) -> Structure:
            sponsorship = Sponsorship(
                sponsor=self.sponsor, kind=self.kind, area_id=self.area_id, start=self.occurred_at
            )
            return state.model_copy(update={"sponsorships": (*state.sponsorships, sponsorship)})

    class SponsorshipEnded(Event):
        """A sponsorship ended."""

        sponsor: ActorId
        area_id: ActorId

        def evolve(self, state: Structure) -> Structure:
            ended = tuple(
                s.model_copy(update={"end": self.occurred_at})
                if (s.sponsor, s.area_id, s.end) == (self.sponsor, self.area_id, None)
                else s
                for s in state.sponsorships
            )
            return state.model_copy(update={"sponsorships": ended})

    class Snapshot(AggregateSnapshot):
        """The whole directory at a version."""

    if TYPE_CHECKING:  # declared here only: a class annotation would make this a dataclass
        state: Structure

    @classmethod
    def open(cls, *, actor: str, occurred_at: datetime) -> Directory:
        """Start an empty directory."""
        return cls._create(cls.Opened, id=DIRECTORY_ID, actor=actor, occurred_at=occurred_at)

    def snapshot_state(self) -> dict[str, Any]:
        """The structure as JSON-ready data, for ``Directory.Snapshot``."""
        return self.state.model_dump(mode="json")

    def from_snapshot_state(self, data: dict[str, Any]) -> None:
        """Restore the structure from ``snapshot_state`` output."""
        self.state = Structure.model_validate(data)

    # --- areas ------------------------------------------------------------------

    def add_area(self, **command: Unpack[commands.AddArea]) -> None:
        """Add a place under its parent (a district has none)."""
        event = self._next_event(self.AreaAdded, {**command})
        if event.area_id in self.state.areas:
            self._refuse("area", f"area {event.area_id} already exists")
        rules.check_parent(self.state, event.kind, event.parent_id, event.occurred_at)
        rules.check_area_attributes(event.kind, event.model_dump())
        if event.kind is AreaKind.DISTRICT and event.time_zone is None:
            event = self._next_event(self.AreaAdded, {**command, "time_zone": DEFAULT_TIME_ZONE})
        self._record(event)

    def rename_area(self, **command: Unpack[commands.RenameArea]) -> None:
        """Give an area a new name from a moment on."""
        event = self._next_event(self.AreaRenamed, {**command})
        area = self._require(event.area_id, event.occurred_at)
        rules.check_after(area.names[-1].effective, event.occurred_at, "the last rename")
        self._record(event)

    def reassign_compound(self, **command: Unpack[commands.ReassignCompound]) -> None:
        """Move a compound to another community from a moment on."""
        event = self._next_event(self.CompoundReassigned, {**command})
        area = self._require(event.area_id, event.occurred_at, AreaKind.COMPOUND)
        rules.check_parent(self.state, AreaKind.COMPOUND, event.community_id, event.occurred_at)
        rules.check_after(area.parents[-1].effective, event.occurred_at, "its last move")
        if area.parents[-1].value == event.community_id:
            self._refuse("area", f"compound {area.id} is already in {event.community_id}")
        self._record(event)

    def count_households(self, **command: Unpack[commands.CountHouseholds]) -> None:
        """Record a compound's registered households from a moment on."""
        event = self._next_event(self.HouseholdsCounted, {**command})
        area = self._require(event.area_id, event.occurred_at, AreaKind.COMPOUND)
        rules.check_after(area.households[-1].effective, event.occurred_at, "the last count")
        self._record(event)

    # --- councils ---------------------------------------------------------------

    def form_council(self, **command: Unpack[commands.CouncilChange]) -> None:
        """Form a compound's council; a compound has one council at a time."""
        event = self._next_event(self.CouncilFormed, {**command})
        self._require(event.compound_id, event.occurred_at, AreaKind.COMPOUND)
        latest = self.state.latest_council(event.compound_id)
        if latest is not None and latest.dissolved is None:
            self._refuse("council", f"compound {event.compound_id} already has a council")
        if latest is not None:
            rules.check_after(latest.dissolved, event.occurred_at, "the last dissolution")
        self._record(event)

    def dissolve_council(self, **command: Unpack[commands.CouncilChange]) -> None:
        """Dissolve a compound's council."""
        event = self._next_event(self.CouncilDissolved, {**command})
        council = rules.require_council(self.state, event.compound_id, event.occurred_at)
        rules.check_after(council.last_change, event.occurred_at, "the council's last change")
        self._record(event)

    def join_council(self, **command: Unpack[commands.JoinCouncil]) -> None:
        """Seat a member on a compound's council."""
        event = self._next_event(self.MemberJoined, {**command})
        council = rules.require_council(self.state, event.compound_id, event.occurred_at)
        if council.current_membership(event.member) is not None:
            self._refuse(
                "council", f"{event.member} already sits on the council of {event.compound_id}"
            )
        holders = [
            m.member
            for m in council.memberships
            if m.left is None and event.role is not None and m.role is event.role
        ]
        if holders and event.role is not None:
            self._refuse(
                "council",
                f"the council of {event.compound_id} already has a "
                f"{event.role.value} ({', '.join(holders)})",
            )
        rules.check_after(council.last_change, event.occurred_at, "the council's last change")
        self._record(event)

    def leave_council(self, **command: Unpack[commands.LeaveCouncil]) -> None:
        """End a member's seat on a compound's council."""
        event = self._next_event(self.MemberLeft, {**command})
        council = rules.require_council(self.state, event.compound_id, event.occurred_at)
        seat = council.current_membership(event.member)
        if seat is None:
            self._refuse(
                "council", f"{event.member} does not sit on the council of {event.compound_id}"
            )
        rules.check_after(seat.joined, event.occurred_at, "the member joined")
        self._record(event)

    # --- policies and sponsorship -------------------------------------------------

    def set_policy(self, **command: Unpack[commands.SetPolicy]) -> None:
        """Set some rules for a district or community from a moment on."""
        event = self._next_event(self.PolicySet, {**command})
        area = self._require(event.area_id, event.occurred_at)
        if area.kind not in (AreaKind.DISTRICT, AreaKind.COMMUNITY):
            self._refuse(
                "policy",
                f"policies are set per district or community, and {area.id} is a {area.kind.value}",
            )
        if not event.change.model_dump(exclude_none=True):
            self._refuse("policy", "a policy change must set at least one rule")
        earlier = self.state.policies.get(area.id, ())
        if earlier:
            rules.check_after(earlier[-1].effective, event.effective_from, "the last change")
        self._record(event)

    def assign_sponsor(self, **command: Unpack[commands.AssignSponsor]) -> None:
        """Record that a cadre or department sponsors a community or compound."""
        event = self._next_event(self.SponsorAssigned, {**command})
        area = self._require(event.area_id, event.occurred_at)
        if area.kind not in (AreaKind.COMMUNITY, AreaKind.COMPOUND):
            self._refuse(
                "sponsorship",
                f"sponsors are assigned to communities or compounds, "
                f"and {area.id} is a {area.kind.value}",
            )
        if self.state.open_sponsorship(event.sponsor, event.area_id) is not None:
            self._refuse("sponsorship", f"{event.sponsor} already sponsors {event.area_id}")
        self._record(event)

    def end_sponsorship(self, **command: Unpack[commands.EndSponsorship]) -> None:
        """End a sponsorship."""
        event = self._next_event(self.SponsorshipEnded, {**command})
        current = self.state.open_sponsorship(event.sponsor, event.area_id)
        if current is None:
            self._refuse("sponsorship", f"{event.sponsor} does not sponsor {event.area_id}")
        rules.check_after(current.start, event.occurred_at, "the sponsorship began")
        self._record(event)

    # --- checks ------------------------------------------------------------------

    def _require(self, area_id: str, moment: datetime, kind: AreaKind | None = None) -> Area:
        return rules.require_area(self.state, area_id, moment, kind)

    def _refuse(self, rule: str, message: str) -> NoReturn:
        raise RuleViolationError(None, rule, message)


keep_topics("civicflow.directory", Directory)
