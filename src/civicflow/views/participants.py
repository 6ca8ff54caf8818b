"""How each participation field's residents add up (``publication.py``): a resident counted
at several places counts once in each area any of them is in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from sys import intern
from typing import Any

from civicflow.views.hierarchy import LEVELS, Key, hierarchy, placements
from civicflow.views.suppression import Node, Table

FIELDS = ("ask", "discuss", "rate")
ANY = "any"  # the participants field: residents who did any of these


def relations(tables: Any, table: Table) -> None:
    """How each field's residents add up, from the set of places each was counted at.

    A resident counted at one place adds up like a rating: an area is its children and
    those placed at it but at no child. One counted at several (who moved within the
    quarter, or took part both at a compound and at its community) counts once in each
    area any of them is in: such residents are an unpublished count per set of places,
    part of every area they touch beside the area's *base* (its residents of one place).
    """
    groups: dict[tuple[str, str], Counter[frozenset[Key]]] = defaultdict(Counter)
    seen: dict[str, set[Key]] = defaultdict(set)  # every place a field could have counted
    # A quarter at a time: the places of every resident of a city's whole history would be
    # the peak of a review (a quarter's are a few percent of it); only their signatures,
    # far fewer, are kept.
    quarters = tables.query("SELECT DISTINCT quarter FROM cf_view_participation")
    for (quarter,) in sorted(quarters):
        when = intern(str(quarter))
        for field, residents in _places(tables, quarter).items():
            for where in residents.values():
                group = where if isinstance(where, frozenset) else frozenset((where,))
                groups[(field, when)][group] += 1
                seen[when] |= group
    for (field, when), signatures in sorted(groups.items()):
        for at in seen[when]:
            signatures[frozenset([at])] += 0
        _field_relations(table, field, when, signatures)


def _places(tables: Any, quarter: str) -> dict[str, dict[str, Key | frozenset[Key]]]:
    """Where each resident was counted in ``quarter``, per field and for any field: the
    one placement of most, a set only for those counted at several places.

    This was the peak of a review: its rows are read a thousand at a time, and the
    strings and placements they repeat are kept once.
    """
    placed = placements(tables)
    places: dict[str, dict[str, Key | frozenset[Key]]] = defaultdict(dict)
    rows = _streamed(
        tables,
        "SELECT resident, kind, compound, community, street, district "
        "FROM cf_view_participation WHERE quarter = ?",
        (quarter,),
    )
    for resident, kind, *at in rows:
        where, who = placed(at), str(resident)
        for residents in (places[intern(str(kind))], places[ANY]):
            found = residents.setdefault(who, where)
            if found != where:
                group = found if isinstance(found, frozenset) else frozenset((found,))
                residents[who] = group | {where}
    return places


def _field_relations(
    table: Table, field: str, when: str, signatures: Counter[frozenset[Key]]
) -> None:
    moved: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for where, n in signatures.items():
        if len(where) > 1:
            mover = ("part-moved", field, when, tuple(sorted(where)))
            table.add(mover, n)
            table.unpublished.add(mover)
            touched = {(level, at[i]) for at in where for i, level in enumerate(LEVELS) if at[i]}
            for one in touched:
                moved[one].append(mover)

    def name(level: str, area: str) -> Node:
        cell = ("part", field, level, area, when)
        return ("part-base", *cell[1:]) if (level, area) in moved else cell

    for (level, area), movers in moved.items():
        cell, base = ("part", field, level, area, when), name(level, area)
        table.add(base, table.values.get(cell, 0) - sum(table.values[m] for m in movers))
        table.unpublished.add(base)
        table.relate(cell, [base, *movers])
    singles = [(next(iter(where)), n) for where, n in signatures.items() if len(where) == 1]
    tuples = Counter(at[0] for at, _ in singles if at[0])
    leaves: list[tuple[Node, Key, str]] = []
    for at, n in singles:
        if at[0] and tuples[at[0]] == 1:
            leaves.append((name("compound", at[0]), at, when))
        else:  # residents at one of several placements of an area, or at no compound
            leaf = ("part-at", field, when, at)
            table.add(leaf, n)
            table.unpublished.add(leaf)
            leaves.append((leaf, at, when))
    hierarchy(table, leaves, lambda level, area, _: name(level, area), ("part-piece", field))


def _streamed(tables: Any, statement: str, params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """A read-only query's rows, a thousand at a time: not all of them held at once (a
    quarter's participation in a city is 57,000 rows, 40 MB as tuples of strings). A cursor
    of its own, so that a query made between rows (a pseudonym not yet known) leaves it be.
    """
    with tables.reading() as reader:
        cursor = tables.beside(reader)
        try:
            cursor.execute(tables.sql(statement), params)
            while found := tables.rows(cursor, 1000):
                yield from found
        finally:
            cursor.close()
