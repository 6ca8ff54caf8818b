"""The linear-programming interval attack on everything civicflow publishes.

What statistical offices run on their tables before release. The attacker:

1. takes every figure civicflow publishes (satisfaction and participation at every
   level, for every quarter and for all quarters at once; every proposal's rounds; the
   quarterly review at every level; and the same figures as the CSV export writes
   them, read back from the CSV);
2. writes the unknowns as the finest counts behind them, which a well-informed
   neighbour could name: ratings per (proposal, round, quarter, placement, level), and
   for each participation field, residents per quarter and *set of places* they were
   counted at (a resident who moved is counted in two compounds, once in their
   community): counts are non-negative;
3. writes what the figures say about them: each shown number is a sum of unknowns
   (levels, ``n``, each participation field); a hidden figure is at least 1 (zeros are
   shown), an absent row is 0, and a participation field is at most the participants,
   who are at most the sum of the fields;
4. asks ``scipy.optimize.linprog`` for the smallest and largest value of every hidden
   figure's size: ``n`` for satisfaction, each hidden field for participation.

A hidden figure behind 1..k-1 residents (distinct residents for satisfaction, the
field's own count for participation) is **disclosed** when its feasible range is a
single value (``max - min < 1e-6``) or lies wholly below k (``max < k``): the reader
then knows its size, or that fewer than k residents are behind it. The truth comes
from the view tables themselves (which the property tests hold to a naive recount).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from scipy.optimize import linprog  # type: ignore[import-untyped]

from civicflow.audit.export import write_csv
from civicflow.views import Views

LEVELS = ("compound", "community", "street", "district")
GRADES = ("satisfied", "basically_satisfied", "dissatisfied")
FIELDS = {"ask": "asked_or_backed", "discuss": "discussed", "rate": "rated", "any": "participants"}
Cell = tuple[Any, ...]


@dataclass
class Attack:
    """Unknowns, the cells they make up, and what the published figures say."""

    variables: dict[Cell, int] = field(default_factory=dict)
    cells: dict[Cell, set[int]] = field(default_factory=lambda: defaultdict(set))
    equal: list[tuple[dict[int, int], int]] = field(default_factory=list)
    at_most: list[tuple[dict[int, int], int]] = field(default_factory=list)
    hidden: set[Cell] = field(default_factory=set)
    _system: Any = None  # the constraint matrices, kept while no constraint is added

    def var(self, atom: Cell) -> int:
        return self.variables.setdefault(atom, len(self.variables))

    def cell_of(self, cell: Cell) -> dict[int, int]:
        return dict.fromkeys(self.cells.get(cell, set()), 1)

    def shows(self, cell: Cell, value: int) -> None:
        self.equal.append((self.cell_of(cell), value))

    def at_least(self, cell: Cell, value: int) -> None:
        self.at_most.append((dict.fromkeys(self.cells.get(cell, set()), -1), -value))

    def not_above(self, small: Cell, big: Iterable[Cell]) -> None:
        row = self.cell_of(small)
        for cell in big:
            for v in self.cells.get(cell, set()):
                row[v] = row.get(v, 0) - 1
        self.at_most.append((row, 0))

    def bounds(self, cell: Cell) -> tuple[float, float]:
        size = len(self.variables)
        shape = (size, len(self.equal), len(self.at_most))
        if self._system is None or self._system[0] != shape:  # built once for every cell
            self._system = (shape, _matrix(self.equal, size), _matrix(self.at_most, size))
        (a_eq, b_eq), (a_ub, b_ub) = self._system[1], self._system[2]
        objective = np.zeros(size)
        for v in self.cells.get(cell, set()):
            objective[v] = 1
        found = []
        for sign in (1, -1):
            result = linprog(
                sign * objective,
                A_ub=a_ub,
                b_ub=b_ub,
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=(0, None),
                method="highs",
            )
            if result.status == 3:  # unbounded
                found.append(float("inf"))
                continue
            assert result.status == 0, result.message
            found.append(sign * result.fun)
        return found[0], found[1]


def _matrix(rows: list[tuple[dict[int, int], int]], size: int) -> tuple[Any, Any]:
    if not rows:
        return None, None
    at = [(i, v, c) for i, (row, _) in enumerate(rows) for v, c in row.items()]
    matrix = sparse.csr_array(
        ([c for _, _, c in at], ([i for i, _, _ in at], [v for _, v, _ in at])),
        shape=(len(rows), size),
        dtype=float,
    )
    return matrix, np.array([value for _, value in rows], dtype=float)


# --- the truth, and the unknowns it is made of --------------------------------------------


def rating_cells(attack: Attack, views: Views) -> dict[Cell, set[str]]:
    """Rating unknowns into their cells; returns the residents behind each cell.

    The attacker knows where ratings were placed (which proposal, round, quarter and
    areas: the rows say as much), not their levels: every level is an unknown there.
    """
    people: dict[Cell, set[str]] = defaultdict(set)
    clear = views.tables.area_in_clear
    for pid, round_, when, *stored, resident in views.tables.query(
        "SELECT proposal_id, round, quarter, compound, community, street, district, "
        "resident FROM cf_view_ratings"
    ):
        at = [clear(a) if a else "" for a in stored]
        cells = [("prop", pid, round_, when), ("prop", pid, round_, None)]
        cells += [("sat", level, a, when) for level, a in zip(LEVELS, at, strict=True) if a]
        for grade in GRADES:
            v = attack.var(("rating", pid, round_, when, *at, grade))
            for cell in cells:
                attack.cells[(*cell, grade)].add(v)
                attack.cells[(*cell, "n")].add(v)
        for cell in cells:
            people[cell].add(resident)
    return people


def participation_cells(attack: Attack, views: Views) -> dict[Cell, int]:
    """Participation unknowns; returns each cell's true count.

    An unknown is the number of residents of one field and quarter counted at one set
    of places. The attacker knows which places had anyone (every field may have
    residents counted there alone) and, over-informed, which residents' sets span
    several places (those who moved).
    """
    places: dict[tuple[str, str, str], set[tuple[str, ...]]] = defaultdict(set)
    clear = views.tables.area_in_clear
    for resident, kind, when, *at in views.tables.query(
        "SELECT resident, kind, quarter, compound, community, street, district "
        "FROM cf_view_participation"
    ):
        at_clear = tuple(clear(a) if a else "" for a in at)
        places[(kind, when, resident)].add(at_clear)
        places[("any", when, resident)].add(at_clear)
    truth: dict[Cell, int] = defaultdict(int)
    signatures = {(kind, when, frozenset(where)) for (kind, when, _), where in places.items()}
    for _, when, where in list(signatures):
        for kind in FIELDS:
            signatures |= {(kind, when, frozenset([at])) for at in where}
    for kind, when, where in sorted(signatures, key=repr):
        v = attack.var(("residents", kind, when, where))
        for cell in _cells_of(kind, when, where):
            attack.cells[cell].add(v)
    for (kind, when, _), found in places.items():
        for cell in _cells_of(kind, when, frozenset(found)):
            truth[cell] += 1
    return truth


def _cells_of(kind: str, when: str, where: frozenset[tuple[str, ...]]) -> set[Cell]:
    return {
        ("part", kind, level, a, when)
        for at in where
        for level, a in zip(LEVELS, at, strict=True)
        if a
    }


# --- what is published -----------------------------------------------------------------


def published(views: Views, quarters: list[str], proposals: list[str]) -> dict[str, list[Any]]:
    """Every figure civicflow publishes about these quarters and proposals, by query."""
    found: dict[str, list[Any]] = {}
    for level in LEVELS:
        for quarter in (None, *quarters):
            found[f"satisfaction {level} {quarter}"] = views.satisfaction(
                level=level, quarter=quarter
            )
            found[f"participation {level} {quarter}"] = views.participation(
                level=level, quarter=quarter
            )
        for quarter in quarters:
            review = views.review(quarter, level=level)
            found[f"review satisfaction {level} {quarter}"] = list(review.by_satisfaction)
            found[f"review participation {level} {quarter}"] = list(review.by_participation)
            found[f"review proposals {level} {quarter}"] = list(review.proposals)
    for pid in proposals:
        found[f"proposal {pid}"] = views.proposal_satisfaction(pid)
    return found


def exported(figures: list[Any]) -> list[dict[str, str]]:
    """The figures as the CSV export writes them, read back."""
    out = io.StringIO()
    write_csv(figures, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def read(attack: Attack, found: dict[str, list[Any]]) -> None:
    """What each published figure (and its CSV row) says about the unknowns."""
    for key, figures in found.items():
        for figure, row in zip(figures, exported(figures), strict=True):
            if key.startswith(("participation", "review participation")):
                _participation(attack, figure, row)
            else:
                _satisfaction(attack, key, figure, row)


def _number(row: dict[str, str], name: str) -> int | None:
    return int(row[name]) if row[name] not in ("", "None") else None


def _satisfaction(attack: Attack, key: str, figure: Any, row: dict[str, str]) -> None:
    if figure.proposal_id is not None:
        cell: Cell = ("prop", figure.proposal_id, figure.round, figure.quarter)
    else:
        cell = ("sat", figure.level.value, figure.area_id, figure.quarter)
    n = _number(row, "n")
    if n is None:
        attack.hidden.add((*cell, "n"))
        attack.at_least((*cell, "n"), 1)  # a row is there: someone rated
        return
    attack.shows((*cell, "n"), n)
    for grade in GRADES:
        attack.shows((*cell, grade), _number(row, grade) or 0)


def _participation(attack: Attack, figure: Any, row: dict[str, str]) -> None:
    cell = (figure.level.value, figure.area_id, figure.quarter)
    for kind, name in FIELDS.items():
        value = _number(row, name)
        if value is None:
            attack.hidden.add(("part", kind, *cell))
            if not figure.suppressed or kind == "any":
                attack.at_least(("part", kind, *cell), 1)  # zeros are shown
        else:
            attack.shows(("part", kind, *cell), value)
    whole = ("part", "any", *cell)
    fields = [("part", kind, *cell) for kind in FIELDS if kind != "any"]
    for one in fields:
        attack.not_above(one, [whole])
    attack.not_above(whole, fields)


# --- the attack --------------------------------------------------------------------------


def disclosed(views: Views, k: int) -> list[str]:
    """Every hidden figure behind 1..k-1 residents whose range the attacker narrows."""
    attack = Attack()
    raters = rating_cells(attack, views)
    counts = participation_cells(attack, views)
    quarters = sorted({str(q) for (q,) in views.tables.query(_QUARTERS)})
    proposals = sorted({str(p) for (p,) in views.tables.query(_PROPOSALS)})
    read(attack, published(views, quarters, proposals))
    return narrowed(attack, raters, counts, k)


def narrowed(
    attack: Attack, raters: dict[Cell, set[str]], counts: dict[Cell, int], k: int
) -> list[str]:
    """Every hidden figure of ``attack`` behind 1..k-1 residents whose range it narrows."""
    found = []
    for cell in sorted(attack.hidden, key=repr):
        behind = counts.get(cell, 0) if cell[0] == "part" else len(raters.get(cell[:-1], ()))
        if not 0 < behind < k:
            continue
        low, high = attack.bounds(cell)
        if high < k - 1e-6 or high - low < 1e-6:
            found.append(f"{cell} behind {behind} residents: between {low:g} and {high:g}")
    return found


_QUARTERS = (
    "SELECT DISTINCT quarter FROM cf_view_ratings UNION SELECT DISTINCT quarter "
    "FROM cf_view_participation"
)
_PROPOSALS = "SELECT DISTINCT proposal_id FROM cf_view_ratings"
