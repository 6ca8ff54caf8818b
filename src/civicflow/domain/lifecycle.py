"""Stages of a proposal and the steps allowed in each, kept as one table of data.

Everything else (the aggregate's checks, the error messages, the diagram in
``docs/concepts.md``, the CLI's stage names) is derived from ``TRANSITIONS``;
nothing restates it. The table is checked when this module loads: a duplicated
or ambiguous row, a branch that does not cover its step's outcomes, or a stage
no step reaches is a ``LifecycleDefinitionError`` before any proposal exists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from civicflow.domain.kinds import Outcome
from civicflow.errors import LifecycleDefinitionError


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


class Verdict(StrEnum):
    """How a rating round ended: the branch a closed round takes."""

    PASSED = "passed"  # satisfied enough: the proposal closes
    RECTIFY = "rectify"  # below the threshold: back to Do for rectification (整改)


# A step with several outcomes takes one branch per value of one of these enums.
Branch = Outcome | Verdict
BRANCH_KINDS: tuple[type[StrEnum], ...] = (Outcome, Verdict)


@dataclass(frozen=True)
class Transition:
    """One row: in ``source``, ``step`` (with branch ``when``) leads to ``target``.

    ``source`` is None for the step that creates a proposal.
    """

    source: Stage | None
    step: Step
    target: Stage
    when: Branch | None = None


TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, Step.ASK, Stage.ASKED),
    Transition(Stage.ASKED, Step.BACK, Stage.ASKED),
    Transition(Stage.ASKED, Step.DISCUSS, Stage.DISCUSSING),
    Transition(Stage.ASKED, Step.WITHDRAW, Stage.WITHDRAWN),
    Transition(Stage.DISCUSSING, Step.BACK, Stage.DISCUSSING),
    Transition(Stage.DISCUSSING, Step.DISCUSS, Stage.DISCUSSING),
    Transition(Stage.DISCUSSING, Step.DECIDE, Stage.DOING, when=Outcome.APPROVED),
    Transition(Stage.DISCUSSING, Step.DECIDE, Stage.REJECTED, when=Outcome.REJECTED),
    Transition(Stage.DISCUSSING, Step.DECIDE, Stage.DISCUSSING, when=Outcome.DEFERRED),
    Transition(Stage.DISCUSSING, Step.WITHDRAW, Stage.WITHDRAWN),
    Transition(Stage.DOING, Step.REPORT_PROGRESS, Stage.DOING),
    Transition(Stage.DOING, Step.COMPLETE, Stage.DONE),
    Transition(Stage.DOING, Step.WITHDRAW, Stage.WITHDRAWN),
    Transition(Stage.DONE, Step.PUBLISH, Stage.RATING),
    Transition(Stage.REJECTED, Step.PUBLISH, Stage.CLOSED),
    Transition(Stage.RATING, Step.RATE, Stage.RATING),
    Transition(Stage.RATING, Step.CLOSE_RATING, Stage.CLOSED, when=Verdict.PASSED),
    Transition(Stage.RATING, Step.CLOSE_RATING, Stage.DOING, when=Verdict.RECTIFY),
)


def validate(rows: Sequence[Transition]) -> None:
    """Refuse a table that could not be meant: checked on ``TRANSITIONS`` at import.

    Raises:
        LifecycleDefinitionError: a row is duplicated or ambiguous, a step's
            branches do not cover one branch enum exactly, or a stage is unreachable.
    """
    _check_rows_distinct(rows)
    _check_branches(rows)
    _check_reachable(rows)


def _check_rows_distinct(rows: Sequence[Transition]) -> None:
    keys = Counter((row.source, row.step, row.when) for row in rows)
    repeated = [key for key, count in keys.items() if count > 1]
    if repeated:
        raise LifecycleDefinitionError(f"rows given more than once: {repeated}")


def _check_branches(rows: Sequence[Transition]) -> None:
    groups: dict[tuple[Stage | None, Step], list[Branch | None]] = {}
    for row in rows:
        groups.setdefault((row.source, row.step), []).append(row.when)
    for (source, step), whens in groups.items():
        if whens == [None]:
            continue
        kinds = {type(when) for when in whens}
        kind = kinds.pop() if len(kinds) == 1 else None
        if kind is None or kind not in BRANCH_KINDS or set(whens) != set(kind):
            raise LifecycleDefinitionError(
                f"{step.value} from {source}: branches {whens} must be every value of one "
                f"of {[k.__name__ for k in BRANCH_KINDS]}, or a single row without a branch"
            )


def _check_reachable(rows: Sequence[Transition]) -> None:
    reached: set[Stage] = set()
    frontier = [row.target for row in rows if row.source is None]
    while frontier:
        stage = frontier.pop()
        if stage not in reached:
            reached.add(stage)
            frontier.extend(row.target for row in rows if row.source is stage)
    unreachable = sorted(set(Stage) - reached)
    if unreachable:
        raise LifecycleDefinitionError(f"no step leads to the stages {unreachable}")


validate(TRANSITIONS)

_TARGETS: dict[tuple[Stage | None, Step, Branch | None], Stage] = {
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


def target_stage(stage: Stage | None, step: Step, when: Branch | None = None) -> Stage:
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
        label = f"{row.step.value} ({row.when.value})" if row.when else row.step.value
        lines.append(f"    {source} --> {row.target.value} : {label}")
    lines.extend(f"    {stage.value} --> [*]" for stage in sorted(FINAL_STAGES))
    return "\n".join(lines)
