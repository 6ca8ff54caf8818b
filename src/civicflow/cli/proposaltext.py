"""A proposal as a person reads it: after a step (what changed, what is next) and in ``show``.

Scripts read ``--json``, which keeps every field and every code; this text is for the
terminal and may change. Labels go through the catalog (``i18n``); stage, level and
channel codes read as the vocabulary's Chinese labels with ``--lang zh``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from civicflow.cli.i18n import N_, _, day, language, ngettext, number, pad, percent, width
from civicflow.domain import vocabulary
from civicflow.domain.lifecycle import Stage, Step, allowed_steps

# The command a user types for each step the lifecycle allows (Step values are method names).
COMMANDS: dict[Step, str] = {
    Step.ASK: "ask",
    Step.BACK: "back",
    Step.DISCUSS: "discuss",
    Step.DECIDE: "decide",
    Step.REPORT_PROGRESS: "progress",
    Step.COMPLETE: "complete",
    Step.PUBLISH: "publish",
    Step.RATE: "rate",
    Step.CLOSE_RATING: "close-rating",
    Step.WITHDRAW: "withdraw",
}

_STEP_DONE = {  # what a step command says it recorded
    "ask": N_("asked"),
    "back": N_("backed"),
    "discuss": N_("discussed"),
    "decide": N_("decided"),
    "progress": N_("progress reported"),
    "complete": N_("completed"),
    "publish": N_("published"),
    "rate": N_("rated"),
    "close-rating": N_("rating closed"),
    "withdraw": N_("withdrawn"),
}


def code(value: Any) -> str:
    """A code (stage, level, channel...) as the language shows it."""
    text = getattr(value, "value", value)
    if language() == "zh":
        own = vocabulary.ZH.get(type(value))
        if own is not None:
            return str(own[value])
        for labels in vocabulary.ZH.values():
            for member, label in labels.items():
                if member.value == text:
                    return str(label)
    return str(text)


def short_id(proposal_id: Any) -> str:
    """The first block of a proposal id: enough to tell two proposals apart on screen."""
    return str(proposal_id).split("-", 1)[0]


def next_steps(stage: Stage) -> str:
    """The commands that may follow in ``stage``, or that none may."""
    names = sorted(COMMANDS[step] for step in allowed_steps(stage))
    return ", ".join(names) if names else _("none: the proposal is final")


def step_summary(step: str, state: Any) -> str:
    """What a step command did, in one line, and what may come next."""
    recorded = _(_STEP_DONE.get(step, step))
    lines = [
        _("{step}: {title} ({id}) is now in stage {stage}, version {version}").format(
            step=recorded,
            title=state.title,
            id=state.id,
            stage=code(state.stage),
            version=state.version,
        ),
        _("next: {steps}").format(steps=next_steps(state.stage)),
        "",
    ]
    return "\n".join(lines) + "\n" + proposal_text(state)


def proposal_text(state: Any) -> str:
    """The proposal as ``label  value`` lines, one per step that happened."""
    rows: list[tuple[str, str]] = [
        (_("id"), str(state.id)),
        (_("title"), state.title),
        (_("stage"), code(state.stage)),
        (_("area"), state.area_id),
        (_("category"), state.category),
        (
            _("asked"),
            _("by {resident} via {channel} on {day}").format(
                resident=state.asked_by, channel=code(state.channel), day=_day(state.asked_at)
            ),
        ),
        (_("backers"), number(len(state.backers))),
    ]
    if state.discussions:
        last = state.discussions[-1]
        rows.append((_("discussed"), _sessions(len(state.discussions), last)))
    if state.decisions:
        rows.append((_("decided"), _decision(state.decisions[-1])))
    if state.progress or state.completions:
        rows.append(
            (
                _("work"),
                _("{percent} done, {spent} spent").format(
                    percent=percent(state.percent / 100, 0), spent=number(state.spent)
                ),
            )
        )
    if state.publications:
        last = state.publications[-1]
        channels = ", ".join(code(c) for c in last.channels)
        rows.append((_("published"), f"{_day(last.occurred_at)} ({channels})"))
    if state.rating_rows:
        rows.append((_("ratings this round"), number(len(state.rating_rows))))
    for closed in state.rounds:
        verdict = _("passed") if closed.passed else _("rectify")
        rows.append(
            (
                _("round {round}").format(round=closed.round),
                f"{percent(closed.satisfaction_rate)} {verdict}",
            )
        )
    if state.withdrawal is not None:
        rows.append((_("withdrawn"), state.withdrawal.reason))
    rows += [
        (_("version"), str(state.version)),
        (_("next"), next_steps(state.stage)),
    ]
    return _lines(rows)


def _sessions(count: int, last: Any) -> str:
    sessions = ngettext("{n} session", "{n} sessions", count).format(n=count)
    present = ngettext("{n} present", "{n} present", len(last.attendees)).format(
        n=len(last.attendees)
    )
    return _("{sessions}, the last on {day} ({present})").format(
        sessions=sessions, day=_day(last.occurred_at), present=present
    )


def _decision(decided: Any) -> str:
    vote = decided.vote
    text = _("{outcome}, {for_} for, {against} against, {abstain} abstaining").format(
        outcome=code(decided.outcome),
        for_=vote.in_favour,
        against=vote.against,
        abstain=vote.abstain,
    )
    if decided.budget is not None:
        text += "; " + _("budget {amount} {currency}").format(
            amount=number(decided.budget.amount), currency=decided.budget.currency
        )
    if decided.deadline is not None:
        text += "; " + _("deadline {day}").format(day=_day(decided.deadline))
    if decided.reasons:
        text += "; " + decided.reasons
    return text


def _day(moment: datetime | date) -> str:
    return day(moment)


def _lines(rows: list[tuple[str, str]]) -> str:
    size = max(width(name) for name, _value in rows)
    return "".join(f"{pad(name, size)}  {value}\n" for name, value in rows)


__all__ = ["code", "next_steps", "proposal_text", "short_id", "step_summary"]
