"""The six steps (问议定办晒评) as use cases: one method per command a proposal can receive.

Each step works out the community facts it records (who of the council was
present, the policy in force, whether the resident may take part) from the
structure as it stood when the step happened, then calls the aggregate's
command with typed arguments. A refused step raises and writes nothing.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from civicflow.application.boundary import UseCases, public
from civicflow.application.commands import CommandId
from civicflow.application.context import proposal_uuid
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import ProposalState
from civicflow.domain.values import Budget, Channel, Outcome, Vote
from civicflow.errors import ProposalAlreadyExistsError


class Deliberation(UseCases):
    """Ask, back, discuss and decide (问议定), and withdraw before the work is done."""

    # --- Ask (问) ---------------------------------------------------------------

    @public
    def ask(
        self,
        *,
        title: str,
        details: str,
        category: str,
        area_id: str,
        resident: str,
        channel: Channel | str,
        actor: str | None = None,
        occurred_at: datetime | None = None,
        proposal_id: UUID | str | None = None,
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Collect a resident's need as a new proposal about ``area_id`` (its scope).

        Without ``proposal_id``, the id is derived from the command's id, so that a
        retried ``ask`` with the same ``command_id`` finds the proposal it created.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            InvalidInputError: a value is missing, malformed or out of range.
            MissingRegistrationError: the area is not registered.
            NotEligibleError: the resident does not live within the area.
            ProposalAlreadyExistsError: ``proposal_id`` is taken.
        """
        command = CommandId.of(command_id)
        wanted = proposal_uuid(proposal_id) if proposal_id is not None else asked_id(command.id)
        moment = self._ctx.when(occurred_at)
        if self._ctx.community_rules:
            structure = self._ctx.structure()  # one version of the structure for both checks
            self._ctx.require_area(area_id, moment, structure=structure)
            self._ctx.check_resident(resident, area_id, moment, "ask about", structure=structure)

        def make() -> list[Proposal]:
            proposal = Proposal.ask(
                proposal_id=wanted,
                title=title,
                details=details,
                category=category,
                area_id=area_id,
                resident=resident,
                channel=channel,
                actor=actor if actor is not None else resident,
                occurred_at=moment,
            )
            return [proposal]

        taken = functools.partial(ProposalAlreadyExistsError, wanted)
        [proposal] = self._ctx.commands.create("ask", make, taken, command)
        return proposal.state

    @public
    def back(
        self,
        proposal_id: UUID | str,
        *,
        resident: str,
        actor: str | None = None,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Record that another resident of the scope backs the same need (once each).

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: the proposal is past discussion.
            NotEligibleError: the resident does not live within the proposal's area.
            RuleViolationError: the resident asked for or backed it already.
            InvalidInputError: a value is malformed.
        """
        moment = self._ctx.when(occurred_at)

        def back(proposal: Proposal) -> None:
            self._ctx.check_resident(
                resident, proposal.state.area_id, moment, "back", proposal_id=proposal.id
            )
            actor_ = actor if actor is not None else resident
            proposal.back(resident=resident, actor=actor_, occurred_at=moment)

        return self._ctx.update_proposal(proposal_id, "back", back, command_id)

    # --- Discuss (议) and Decide (定) -------------------------------------------

    @public
    def discuss(
        self,
        proposal_id: UUID | str,
        *,
        attendees: list[str] | tuple[str, ...],
        summary: str,
        opinions: list[str] | tuple[str, ...] = (),
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Record one council session: who attended, a summary, the main opinions.

        Which attendees were council members is recorded from the council as it
        stood at the session; a later decision needs a quorum of them.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: the proposal is not open for discussion.
            MissingRegistrationError: no council with members covers its area (rules on).
            NotEligibleError: ``actor`` sat on no council within the area then, and the
                policy does not name them as a recorder (rules on).
            InvalidInputError: a value is malformed (e.g. an attendee listed twice).
            RuleViolationError: the session predates the stage it belongs to.
        """
        moment = self._ctx.when(occurred_at)

        def discuss(proposal: Proposal) -> None:
            council = self._ctx.deciding_members(proposal.state.area_id, moment)
            self._ctx.check_recorder(actor, proposal.state.area_id, moment, "discuss", proposal.id)
            present = (
                None if council is None else [a for a in dict.fromkeys(attendees) if a in council]
            )
            proposal.discuss(
                attendees=attendees,
                summary=summary,
                opinions=opinions,
                members_present=present,
                council_size=None if council is None else len(council),
                actor=actor,
                occurred_at=moment,
            )

        return self._ctx.update_proposal(proposal_id, "discuss", discuss, command_id)

    @public
    def decide(
        self,
        proposal_id: UUID | str,
        *,
        outcome: Outcome | str,
        vote: Vote | dict[str, int],
        actor: str,
        plan: str | None = None,
        budget: Budget | dict[str, Any] | None = None,
        responsible: str | None = None,
        deadline: date | None = None,
        reasons: str | None = None,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Record the council's decision, with its vote, under the policy in force.

        Approved needs plan, budget, responsible and deadline; rejected needs
        reasons; deferred goes back to discussion. The latest session must have
        had a quorum and the vote must reach the policy's majority.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: the proposal has not been discussed, or is decided.
            NotEligibleError: ``actor`` sat on no council within the area then, and the
                policy does not name them as a recorder (rules on).
            InvalidInputError: a value is malformed, or the outcome lacks what it needs.
            RuleViolationError: no quorum, no majority, or the deadline is in the past.
        """
        moment = self._ctx.when(occurred_at)

        def decide(proposal: Proposal) -> None:
            self._ctx.check_recorder(actor, proposal.state.area_id, moment, "decide", proposal.id)
            proposal.decide(
                outcome=outcome,
                vote=vote,
                plan=plan,
                budget=budget,
                responsible=responsible,
                deadline=deadline,
                reasons=reasons,
                policy=self._ctx.policy_for(proposal.state.area_id, moment),
                actor=actor,
                occurred_at=moment,
            )

        return self._ctx.update_proposal(proposal_id, "decide", decide, command_id)

    @public
    def withdraw(
        self,
        proposal_id: UUID | str,
        *,
        reason: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Abandon the proposal before it is done; final.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: the work is done or the proposal is final.
            InvalidInputError: the reason is missing.
        """
        moment = self._ctx.when(occurred_at)

        def withdraw(proposal: Proposal) -> None:
            proposal.withdraw(reason=reason, actor=actor, occurred_at=moment)

        return self._ctx.update_proposal(proposal_id, "withdraw", withdraw, command_id)


def asked_id(command: UUID) -> UUID:
    """The id of the proposal an ``ask`` creates when the caller names none."""
    return uuid5(NAMESPACE_URL, f"civicflow:ask:{command}")
