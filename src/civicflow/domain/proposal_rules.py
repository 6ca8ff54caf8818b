"""The rules a proposal's steps are judged by, as pure functions of typed events.

Each returns what it found: nothing when the step may go ahead, otherwise the
rule broken and a message; the aggregate turns a refusal into an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from civicflow.domain.community.policy import Policy
from civicflow.domain.proposal_state import LEVEL_CODES
from civicflow.domain.values import Level, Outcome, content, fraction

if TYPE_CHECKING:
    from civicflow.domain.proposal import Proposal
    from civicflow.domain.proposal_state import ProposalState

Refusal = tuple[str, str] | None  # (rule, message), or None: allowed


def decision_refusal(decision: Proposal.Decided, session: Proposal.Discussed) -> Refusal:
    """Why the council's decision cannot stand, in the order a reader would check."""
    return (
        _quorum_refusal(decision, session)
        or _majority_refusal(decision)
        or _deadline_refusal(decision)
    )


def missing_for_outcome(decision: Proposal.Decided) -> str:
    """What the decision lacks (or carries that its outcome does not take), or ''."""
    approval = {
        "plan": decision.plan,
        "budget": decision.budget,
        "responsible": decision.responsible,
        "deadline": decision.deadline,
    }
    given = [name for name, value in approval.items() if value is not None]
    missing = [name for name, value in approval.items() if value is None]
    if decision.outcome is Outcome.APPROVED and missing:
        return f"an approval needs {', '.join(missing)}"
    if decision.outcome is not Outcome.APPROVED and given:
        return f"only an approval carries {', '.join(given)}"
    if decision.outcome is Outcome.REJECTED and decision.reasons is None:
        return "a rejection needs reasons"
    return ""


def late_rating_refusal(state: ProposalState, moment: datetime) -> Refusal:
    """A rating after the round's window closed is refused."""
    closes_at = state.rating_closes_at
    if closes_at is not None and moment > closes_at:
        return (
            "window",
            f"the rating window of round {state.round} closed at "
            f"{closes_at.isoformat()}; late ratings are refused",
        )
    return None


def early_close_refusal(state: ProposalState, moment: datetime) -> Refusal:
    """A round closes only once rated and once its window has passed."""
    if not state.rating_levels:
        return ("ratings", "a round cannot close before anyone has rated it")
    closes_at = state.rating_closes_at
    if closes_at is not None and moment < closes_at:
        return (
            "window",
            f"round {state.round} accepts ratings until {closes_at.isoformat()}; "
            "close it after that",
        )
    return None


def tally(levels: str, policy: Policy) -> dict[str, Any]:
    """The counts, rate and verdict that close a round (of its ``rating_levels``), by ``policy``."""
    counts = {level.value: levels.count(LEVEL_CODES[level.value]) for level in Level}
    satisfied = content(counts)
    threshold = policy.rectification_threshold
    return {
        **counts,
        "satisfaction_rate": fraction(satisfied, len(levels)) or 0,
        "threshold": threshold,
        "passed": satisfied >= threshold * len(levels),
    }


def _quorum_refusal(decision: Proposal.Decided, session: Proposal.Discussed) -> Refusal:
    """A decision rests on the latest session, which needs a quorum of the council."""
    if decision.occurred_at < session.occurred_at:
        return (
            "chronology",
            f"the decision is dated before the session of "
            f"{session.occurred_at.isoformat()} it rests on",
        )
    if session.council_size is None or session.members_present is None:
        return None  # community rules were off for that session
    present, size = len(session.members_present), session.council_size
    if not decision.policy.quorum_met(present, size):
        return (
            "quorum",
            f"the session of {session.occurred_at.date()} had {present} "
            f"of {size} council members present; a decision needs more than "
            f"{decision.policy.quorum:.0%} of them",
        )
    if decision.vote.cast > present:
        return (
            "vote",
            f"{decision.vote.cast} votes were cast but only {present} council members were present",
        )
    return None


def _majority_refusal(decision: Proposal.Decided) -> Refusal:
    vote, majority = decision.vote, decision.policy.majority
    if majority.is_met(vote.in_favour, vote.against, vote.abstain):
        return None
    return (
        "majority",
        f"the vote ({vote.in_favour} for, {vote.against} against, {vote.abstain} "
        f"abstaining) does not reach the {majority.value} majority: {majority.describe()}",
    )


def _deadline_refusal(decision: Proposal.Decided) -> Refusal:
    if decision.deadline is not None and decision.deadline < decision.occurred_at.date():
        return ("deadline", f"deadline {decision.deadline} is before the decision itself")
    return None
