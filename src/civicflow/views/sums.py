"""A publication's sums, packed: every relation's members as numbers in one array.

A city's publication has 175,000 sums over 230,000 counts. As a ``Relation`` each (with
its tuple of parts) and a list of them per count they cost about 50 MB, the peak of a
city's review; here each count is numbered once, a relation is a run of numbers in one
array (its total, then its parts), and the relations of each count are another array
(``Sums.index``). A ``Relation`` is made only when one is looked at.
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass

Node = Hashable


@dataclass(frozen=True, slots=True)
class Relation:
    """``total`` equals the sum of ``parts`` (all non-negative counts)."""

    total: Node
    parts: tuple[Node, ...]

    def members(self) -> tuple[Node, ...]:
        return (self.total, *self.parts)


class Sums:
    """Relations in the order they were added, each a run of node numbers."""

    __slots__ = ("_ids", "_members", "_nodes", "_starts")

    def __init__(self) -> None:
        self._ids: dict[Node, int] = {}
        self._nodes: list[Node] = []
        self._members = array("i")  # each relation's total, then its parts
        self._starts = array("i", [0])  # where each relation's members begin (and the end)

    def add(self, total: Node, parts: tuple[Node, ...]) -> None:
        number = self._number
        self._members.append(number(total))
        self._members.extend(number(p) for p in parts)
        self._starts.append(len(self._members))

    def extend(self, relations: Iterable[Relation]) -> None:
        for relation in relations:
            self.add(relation.total, relation.parts)

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, i: int) -> Relation:
        nodes, members = self._nodes, self._members
        first, end = self._starts[i], self._starts[i + 1]
        return Relation(nodes[members[first]], tuple(nodes[m] for m in members[first + 1 : end]))

    def __iter__(self) -> Iterator[Relation]:
        return (self[i] for i in range(len(self)))

    def members(self, i: int) -> Iterator[Node]:
        """The members of relation ``i``, its total first."""
        nodes = self._nodes
        return (nodes[m] for m in self._members[self._starts[i] : self._starts[i + 1]])

    def index(self) -> Index:
        """Which relations each node is a member of (a relation once per time it names it)."""
        return Index(self)

    def _number(self, node: Node) -> int:
        found = self._ids.get(node)
        if found is None:
            found = self._ids[node] = len(self._nodes)
            self._nodes.append(node)
        return found


class Index:
    """The relations of each node of ``Sums``, in the order they were added."""

    __slots__ = ("_found", "_ids", "_starts")

    def __init__(self, sums: Sums) -> None:
        members, nodes = sums._members, len(sums._nodes)
        starts = array("i", bytes(4 * (nodes + 1)))
        for m in members:
            starts[m + 1] += 1
        for n in range(nodes):
            starts[n + 1] += starts[n]
        found, free = array("i", bytes(4 * len(members))), array("i", starts[:-1])
        bounds = sums._starts
        for i in range(len(bounds) - 1):
            for m in members[bounds[i] : bounds[i + 1]]:
                found[free[m]] = i
                free[m] += 1
        self._ids, self._starts, self._found = sums._ids, starts, found

    def __getitem__(self, node: Node) -> array[int]:
        n = self._ids.get(node)
        return array("i") if n is None else self._found[self._starts[n] : self._starts[n + 1]]
