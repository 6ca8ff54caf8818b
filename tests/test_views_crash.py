"""Views survive being killed: SIGKILL a catch-up at random points, restart, compare.

On SQLite and PostgreSQL a history of a few thousand events (structure, residents,
proposals through all six steps with rectification rounds, many ratings, across two
quarters) is counted by ``Views.catch_up`` in a child process with a small page size.
The child is killed with SIGKILL several times (once at a random moment after it
starts, then each time after the views have passed a random position of the log),
restarted each time, and finally left to finish. Every figure, and every view row,
must then equal a clean ``rebuild()`` into a fresh store, and the tracking position
must be the last notification id: each event counted exactly once.
"""

from __future__ import annotations

import heapq
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import civicflow
from civicflow import CivicFlow
from civicflow.domain.community.structure import Structure
from civicflow.domain.proposal import Proposal
from civicflow.storage.settings import env_from_url
from civicflow.views import Views
from civicflow.views.schema import TABLES
from tests.conftest import POSTGRES_URL, FakeClock

SEED = 20260701
START = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
QUARTERS = ("2026Q3", "2026Q4")
LEVELS = ("compound", "community", "street", "district")
COMPOUNDS = {  # compound -> (community, households, has a council)
    "k-1": ("c-1", 120, True),
    "k-2": ("c-1", 80, True),
    "k-3": ("c-2", 150, True),
    "k-4": ("c-3", 90, True),
    "k-5": ("c-3", 60, True),
    "k-6": ("c-3", 40, False),
}
SCOPES = ("k-1", "k-2", "k-3", "k-4", "k-5", "c-1", "c-3")
RESIDENTS_PER_COMPOUND = 60
PROPOSALS = 36
FATES: tuple[str, ...] = ("normal", "deferred", "normal", "rejected", "normal", "withdrawn")
FATES += ("normal", "overdue", "normal", "rating", "normal", "normal")
KILLS_BY_POSITION = 3
BATCH_SIZES = (13, 7, 29, 17, 41)  # one per child run, so that pages end at odd places

# The child: open the store, count what is left, say how far it got.
CHILD = """
import sys
from civicflow import CivicFlow
from civicflow.views import Views
with CivicFlow.open(sys.argv[1]) as flow, Views(flow, batch_size=int(sys.argv[2])) as views:
    print("ready", views.position, flush=True)
    counted = views.catch_up()
    print("done", counted, views.position, flush=True)
"""


# --- a history of a few thousand events ----------------------------------------------


