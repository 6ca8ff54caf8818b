"""Complementary (secondary) cell suppression over the sums civicflow publishes.

Every figure civicflow publishes is a count, and many counts add up: a community is
the sum of its compounds (and of the proposals scoped to it), a compound the sum of
its proposals, a proposal's round the sum of its quarters. Hiding a small count is
not enough when the others of one sum are shown: the reader subtracts. This module
decides, for one whole publication, which counts to hide beside the small ones.

The publication is a ``Table``: nodes (counts) and ``Relation``s (``total = sum of
parts``). Some nodes are *unpublished* (a compound's part under each of two
communities when it moved within a quarter; residents placed at a community with no
compound): they are never shown, so they count as hidden, but they protect nobody.

The rules, applied to every relation until none asks for more (a fixpoint, since a
node hidden for one relation changes the others it belongs to):

1. *No lone hidden figure.* A relation with exactly one hidden non-zero member gives
   it away (total minus the shown parts, or the sum of the parts): hide another.
2. *No small residual.* Where the total is shown and a hidden part is sensitive,
   what the subtraction leaves must reach ``k`` for each hidden part: the hidden
   parts' sum, less 1 for every other hidden figure (a hidden figure is at least 1,
   since zeros are shown). ``Siblings 1, 2 and 10 under 13`` leave 3 when only 1
   and 2 are hidden.

3. *The audit.* The rules look at one relation at a time; a reader combines them all.
   ``disclosure.py`` finds the exact range a reader can narrow each small hidden
   figure to, from every relation at once (linear programming on each group of
   hidden figures joined by relations); wherever one is a single value or lies below
   ``k``, the smallest shown count in the relations nearest to it is hidden, and the
   rules and the audit run again until no small figure is pinned.
4. *Release.* The rules judge one relation at a time and hide more than a reader
   combining them all could use; each figure they hid on its own (not a small one, not
   a field hidden with its figure) is shown again, largest first, wherever the audit
   finds that showing it pins no small figure.

Each time, the member hidden is the smallest non-zero shown part, so that as little
as possible is hidden (the classic choice of statistical offices; not an optimum,
which is NP-hard, but close on hierarchical tables). Zeros reveal nobody: they are
never hidden and never chosen, since hiding one adds no uncertainty.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

from civicflow.views import disclosure
from civicflow.views.sums import Index, Node, Relation, Sums

__all__ = ["Node", "Relation", "Table", "suppress"]


@dataclass
class Table:
    """A publication: what each count is, which are small, how they add up."""

    values: dict[Node, int] = field(default_factory=dict)
    sensitive: set[Node] = field(default_factory=set)  # published, from 1..k-1 residents
    unpublished: set[Node] = field(default_factory=set)
    relations: Sums = field(default_factory=Sums)
    # Nodes hidden whenever their key is (a figure's fields when its total is hidden).
    tied: dict[Node, tuple[Node, ...]] = field(default_factory=dict)
    # Parts of a figure (its levels), shown and hidden with it, never chosen alone.
    derived: set[Node] = field(default_factory=set)

    def add(self, node: Node, value: int, *, sensitive: bool = False) -> None:
        self.values[node] = value
        if sensitive:
            self.sensitive.add(node)

    def relate(self, total: Node, parts: Iterable[Node]) -> None:
        found = tuple(parts)
        if found:
            self.relations.add(total, found)


def suppress(table: Table, k: int) -> set[Node]:
    """The published nodes to hide: the sensitive ones, and enough beside them.

    Returns:
        Every published node to hide (sensitive or complementary).
    """
    hidden = set(table.sensitive) | table.unpublished
    _tie(table, hidden, set(table.sensitive) | table.unpublished)
    by_node = table.relations.index()
    pending = array("i", range(len(table.relations)))
    safe: set[frozenset[Node]] = set()
    audited: set[Node] | None = None  # what was hidden when the audit last ran
    while True:
        _rules(table, hidden, by_node, pending, k)
        # After the first audit, only the groups with a figure hidden since can have
        # changed: every other one is as it was, safe (or pinned with nothing to pick).
        near = (
            None if audited is None else _around(table.relations, hidden - audited, hidden, by_node)
        )
        audited = set(hidden)
        newly = _audit(table, hidden, by_node, k, safe, near=near)
        if not newly:
            _release(table, hidden, by_node, k, safe)
            return hidden - table.unpublished - table.derived
        hidden |= newly
        _tie(table, hidden, newly)
        pending = array("i", [r for node in newly for r in by_node[node]])


def _rules(
    table: Table,
    hidden: set[Node],
    by_node: Index,
    pending: array[int],
    k: int,
) -> None:
    """Apply rules 1 and 2 to every pending relation, and again wherever they hide."""
    while pending:
        number = pending.pop()
        pick = _wanted(table.relations[number], table, hidden, k)
        if pick is None:
            continue
        newly = {pick}
        hidden.add(pick)
        _tie(table, hidden, newly)
        pending.append(number)  # it may need more than one
        for node in newly:
            pending.extend(by_node[node])


def _tie(table: Table, hidden: set[Node], newly: set[Node]) -> None:
    """Hide what goes with each newly hidden node (adding the tied ones to ``newly``)."""
    for node in list(newly):
        for tied in table.tied.get(node, ()):
            if tied not in hidden:
                hidden.add(tied)
                newly.add(tied)


def _wanted(relation: Relation, table: Table, hidden: set[Node], k: int) -> Node | None:
    """A member of ``relation`` to hide too, or None when it gives nothing away."""
    values = table.values
    secret = [m for m in relation.members() if m in hidden and values.get(m, 0) > 0]
    if not secret:
        return None
    if len(secret) == 1:
        # An unpublished node alone is worked out, but protects nobody: the audit
        # sees whether that narrows a figure elsewhere.
        lone = secret[0] not in table.unpublished and secret[0] not in table.derived
        return _smallest_shown(relation, table, hidden) if lone else None
    parts = [m for m in secret if m != relation.total]
    if relation.total in hidden or not any(p in table.sensitive for p in parts):
        return None
    # A hidden figure is known to be at least 1 (zeros are shown), so the reader can
    # pin each hidden part to the residual minus one for every other one published.
    published = sum(1 for p in parts if p not in table.unpublished)
    if sum(values.get(p, 0) for p in parts) - max(0, published - 1) >= k:
        return None
    return _smallest_shown(relation, table, hidden)


def _smallest_shown(relation: Relation, table: Table, hidden: set[Node]) -> Node | None:
    """The smallest non-zero shown part; the total when no part is left to hide."""
    values = table.values
    shown = [
        (values.get(p, 0), repr(p), p)
        for p in relation.parts
        if p not in hidden and values.get(p, 0) > 0 and p not in table.derived
    ]
    if shown:
        return min(shown)[2]
    total = relation.total
    if total in hidden or total in table.derived:
        return None
    return total if values.get(total, 0) > 0 else None


# --- the audit: what a reader combining every relation can still narrow ----------------


def _audit(
    table: Table,
    hidden: set[Node],
    by_node: Index,
    k: int,
    safe: set[frozenset[Node]],
    *,
    near: list[Relation] | None = None,
) -> set[Node]:
    """Nodes to hide, one in each component where a small figure is still pinned
    (among the components of ``near``'s relations, when given)."""
    picks = set()
    for node, _ in disclosure.pinned(table, hidden, k, safe, near):
        pick = _nearest_shown(node, table, hidden, by_node)
        if pick is not None:
            picks.add(pick)
    return picks


def _nearest_shown(node: Node, table: Table, hidden: set[Node], by_node: Index) -> Node | None:
    """The smallest shown non-zero node in the relations nearest to ``node``, looking
    outward through hidden nodes (where the narrowing comes from)."""
    seen, layer, relations = {node}, [node], table.relations
    while layer:
        members = {m for n in layer for r in by_node[n] for m in relations.members(r)} - seen
        shown = [
            (table.values.get(m, 0), repr(m), m)
            for m in members
            if m not in hidden and table.values.get(m, 0) > 0 and m not in table.derived
        ]
        if shown:
            return min(shown)[2]
        seen |= members
        layer = [m for m in members if m in hidden]
    return None


# --- what the rules hid that the audit shows is not needed -------------------------------


def _release(
    table: Table,
    hidden: set[Node],
    by_node: Index,
    k: int,
    safe: set[frozenset[Node]],
) -> None:
    """Show again each complementary figure whose showing pins no small one (largest
    first): the rules look at one relation at a time and hide more than a reader
    combining them all can use. Only figures hidden on their own are tried: not a small
    one, nor one hidden with its figure, nor a figure whose fields go with it.
    """
    keys = {one: key for key, ties in table.tied.items() for one in ties if one != key}
    chosen = [
        node
        for node in hidden
        if node not in table.sensitive
        and node not in table.unpublished
        and node not in table.derived
        and table.values.get(node, 0) > 0
        and keys.get(node) not in hidden
        and all(tied in table.derived for tied in table.tied.get(node, ()))
    ]
    for node in sorted(chosen, key=lambda n: (-table.values.get(n, 0), repr(n))):
        shown = {node, *table.tied.get(node, ())}
        # Tried in place, and put back if it pins one: a copy of the hidden set per
        # figure tried grew with the city squared (0.5 s of a city's review).
        tried = shown & hidden
        hidden -= tried
        near = _around(table.relations, shown, hidden, by_node)
        if next(disclosure.pinned(table, hidden, k, safe, near), None) is not None:
            hidden |= tried


def _around(relations: Sums, nodes: set[Node], hidden: set[Node], by_node: Index) -> list[Relation]:
    """The relations of every group of hidden nodes that ``nodes`` touch."""
    found: dict[int, Relation] = {}
    layer, seen = set(nodes), set(nodes)
    while layer:
        touched = {r for n in layer for r in by_node[n] if r not in found}
        found.update((r, relations[r]) for r in sorted(touched))
        layer = {m for r in touched for m in found[r].members() if m in hidden} - seen
        seen |= layer
    return list(found.values())
