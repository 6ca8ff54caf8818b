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

from collections.abc import Callable, Hashable, Mapping, Sequence
from fractions import Fraction

Var = Hashable
Equation = tuple[Mapping[Var, int], int]  # sum(coefficient * x) == value
Number = int | Fraction  # kept an int while it is one: most pivots are on 1 or -1
Row = dict[int, Number]


class InfeasibleError(ValueError):
    """No values satisfy the equations (the counts given were inconsistent)."""


class Ranges:
    """The feasible values of each variable of one system, asked one at a time.

    Finding a first solution (phase one) is done once; each question starts from the
    basis the one before ended on (every basis the simplex reaches is feasible, and an
    optimum does not depend on where it starts): a city's audit asks a component of
    hundreds of unknowns a question per small figure, and copying the tableau back to
    phase one's basis for each cost more than the pivots it saved.

    Raises:
        InfeasibleError: the equations have no solution at or above ``lower``.
    """

    def __init__(self, equations: Sequence[Equation], lower: Mapping[Var, int]) -> None:
        names = list(dict.fromkeys([*lower, *(v for row, _ in equations for v in row)]))
        self._index = {v: i for i, v in enumerate(names)}
        self._lower = lower
        self._start = _Tableau(len(names))
        for row, value in equations:
            shifted = value - sum(c * lower.get(v, 0) for v, c in row.items())
            self._start.add({self._index[v]: c for v, c in row.items() if c}, shifted)
        self._start.feasible()

    def optimum(
        self, objective: Mapping[Var, int], enough: Callable[[Number], bool] | None = None
    ) -> Number | None:
        """The largest ``sum(objective[v] * x[v])`` (None when unbounded); with ``enough``,
        any feasible value it accepts, found on the way (the first one it accepts)."""
        base = sum(c * self._lower.get(v, 0) for v, c in objective.items())
        wanted: Row = {self._index[v]: c for v, c in objective.items() if c}
        found = self._start.maximise(
            wanted, None if enough is None else (lambda value: enough(value + base))
        )
        return None if found is None else found + base

    def largest(self, target: Var, enough: Callable[[Number], bool] | None = None) -> Number | None:
        """The largest value of ``target`` (None when unbounded), or with ``enough`` the
        first value found that it accepts."""
        return self.optimum({target: 1}, enough)

    def smallest(self, target: Var) -> Number:
        """The smallest value of ``target`` (it is bounded below)."""
        found = self.optimum({target: -1})
        assert found is not None  # noqa: S101 - every variable is bounded below
        return -found


def optimum(
    equations: Sequence[Equation], lower: Mapping[Var, int], objective: Mapping[Var, int]
) -> Number | None:
    """The largest feasible value of ``sum(objective[v] * x[v])`` (None when unbounded).

    Raises:
        InfeasibleError: the equations have no solution at or above ``lower``.
    """
    known = dict.fromkeys(objective, 0) | dict(lower)
    return Ranges(equations, known).optimum(objective)


class _Tableau:
    """Rows ``sum(row[j] * y[j]) == rhs`` over ``y >= 0``, each with one basic column."""

    def __init__(self, columns: int) -> None:
        self.columns = columns  # the problem's own; artificial ones come after
        self.rows: list[Row] = []
        self.rhs: list[Number] = []
        self.basis: list[int] = []
        self.row_of: dict[int, int] = {}  # each basic column's row

    def add(self, row: Row, value: int) -> None:
        rhs: Number = value
        if rhs < 0:
            row, rhs = {j: -c for j, c in row.items()}, -rhs
        self.rows.append(row)
        self.rhs.append(rhs)
        self.basis.append(-1)  # chosen in ``feasible``

    def feasible(self) -> None:
        """Phase one: reach a basis of the problem's own columns, or raise.

        A row with a column of its own (one no other row has) starts with that column
        basic, where its value is not negative: a count named in one sum only is the
        slack of that sum. Only the other rows need an artificial column, and phase one
        pivots those out alone (in a city's audit, most rows have one of their own).
        """
        self._own_columns()
        artificial: Row = {}
        for i, row in enumerate(self.rows):
            if self.basis[i] < 0:
                self.basis[i] = self.columns + i
                row[self.basis[i]] = 1
                artificial[self.basis[i]] = -1
        self.row_of = {b: i for i, b in enumerate(self.basis)}
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
        self.row_of = {b: i for i, b in enumerate(self.basis)}

    def _own_columns(self) -> None:
        """Make basic, in each row that has one, a column found in that row alone."""
        rows_of: dict[int, int] = {}
        for row in self.rows:
            for j in row:
                rows_of[j] = rows_of.get(j, 0) + 1
        for i, row in enumerate(self.rows):
            rhs = self.rhs[i]
            own = [j for j, c in sorted(row.items()) if rows_of[j] == 1 and (c > 0 or rhs == 0)]
            if own:
                j = own[0]
                pivot = row[j]
                self.rows[i] = {col: _divided(a, pivot) for col, a in row.items()}
                self.rhs[i] = _divided(rhs, pivot)
                self.basis[i] = j

    def maximise(
        self, objective: Row, enough: Callable[[Number], bool] | None = None
    ) -> Number | None:
        """The largest ``objective . y`` (None when unbounded), from a feasible basis; or
        the first value on the way that ``enough`` accepts."""
        cost = dict(objective)
        value: Number = 0
        for b, c in objective.items():
            i = self.row_of.get(b)
            if i is not None and c:
                value += c * self.rhs[i]
                for j, a in self.rows[i].items():
                    cost[j] = _exact(cost.get(j, 0) - c * a)
        while True:
            if enough is not None and enough(value):
                return value
            entering = min((j for j, c in cost.items() if c > 0), default=None)
            if entering is None:
                return value
            leaving = self._leaving(entering)
            if leaving is None:
                return None
            ratio = _divided(cost[entering], self.rows[leaving][entering])
            value = _exact(value + ratio * self.rhs[leaving])
            for j, a in self.rows[leaving].items():
                cost[j] = _exact(cost.get(j, 0) - ratio * a)
            cost = {j: c for j, c in cost.items() if c}
            self._pivot(leaving, entering)

    def _leaving(self, entering: int) -> int | None:
        """The row to pivot on: the smallest ratio, ties to the smallest basic column."""
        best: tuple[Number, int, int] | None = None
        for i, row in enumerate(self.rows):
            a = row.get(entering)
            if a is not None and a > 0:
                candidate = (_divided(self.rhs[i], a), self.basis[i], i)
                if best is None or candidate < best:
                    best = candidate
        return None if best is None else best[2]

    def _pivot(self, i: int, j: int) -> None:
        pivot = self.rows[i][j]
        row = {col: _divided(a, pivot) for col, a in self.rows[i].items()}
        rhs = _divided(self.rhs[i], pivot)
        del self.row_of[self.basis[i]]
        self.rows[i], self.rhs[i], self.basis[i] = row, rhs, j
        self.row_of[j] = i
        for r, other in enumerate(self.rows):
            factor = other.get(j)
            if r == i or not factor:
                continue
            for col, a in row.items():
                updated = _exact(other.get(col, 0) - factor * a)
                if updated:
                    other[col] = updated
                else:
                    other.pop(col, None)
            self.rhs[r] = _exact(self.rhs[r] - factor * rhs)


def _divided(a: Number, b: Number) -> Number:
    if b == 1:
        return a
    if b == -1:
        return -a
    return _exact(Fraction(a) / b)


def _exact(a: Number) -> Number:
    """``a`` as an int when it is one (int arithmetic is many times faster)."""
    if type(a) is Fraction and a.denominator == 1:
        return a.numerator
    return a
