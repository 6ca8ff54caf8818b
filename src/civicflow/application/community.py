"""Use cases for the community around proposals: areas, councils, residents, policies, sponsors.

``CommunityService`` is the base of ``CivicFlow``: structure and proposals share
one store and one notification log, so a proposal command can check the
structure as it stood at the moment the step happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from civicflow.application.store import Service
from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.councils import Council, Role, Via
from civicflow.domain.community.directory import DIRECTORY_ID, Directory
from civicflow.domain.community.policy import Majority, Policy, PolicyChange
from civicflow.domain.community.residents import Home, Resident, resident_uuid
from civicflow.domain.community.sponsorship import SponsorKind, Sponsorship
from civicflow.domain.community.structure import AreaView, Structure, area_view
from civicflow.errors import (
    InvalidInputError,
    MissingRegistrationError,
    NotEligibleError,
    RuleViolationError,
)

if TYPE_CHECKING:
    from decimal import Decimal
    from uuid import UUID


class CommunityService(Service):
    """Structure commands and queries; see ``docs/community.md``."""

    # --- areas ------------------------------------------------------------------

    def add_area(
        self,
        area_id: str,
        *,
        kind: AreaKind | str,
        name: str,
        parent_id: str | None = None,
        is_old: bool | None = None,
        has_property_management: bool | None = None,
        households: int | None = None,
        time_zone: str | None = None,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> AreaView:
        """Add a district, street, community or compound.

        A compound needs ``is_old``, ``has_property_management`` and ``households``;
        a district may name its ``time_zone`` (default Asia/Shanghai).
        """
        moment = self._when(occurred_at)
        self._structure_command(
            "add_area",
            area_id=area_id,
            kind=kind,
            name=name,
            parent_id=parent_id,
            is_old=is_old,
            has_property_management=has_property_management,
            households=households,
            time_zone=time_zone,
            actor=actor,
            occurred_at=moment,
        )
        return self.area(area_id, as_of=moment)

    def rename_area(
        self, area_id: str, *, name: str, actor: str, occurred_at: datetime | None = None
    ) -> AreaView:
        """Rename an area from a moment on; the old name stays in its history."""
        moment = self._when(occurred_at)
        self._structure_command(
            "rename_area", area_id=area_id, name=name, actor=actor, occurred_at=moment
        )
        return self.area(area_id, as_of=moment)

    def reassign_compound(
        self,
        area_id: str,
        *,
        community_id: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> AreaView:
        """Move a compound to another community from a moment on."""
        moment = self._when(occurred_at)
        self._structure_command(
            "reassign_compound",
            area_id=area_id,
            community_id=community_id,
            actor=actor,
            occurred_at=moment,
        )
        return self.area(area_id, as_of=moment)

    def count_households(
        self,
        area_id: str,
        *,
        households: int,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> AreaView:
        """Record a compound's registered households from a moment on."""
        moment = self._when(occurred_at)
        self._structure_command(
            "count_households",
            area_id=area_id,
            households=households,
            actor=actor,
            occurred_at=moment,
        )
        return self.area(area_id, as_of=moment)

    # --- councils ---------------------------------------------------------------

    def form_council(
        self, compound_id: str, *, actor: str, occurred_at: datetime | None = None
    ) -> Council:
        """Form a compound's council (one at a time)."""
        return self._council_command(
            "form_council", compound_id, actor=actor, occurred_at=occurred_at
        )

    def dissolve_council(
        self, compound_id: str, *, actor: str, occurred_at: datetime | None = None
    ) -> Council:
        """Dissolve a compound's council; all seats end with it."""
        return self._council_command(
            "dissolve_council", compound_id, actor=actor, occurred_at=occurred_at
        )

    def join_council(
        self,
        compound_id: str,
        *,
        member: str,
        via: Via | str,
        role: Role | str | None = None,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Council:
        """Seat a member: by self-nomination, recommendation or election; optionally an office."""
        return self._council_command(
            "join_council",
            compound_id,
            member=member,
            via=via,
            role=role,
            actor=actor,
            occurred_at=occurred_at,
        )

    def leave_council(
        self,
        compound_id: str,
        *,
        member: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Council:
        """End a member's seat."""
        return self._council_command(
            "leave_council", compound_id, member=member, actor=actor, occurred_at=occurred_at
        )

    # --- residents ----------------------------------------------------------------

    def register_resident(
        self,
        resident_id: str,
        *,
        compound_id: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Home:
        """Register a resident (an opaque id) to a compound for the first time."""
        moment = self._when(occurred_at)
        self._require_area(compound_id, moment, AreaKind.COMPOUND)
        resident = self._translating(
            "register_resident",
            Resident.register,
            resident_id=resident_id,
            compound_id=compound_id,
            actor=actor,
            occurred_at=moment,
        )
        self._save_new(
            resident,
            taken=lambda: RuleViolationError(
                None,
                "residence",
                f"resident {resident_id} is already registered; use move_resident() or move_out()",
            ),
        )
        return resident.state

    def register_residents(
        self,
        resident_ids: list[str] | tuple[str, ...],
        *,
        compound_id: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> list[Home]:
        """Register many residents to one compound in one transaction (all or none)."""
        moment = self._when(occurred_at)
        self._require_area(compound_id, moment, AreaKind.COMPOUND)
        residents = [
            self._translating(
                "register_residents",
                Resident.register,
                resident_id=rid,
                compound_id=compound_id,
                actor=actor,
                occurred_at=moment,
            )
            for rid in resident_ids
        ]
        if len({r.id for r in residents}) != len(residents):
            raise RuleViolationError(None, "residence", "the same resident is listed twice")
        self._save_new(
            *residents,
            taken=lambda: RuleViolationError(
                None,
                "residence",
                "one of these residents is already registered; use move_resident() for them",
            ),
        )
        return [resident.state for resident in residents]

    def move_resident(
        self,
        resident_id: str,
        *,
        compound_id: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Home:
        """Register a resident to another compound (or back in after moving out)."""
        moment = self._when(occurred_at)
        self._require_area(compound_id, moment, AreaKind.COMPOUND)
        return self._resident_command(
            resident_id, "move", compound_id=compound_id, actor=actor, occurred_at=moment
        )

    def move_out(
        self, resident_id: str, *, actor: str, occurred_at: datetime | None = None
    ) -> Home:
        """End a resident's registration; their past ratings stand."""
        return self._resident_command(
            resident_id, "move_out", actor=actor, occurred_at=self._when(occurred_at)
        )

    # --- policies and sponsorship ---------------------------------------------------

    def set_policy(
        self,
        area_id: str,
        *,
        rectification_threshold: Decimal | str | None = None,
        rating_window_days: int | None = None,
        quorum: Decimal | str | None = None,
        majority: Majority | str | None = None,
        effective_from: datetime | None = None,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Policy:
        """Set some rules for a district (or override them for a community) from a moment on."""
        moment = self._when(occurred_at)
        change = self._translating(
            "set_policy",
            PolicyChange,
            rectification_threshold=rectification_threshold,
            rating_window_days=rating_window_days,
            quorum=quorum,
            majority=majority,
        )
        self._structure_command(
            "set_policy",
            area_id=area_id,
            change=change,
            effective_from=effective_from or moment,
            actor=actor,
            occurred_at=moment,
        )
        return self.policy(area_id, as_of=effective_from or moment)

    def assign_sponsor(
        self,
        area_id: str,
        *,
        sponsor: str,
        kind: SponsorKind | str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Sponsorship:
        """Record that a district cadre or department sponsors a community or compound (分包)."""
        directory = self._structure_command(
            "assign_sponsor",
            area_id=area_id,
            sponsor=sponsor,
            kind=kind,
            actor=actor,
            occurred_at=self._when(occurred_at),
        )
        return directory.state.sponsorships[-1]

    def end_sponsorship(
        self,
        area_id: str,
        *,
        sponsor: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> Sponsorship:
        """End a sponsorship; returns it with its end."""
        moment = self._when(occurred_at)
        directory = self._structure_command(
            "end_sponsorship", area_id=area_id, sponsor=sponsor, actor=actor, occurred_at=moment
        )
        return next(
            s
            for s in reversed(directory.state.sponsorships)
            if (s.sponsor, s.area_id, s.end) == (sponsor, area_id, moment)
        )

    # --- queries --------------------------------------------------------------------

    def structure(self) -> Structure:
        """Everything the directory knows, with history (empty before any registration)."""
        try:
            directory: Directory = self._get(DIRECTORY_ID)
        except AggregateNotFoundError:
            return Structure()
        return directory.state

    def area(self, area_id: str, *, as_of: datetime | None = None) -> AreaView:
        """An area as it stood at ``as_of`` (default now).

        Raises:
            MissingRegistrationError: the area did not exist then.
        """
        moment = as_of or self.clock()
        self._require_area(area_id, moment)
        return area_view(self.structure(), area_id, moment)

    def areas(
        self,
        *,
        kind: AreaKind | str | None = None,
        within: str | None = None,
        as_of: datetime | None = None,
    ) -> list[AreaView]:
        """Areas as they stood at ``as_of``, optionally of one kind and within one area."""
        moment = as_of or self.clock()
        structure = self.structure()
        try:
            wanted = AreaKind(kind) if kind is not None else None
        except ValueError:
            kinds = ", ".join(k.value for k in AreaKind)
            raise InvalidInputError("kind", [("kind", f"{kind!r} is not one of {kinds}")]) from None
        return [
            area_view(structure, area.id, moment)
            for area in structure.areas.values()
            if area.exists_at(moment)
            and (wanted is None or area.kind is wanted)
            and (within is None or structure.contains(within, area.id, moment))
        ]

    def council(self, compound_id: str, *, as_of: datetime | None = None) -> Council | None:
        """The compound's council as it stood at ``as_of`` (default now), or None.

        Seats taken or ended after ``as_of`` are left out, as is a later dissolution.

        Raises:
            MissingRegistrationError: the compound did not exist then.
        """
        moment = as_of or self.clock()
        self._require_area(compound_id, moment, AreaKind.COMPOUND)
        council = self.structure().council_at(compound_id, moment)
        return council.as_of(moment) if council is not None else None

    def policy(self, area_id: str, *, as_of: datetime | None = None) -> Policy:
        """The rules in force for an area at ``as_of``: defaults, then district, then community.

        Raises:
            MissingRegistrationError: the area did not exist then.
        """
        moment = as_of or self.clock()
        structure = self.structure()
        if self.community_rules:
            self._require_area(area_id, moment, structure=structure)
        return self._policy_at(structure, area_id, moment)

    def sponsors(self, area_id: str, *, as_of: datetime | None = None) -> tuple[Sponsorship, ...]:
        """Who sponsored the area (or an area it lies in) at ``as_of``.

        Raises:
            MissingRegistrationError: the area did not exist then.
        """
        moment = as_of or self.clock()
        structure = self.structure()
        self._require_area(area_id, moment, structure=structure)
        return structure.sponsors_at(area_id, moment)

    def resident(self, resident_id: str) -> Home:
        """A resident's registrations over time.

        Raises:
            MissingRegistrationError: the resident was never registered.
        """
        return self._load_resident(resident_id).state

    # --- rules used by proposal commands -------------------------------------------

    def _policy_at(self, structure: Structure, area_id: str, moment: datetime) -> Policy:
        if not self.community_rules:
            return self.default_policy
        return structure.policy_at(area_id, moment, self.default_policy)

    def _check_resident(
        self,
        resident_id: str,
        scope_id: str,
        moment: datetime,
        step: str,
        *,
        proposal_id: UUID | None = None,
        structure: Structure | None = None,
    ) -> None:
        """Only residents registered within the proposal's scope at the time take part."""
        if not self.community_rules:
            return
        try:
            home = self._load_resident(resident_id).state.compound_at(moment)
        except MissingRegistrationError:
            raise NotEligibleError(
                proposal_id,
                resident_id,
                step,
                "never registered as a resident (register them with register_resident())",
            ) from None
        if home is None:
            raise NotEligibleError(
                proposal_id, resident_id, step, f"not registered to any compound on {moment.date()}"
            )
        if not (structure or self.structure()).contains(scope_id, home, moment):
            raise NotEligibleError(
                proposal_id,
                resident_id,
                step,
                f"registered to {home}, outside {scope_id}, on {moment.date()}",
            )

    def _council_at(self, scope_id: str, moment: datetime) -> frozenset[str] | None:
        """Council members within the scope at the time (None when rules are off)."""
        if not self.community_rules:
            return None
        members = self.structure().council_members(scope_id, moment)
        if not members:
            raise MissingRegistrationError(
                "council with members for",
                scope_id,
                "form a council with form_council() and seat members with join_council()",
            )
        return members

    # --- mechanics --------------------------------------------------------------------

    def _require_area(
        self,
        area_id: str,
        moment: datetime,
        kind: AreaKind | None = None,
        structure: Structure | None = None,
    ) -> None:
        area = (structure or self.structure()).area_at(area_id, moment)
        if area is None:
            raise MissingRegistrationError("area", area_id, "register it with add_area()")
        if kind is not None and area.kind is not kind:
            raise RuleViolationError(
                None, "area", f"{area_id} is a {area.kind.value}, not a {kind.value}"
            )

    def _structure_command(self, method: str, **fields: Any) -> Directory:
        def load() -> Directory:
            try:
                directory: Directory = self._get(DIRECTORY_ID)
            except AggregateNotFoundError:
                directory = self._translating(
                    method, Directory.open, actor=fields["actor"], occurred_at=fields["occurred_at"]
                )
            return directory

        return self._retrying(DIRECTORY_ID, load, method, fields)

    def _council_command(
        self,
        method: str,
        compound_id: str,
        *,
        occurred_at: datetime | None,
        **fields: Any,
    ) -> Council:
        moment = self._when(occurred_at)
        directory = self._structure_command(
            method, compound_id=compound_id, occurred_at=moment, **fields
        )
        return directory.state.councils[compound_id][-1]  # every council command leaves one

    def _resident_command(self, resident_id: str, method: str, **fields: Any) -> Home:
        resident: Resident = self._retrying(
            resident_uuid(resident_id), lambda: self._load_resident(resident_id), method, fields
        )
        return resident.state

    def _load_resident(self, resident_id: str) -> Resident:
        try:
            resident: Resident = self._get(resident_uuid(resident_id))
        except AggregateNotFoundError:
            raise MissingRegistrationError(
                "resident", resident_id, "register them with register_resident()"
            ) from None
        return resident
