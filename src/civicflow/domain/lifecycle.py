"""Stages of a proposal and the steps allowed in each, kept as one table of data.

Everything else (the aggregate's checks, the error messages, the diagram in
``docs/concepts.md``) is derived from ``TRANSITIONS``; nothing restates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    """Where a proposal stands in the six steps."""

    ASKED = "asked"  # the need is collected; residents may back it
    DISCUSSING = "discussing"  # the council has held at least one session
    DOING = "doing"  # approved (or sent back for rectification); work under way
    DONE = "done"  # work completed, result not yet shown in public
    RATING = "rating"  # published; residents are rating this round
    REJECTED = "rejected"  # the council said no; the reasons still get published
    CLOSED = "closed"  # final: residents satisfied, or a rejection published
    WITHDRAWN = "withdrawn"  # final: abandoned before completion


class Step(StrEnum):
    """A command a proposal can receive: one per use case."""

    ASK = "ask"
    BACK = "back"
    DISCUSS = "discuss"
    DECIDE = "decide"
    REPORT_PROGRESS = "report_progress"
    COMPLETE = "complete"
    PUBLISH = "publish"
    RATE = "rate"
    CLOSE_RATING = "close_rating"
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Transition:
    """One row: in ``source``, ``step`` (with branch ``when``) leads to ``target``.

    ``source`` is None for the step that creates a proposal.
    """

    source: Stage | None
    step: Step
    target: Stage
    when: str = ""


TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, Step.ASK, Stage.ASKED),
    Transition(Stage.ASKED, Step.BACK, Stage.ASKED),
    Transition(Stage.ASKED, Step.DISCUSS, Stage.DISCUSSING),
    Transition(Stage.ASKED, Step.WITHDRAW, Stage.WITHDRAWN),
    Transition(Stage.DISCUSSING, Step.BACK, Stage.DISCUSSING),
    Transition(Stage.DISCUSSING, Step.DISCUSS, Stage.DISCUSSING),
    Transition(Stage.DISCUSSING, Step.DECIDE, Stage.DOING, when="approved"),
    Transition(Stage.DISCUSSING, Step.DECIDE, Stage.REJECTED, when="rejected"),
    Transition(Stage.DISCUSSING, Step.DECIDE, Stage.DISCUSSING, when="deferred"),
    Transition(Stage.DISCUSSING, Step.WITHDRAW, Stage.WITHDRAWN),
    Transition(Stage.DOING, Step.REPORT_PROGRESS, Stage.DOING),
    Transition(Stage.DOING, Step.COMPLETE, Stage.DONE),
    Transition(Stage.DOING, Step.WITHDRAW, Stage.WITHDRAWN),
    Transition(Stage.DONE, Step.PUBLISH, Stage.RATING),
    Transition(Stage.REJECTED, Step.PUBLISH, Stage.CLOSED),
    Transition(Stage.RATING, Step.RATE, Stage.RATING),
    Transition(Stage.RATING, Step.CLOSE_RATING, Stage.CLOSED, when="passed"),
    Transition(Stage.RATING, Step.CLOSE_RATING, Stage.DOING, when="rectify"),
)

_TARGETS: dict[tuple[Stage | None, Step, str], Stage] = {
    (row.source, row.step, row.when): row.target for row in TRANSITIONS
}

FINAL_STAGES: frozenset[Stage] = frozenset(
    stage for stage in Stage if not any(row.source is stage for row in TRANSITIONS)
)


def allowed_steps(stage: Stage) -> frozenset[Step]:
    """The steps a proposal in ``stage`` accepts."""
    return frozenset(row.step for row in TRANSITIONS if row.source is stage)


def is_allowed(stage: Stage, step: Step) -> bool:
    """Whether ``step`` may be taken in ``stage``."""
    return step in allowed_steps(stage)


def target_stage(stage: Stage | None, step: Step, when: str = "") -> Stage:
    """The stage that ``step`` (with branch ``when``) leads to from ``stage``.

    Raises:
        KeyError: the table has no such row; callers check ``is_allowed`` first.
    """
    return _TARGETS[(stage, step, when)]


def mermaid_diagram() -> str:
    """The lifecycle as a Mermaid state diagram, drawn from ``TRANSITIONS``."""
    lines = ["stateDiagram-v2"]
    for row in TRANSITIONS:
        source = "[*]" if row.source is None else row.source.value
        label = f"{row.step.value} ({row.when})" if row.when else row.step.value
        lines.append(f"    {source} --> {row.target.value} : {label}")
    lines.extend(f"    {stage.value} --> [*]" for stage in sorted(FINAL_STAGES))
    return "\n".join(lines)
