"""Use cases for compounds' councils (党群议事会): forming, dissolving, seats.

A council's members at the moment of a session are who the quorum of a
decision is counted from; see ``docs/community.md``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from civicflow.application.boundary import UseCases, public
from civicflow.domain.community.councils import Council, Role, Via


class CouncilCommands(UseCases):
    """Form and dissolve councils, seat and unseat their members."""

    @public
    def form_council(
        self,
        compound_id: str,
        *,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Council:
        """Form a compound's council (one at a time).

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: no such compound then.
            RuleViolationError: it has a council already, or is not a compound.
        """
        moment = self._ctx.when(occurred_at)
        return self._ctx.change_council(
            "form_council",
            command_id,
            compound_id,
            actor,
            moment,
            lambda d: d.form_council(compound_id=compound_id, actor=actor, occurred_at=moment),
        )

    @public
    def dissolve_council(
        self,
        compound_id: str,
        *,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Council:
        """Dissolve a compound's council; all seats end with it.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: the compound has no council.
            RuleViolationError: the dissolution predates the council's last change.
        """
        moment = self._ctx.when(occurred_at)
        return self._ctx.change_council(
            "dissolve_council",
            command_id,
            compound_id,
            actor,
            moment,
            lambda d: d.dissolve_council(compound_id=compound_id, actor=actor, occurred_at=moment),
        )

    @public
    def join_council(
        self,
        compound_id: str,
        *,
        member: str,
        via: Via | str,
        role: Role | str | None = None,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Council:
        """Seat a member: by self-nomination, recommendation or election; optionally an office.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: the compound has no council.
            RuleViolationError: the member sits already, or the office is taken.
            InvalidInputError: an unknown ``via`` or ``role``.
        """
        moment = self._ctx.when(occurred_at)
        return self._ctx.change_council(
            "join_council",
            command_id,
            compound_id,
            actor,
            moment,
            lambda d: d.join_council(
                compound_id=compound_id,
                member=member,
                via=via,
                role=role,
                actor=actor,
                occurred_at=moment,
            ),
        )

    @public
    def leave_council(
        self,
        compound_id: str,
        *,
        member: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Council:
        """End a member's seat.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: the compound has no council.
            RuleViolationError: the member does not sit on it.
        """
        moment = self._ctx.when(occurred_at)
        return self._ctx.change_council(
            "leave_council",
            command_id,
            compound_id,
            actor,
            moment,
            lambda d: d.leave_council(
                compound_id=compound_id, member=member, actor=actor, occurred_at=moment
            ),
        )
