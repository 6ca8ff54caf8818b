"""The audit trail of a proposal: every event with who, when, the stage around it, in words.

Each entry says what happened in one line, in Chinese and in English, next to
the recording time (when the store learned of it) and the time in the world.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from civicflow.domain import lifecycle, vocabulary
from civicflow.domain.lifecycle import Stage
from civicflow.domain.proposal import Proposal
from civicflow.domain.values import Outcome


class AuditEntry(BaseModel):
    """One event of a proposal's history, as an auditor reads it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    event: str  # the event's class name, e.g. Decided
    actor: str
    occurred_at: datetime  # when it happened in the world
    recorded_at: datetime  # when the store recorded it
    stage_before: Stage | None
    stage_after: Stage
    zh: str
    en: str
    digest_link: str | None  # previous_digest: the chain link to the entry before


def trail(events: Sequence[Proposal.Event]) -> list[AuditEntry]:
    """The audit entries of a proposal's events, oldest first."""
    entries: list[AuditEntry] = []
    stage: Stage | None = None
    for event in events:
        after = lifecycle.target_stage(stage, event.step, event.branch())
        zh, en = describe(event)
        entries.append(
            AuditEntry(
                version=event.originator_version,
                event=type(event).__name__,
                actor=event.actor,
                occurred_at=event.occurred_at,
                recorded_at=event.timestamp,
                stage_before=stage,
                stage_after=after,
                zh=zh,
                en=en,
                digest_link=event.previous_digest,
            )
        )
        stage = after
    return entries


def describe(event: Proposal.Event) -> tuple[str, str]:
    """One line in Chinese and one in English saying what ``event`` records."""
    return _DESCRIPTIONS[type(event)](event)


def _asked(e: Any) -> tuple[str, str]:
    return (
        f"居民 {e.resident} 通过{vocabulary.CHANNEL[e.channel]}提出需求「{e.title}」",
        f'resident {e.resident} asked for "{e.title}" ({e.channel.value})',
    )


def _backed(e: Any) -> tuple[str, str]:
    return f"居民 {e.resident} 附议", f"resident {e.resident} backed the need"


def _discussed(e: Any) -> tuple[str, str]:
    members = (
        ""
        if e.members_present is None
        else (f"，议事会成员到会 {len(e.members_present)}/{e.council_size}")
    )
    members_en = (
        ""
        if e.members_present is None
        else (f", {len(e.members_present)} of {e.council_size} council members")
    )
    return (
        f"议事会议事：{len(e.attendees)} 人参加{members}",
        f"council session: {len(e.attendees)} present{members_en}",
    )


def _decided(e: Any) -> tuple[str, str]:
    vote = f"{e.vote.in_favour}/{e.vote.against}/{e.vote.abstain}"
    if e.outcome is Outcome.APPROVED:
        return (
            f"表决通过（赞成/反对/弃权 {vote}）：预算 {e.budget.amount} {e.budget.currency}，"
            f"负责人 {e.responsible}，期限 {e.deadline}",
            f"approved ({vote} for/against/abstain): budget {e.budget.amount} "
            f"{e.budget.currency}, {e.responsible} responsible, due {e.deadline}",
        )
    if e.outcome is Outcome.REJECTED:
        return f"表决不予立项（{vote}）：{e.reasons}", f"rejected ({vote}): {e.reasons}"
    return f"暂缓决定，继续议事（{vote}）", f"deferred to further discussion ({vote})"


def _progress(e: Any) -> tuple[str, str]:
    return (
        f"进度 {e.percent}%，已支出 {e.spent}",
        f"progress {e.percent}%, {e.spent} spent so far",
    )


def _done(e: Any) -> tuple[str, str]:
    return f"办结，共支出 {e.total_spent}", f"completed, {e.total_spent} spent in total"


def _published(e: Any) -> tuple[str, str]:
    where = ", ".join(c.value for c in e.channels)
    if e.reasons is not None:
        return f"公示不予立项的理由（{where}）", f"rejection and its reasons published ({where})"
    return (
        f"公示结果（{where}）：计划 {e.planned_spending}，实际 {e.actual_spending}",
        f"result published ({where}): planned {e.planned_spending}, actual {e.actual_spending}",
    )


def _rated(e: Any) -> tuple[str, str]:
    return (
        f"居民 {e.resident} 评价第 {e.round} 轮：{vocabulary.LEVEL[e.level]}",
        f"resident {e.resident} rated round {e.round}: {e.level.value}",
    )


def _closed(e: Any) -> tuple[str, str]:
    n = e.satisfied + e.basically_satisfied + e.dissatisfied
    if e.passed:
        return (
            f"第 {e.round} 轮评价结束：满意率 {e.satisfaction_rate:.2%}（{n} 人），办结",
            f"round {e.round} closed: {e.satisfaction_rate:.2%} satisfied of {n}, closed",
        )
    return (
        f"第 {e.round} 轮评价结束：满意率 {e.satisfaction_rate:.2%}，低于 {e.threshold:.0%}，整改",
        f"round {e.round} closed: {e.satisfaction_rate:.2%} satisfied, below "
        f"{e.threshold:.0%}: back to rectification",
    )


def _withdrawn(e: Any) -> tuple[str, str]:
    return f"撤回：{e.reason}", f"withdrawn: {e.reason}"


_DESCRIPTIONS: dict[type, Callable[[Any], tuple[str, str]]] = {
    Proposal.Asked: _asked,
    Proposal.Backed: _backed,
    Proposal.Discussed: _discussed,
    Proposal.Decided: _decided,
    Proposal.ProgressReported: _progress,
    Proposal.Done: _done,
    Proposal.Published: _published,
    Proposal.Rated: _rated,
    Proposal.RatingClosed: _closed,
    Proposal.Withdrawn: _withdrawn,
}


def markdown(state_title: str, entries: Sequence[AuditEntry], lang: str = "en") -> str:
    """The trail as a Markdown document an auditor can read or print."""
    zh = lang == "zh"
    head = (
        "| 版本 | 发生时间 | 记录时间 | 操作人 | 阶段 | 事项 |"
        if zh
        else "| version | occurred | recorded | actor | stage | what happened |"
    )
    lines = [
        f"# {'审计记录' if zh else 'Audit trail'}: {_md(state_title)}",
        "",
        head,
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for e in entries:
        before = e.stage_before.value if e.stage_before else "—"
        lines.append(
            f"| {e.version} | {e.occurred_at.isoformat()} | {e.recorded_at.isoformat()} "
            f"| {_md(e.actor)} | {before} → {e.stage_after.value} | {_md(e.zh if zh else e.en)} |"
        )
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Free text made safe for one Markdown table cell (or a heading)."""
    return " ".join(text.replace("|", "\\|").splitlines())
