"""The audit's later passes read only the groups changed since, and hide what full passes hide.

Random publications shaped like civicflow's (areas of two-way tables of counts, each
cell by place and quarter, the areas summed into a total over them all), with many
small counts, so that the audit usually needs several passes. Each is protected
twice: as civicflow does, and with every pass reading every group again.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicflow.views import disclosure, suppression
from civicflow.views.suppression import Table, suppress

Cells = dict[tuple[int, int], int]  # (place, quarter) -> count


def publication(areas: list[Cells], k: int) -> Table:
    """Each area a table of cells with its places' and quarters' sums, and one total."""
    table, totals = Table(), []
    for area, cells in enumerate(areas):
        places = sorted({p for p, _ in cells})
        quarters = sorted({q for _, q in cells})
        for (p, q), value in cells.items():
            table.add(("cell", area, p, q), value, sensitive=0 < value < k)
        for p in places:
            table.add(("place", area, p), sum(cells[p, q] for q in quarters))
            table.relate(("place", area, p), [("cell", area, p, q) for q in quarters])
        for q in quarters:
            table.add(("quarter", area, q), sum(cells[p, q] for p in places))
            table.relate(("quarter", area, q), [("cell", area, p, q) for p in places])
        total = ("area", area)
        table.add(total, sum(cells.values()))
        table.relate(total, [("place", area, p) for p in places])
        table.relate(total, [("quarter", area, q) for q in quarters])
        totals.append(total)
    table.add(("city",), sum(table.values[t] for t in totals))
    table.relate(("city",), totals)
    return table


@st.composite
def publications(draw: st.DrawFn) -> tuple[Table, int]:
    k = draw(st.sampled_from([3, 5]))
    areas = []
    for _ in range(draw(st.integers(1, 3))):
        places, quarters = draw(st.integers(2, 4)), draw(st.integers(2, 4))
        counts = st.sampled_from([0, 1, 1, 2, 2, 3, 4, 6, 9, 14])
        areas.append({(p, q): draw(counts) for p in range(places) for q in range(quarters)})
    return publication(areas, k), k


def copied(table: Table) -> Table:
    other = Table()
    for node, value in table.values.items():
        other.add(node, value, sensitive=node in table.sensitive)
    for relation in table.relations:
        other.relate(relation.total, relation.parts)
    return other


@settings(max_examples=150, deadline=None)
@given(publication=publications())
def test_later_passes_over_the_changed_groups_hide_what_full_passes_hide(
    publication: tuple[Table, int],
) -> None:
    table, k = publication
    incremental = suppress(copied(table), k)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(suppression, "_around", lambda *arguments: None)  # every group, each pass
        full = suppress(copied(table), k)
    assert incremental == full
    assert not any(True for _ in disclosure.pinned(table, incremental | set(), k, set()))


def test_some_publications_need_more_than_one_pass(monkeypatch: Any) -> None:
    """The property above is not vacuous: a later pass happens, and reads fewer groups."""
    passes: list[object] = []
    audit = suppression._audit

    def counted(*arguments: Any, **options: Any) -> set[Any]:
        passes.append(options.get("near"))
        return audit(*arguments, **options)

    monkeypatch.setattr(suppression, "_audit", counted)
    # Found by the strategy above (about a quarter of its tables need a second pass).
    table = publication([{(0, 0): 9, (0, 1): 1, (1, 0): 3, (1, 1): 1}], 5)
    hidden = suppress(table, 5)
    assert {("cell", 0, 0, 1), ("cell", 0, 1, 0), ("cell", 0, 1, 1)} <= hidden
    assert passes[0] is None
    assert len(passes) >= 2
    assert all(isinstance(near, list) for near in passes[1:])
