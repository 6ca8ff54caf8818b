"""A small city for tests: districts registered alike, and a random life across them.

Each district ``NAME`` has the areas ``d-NAME > s-NAME > c-NAME-1, c-NAME-2`` and the
compounds ``k-NAME-1`` and ``k-NAME-2`` (community 1) and ``k-NAME-3`` (community 2),
each with a council, and residents ``r-NAME-1`` ... ``r-NAME-6``. Area ids are the
city's own; a resident who moves to another district keeps their id, so the city's
views see the same id in two districts' logs (each district's half of their history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from civicflow import CivicFlow, CivicflowError, Stage
from civicflow.federation.city import City
from tests.conftest import FakeClock

OFFICE = "office"
START = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)  # late in a quarter: the life crosses it
ZONES = ("Asia/Shanghai", "America/New_York", "Asia/Shanghai")
GRADES = ("satisfied", "basically_satisfied", "dissatisfied")
COMPOUNDS = (1, 2, 3)
RESIDENTS = (1, 2, 3, 4, 5, 6)


def write_registry(folder: Path, stores: dict[str, str], views: str) -> Path:
    """A registry naming ``stores`` (district name -> URL) and the views' store."""
    lines = ['name = "Test City"', f'views = "{views}"']
    for name, url in stores.items():
        lines += [f"[districts.{name}]", f'area = "d-{name}"', f'store = "{url}"']
    path = folder / "city.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def populate(flow: CivicFlow, name: str, zone: str) -> None:
    """Register district ``name`` as the module says."""
    flow.add_area(f"d-{name}", kind="district", name=name, time_zone=zone, actor=OFFICE)
    flow.add_area(f"s-{name}", kind="street", name="Main", parent_id=f"d-{name}", actor=OFFICE)
    for n in (1, 2):
        flow.add_area(
            f"c-{name}-{n}", kind="community", name=f"C{n}", parent_id=f"s-{name}", actor=OFFICE
        )
    for n in COMPOUNDS:
        compound = f"k-{name}-{n}"
        flow.add_area(
            compound,
            kind="compound",
            name=f"No. {n}",
            parent_id=f"c-{name}-{1 if n < 3 else 2}",
            is_old=True,
            has_property_management=False,
            households=10 * n,
            actor=OFFICE,
        )
        flow.form_council(compound, actor=OFFICE)
        for m in (1, 2, 3):
            flow.join_council(compound, member=f"m-{name}-{n}-{m}", via="election", actor=OFFICE)
    for r in RESIDENTS:
        flow.register_resident(
            f"r-{name}-{r}", compound_id=f"k-{name}-{1 + r % len(COMPOUNDS)}", actor=OFFICE
        )


@dataclass
class CityLife:
    """Random operations on a city; a refused command is simply skipped."""

    city: City
    clock: FakeClock
    proposals: dict[str, list[tuple[UUID, str]]] = field(default_factory=dict)
    accepted: int = 0

    def build(self) -> None:
        for n, name in enumerate(self.city.names):
            populate(self.city.district(name), name, ZONES[n % len(ZONES)])
            self.proposals[name] = []

    def run(self, op: tuple[int, ...]) -> None:
        kind, d, a, b, c = op
        names = self.city.names
        name = names[d % len(names)]
        flow = self.city.district(name)
        try:
            if kind == 0:
                self.ask(flow, name, a, b)
            elif kind == 1:
                self.advance(flow, name, a)
            elif kind == 2:
                self.rate(flow, name, a, b, c)
            elif kind == 3:
                self.clock.advance(hours=6 + 37 * a)
            else:
                self.move(name, names[c % len(names)], a, b)
        except CivicflowError:
            return
        self.accepted += 1

    def ask(self, flow: CivicFlow, name: str, compound: int, resident: int) -> None:
        # Mostly at the resident's first home (their own compound: accepted while they
        # live there), else at another compound (refused by the community rules).
        home = (RESIDENTS[resident % 6] % 3) if compound % 4 else compound
        area = f"k-{name}-{COMPOUNDS[home % 3]}"
        need = flow.ask(
            title=f"Need {len(self.proposals[name])}",
            details="details",
            category="safety",
            area_id=area,
            resident=f"r-{name}-{RESIDENTS[resident % 6]}",
            channel="visit",
        )
        self.proposals[name].append((need.id, area))

    def advance(self, flow: CivicFlow, name: str, index: int) -> None:
        if not self.proposals[name]:
            return
        pid, area = self.proposals[name][index % len(self.proposals[name])]
        state = flow.proposal(pid)
        members = [f"m-{area.removeprefix('k-')}-{m}" for m in (1, 2, 3)]
        if state.stage == Stage.ASKED:
            flow.discuss(pid, attendees=members, summary="ok", actor=members[0])
        elif state.stage == Stage.DISCUSSING:
            flow.decide(
                pid,
                outcome="approved",
                vote={"in_favour": 2, "against": 0, "abstain": 1},
                plan="Do it",
                budget={"amount": "100.00", "funding_sources": ["district fund"]},
                responsible=members[1],
                deadline=(self.clock.now + timedelta(days=30)).date(),
                actor=members[0],
            )
        elif state.stage == Stage.DOING:
            flow.complete(pid, summary="Done", total_spent="90", evidence=["p"], actor=members[1])
        elif state.stage == Stage.DONE:
            flow.publish(pid, channels=["notice_board"], summary="Done", actor=members[0])
        elif state.stage == Stage.RATING and state.rating_closes_at is not None:
            self.clock.now = max(self.clock.now, state.rating_closes_at + timedelta(seconds=1))
            flow.close_rating(pid, actor=members[0])

    def rate(self, flow: CivicFlow, name: str, index: int, resident: int, grade: int) -> None:
        if not self.proposals[name]:
            return
        pid, _ = self.proposals[name][index % len(self.proposals[name])]
        flow.rate(pid, resident=f"r-{name}-{RESIDENTS[resident % 6]}", level=GRADES[grade % 3])

    def move(self, source: str, target: str, resident: int, compound: int) -> None:
        who = f"r-{source}-{RESIDENTS[resident % 6]}"
        where = f"k-{target}-{COMPOUNDS[compound % 3]}"
        self.city.move_resident(who, compound_id=where, actor=OFFICE)
