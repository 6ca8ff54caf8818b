"""A city's totals in the one table of counts a protection decides over.

A city's views hold every district's figures (``federation/cityviews.py``); the city
publishes its own totals beside them, each the sum of its districts'. Were those
sums left out of the table, a district's hidden figure would be the city's less the
districts shown: so they go in as relations like any other parent's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from civicflow.views.hierarchy import Key
from civicflow.views.participants import ANY, FIELDS
from civicflow.views.publication import _fields_relations as fields_relations
from civicflow.views.publication import _raters as raters
from civicflow.views.suppression import Node, Table


def city_totals(city: str, k: int) -> Callable[[Table, Any], None]:
    """What adds ``city``'s totals to a protection's table (``publication.protect``)."""
    return lambda table, tables: add_city(table, city, raters(tables), k)


def add_city(table: Table, city: str, raters: dict[Key, int], k: int) -> None:
    """The city's figures, each the sum of its districts' (an area no district holds
    stands as its own, as in every column): ``("sat", "city", city, quarter)`` and
    ``("part", field, "city", city, quarter)``, with their levels and fields, so that a
    district's hidden figure is not the city's less the districts shown.
    """
    satisfaction: dict[str, list[Key]] = defaultdict(list)
    participation: dict[tuple[str, str], list[Key]] = defaultdict(list)
    for node in list(table.values):
        if isinstance(node, tuple) and node[0] == "sat" and node[1] == "district":
            satisfaction[node[3]].append(node)
        elif isinstance(node, tuple) and node[0] == "part" and node[2] == "district":
            participation[(node[1], node[4])].append(node)
    grades = sorted({n[1] for n in table.values if isinstance(n, tuple) and n[0] == "level"})
    for when, districts in sorted(satisfaction.items()):
        people = sum(raters.get(d[1:], 0) for d in districts)
        total = _total(table, ("sat", "city", city, when), districts, 0 < people < k)
        levels = [("level", grade, total) for grade in grades]
        for level in levels:
            _total(table, level, [("level", level[1], d) for d in districts], False)
        table.derived |= set(levels)
        table.tied[total] = tuple(levels)
        table.relate(total, levels)
    for (field, when), districts in sorted(participation.items()):
        whole = ("part", field, "city", city, when)
        n = sum(table.values.get(d, 0) for d in districts)
        _total(table, whole, districts, 0 < n < k)
    for field, when in participation:
        if field == ANY:
            whole = ("part", ANY, "city", city, when)
            table.tied[whole] = tuple(("part", f, "city", city, when) for f in FIELDS)
            for f in FIELDS:
                table.values.setdefault(("part", f, "city", city, when), 0)
            fields_relations(table, whole[2:])


def _total(table: Table, total: Node, parts: Sequence[Node], sensitive: bool) -> Node:
    table.add(total, sum(table.values.get(p, 0) for p in parts), sensitive=sensitive)
    table.relate(total, sorted(parts, key=repr))
    return total
