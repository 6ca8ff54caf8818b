"""What the API publishes about a proposal: nothing that would tell one resident's part.

A proposal's state holds this round's ratings (who, how, with what comment), the raw
counts of each closed round, and the ids of the residents who asked, backed and
attended. None of it is published: a figure about ratings is given by the views alone,
with their suppression (``/proposals/{id}/satisfaction``), and a resident's own steps
show in the history as "a resident ..." without who or how. Auditors (the router's
``auditor`` hook) read the history with every actor and line in full.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from civicflow.audit.trail import AuditEntry
from civicflow.domain import vocabulary
from civicflow.domain.lifecycle import Stage
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import ProposalState
from civicflow.domain.values import Budget, Channel, Outcome, PublicationChannel, Vote


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DiscussionOut(_Out):
    """A council session: how many came, not who among the residents."""

    occurred_at: datetime
    summary: str
    opinions: tuple[str, ...]
    attendees: int = Field(description="how many attended")
    members_present: int | None = Field(description="council members among them (if known)")
    council_size: int | None


class DecisionOut(_Out):
    occurred_at: datetime
    outcome: Outcome
    vote: Vote
    plan: str | None
    budget: Budget | None
    responsible: str | None
    deadline: date | None
    reasons: str | None


class ProgressOut(_Out):
    occurred_at: datetime
    percent: int
    note: str
    spent: Decimal


class CompletionOut(_Out):
    occurred_at: datetime
    summary: str
    total_spent: Decimal
    evidence: tuple[str, ...]


class PublicationOut(_Out):
    occurred_at: datetime
    channels: tuple[PublicationChannel, ...]
    summary: str
    planned_spending: Decimal | None
    actual_spending: Decimal | None
    reasons: str | None


class RoundOut(_Out):
    """A closed rating round: its verdict only; its figures are the views'
    (``/proposals/{id}/satisfaction``, suppressed below k residents)."""

    occurred_at: datetime
    round: int
    passed: bool
    threshold: Decimal


class WithdrawalOut(_Out):
    occurred_at: datetime
    reason: str


class PublicProposal(_Out):
    """A proposal as anyone may read it: no resident's id, rating or comment."""

    id: UUID
    version: int
    stage: Stage
    title: str
    details: str
    category: str
    area_id: str
    channel: Channel
    asked_at: datetime
    stage_entered_at: datetime
    recorded_at: datetime
    round: int
    backers: int = Field(description="how many residents backed the need")
    discussions: tuple[DiscussionOut, ...]
    decisions: tuple[DecisionOut, ...]
    progress: tuple[ProgressOut, ...]
    percent: int
    spent: Decimal
    completions: tuple[CompletionOut, ...]
    publications: tuple[PublicationOut, ...]
    rounds: tuple[RoundOut, ...]
    withdrawal: WithdrawalOut | None


def public_proposal(state: ProposalState) -> PublicProposal:
    """The published part of ``state``."""
    return PublicProposal(
        id=state.id,
        version=state.version,
        stage=state.stage,
        title=state.title,
        details=state.details,
        category=state.category,
        area_id=state.area_id,
        channel=state.channel,
        asked_at=state.asked_at,
        stage_entered_at=state.stage_entered_at,
        recorded_at=state.recorded_at,
        round=state.round,
        backers=len(state.backers),
        discussions=tuple(
            DiscussionOut(
                occurred_at=d.occurred_at,
                summary=d.summary,
                opinions=d.opinions,
                attendees=len(d.attendees),
                members_present=None if d.members_present is None else len(d.members_present),
                council_size=d.council_size,
            )
            for d in state.discussions
        ),
        decisions=tuple(DecisionOut(**_fields(d, DecisionOut)) for d in state.decisions),
        progress=tuple(ProgressOut(**_fields(p, ProgressOut)) for p in state.progress),
        percent=state.percent,
        spent=state.spent,
        completions=tuple(CompletionOut(**_fields(c, CompletionOut)) for c in state.completions),
        publications=tuple(
            PublicationOut(**_fields(p, PublicationOut)) for p in state.publications
        ),
        rounds=tuple(RoundOut(**_fields(r, RoundOut)) for r in state.rounds),
        withdrawal=None
        if state.withdrawal is None
        else WithdrawalOut(**_fields(state.withdrawal, WithdrawalOut)),
    )


class HistoryEntry(_Out):
    """One event of a proposal's history. For a resident's own step (ask, back, rate),
    ``actor`` is null and the lines say "a resident", unless the caller is an auditor."""

    version: int
    event: str = Field(description="the event's class name, e.g. Decided")
    actor: str | None = Field(description="who recorded it (null: withheld)")
    occurred_at: datetime
    recorded_at: datetime
    stage_before: Stage | None
    stage_after: Stage
    zh: str
    en: str
    digest_link: str | None


RESIDENT_STEPS = (Proposal.Asked, Proposal.Backed, Proposal.Rated)


def history(
    entries: list[AuditEntry], events: list[Proposal.Event], *, full: bool
) -> list[HistoryEntry]:
    """The trail as published: in full for an auditor, else without residents."""
    by_version = {e.originator_version: e for e in events}
    out = []
    for entry in entries:
        fields = entry.model_dump()
        event = by_version.get(entry.version)
        lines = None if full else _withheld(event)
        if lines is not None:
            fields.update(zh=lines[0], en=lines[1])
            if isinstance(event, RESIDENT_STEPS):
                fields.update(actor=None)
        out.append(HistoryEntry(**fields))
    return out


def _withheld(event: Proposal.Event | None) -> tuple[str, str] | None:
    """The public lines of a resident's step, or of a round's figures (None: as is)."""
    if isinstance(event, Proposal.Asked):
        return (
            f"居民通过{vocabulary.CHANNEL[event.channel]}提出需求「{event.title}」",
            f'a resident asked for "{event.title}" ({event.channel.value})',
        )
    if isinstance(event, Proposal.Backed):
        return "一位居民附议", "a resident backed the need"
    if isinstance(event, Proposal.Rated):
        return f"一位居民评价了第 {event.round} 轮", f"a resident rated round {event.round}"
    if isinstance(event, Proposal.RatingClosed):
        verdict_zh, verdict_en = ("办结", "closed") if event.passed else ("整改", "rectification")
        return (
            f"第 {event.round} 轮评价结束：{verdict_zh}",
            f"round {event.round} closed: {verdict_en}",
        )
    return None


def _fields(source: BaseModel, model: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(source, name) for name in model.model_fields}
