"""Reading an open data package back, for the tests: tables, figures, resident ids."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from civicflow.domain.kinds import AreaKind
from civicflow.opendata import TABLES
from civicflow.opendata.writing import cell
from civicflow.views import Views


def table(folder: Path, name: str) -> list[dict[str, str]]:
    """The rows of one CSV table of the package."""
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


def as_cells(figures: Iterable[Any], names: Iterable[str]) -> list[dict[str, str]]:
    """Figures as the package writes them: each named value as a CSV cell."""
    names = tuple(names)
    found = []
    for figure in figures:
        row = {name: getattr(figure, name, None) for name in names}
        level = row.get("level")
        if isinstance(level, AreaKind):
            row["level"] = level.value
        found.append({name: cell(value) for name, value in row.items()})
    return found


def views_figures(views: Views, quarters: set[str] | None = None) -> dict[str, list[Any]]:
    """What the views give for the package's figure tables, every level."""
    satisfaction, participation = [], []
    for level in AreaKind:
        satisfaction += views.satisfaction(level=level)
        participation += views.participation(level=level)
    if quarters is not None:
        satisfaction = [f for f in satisfaction if f.quarter in quarters]
        participation = [f for f in participation if f.quarter in quarters]
    return {"satisfaction": satisfaction, "participation": participation}


def names_of(name: str) -> tuple[str, ...]:
    return next(t.names for t in TABLES if t.name == name)


def assert_figures_are_the_views(folder: Path, views: Views, quarters: set[str] | None) -> None:
    """Every figure table holds exactly the views' protected figures, and every round
    of ``rounds.csv`` the views' figure of that round (zeros where nobody rated)."""
    for name, figures in views_figures(views, quarters).items():
        assert table(folder, name) == as_cells(figures, names_of(name)), name
    rounds = table(folder, "rounds")
    for row in rounds:
        found = [
            f
            for f in views.proposal_satisfaction(row["proposal_id"])
            if f.round == int(row["round"])
        ]
        figure_columns = ("suppressed", "satisfied", "basically_satisfied", "dissatisfied", "n")
        if not found:  # a round nobody rated
            assert [row[c] for c in figure_columns] == ["false", "0", "0", "0", "0"]
        else:
            [expected] = as_cells(found, names_of("rounds"))
            assert {c: row[c] for c in figure_columns} == {c: expected[c] for c in figure_columns}
            assert (row["rate"], row["full_rate"]) == (expected["rate"], expected["full_rate"])
    counted = {
        (str(f.proposal_id), f.round)
        for pid in {r["id"] for r in table(folder, "proposals")}
        for f in views.proposal_satisfaction(pid)
    }
    assert counted <= {(r["proposal_id"], int(r["round"])) for r in rounds}


def resident_ids_in(folder: Path, residents: Iterable[str]) -> list[str]:
    """Every resident id written anywhere in the package, with the file it is in.

    An id counts only as a whole token: ``r-1`` is not found in ``member-1``.
    """
    found = []
    texts = {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir()}
    for resident in residents:
        pattern = re.compile(rf"(?<![\w-]){re.escape(resident)}(?![\w-])")
        found += [f"{resident} in {name}" for name, text in texts.items() if pattern.search(text)]
    return found
