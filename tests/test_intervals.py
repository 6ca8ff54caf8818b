"""The exact ranges of ``views/intervals.py`` equal scipy's linear programming.

Random small systems of sums over non-negative counts (some known to be at least 1),
built around a solution so that most are feasible, some made inconsistent on purpose.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog  # type: ignore[import-untyped]

from civicflow.views.intervals import InfeasibleError, Ranges, optimum

SIZE = 6


@st.composite
def systems(
    draw: st.DrawFn,
) -> tuple[list[tuple[dict[int, int], int]], dict[int, int], dict[int, int]]:
    point = draw(st.lists(st.integers(0, 6), min_size=SIZE, max_size=SIZE))
    lower = {v: draw(st.integers(0, 2)) for v in range(SIZE)}
    equations = []
    for _ in range(draw(st.integers(0, 5))):
        members = draw(st.lists(st.integers(0, SIZE - 1), min_size=1, max_size=SIZE, unique=True))
        row = {v: draw(st.sampled_from([-1, 1, 1, 2])) for v in members}
        off = draw(st.sampled_from([0, 0, 0, 0, 1, -1]))
        equations.append((row, sum(c * point[v] for v, c in row.items()) + off))
    objective = {v: draw(st.sampled_from([-1, 0, 0, 1])) for v in range(SIZE)}
    return equations, lower, objective


def scipy_optimum(
    equations: list[tuple[dict[int, int], int]], lower: dict[int, int], objective: dict[int, int]
) -> float | str | None:
    a_eq = np.zeros((len(equations), SIZE))
    for i, (row, _) in enumerate(equations):
        for v, c in row.items():
            a_eq[i, v] = c
    result = linprog(
        -np.array([objective[v] for v in range(SIZE)], dtype=float),
        A_eq=a_eq if equations else None,
        b_eq=np.array([value for _, value in equations], dtype=float) if equations else None,
        bounds=[(lower[v], None) for v in range(SIZE)],
        method="highs",
    )
    if result.status == 0:
        return float(-result.fun)
    return {2: "infeasible", 3: None}[result.status]


@settings(max_examples=300, deadline=None)
@given(system=systems())
def test_the_exact_optimum_equals_scipys(
    system: tuple[list[tuple[dict[int, int], int]], dict[int, int], dict[int, int]],
) -> None:
    equations, lower, objective = system
    want = scipy_optimum(equations, lower, objective)
    try:
        got = optimum(cast(Any, equations), cast(Any, lower), cast(Any, objective))
    except InfeasibleError:
        assert want == "infeasible"
        return
    if got is None or want is None:
        assert got is want
    else:
        assert abs(float(got) - float(want)) < 1e-6


@settings(max_examples=200, deadline=None)
@given(
    system=systems(),
    questions=st.lists(
        st.tuples(st.integers(0, SIZE - 1), st.sampled_from([-1, 1]), st.booleans()),
        min_size=1,
        max_size=6,
    ),
)
def test_questions_in_turn_give_each_its_own_optimum(
    system: tuple[list[tuple[dict[int, int], int]], dict[int, int], dict[int, int]],
    questions: list[tuple[int, int, bool]],
) -> None:
    """One ``Ranges`` asked in turn (each question starting where the one before ended,
    some stopped early by ``enough``) answers each as a system of its own does."""
    equations, lower, _ = system
    try:
        ranges = Ranges(cast(Any, equations), cast(Any, lower))
    except InfeasibleError:
        return
    for variable, sign, early in questions:
        if early:  # leaves the tableau wherever the first acceptable value was found
            ranges.largest(variable, lambda value: value >= 1)
            continue
        fresh = optimum(cast(Any, equations), cast(Any, lower), {variable: sign})
        assert ranges.optimum({variable: sign}) == fresh


def test_a_row_with_a_column_of_its_own_needs_no_phase_one_pivot(monkeypatch: Any) -> None:
    """A count named in one sum only starts basic (the slack of that sum): where every
    row has one with a usable sign, phase one pivots nothing and the answers stand."""
    from civicflow.views import intervals

    pivots: list[tuple[int, int]] = []
    pivot = intervals._Tableau._pivot

    def counted(self: intervals._Tableau, i: int, j: int) -> None:
        pivots.append((i, j))
        pivot(self, i, j)

    monkeypatch.setattr(intervals._Tableau, "_pivot", counted)
    # a + b + s1 == 5, b + c - s2 == 0 (rhs zero: s2's sign can be turned), c + s3 == 2
    equations = [({"a": 1, "b": 1, "s1": 1}, 5), ({"b": 1, "c": 1, "s2": -1}, 0)]
    equations.append(({"c": 1, "s3": 1}, 2))
    ranges = Ranges(cast(Any, equations), cast(Any, {}))
    assert pivots == []
    assert ranges.largest("a") == 5
    assert ranges.largest("c") == 2
    assert ranges.smallest("s2") == 0
    assert ranges.largest("s2") == 7
