"""Placing facts: the tracker's cached lineages agree with a fresh walk of the area tree.

The tracker keeps, per area, the chain of enclosing areas with the span of time it
holds for, and per chain the quarter last used. These properties ask it about many
moments in random order, for random trees whose areas are added and moved at random
moments (parents added after their children, moves back and forth, unknown parents),
and compare every answer with ``Structure.ancestry`` and a plain quarter computation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from civicflow.domain.community.areas import Area, AreaKind
from civicflow.domain.community.structure import Structure
from civicflow.domain.timeline import Change
from civicflow.views.tracker import LEVELS, StructureTracker

START = datetime(2025, 12, 20, tzinfo=UTC)
KIND_OF = {"d": AreaKind.DISTRICT, "s": AreaKind.STREET, "c": AreaKind.COMMUNITY}
KIND_OF["k"] = AreaKind.COMPOUND
PARENTS = {"d": [], "s": ["d-1", "d-2"], "c": ["s-1", "s-2", "nowhere"], "k": ["c-1", "c-2"]}
AREAS = ["d-1", "d-2", "s-1", "s-2", "c-1", "c-2", "k-1", "k-2", "k-3"]
ZONES = ["Asia/Shanghai", "Asia/Kathmandu", "America/St_Johns", "UTC"]

moments = st.integers(0, 400 * 24).map(lambda hours: START + timedelta(hours=hours))


@st.composite
def areas(draw: st.DrawFn, area_id: str) -> Area:
    prefix = area_id[0]
    parents: list[Change[str]] = []
    if PARENTS[prefix]:
        for moment in sorted(draw(st.lists(moments, min_size=1, max_size=4, unique=True))):
            parent = draw(st.sampled_from(PARENTS[prefix]))
            parents.append(Change[str](effective=moment, value=parent))
    return Area(
        id=area_id,
        kind=KIND_OF[prefix],
        added_at=draw(moments),
        names=(Change[str](effective=START, value=area_id),),
        parents=tuple(parents),
        time_zone=draw(st.sampled_from(ZONES)) if prefix == "d" else None,
    )


@st.composite
def structures(draw: st.DrawFn) -> Structure:
    return Structure(areas={a: draw(areas(a)) for a in AREAS})


def naive_placement(structure: Structure, area_id: str, moment: datetime) -> tuple[str, ...]:
    chain = structure.ancestry(area_id, moment)
    by_kind = {structure.areas[a].kind: a for a in chain}
    district = by_kind.get(AreaKind.DISTRICT)
    zone = (structure.areas[district].time_zone if district else None) or "Asia/Shanghai"
    local = moment.astimezone(ZoneInfo(zone))
    quarter = f"{local.year}Q{(local.month - 1) // 3 + 1}"
    if not chain:  # unknown then: the area stands for itself at every level
        return (quarter, *(area_id for _ in LEVELS))
    return (quarter, *(by_kind.get(level, "") for level in LEVELS))


@given(
    structure=structures(),
    questions=st.lists(
        st.tuples(st.sampled_from([*AREAS, "unknown"]), moments, st.integers(-2, 2)), max_size=60
    ),
)
def test_every_placement_equals_a_fresh_walk(
    structure: Structure, questions: list[tuple[str, datetime, int]]
) -> None:
    tracker = StructureTracker(structure=structure)
    for area_id, moment, nudge in questions:
        # Near the moments where something changes, a microsecond either side.
        when = moment + timedelta(microseconds=nudge)
        placed = tracker.place(area_id, when)
        assert (placed.quarter, *placed.areas) == naive_placement(structure, area_id, when)


@given(structure=structures(), area_id=st.sampled_from(AREAS), hours=st.lists(st.integers(0, 9600)))
def test_placements_along_time_and_back_agree(
    structure: Structure, area_id: str, hours: list[int]
) -> None:
    tracker = StructureTracker(structure=structure)
    for moment in [START + timedelta(hours=h) for h in [*sorted(hours), *sorted(hours)[::-1]]]:
        placed = tracker.place(area_id, moment)
        assert (placed.quarter, *placed.areas) == naive_placement(structure, area_id, moment)
