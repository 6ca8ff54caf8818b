"""The six steps (问议定办晒评) as use cases: one method per command a proposal can receive.

Each step works out the community facts it records (who of the council was
present, the policy in force, whether the resident may take part) from the
structure as it stood when the step happened, then calls the aggregate's
command with typed arguments. A refused step raises and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from civicflow.application.boundary import UseCases, public
from civicflow.application.commands import validated
from civicflow.application.context import proposal_uuid
from civicflow.domain import proposal_commands as commands
from civicflow.domain.community.policy import Policy
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import ProposalState
from civicflow.domain.values import Budget, Channel, Level, Outcome, PublicationChannel, Vote
from civicflow.errors import ProposalAlreadyExistsError


class ProposalSteps(UseCases):
    """Ask, back, discuss, decide, report progress, complete, publish, rate, close, withdraw."""

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
    ) -> ProposalState:
        """Collect a resident's need as a new proposal about ``area_id`` (its scope).

        Raises:
            InvalidInputError: a value is missing, malformed or out of range.
            MissingRegistrationError: the area is not registered.
            NotEligibleError: the resident does not live within the area.
            ProposalAlreadyExistsError: ``proposal_id`` is taken.
        """
        wanted = proposal_uuid(proposal_id) if proposal_id is not None else None
        moment = self._ctx.when(occurred_at)
        if self._ctx.community_rules:
            structure = self._ctx.structure()  # one version of the structure for both checks
            self._ctx.require_area(area_id, moment, structure=structure)
            self._ctx.check_resident(resident, area_id, moment, "ask about", structure=structure)
        proposal = validated(
            "ask",
            lambda: Proposal.ask(
                proposal_id=wanted,
                title=title,
                details=details,
                category=category,
                area_id=area_id,
                resident=resident,
                channel=channel,
                actor=actor if actor is not None else resident,
                occurred_at=moment,
            ),
        )
        self._ctx.commands.create(proposal, taken=lambda: ProposalAlreadyExistsError(proposal.id))
        return proposal.state

    @public
    def back(
        self,
        proposal_id: UUID | str,
        *,
        resident: str,
        actor: str | None = None,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record that another resident of the scope backs the same need (once each).

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: the proposal is past discussion.
            NotEligibleError: the resident does not live within the proposal's area.
            RuleViolationError: the resident asked for or backed it already.
            InvalidInputError: a value is malformed.
        """
        moment = self._ctx.when(occurred_at)

        def back(proposal: Proposal) -> None:
            self._check_resident(resident, proposal, moment, "back")
            actor_ = actor if actor is not None else resident
            proposal.back(resident=resident, actor=actor_, occurred_at=moment)

        return self._step(proposal_id, "back", back)

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
    ) -> ProposalState:
        """Record one council session: who attended, a summary, the main opinions.

        Which attendees were council members is recorded from the council as it
        stood at the session; a later decision needs a quorum of them.

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: the proposal is not open for discussion.
            MissingRegistrationError: no council with members covers its area (rules on).
            InvalidInputError: a value is malformed (e.g. an attendee listed twice).
            RuleViolationError: the session predates the stage it belongs to.
        """
        moment = self._ctx.when(occurred_at)

        def discuss(proposal: Proposal) -> None:
            council = self._ctx.deciding_members(proposal.state.area_id, moment)
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

        return self._step(proposal_id, "discuss", discuss)

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
    ) -> ProposalState:
        """Record the council's decision, with its vote, under the policy in force.

        Approved needs plan, budget, responsible and deadline; rejected needs
        reasons; deferred goes back to discussion. The latest session must have
        had a quorum and the vote must reach the policy's majority.

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: the proposal has not been discussed, or is decided.
            InvalidInputError: a value is malformed, or the outcome lacks what it needs.
            RuleViolationError: no quorum, no majority, or the deadline is in the past.
        """
        moment = self._ctx.when(occurred_at)

        def decide(proposal: Proposal) -> None:
            proposal.decide(
                outcome=outcome,
                vote=vote,
                plan=plan,
                budget=budget,
                responsible=responsible,
                deadline=deadline,
                reasons=reasons,
                policy=self._policy(proposal, moment),
                actor=actor,
                occurred_at=moment,
            )

        return self._step(proposal_id, "decide", decide)

    # --- Do (办) -------------------------------------------------------------------

    @public
    def report_progress(
        self,
        proposal_id: UUID | str,
        *,
        percent: int,
        note: str,
        spent: Decimal | int | str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record progress (never going down within a round) and money spent so far.

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: no work is under way.
            InvalidInputError: a value is malformed (percent outside 0-100).
            RuleViolationError: progress or spending would go down.
        """
        moment = self._ctx.when(occurred_at)

        def report(proposal: Proposal) -> None:
            proposal.report_progress(
                percent=percent, note=note, spent=spent, actor=actor, occurred_at=moment
            )

        return self._step(proposal_id, "report_progress", report)

    @public
    def complete(
        self,
        proposal_id: UUID | str,
        *,
        summary: str,
        total_spent: Decimal | int | str,
        evidence: list[str] | tuple[str, ...],
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record that the work of this round is complete, with total spending and evidence.

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: no work is under way.
            InvalidInputError: a value is malformed (no evidence, say).
            RuleViolationError: spending would go down.
        """
        moment = self._ctx.when(occurred_at)

        def complete(proposal: Proposal) -> None:
            proposal.complete(
                summary=summary,
                total_spent=total_spent,
                evidence=evidence,
                actor=actor,
                occurred_at=moment,
            )

        return self._step(proposal_id, "complete", complete)

    # --- Publish (晒) and Rate (评) ----------------------------------------------

    @public
    def publish(
        self,
        proposal_id: UUID | str,
        *,
        channels: list[PublicationChannel | str] | tuple[PublicationChannel | str, ...],
        summary: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Show the result (planned against actual spending), or the rejection, in public.

        Publishing a result opens a rating round under the policy in force now:
        its window and threshold hold for that round whatever changes later.

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: nothing is done or rejected yet.
            InvalidInputError: a value is malformed (no channel, say).
        """
        moment = self._ctx.when(occurred_at)

        def publish(proposal: Proposal) -> None:
            proposal.publish(
                channels=channels,
                summary=summary,
                policy=self._policy(proposal, moment),
                actor=actor,
                occurred_at=moment,
            )

        return self._step(proposal_id, "publish", publish)

    @public
    def rate(
        self,
        proposal_id: UUID | str,
        *,
        resident: str,
        level: Level | str,
        comment: str | None = None,
        actor: str | None = None,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record a resident's satisfaction with this round; a later rating replaces theirs.

        Only residents registered within the proposal's scope at the time may
        rate, and only within the round's rating window.

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: no rating round is open.
            NotEligibleError: the resident does not live within the proposal's area.
            InvalidInputError: a value is malformed (an unknown level, say).
            RuleViolationError: the rating window has closed.
        """
        moment = self._ctx.when(occurred_at)

        def rate(proposal: Proposal) -> None:
            self._check_resident(resident, proposal, moment, "rate")
            proposal.rate(
                resident=resident,
                level=level,
                comment=comment,
                actor=actor if actor is not None else resident,
                occurred_at=moment,
            )

        return self._step(proposal_id, "rate", rate)

    @public
    def rate_many(
        self,
        proposal_id: UUID | str,
        ratings: Iterable[Mapping[str, Any]],
        *,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record many residents' ratings of this round in one transaction, all or none.

        For an office entering the forms of a rating meeting: each item has
        ``resident`` and ``level``, and may have ``comment``, ``actor`` and its own
        ``occurred_at`` (default: the call's). The same rules as ``rate`` apply to
        each; one refused rating refuses the whole batch.

        Raises:
            The errors of ``rate``, for the first rating refused.
        """
        moment = self._ctx.when(occurred_at)
        items = [self._rating(r, moment) for r in ratings]

        def rate_many(proposal: Proposal) -> None:
            structure = self._ctx.structure()  # one version of the structure for the batch
            for item in items:
                self._ctx.check_resident(
                    str(item["resident"]),
                    proposal.state.area_id,
                    item["occurred_at"],
                    "rate",
                    proposal_id=proposal.id,
                    structure=structure,
                )
            proposal.rate_many(items)

        return self._step(proposal_id, "rate_many", rate_many)

    @public
    def close_rating(
        self, proposal_id: UUID | str, *, actor: str, occurred_at: datetime | None = None
    ) -> ProposalState:
        """End the rating round once its window has passed: closed if the satisfaction
        rate reaches the round's threshold, otherwise back to Do for rectification.

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: no rating round is open.
            RuleViolationError: nobody rated yet, or the window is still open.
        """
        moment = self._ctx.when(occurred_at)

        def close(proposal: Proposal) -> None:
            proposal.close_rating(actor=actor, occurred_at=moment)

        return self._step(proposal_id, "close_rating", close)

    @public
    def withdraw(
        self,
        proposal_id: UUID | str,
        *,
        reason: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Abandon the proposal before it is done; final.

        Raises:
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: the work is done or the proposal is final.
            InvalidInputError: the reason is missing.
        """
        moment = self._ctx.when(occurred_at)

        def withdraw(proposal: Proposal) -> None:
            proposal.withdraw(reason=reason, actor=actor, occurred_at=moment)

        return self._step(proposal_id, "withdraw", withdraw)

    # --- the parts every step uses ------------------------------------------------------

    def _step(
        self, proposal_id: UUID | str, what: str, act: Callable[[Proposal], None]
    ) -> ProposalState:
        """Run ``act`` on the proposal's fresh state (re-run after a lost race)."""
        pid = proposal_uuid(proposal_id)
        proposal = self._ctx.commands.update(pid, what, lambda: self._ctx.proposal(pid), act)
        return proposal.state

    def _check_resident(
        self, resident: str, proposal: Proposal, moment: datetime, step: str
    ) -> None:
        self._ctx.check_resident(
            resident, proposal.state.area_id, moment, step, proposal_id=proposal.id
        )

    def _policy(self, proposal: Proposal, moment: datetime) -> Policy:
        return self._ctx.policy_at(self._ctx.structure(), proposal.state.area_id, moment)

    def _rating(self, item: Mapping[str, Any], moment: datetime) -> commands.Rate:
        given = item.get("occurred_at")
        return commands.Rate(
            resident=item.get("resident"),  # type: ignore[typeddict-item]
            level=item.get("level"),  # type: ignore[typeddict-item]
            comment=item.get("comment"),
            actor=item.get("actor") or item.get("resident"),  # type: ignore[typeddict-item]
            occurred_at=self._ctx.when(given) if given else moment,
        )
