"""How a publication's counts add up through the areas, shared by its parts
(``publication.py``: the ratings and the participation).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from sys import intern
from typing import Any

from civicflow.views.suppression import Node, Table

LEVELS = ("compound", "community", "street", "district")  # the columns, finest first
Key = tuple[Any, ...]


def placements(tables: Any) -> Callable[[Iterable[Any]], Key]:
    """A placement's areas in clear, as one tuple of shared strings per placement: a
    city's counts name a few thousand places in hundreds of thousands of rows, each
    row with strings of its own.
    """
    clear, known = tables.area_in_clear, dict[Key, Key]()

    def placed(at: Iterable[Any]) -> Key:
        found = tuple(intern(clear(a)) if a else "" for a in at)
        return known.setdefault(found, found)

    return placed


def hierarchy(
    table: Table,
    leaves: list[tuple[Node, Key, str]],
    name: Callable[[str, str, str], Node],
    piece: Key,
) -> None:
    """How areas add up from their leaves (each at a placement and quarter).

    An area is the leaves scoped to it and its children's parts under it. A child under
    one parent stands for itself; under two (it moved within the quarter) it is the sum
    of unpublished pieces, one per parent, each the sum of its own leaves: a reader who
    knows where each leaf was placed knows as much.
    """
    parts: dict[Node, set[Node]] = defaultdict(set)
    pieces: dict[Key, set[Node]] = defaultdict(set)
    for leaf, at, when in leaves:
        for i, level in enumerate(LEVELS):
            if not at[i]:
                continue
            parent = name(level, at[i], when)
            if i == 0 or not at[i - 1]:
                if leaf != parent:
                    parts[parent].add(leaf)  # scoped here
                continue
            part = (*piece, LEVELS[i - 1], at[i - 1], at[i], when)
            pieces[part].add(leaf)
            parts[parent].add(part)
    parents: dict[Node, list[Key]] = defaultdict(list)
    for part in pieces:
        parents[name(part[-4], part[-3], part[-1])].append(part)
    split: set[Node] = set()
    for child, under in parents.items():
        if len(under) > 1:
            split |= set(under)
            for part in under:
                table.add(part, sum(table.values.get(leaf, 0) for leaf in pieces[part]))
                table.unpublished.add(part)
                table.relate(part, sorted(pieces[part], key=repr))
            table.relate(child, under)

    def node(part: Node) -> Node:
        if part in split or part not in pieces:
            return part
        return name(part[-4], part[-3], part[-1])

    for parent, found in parts.items():
        table.relate(parent, sorted({node(p) for p in found}, key=repr))