@dataclass
class Story:
    """Builds the history through the application, in the order things happened."""

    flow: CivicFlow
    clock: FakeClock
    rng: random.Random
    homes: dict[str, list[tuple[datetime, str | None]]] = field(default_factory=dict)
    proposals: list[UUID] = field(default_factory=list)
    _agenda: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)
    _order: int = 0

    def at(self, moment: datetime, action: Callable[[], object]) -> None:
        self._order += 1
        heapq.heappush(self._agenda, (moment, self._order, action))

    def run(self) -> None:
        while self._agenda:
            moment, _, action = heapq.heappop(self._agenda)
            self.clock.now = max(self.clock.now, moment)
            action()

    # --- the community ----------------------------------------------------------

    def community(self) -> None:
        f, office = self.flow, "office"
        f.add_area("d-1", kind="district", name="Shanyang District", actor=office)
        for street in ("s-1", "s-2"):
            f.add_area(street, kind="street", name=street, parent_id="d-1", actor=office)
        for community, street in (("c-1", "s-1"), ("c-2", "s-1"), ("c-3", "s-2")):
            f.add_area(community, kind="community", name=community, parent_id=street, actor=office)
        for compound, (community, households, council) in COMPOUNDS.items():
            f.add_area(
                compound,
                kind="compound",
                name=f"Building {compound}",
                parent_id=community,
                is_old=compound != "k-3",
                has_property_management=compound == "k-3",
                households=households,
                actor=office,
            )
            if council:
                f.form_council(compound, actor=office)
                for n, role in enumerate(("chair", "secretary", None), start=1):
                    f.join_council(
                        compound,
                        member=f"m-{compound}-{n}",
                        via="election",
                        role=role,
                        actor=office,
                    )
            residents = [f"r-{compound}-{n:02d}" for n in range(RESIDENTS_PER_COMPOUND)]
            f.register_residents(residents, compound_id=compound, actor=office)
            for resident in residents:
                self.homes[resident] = [(self.clock.now, compound)]
        f.set_policy("c-3", rating_window_days=14, rectification_threshold="0.9", actor=office)
        self.changes()

    def changes(self) -> None:
        """Structure changes while proposals run: moves, a reassignment, council seats."""
        f, office = self.flow, "office"

        def move(residents: list[str], to: str | None) -> None:
            for resident in residents:
                if to is None:
                    f.move_out(resident, actor=office)
                else:
                    f.move_resident(resident, compound_id=to, actor=office)
                self.homes[resident].append((self.clock.now, to))

        movers = [f"r-k-1-{n:02d}" for n in range(50, 58)]
        self.at(START + timedelta(days=45), lambda: move(movers, "k-3"))
        self.at(
            START + timedelta(days=62),
            lambda: f.leave_council("k-1", member="m-k-1-3", actor=office),
        )
        self.at(
            START + timedelta(days=62, hours=1),
            lambda: f.join_council("k-1", member="m-k-1-4", via="recommendation", actor=office),
        )
        self.at(
            START + timedelta(days=71),
            lambda: f.reassign_compound("k-2", community_id="c-2", actor=office),
        )
        self.at(
            START + timedelta(days=101),
            lambda: f.count_households("k-4", households=95, actor=office),
        )
        self.at(
            START + timedelta(days=102),
            lambda: f.rename_area("c-3", name="Hongqi Community", actor=office),
        )
        leavers = [f"r-k-4-{n:02d}" for n in range(57, 60)]
        self.at(START + timedelta(days=142), lambda: move(leavers, None))
        self.at(START + timedelta(days=153), lambda: f.dissolve_council("k-5", actor=office))

    def eligible(self, scope: str, moment: datetime, structure: Structure) -> list[str]:
        """Residents registered within ``scope`` at ``moment`` (by the story's own record)."""
        inside = {c for c in COMPOUNDS if structure.contains(scope, c, moment)}
        return [
            resident
            for resident, changes in self.homes.items()
            if next((c for when, c in reversed(changes) if when <= moment), None) in inside
        ]

    # --- proposals ----------------------------------------------------------------

    def proposal(self, number: int) -> None:
        rng, f = self.rng, self.flow
        t0 = START + timedelta(days=2 + 2.7 * number, hours=rng.randint(0, 8))
        scope = SCOPES[number % len(SCOPES)]
        fate = FATES[number % len(FATES)]
        pid = uuid.UUID(int=rng.getrandbits(128), version=4)
        self.proposals.append(pid)
        people: list[str] = []

        def ask() -> None:
            people.extend(self.rng.sample(self.eligible(scope, t0, f.structure()), 3))
            f.ask(
                title=f"Need {number} in {scope}",
                details="Residents asked for it at the door.",
                category=("lighting", "greening", "parking", "safety")[number % 4],
                area_id=scope,
                resident=people[0],
                channel=("visit", "meeting", "hotline", "online")[number % 4],
                proposal_id=pid,
            )

        def discuss() -> None:
            members = sorted(f.structure().council_members(scope, self.clock.now))
            f.discuss(
                pid,
                attendees=[*members, people[0], people[1]],
                summary="The council heard the residents.",
                opinions=["now", "later"],
                actor=members[0],
            )

        def decide(outcome: str) -> None:
            members = sorted(f.structure().council_members(scope, self.clock.now))
            vote = {"in_favour": len(members) - 1, "against": 0, "abstain": 1}
            if outcome == "approved":
                f.decide(
                    pid,
                    outcome="approved",
                    vote=vote,
                    plan="Do the work.",
                    budget={"amount": "3000.00", "funding_sources": ["district fund"]},
                    responsible=members[-1],
                    deadline=(self.clock.now + timedelta(days=30)).date(),
                    actor=members[0],
                )
            elif outcome == "rejected":
                f.decide(pid, outcome="rejected", vote=vote, reasons="No budget.", actor=members[0])
            else:
                f.decide(pid, outcome="deferred", vote=vote, actor=members[0])

        def back(n: int) -> None:
            f.back(pid, resident=people[n])

        self.at(t0, ask)
        for n in (1, 2):
            self.at(t0 + timedelta(days=1, hours=n), partial(back, n))
        self.at(t0 + timedelta(days=3), discuss)
        if fate == "rejected":
            self.at(t0 + timedelta(days=4), lambda: decide("rejected"))
            self.at(
                t0 + timedelta(days=6),
                lambda: f.publish(pid, channels=["notice_board"], summary="No.", actor="office"),
            )
            return
        if fate == "deferred":
            self.at(t0 + timedelta(days=4), lambda: decide("deferred"))
            self.at(t0 + timedelta(days=6), discuss)
            t0 += timedelta(days=3)
        self.at(t0 + timedelta(days=4), lambda: decide("approved"))
        if fate == "withdrawn":
            self.at(
                t0 + timedelta(days=5),
                lambda: f.withdraw(pid, reason="Done by the city.", actor="office"),
            )
            return
        self.at(
            t0 + timedelta(days=10),
            lambda: f.report_progress(pid, percent=50, note="Half.", spent="1000", actor="office"),
        )
        if fate == "overdue":
            return
        self.round(pid, scope, t0 + timedelta(days=18), fate, failing=rng.random() < 0.35)

    def round(self, pid: UUID, scope: str, start: datetime, fate: str, *, failing: bool) -> None:
        """Complete, publish, rate in two waves, close; a failed round starts another."""
        f = self.flow
        raters: list[str] = []
        dissatisfied = 0.35 if failing else 0.03

        def complete() -> None:
            f.complete(
                pid, summary="Finished.", total_spent="2900", evidence=["photo"], actor="office"
            )

        def publish() -> None:
            state = f.publish(
                pid, channels=["notice_board", "app"], summary="Done.", actor="office"
            )
            if fate != "rating" and state.rating_closes_at is not None:
                self.at(state.rating_closes_at + timedelta(hours=1), close)

        def rate(wave: int) -> None:
            now, structure = self.clock.now, f.structure()
            pool = self.eligible(scope, now, structure)
            if wave == 0:
                raters.extend(self.rng.sample(pool, min(len(pool), self.rng.randint(35, 60))))
            # The second wave: the rest, and a fifth of the first who change their minds.
            cut = len(raters) * 3 // 5
            who = raters[:cut] if wave == 0 else [*raters[cut:], *raters[: len(raters) // 5]]
            # Many ratings in one save, through the aggregate's own command (same events).
            proposal: Proposal = f.repository.get(pid)
            for n, resident in enumerate(r for r in who if r in pool):
                level = self.rng.choices(
                    ["satisfied", "basically_satisfied", "dissatisfied"],
                    weights=[0.67 - dissatisfied, 0.33, dissatisfied],
                )[0]
                proposal.rate(
                    resident=resident,
                    level=level,
                    comment=None,  # as the application passes it: the same event
                    actor=resident,
                    occurred_at=now + timedelta(seconds=n),
                )
            f.save(proposal)

        def close() -> None:
            state = f.close_rating(pid, actor="office")
            if state.stage.value == "doing" and state.round <= 2:
                self.round(pid, scope, self.clock.now + timedelta(days=5), fate, failing=False)

        self.at(start, complete)
        self.at(start + timedelta(days=1), publish)
        for wave, day in enumerate((2, 6)):
            self.at(start + timedelta(days=day), partial(rate, wave))


def build_history(url: str) -> list[UUID]:
    clock = FakeClock(START)
    with CivicFlow.open(url, clock=clock) as flow:
        story = Story(flow, clock, random.Random(SEED))
        story.community()
        for number in range(PROPOSALS):
            story.proposal(number)
        story.run()
        return story.proposals


# --- the figures compared --------------------------------------------------------------


def figures(views: Views, proposals: list[UUID]) -> dict[str, Any]:
    """Every query of ``views``, at every level and quarter, and the rows behind them."""
    found: dict[str, Any] = {"structure": views.structure()}
    for level in LEVELS:
        for quarter in (None, *QUARTERS):
            found[f"satisfaction {level} {quarter}"] = views.satisfaction(
                level=level, quarter=quarter
            )
            found[f"participation {level} {quarter}"] = views.participation(
                level=level, quarter=quarter
            )
        for quarter in QUARTERS:
            found[f"review {level} {quarter}"] = views.review(quarter, level=level)
        for as_of in (date(2026, 9, 30), date(2026, 12, 31), date(2027, 6, 1)):
            found[f"pipeline {level} {as_of}"] = views.pipeline(level=level, as_of=as_of)
    for pid in proposals:
        found[f"proposal {pid}"] = views.proposal_satisfaction(pid)
    for table in TABLES:
        rows = views.tables.query(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
        found[f"table {table}"] = sorted(rows, key=repr)
    return found


@contextmanager
def reference_store(url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings for an empty views store of the same backend: a file, or a new schema."""
    if url.startswith("sqlite"):
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "r.db"),
        }
        return
    import psycopg
    from psycopg import sql

    schema = f"{env_from_url(url)['POSTGRES_SCHEMA']}_ref"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield env_from_url(f"{POSTGRES_URL}?schema={schema}")
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


# --- the child process ---------------------------------------------------------------------


def child_env() -> dict[str, str]:
    src = str(Path(civicflow.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{path}" if path else src}


def start_child(url: str, batch_size: int) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", CHILD, url, str(batch_size)],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(child: subprocess.Popen[str]) -> None:
    """SIGKILL the child, unless it has already finished (successfully)."""
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=30)
    assert child.returncode in (0, -signal.SIGKILL), err


def wait_ready(child: subprocess.Popen[str]) -> None:
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.startswith("ready"), child.communicate(timeout=30)[1]


# --- the test ---------------------------------------------------------------------------------


def time_a_catch_up(url: str, views: Views) -> float:
    """Seconds a child takes to count the whole log; then the views are forgotten again."""
    started = time.perf_counter()
    child = start_child(url, BATCH_SIZES[0])
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    duration = time.perf_counter() - started
    views.tables.reset()
    return duration


def kill_catch_ups(
    url: str, views: Views, last: int, rng: random.Random, duration: float
) -> list[int]:
    """Start and SIGKILL catch-up children; the positions the views were left at."""
    positions = [views.position]
    batch_sizes = iter(BATCH_SIZES)

    # Once at a random moment of a child's life: in imports, opening, or counting.
    child = start_child(url, next(batch_sizes))
    time.sleep(rng.uniform(0.05, 0.95) * duration)
    kill(child)
    positions.append(views.position)

    # Then each time the views have passed a random position (one in each stretch of
    # the log still to count), a little after.
    for remaining in range(KILLS_BY_POSITION, 0, -1):
        stretch = (last - positions[-1]) // (remaining + 1)
        if stretch < 1:
            break  # a child finished before its kill: nothing left to interrupt
        target = rng.randint(positions[-1] + 1, positions[-1] + stretch)
        child = start_child(url, next(batch_sizes))
        wait_ready(child)
        while child.poll() is None and views.position < target:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.01))
        kill(child)
        positions.append(views.position)
    return positions


def test_killed_catch_ups_count_every_event_exactly_once(durable_url: str, tmp_path: Path) -> None:
    proposals = build_history(durable_url)
    rng = random.Random(SEED)
    with CivicFlow.open(durable_url) as flow, Views(flow) as views:
        last = flow.recorder.max_notification_id()
        assert last is not None
        assert last > 2000

        # On a quiet machine a child may finish before it is killed; the test needs at
        # least one child killed part-way, so then it forgets the views and starts again.
        duration = time_a_catch_up(durable_url, views)
        for _attempt in range(5):
            positions = kill_catch_ups(durable_url, views, last, rng, duration)
            if any(0 < p < last for p in positions):
                break
            views.tables.reset()
        else:
            pytest.fail(f"no child was killed part-way through the log: {positions}")

        # Finally, let one catch-up finish.
        child = start_child(durable_url, BATCH_SIZES[-1])
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert out.splitlines()[-1].split()[-1] == str(last)

        assert positions == sorted(positions), positions
        assert views.position == last
        assert views.catch_up() == 0
        crashed = figures(views, proposals)

        with (
            reference_store(durable_url, tmp_path) as settings,
            Views(flow, settings=settings) as clean,
        ):
            assert clean.rebuild() == last
            assert clean.position == last
            reference = figures(clean, proposals)
        assert crashed.keys() == reference.keys()
        for key in reference:
            assert crashed[key] == reference[key], key
