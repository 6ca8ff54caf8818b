"""Everything civicflow publishes, as one table of counts, and what to hide in it.

The figures of every query (satisfaction per area and quarter at each level, each
proposal's rounds per quarter and in total, participation per field, area and
quarter) are read together from the view tables, with the sums that tie them
(``suppression.py``), so that one decision covers them all: a figure hidden in one
query is hidden in every query, export and report, and no difference between two
queries gives it away.

Nodes:

- ``("sat", level, area, quarter)``: ratings of an area (its ``n``);
- ``("prop", proposal, round, quarter)``: ratings of a round in a quarter, and with
  quarter None, of the round in all quarters;
- ``("part", field, level, area, quarter)``: distinct residents of a participation
  field (``ask``, ``discuss``, ``rate``, ``any`` for ``participants``);
- unpublished counts a reader can name but never sees: a round's ratings at each
  placement (``"prop-at"``) and a field's residents at each placement (``"part-at"``),
  a moved child's part under each parent (``"sat-piece"``, ``"part-piece"``), residents
  counted at several places (``"part-moved"``) and an area's others (``"part-base"``),
  and the fields' overlaps (``"part-rest"``, ``"part-sum"``, ``"part-overlap"``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from sys import intern
from typing import Any

from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.structure import Structure
from civicflow.views import participants, suppression
from civicflow.views.collecting import collector_paused
from civicflow.views.hierarchy import LEVELS, Key, hierarchy, placements
from civicflow.views.participants import ANY, FIELDS
from civicflow.views.suppression import Node, Table

_RATED = ("sat", "prop", "prop-at", "sat-piece")  # the nodes that count ratings
AreasAt = Callable[[Structure, AreaKind, str, Iterable[tuple[str, str]]], list[str]]
More = Callable[[Table, Any], None]  # adds counts published beside (a city's totals)


@dataclass(frozen=True)
class Protection:
    """Which figures of one state of the views are hidden, and the counts behind them."""

    values: dict[Node, int]
    hidden: frozenset[Node]
    unpublished: frozenset[Node]

    def hides(self, node: Node, value: int) -> bool:
        """Whether to hide ``node``: one read beside the snapshot the protection was
        decided in (``Figures._protected``) is hidden unless it is zero, to be safe.
        """
        return node in self.hidden or (value > 0 and node not in self.values)

    def share_hidden(self) -> tuple[int, int]:
        """(hidden, published) non-zero figures: what the protection costs."""
        published = [n for n, v in self.values.items() if v > 0 and n not in self.unpublished]
        return sum(1 for n in published if n in self.hidden), len(published)


def protect(
    tables: Any,
    structure: Callable[[], Structure],
    k: int,
    areas_at: AreasAt,
    more: More | None = None,
) -> Protection:
    """Decide what to hide below ``k`` in every count of ``tables`` (and ``more``'s).

    ``structure`` reads the structure of the views: it is read first and let go before
    the table of counts is made (a city's is 30 MB, as much again as its table).
    """
    with collector_paused():  # a table of every count, alive to the end: see collecting.py
        counted = _counted(tables, structure(), areas_at)
        table = Table()
        _satisfaction(tables, table, k)
        _participation(tables, counted, table, k)
        del counted  # read into the table
        if more is not None:
            more(table, tables)
        hidden = frozenset(suppression.suppress(table, k))
    # The table's own counts, not a copy: the table ends here, and a city's has 230,000.
    return Protection(table.values, hidden, frozenset(table.unpublished))


# --- satisfaction ----------------------------------------------------------------------


def _satisfaction(tables: Any, table: Table, k: int) -> None:
    placed = placements(tables)
    atoms = [
        (intern(str(pid)), int(round_), intern(str(when)), placed(at), int(n))
        for pid, round_, when, *at, n in tables.query(
            "SELECT proposal_id, round, quarter, compound, community, street, district, "
            "COUNT(*) FROM cf_view_ratings GROUP BY proposal_id, round, quarter, compound, "
            "community, street, district"
        )
    ]
    grades = [
        (intern(str(pid)), int(round_), intern(str(when)), placed(at), intern(str(g)), int(n))
        for pid, round_, when, *at, g, n in tables.query(
            "SELECT proposal_id, round, quarter, compound, community, street, district, level, "
            "COUNT(*) FROM cf_view_ratings GROUP BY proposal_id, round, quarter, compound, "
            "community, street, district, level"
        )
    ]
    raters = _raters(tables)
    counts = _sat_table(atoms)
    for node, n in counts.values.items():
        assert isinstance(node, tuple)  # noqa: S101 - for mypy: every node here is a tuple
        if node[0] == "prop":
            table.add(node, n, sensitive=0 < n < k)  # one rating per resident and round
        elif node[0] == "sat":
            table.add(node, n, sensitive=0 < raters.get(node[1:], 0) < k)
        else:
            table.add(node, n)
    table.unpublished |= counts.unpublished
    table.relations.extend(counts.relations)
    _levels(table, grades)


def _sat_table(atoms: list[Key]) -> Table:
    """Ratings per round and quarter, per round, per area and quarter, and their sums."""
    table = Table()
    rounds: dict[Key, int] = defaultdict(int)
    for pid, round_, when, _, n in atoms:
        rounds[("prop", pid, round_, when)] += n
        rounds[("prop", pid, round_, None)] += n
    by_quarter: dict[Key, list[Node]] = defaultdict(list)
    for node, n in rounds.items():
        table.add(node, n)
        if node[3] is not None:
            by_quarter[("prop", node[1], node[2], None)].append(node)
    for total, parts in by_quarter.items():
        table.relate(total, parts)
    areas = _sums(((at, when), n) for _, _, when, at, n in atoms)
    for at, level in enumerate(LEVELS):
        for (area, when), n in areas[at].items():
            table.add(("sat", level, area, when), n)
    hierarchy(table, _rated_leaves(table, atoms), _area_of("sat"), ("sat-piece",))
    return table


def _rated_leaves(table: Table, atoms: list[Key]) -> list[tuple[Node, Key, str]]:
    """The ratings of each round in a quarter at one placement, the finest counts a reader
    can name: the round's row itself, or where its area moved within the quarter, an
    unpublished count per placement (part of the row).
    """
    placements: dict[Key, list[Key]] = defaultdict(list)
    for pid, round_, when, at, n in atoms:
        placements[("prop", pid, round_, when)].append((at, n))
    leaves: list[tuple[Node, Key, str]] = []
    for row, placed in placements.items():
        if len(placed) == 1:
            leaves.append((row, placed[0][0], row[3]))
            continue
        for at, n in placed:
            leaf = ("prop-at", *row[1:], at)
            table.add(leaf, n)
            table.unpublished.add(leaf)
            leaves.append((leaf, at, row[3]))
        table.relate(row, [("prop-at", *row[1:], at) for at, _ in placed])
    return leaves


def _area_of(kind: str) -> Callable[[str, str, str], Node]:
    return lambda level, area, when: (kind, level, area, when)


def _levels(table: Table, grades: list[Key]) -> None:
    """Each figure's levels, shown and hidden with it: the same sums hold level by level,
    and a reader combines them (a level a shown parent has none of is none in its parts).
    """
    counted = {(*atom[:4], atom[4]): atom[5] for atom in grades}
    placed = sorted({atom[:4] for atom in grades}, key=repr)
    by_level = sorted({atom[4] for atom in grades})
    figures = [n for n in table.values if isinstance(n, tuple) and n[0] in _RATED]
    # One object per node, named once: a grade's table names every figure again, and a
    # city's publication has 100,000 figures at each grade.
    ours: dict[Node, Node] = {node: node for node in figures}
    made: dict[str, dict[Node, Node]] = {}
    for grade in by_level:  # every placement at every level: the same sums (one at a time)
        counts = _sat_table([(*atom, counted.get((*atom, grade), 0)) for atom in placed])
        wrap = made[grade] = {n: ("level", grade, ours.get(n, n)) for n in counts.values}
        for node, value in counts.values.items():
            table.add(wrap[node], value)
        for r in counts.relations:
            table.relate(_level(wrap, grade, r.total), [_level(wrap, grade, p) for p in r.parts])
    for node in figures:
        levels = [_level(made[g], g, node) for g in by_level]
        for level in levels:  # a level none rated is unknown to a reader while hidden
            table.values.setdefault(level, 0)
        table.derived |= set(levels)
        table.tied[node] = tuple(levels)
        table.relate(node, levels)


def _level(made: dict[Node, Node], grade: str, node: Node) -> Node:
    """The node of ``node``'s ratings at ``grade``: the one made already, if any."""
    found = made.get(node)
    return found if found is not None else ("level", grade, node)


def _raters(tables: Any) -> dict[Key, int]:
    """Distinct residents who rated, per area and quarter: ``k`` counts people, not ratings."""
    found: dict[Key, int] = {}
    for level in LEVELS:
        for area, when, people in tables.query(
            f"SELECT {level}, quarter, COUNT(DISTINCT resident) FROM cf_view_ratings "  # noqa: S608
            f"WHERE {level} != '' GROUP BY {level}, quarter"
        ):
            found[(level, tables.area_in_clear(area), str(when))] = int(people)
    return found


def _sums(items: Iterable[tuple[tuple[tuple[str, ...], str], int]]) -> list[dict[Key, int]]:
    """Counts per (area, quarter) at each level, from counts per placement."""
    found: list[dict[Key, int]] = [defaultdict(int) for _ in LEVELS]
    for (at, when), n in items:
        for i, area in enumerate(at):
            if area:
                found[i][(area, when)] += n
    return found


# --- participation ---------------------------------------------------------------------


Counted = list[tuple[str, dict[Key, int], set[tuple[str, str]]]]


def _counted(tables: Any, structure: Structure, areas_at: AreasAt) -> Counted:
    """Each level's participation counts, and the (area, quarter)s of it published."""
    clear, found = tables.area_in_clear, []
    for level in LEVELS:
        counts = _distinct(tables, [level])
        quarters = sorted({when for (_, _, when) in counts})
        placed = {(clear(area), when) for (_, area, when) in counts}
        shown = {
            (area, when)
            for when in quarters
            for area in areas_at(structure, AreaKind(level), when, placed)
        }
        found.append((level, counts, shown))
    return found


def _participation(tables: Any, counted: Counted, table: Table, k: int) -> None:
    clear = tables.area_in_clear
    for level, counts, shown in counted:
        made: dict[Key, Key] = {}  # each node once: its fields name it again
        for (field, area, when), n in counts.items():
            node = ("part", field, level, clear(area), when)
            made[node] = node
            published = (clear(area), when) in shown
            table.add(node, n, sensitive=published and 0 < n < k)
            if not published:
                table.unpublished.add(node)
            if field == ANY:
                table.tied[node] = tuple(_named(made, ("part", f, *node[2:])) for f in FIELDS)
                _fields_relations(table, node[2:], made)
    participants.relations(tables, table)


def _fields_relations(table: Table, figure: Key, made: dict[Key, Key] | None = None) -> None:
    """Each field is part of the participants, who are part of the fields' sum (one
    resident can ask and rate): what a reader knows without any other figure. (``made``:
    the nodes already made, to name them with.)
    """
    values, made = table.values, {} if made is None else made
    whole = _named(made, ("part", ANY, *figure))
    fields = [_named(made, ("part", f, *figure)) for f in FIELDS]
    for f in fields:
        rest = ("part-rest", *f[1:])
        table.add(rest, values.get(whole, 0) - values.get(f, 0))
        table.unpublished.add(rest)
        table.relate(whole, [f, rest])
    both = ("part-sum", *figure)
    overlap = ("part-overlap", *figure)
    table.add(both, sum(values.get(f, 0) for f in fields))
    table.add(overlap, values[both] - values.get(whole, 0))
    table.unpublished |= {both, overlap}
    table.relate(both, fields)
    table.relate(both, [whole, overlap])


def _named(made: dict[Key, Key], node: Key) -> Key:
    return made.get(node, node)


def _distinct(tables: Any, columns: list[str]) -> dict[Key, int]:
    """Distinct residents per field (and per any field) grouped by ``columns`` and quarter."""
    names = ", ".join(columns)
    where = f"{columns[-1]} != ''"
    found: dict[Key, int] = {}
    for *group, when, kind, people in tables.query(
        f"SELECT {names}, quarter, kind, COUNT(DISTINCT resident) FROM "  # noqa: S608
        f"cf_view_participation WHERE {where} GROUP BY {names}, quarter, kind"
    ):
        found[(intern(str(kind)), *map(intern, group), intern(str(when)))] = int(people)
    for *group, when, people in tables.query(
        f"SELECT {names}, quarter, COUNT(DISTINCT resident) FROM "  # noqa: S608
        f"cf_view_participation WHERE {where} GROUP BY {names}, quarter"
    ):
        found[(ANY, *map(intern, group), intern(str(when)))] = int(people)
    return found
