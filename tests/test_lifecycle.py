"""The lifecycle table is checked when it loads: a table that cannot be meant is refused."""

from __future__ import annotations

import pytest

from civicflow.domain.lifecycle import (
    TRANSITIONS,
    Stage,
    Step,
    Transition,
    Verdict,
    target_stage,
    validate,
)
from civicflow.domain.values import Outcome
from civicflow.errors import LifecycleDefinitionError


def without(*dropped: Transition) -> list[Transition]:
    return [row for row in TRANSITIONS if row not in dropped]


def test_the_shipped_table_passes_its_own_checks() -> None:
    validate(TRANSITIONS)


def test_a_row_given_twice_is_refused_rather_than_silently_winning() -> None:
    with pytest.raises(LifecycleDefinitionError, match="more than once"):
        validate([*TRANSITIONS, TRANSITIONS[3]])


def test_a_second_target_for_the_same_step_and_branch_is_refused() -> None:
    clash = Transition(Stage.DISCUSSING, Step.DECIDE, Stage.CLOSED, when=Outcome.APPROVED)
    with pytest.raises(LifecycleDefinitionError):
        validate([*TRANSITIONS, clash])


def test_branches_must_cover_every_value_of_their_enum() -> None:
    deferred = next(row for row in TRANSITIONS if row.when is Outcome.DEFERRED)
    with pytest.raises(LifecycleDefinitionError, match="branches"):
        validate(without(deferred))


def test_a_branch_label_must_be_typed_not_a_bare_string() -> None:
    rows = [
        Transition(r.source, r.step, r.target, when="passed")  # type: ignore[arg-type]
        if r.when is Verdict.PASSED
        else r
        for r in TRANSITIONS
    ]
    with pytest.raises(LifecycleDefinitionError, match="branches"):
        validate(rows)


def test_a_step_cannot_mix_a_plain_row_with_branches() -> None:
    plain = Transition(Stage.DISCUSSING, Step.DECIDE, Stage.DOING)
    with pytest.raises(LifecycleDefinitionError, match="branches"):
        validate([*TRANSITIONS, plain])


def test_a_stage_no_step_reaches_is_refused() -> None:
    withdrawals = [row for row in TRANSITIONS if row.target is Stage.WITHDRAWN]
    with pytest.raises(LifecycleDefinitionError, match="withdrawn"):
        validate(without(*withdrawals))


def test_branches_lead_where_the_table_says() -> None:
    assert target_stage(Stage.RATING, Step.CLOSE_RATING, Verdict.RECTIFY) is Stage.DOING
    assert target_stage(Stage.DISCUSSING, Step.DECIDE, Outcome.REJECTED) is Stage.REJECTED
