"""Use cases that change the community: areas, councils, residents, policies, sponsors.

Structure and proposals share one store and one log, so a proposal's step is
judged against the structure as it stood at the moment the step happened.
See ``docs/community.md``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from civicflow.application.boundary import UseCases, public
from civicflow.application.commands import validated
from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.policy import Majority, Policy, PolicyChange
from civicflow.domain.community.sponsorship import SponsorKind, Sponsorship
from civicflow.domain.community.structure import AreaView, area_view


class CommunityCommands(UseCases):
    """Register and change the structure a proposal's rules are judged by."""

    # --- areas ------------------------------------------------------------------

    @public
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
        command_id: UUID | str | None = None,
    ) -> AreaView:
        """Add a district, street, community or compound.

        A compound needs ``is_old``, ``has_property_management`` and ``households``;
        a district may name its ``time_zone`` (default Asia/Shanghai).

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            InvalidInputError: a value is malformed (an unknown kind or time zone, say).
            RuleViolationError: the id is taken, the parent is of the wrong kind, or an
                attribute is missing or does not belong to this kind.
            MissingRegistrationError: the parent does not exist.
        """
        moment = self._ctx.when(occurred_at)
        self._ctx.change_structure(
            "add_area",
            command_id,
            actor,
            moment,
            lambda d: d.add_area(
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
            ),
        )
        return self._area(area_id, moment)

    @public
    def rename_area(
        self,
        area_id: str,
        *,
        name: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> AreaView:
        """Rename an area from a moment on; the old name stays in its history.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: no such area then.
            RuleViolationError: the rename predates the last one.
            InvalidInputError: the name is malformed.
        """
        moment = self._ctx.when(occurred_at)
        self._ctx.change_structure(
            "rename_area",
            command_id,
            actor,
            moment,
            lambda d: d.rename_area(area_id=area_id, name=name, actor=actor, occurred_at=moment),
        )
        return self._area(area_id, moment)

    @public
    def reassign_compound(
        self,
        area_id: str,
        *,
        community_id: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> AreaView:
        """Move a compound to another community from a moment on.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: the compound or the community does not exist then.
            RuleViolationError: not a compound, already there, or out of order.
        """
        moment = self._ctx.when(occurred_at)
        self._ctx.change_structure(
            "reassign_compound",
            command_id,
            actor,
            moment,
            lambda d: d.reassign_compound(
                area_id=area_id, community_id=community_id, actor=actor, occurred_at=moment
            ),
        )
        return self._area(area_id, moment)

    @public
    def count_households(
        self,
        area_id: str,
        *,
        households: int,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> AreaView:
        """Record a compound's registered households from a moment on.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: no such compound then.
            RuleViolationError: not a compound, or the count predates the last one.
            InvalidInputError: the count is negative.
        """
        moment = self._ctx.when(occurred_at)
        self._ctx.change_structure(
            "count_households",
            command_id,
            actor,
            moment,
            lambda d: d.count_households(
                area_id=area_id, households=households, actor=actor, occurred_at=moment
            ),
        )
        return self._area(area_id, moment)

    # --- policies and sponsorship ---------------------------------------------------

    @public
    def set_policy(
        self,
        area_id: str,
        *,
        rectification_threshold: Decimal | str | None = None,
        rating_window_days: int | None = None,
        quorum: Decimal | str | None = None,
        majority: Majority | str | None = None,
        recorders: list[str] | tuple[str, ...] | None = None,
        effective_from: datetime | None = None,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Policy:
        """Set some rules for a district (or override them for a community) from a moment on.

        ``recorders`` names who besides the council's members may record its sessions
        and decisions (a community office keeping the minutes, say).

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            InvalidInputError: a rule's value is out of range.
            MissingRegistrationError: no such area then.
            RuleViolationError: not a district or community, no rule set, or out of order.
        """
        moment = self._ctx.when(occurred_at)
        change = validated(
            "set_policy",
            lambda: PolicyChange(
                rectification_threshold=rectification_threshold,
                rating_window_days=rating_window_days,
                quorum=quorum,
                majority=majority,
                recorders=recorders,
            ),
        )
        start = effective_from or moment
        self._ctx.change_structure(
            "set_policy",
            command_id,
            actor,
            moment,
            lambda d: d.set_policy(
                area_id=area_id,
                change=change,
                effective_from=start,
                actor=actor,
                occurred_at=moment,
            ),
        )
        return self._ctx.policy_at(self._ctx.structure(), area_id, start)

    @public
    def assign_sponsor(
        self,
        area_id: str,
        *,
        sponsor: str,
        kind: SponsorKind | str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Sponsorship:
        """Record that a district cadre or department sponsors a community or compound (分包).

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: no such area then.
            RuleViolationError: not a community or compound, or sponsored already.
            InvalidInputError: an unknown kind.
        """
        moment = self._ctx.when(occurred_at)
        directory = self._ctx.change_structure(
            "assign_sponsor",
            command_id,
            actor,
            moment,
            lambda d: d.assign_sponsor(
                area_id=area_id, sponsor=sponsor, kind=kind, actor=actor, occurred_at=moment
            ),
        )
        return directory.state.sponsorships[-1]

    @public
    def end_sponsorship(
        self,
        area_id: str,
        *,
        sponsor: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Sponsorship:
        """End a sponsorship; returns it with its end.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            RuleViolationError: the sponsor does not sponsor the area, or out of order.
        """
        moment = self._ctx.when(occurred_at)
        directory = self._ctx.change_structure(
            "end_sponsorship",
            command_id,
            actor,
            moment,
            lambda d: d.end_sponsorship(
                area_id=area_id, sponsor=sponsor, actor=actor, occurred_at=moment
            ),
        )
        return next(
            s
            for s in reversed(directory.state.sponsorships)
            if (s.sponsor, s.area_id, s.end) == (sponsor, area_id, moment)
        )

    # --- the parts every structure command uses -------------------------------------

    def _area(self, area_id: str, moment: datetime) -> AreaView:
        return area_view(self._ctx.structure(), area_id, moment)
