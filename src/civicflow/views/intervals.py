"""The exact range of a count, given linear equations the counts satisfy.

A small linear-programming solver, exact on fractions: a two-phase simplex with
Bland's rule (which cannot cycle) over a sparse tableau. Suppression asks it how far
a reader can narrow a hidden count from the shown ones (``suppression.py``); the
systems it gets are small (the hidden counts around one small group), so pure
Python is enough and civicflow needs no numerical library.

The problem: variables ``x`` at or above their lower bounds, equations
``sum(coefficient * x) == value``; the largest (or smallest) value of ``x[target]``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction

Var = Hashable
Equation = tuple[Mapping[Var, int], int]  # sum(coefficient * x) == value
Row = dict[int, Fraction]


class InfeasibleError(ValueError):
    """No values satisfy the equations (the counts given were inconsistent)."""


def largest(equations: Sequence[Equation], lower: Mapping[Var, int], target: Var) -> Fraction | None:
    """The largest feasible value of ``target`` (None when unbounded).

    Raises:
        InfeasibleError: the equations have no solution at or above ``lower``.
    """
    return _optimum(equations, lower, {target: 1})


def smallest(equations: Sequence[Equation], lower: Mapping[Var, int], target: Var) -> Fraction:
    """The smallest feasible value of ``target`` (bounded by its lower bound).

    Raises:
        InfeasibleError: the equations have no solution at or above ``lower``.
    """
    found = _optimum(equations, lower, {target: -1})
    assert found is not None  # noqa: S101 - every variable is bounded below
    return -found


def optimum(
    equations: Sequence[Equation], lower: Mapping[Var, int], objective: Mapping[Var, int]
) -> Fraction | None:
    """The largest feasible value of ``sum(objective[v] * x[v])`` (None when unbounded).

    Raises:
        InfeasibleError: the equations have no solution at or above ``lower``.
    """
    return _optimum(equations, lower, objective)


def _optimum(
    equations: Sequence[Equation], lower: Mapping[Var, int], objective: Mapping[Var, int]
) -> Fraction | None:
    names = list(dict.fromkeys([*lower, *(v for row, _ in equations for v in row), *objective]))
    index = {v: i for i, v in enumerate(names)}
    tableau = _Tableau(len(names))
    for row, value in equations:
        shifted = value - sum(c * lower.get(v, 0) for v, c in row.items())
        tableau.add({index[v]: Fraction(c) for v, c in row.items() if c}, Fraction(shifted))
    tableau.feasible()
    found = tableau.maximise({index[v]: Fraction(c) for v, c in objective.items() if c})
    if found is None:
        return None
    return found + sum(c * lower.get(v, 0) for v, c in objective.items())


class _Tableau:
    """Rows ``sum(row[j] * y[j]) == rhs`` over ``y >= 0``, each with one basic column."""

    def __init__(self, columns: int) -> None:
        self.columns = columns  # the problem's own; artificial ones come after
        self.rows: list[Row] = []
        self.rhs: list[Fraction] = []
        self.basis: list[int] = []

    def add(self, row: Row, rhs: Fraction) -> None:
        if rhs < 0:
            row, rhs = {j: -c for j, c in row.items()}, -rhs
        artificial = self.columns + len(self.rows)
        row[artificial] = Fraction(1)
        self.rows.append(row)
        self.rhs.append(rhs)
        self.basis.append(artificial)

    def feasible(self) -> None:
        """Phase one: reach a basis of the problem's own columns, or raise."""
        artificial = {self.columns + i: Fraction(-1) for i in range(len(self.rows))}
        found = self.maximise(artificial)
        if found is None or found < 0:
            raise InfeasibleError("the counts admit no solution")
        for i in reversed(range(len(self.rows))):
            if self.basis[i] >= self.columns:
                own = sorted(j for j, c in self.rows[i].items() if j < self.columns and c)
                if own:
                    self._pivot(i, own[0])
                else:  # a redundant equation
                    del self.rows[i], self.rhs[i], self.basis[i]
        for row in self.rows:
            for j in [j for j in row if j >= self.columns]:
                del row[j]

    def maximise(self, objective: Row) -> Fraction | None:
        """The largest ``objective . y`` (None when unbounded), from a feasible basis."""
        cost = dict(objective)
        value = Fraction(0)
        for i, b in enumerate(self.basis):
            c = objective.get(b, Fraction(0))
            if c:
                value += c * self.rhs[i]
                for j, a in self.rows[i].items():
                    cost[j] = cost.get(j, Fraction(0)) - c * a
        while True:
            entering = min((j for j, c in cost.items() if c > 0), default=None)
            if entering is None:
                return value
            leaving = self._leaving(entering)
            if leaving is None:
                return None
            ratio = cost[entering] / self.rows[leaving][entering]
            value += ratio * self.rhs[leaving]
            for j, a in self.rows[leaving].items():
                cost[j] = cost.get(j, Fraction(0)) - ratio * a
            cost = {j: c for j, c in cost.items() if c}
            self._pivot(leaving, entering)

    def _leaving(self, entering: int) -> int | None:
        """The row to pivot on: the smallest ratio, ties to the smallest basic column."""
        best: tuple[Fraction, int, int] | None = None
        for i, row in enumerate(self.rows):
            a = row.get(entering)
            if a is not None and a > 0:
                candidate = (self.rhs[i] / a, self.basis[i], i)
                if best is None or candidate < best:
                    best = candidate
        return None if best is None else best[2]

    def _pivot(self, i: int, j: int) -> None:
        pivot = self.rows[i][j]
        row = {col: a / pivot for col, a in self.rows[i].items()}
        rhs = self.rhs[i] / pivot
        self.rows[i], self.rhs[i], self.basis[i] = row, rhs, j
        for r, other in enumerate(self.rows):
            factor = other.get(j)
            if r == i or not factor:
                continue
            for col, a in row.items():
                updated = other.get(col, Fraction(0)) - factor * a
                if updated:
                    other[col] = updated
                else:
                    other.pop(col, None)
            self.rhs[r] -= factor * rhs
