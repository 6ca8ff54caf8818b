"""What a reader who combines every shown count can narrow each hidden count to.

The shown counts are constants; the hidden ones (and the unpublished pieces) are
unknowns, at least 1 when a reader knows someone is behind them (zeros are shown),
otherwise at least 0. Every relation with an unknown is an equation between them.
Relations split the unknowns into independent components (the hidden figures of one
area and its neighbours, seldom more than a few dozen); in each, the exact largest
value of every small hidden figure is found by linear programming (``intervals.py``),
which is the interval attack statistical offices run before they publish a table.

A small figure (1..k-1 residents behind it) is *pinned* when its largest feasible
value is below k, or when its range is a single value.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from civicflow.views import intervals

if TYPE_CHECKING:
    from civicflow.views.suppression import Node, Relation, Table

Component = frozenset["Node"]


class Relations(Protocol):
    """Relations by their place: a table's (``Sums``) or a list of some of them."""

    def __len__(self) -> int: ...
    def __getitem__(self, i: int, /) -> Relation: ...


def pinned(
    table: Table,
    hidden: set[Node],
    k: int,
    safe: set[Component],
    relations: Relations | None = None,
) -> Iterator[tuple[Node, Component]]:
    """A pinned small figure of each component that has one (with the component).

    ``safe`` holds the components found safe so far; the ones found now are added (a
    component's equations depend on nothing but its unknowns, so it stays safe).
    ``relations``: the ones to read (by default the table's).
    """
    among = table.relations if relations is None else relations
    for component, joining in _components(among, hidden):
        if component in safe or not component & table.sensitive:
            continue
        found = _pinned_in(table, hidden, [among[i] for i in joining], component, k)
        if found is None:
            safe.add(component)
        else:
            yield found, component


def _pinned_in(
    table: Table, hidden: set[Node], relations: list[Relation], component: Component, k: int
) -> Node | None:
    equations = [_equation(table, hidden, r) for r in relations]
    ranges = intervals.Ranges(equations, {node: _lowest(table, node) for node in component})
    for node in sorted(component & table.sensitive, key=repr):
        value = table.values.get(node, 0)

        def wide(high: intervals.Number, value: int = value) -> bool:
            return high >= k and high > value

        high = ranges.largest(node, wide)
        if high is None or wide(high):
            continue
        if high < k or ranges.smallest(node) == high:
            return node
    return None


def _lowest(table: Table, node: Node) -> int:
    """What a reader knows a hidden count is at least: 1 for a hidden published row.

    A field of a suppressed participation figure is ``None`` even when zero, yet a
    reader learns whether anyone is behind it elsewhere (a proposal published with its
    scope has an asker there; a satisfaction row, a rater): so any non-zero count is
    taken as known to be at least 1, which hides more than the attack test requires.
    """
    published = node not in table.unpublished and node not in table.derived
    return 1 if published and table.values.get(node, 0) > 0 else 0


def _equation(table: Table, hidden: set[Node], relation: Relation) -> intervals.Equation:
    """``total - sum(parts) == 0``, with the shown members moved to the right."""
    row: dict[Node, int] = defaultdict(int)
    value = 0
    for node, sign in ((relation.total, 1), *((p, -1) for p in relation.parts)):
        if node in hidden:
            row[node] += sign
        else:
            value -= sign * table.values.get(node, 0)
    return dict(row), value


def _components(among: Relations, hidden: set[Node]) -> Iterator[tuple[Component, list[int]]]:
    """The unknowns joined by relations, each group with the relations that join it (their
    places in ``among``: a ``Relation`` is made only for a group looked at).
    """
    parent: dict[Node, Node] = {}

    def root(node: Node) -> Node:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    touching, touched = array("i"), []  # a relation with unknowns, and its first one
    for number in range(len(among)):
        unknown = [m for m in among[number].members() if m in hidden]
        if unknown:
            touching.append(number)
            touched.append(unknown[0])
            first = root(unknown[0])
            for other in unknown[1:]:
                parent[root(other)] = first
    groups: dict[Node, set[Node]] = defaultdict(set)
    for node in parent:
        groups[root(node)].add(node)
    relations: dict[Node, list[int]] = defaultdict(list)
    for number, member in zip(touching, touched, strict=True):
        relations[root(member)].append(number)
    del touching, touched
    for key in list(groups):  # each group let go once given
        yield frozenset(groups.pop(key)), relations.pop(key, [])
