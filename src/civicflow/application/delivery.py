"""The steps after a decision (办晒评): progress, completion, publication and the ratings.

Publishing a result opens a rating round under the policy in force then; the
round closes by that policy's threshold, or goes back to Do for rectification.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from civicflow.application.boundary import UseCases, public
from civicflow.domain import proposal_commands as commands
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import ProposalState
from civicflow.domain.values import Level, PublicationChannel


class Delivery(UseCases):
    """Report progress, complete, publish, rate (one or many) and close the round."""

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
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Record progress (never going down within a round) and money spent so far.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
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

        return self._ctx.update_proposal(proposal_id, "report_progress", report, command_id)

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
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Record that the work of this round is complete, with total spending and evidence.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
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

        return self._ctx.update_proposal(proposal_id, "complete", complete, command_id)

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
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Show the result (planned against actual spending), or the rejection, in public.

        Publishing a result opens a rating round under the policy in force now:
        its window and threshold hold for that round whatever changes later.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: nothing is done or rejected yet.
            InvalidInputError: a value is malformed (no channel, say).
        """
        moment = self._ctx.when(occurred_at)

        def publish(proposal: Proposal) -> None:
            proposal.publish(
                channels=channels,
                summary=summary,
                policy=self._ctx.policy_for(proposal.state.area_id, moment),
                actor=actor,
                occurred_at=moment,
            )

        return self._ctx.update_proposal(proposal_id, "publish", publish, command_id)

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
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Record a resident's satisfaction with this round; a later rating replaces theirs.

        Only residents registered within the proposal's scope at the time may
        rate, and only within the round's rating window.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: no rating round is open.
            NotEligibleError: the resident does not live within the proposal's area.
            InvalidInputError: a value is malformed (an unknown level, say).
            RuleViolationError: the rating window has closed.
        """
        moment = self._ctx.when(occurred_at)

        def rate(proposal: Proposal) -> None:
            self._ctx.check_resident(
                resident, proposal.state.area_id, moment, "rate", proposal_id=proposal.id
            )
            proposal.rate(
                resident=resident,
                level=level,
                comment=comment,
                actor=actor if actor is not None else resident,
                occurred_at=moment,
            )

        return self._ctx.update_proposal(proposal_id, "rate", rate, command_id)

    @public
    def rate_many(
        self,
        proposal_id: UUID | str,
        ratings: Iterable[Mapping[str, Any]],
        *,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Record many residents' ratings of this round in one transaction, all or none.

        For an office entering the forms of a rating meeting: each item has
        ``resident`` and ``level``, and may have ``comment``, ``actor`` and its own
        ``occurred_at`` (default: the call's). The same rules as ``rate`` apply to
        each; one refused rating refuses the whole batch.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
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

        return self._ctx.update_proposal(proposal_id, "rate_many", rate_many, command_id)

    @public
    def close_rating(
        self,
        proposal_id: UUID | str,
        *,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """End the rating round once its window has passed: closed if the satisfaction
        rate reaches the round's threshold, otherwise back to Do for rectification.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            ProposalNotFoundError: no such proposal.
            StepNotAllowedError: no rating round is open.
            RuleViolationError: nobody rated yet, or the window is still open.
        """
        moment = self._ctx.when(occurred_at)

        def close(proposal: Proposal) -> None:
            proposal.close_rating(actor=actor, occurred_at=moment)

        return self._ctx.update_proposal(proposal_id, "close_rating", close, command_id)

    def _rating(self, item: Mapping[str, Any], moment: datetime) -> commands.Rate:
        given = item.get("occurred_at")
        return commands.Rate(
            resident=item.get("resident"),  # type: ignore[typeddict-item]
            level=item.get("level"),  # type: ignore[typeddict-item]
            comment=item.get("comment"),
            actor=item.get("actor") or item.get("resident"),  # type: ignore[typeddict-item]
            occurred_at=self._ctx.when(given) if given else moment,
        )
