"""How fast views count a district's log, against reading and decoding that log alone.

    python benchmarks/bench_views.py [--quick | --events N | --million]
                                     [--backend sqlite|postgres|all] [--repeats R] [--cipher]

It builds a district-sized history (a district of 8 streets, 40 communities and 320
compounds, most with a council; residents registered; proposals asked, backed,
discussed, decided, worked on, completed, published and rated, some rejected, deferred,
withdrawn or sent back for rectification; residents moving, councils changing seats;
most events are ratings), then measures in one process, alternating, over ``--repeats``:

(r) the floor: the same stored records read as plain rows, one query per page, and each
    record's bytes parsed with ``orjson.loads`` (``views_baselines.raw_read``);
(e) eventsourcing alone reading and decoding a log of its own of the same size (default
    mapper and JSON transcoder, dataclass events with a rating's fields), written beside
    the store (another file, another schema);
(a) reading and decoding civicflow's notification log: pages of 2,000 through
    ``flow.recorder.select_notifications(start, limit, inclusive_of_start=False)`` and
    ``flow.mapper.to_domain_event``;
(b) ``Views(flow).rebuild()``: drop the views, count the whole log again (same pages);
(c) the views emptied, then counted again 500 events at a time by one ``Views`` kept open
    (``catch_up(limit=500)``, as ``follow`` counts a busy log);

and prints events/s for each (medians; per second of wall clock, and per second of this
process's CPU time, which other jobs on a shared machine disturb less), the ratios of issue
13 with their targets: (b)/(r) >= 0.25, (b)/(e) >= 1.0, a catch-up's cost per event at most
1.5x a rebuild's, and (b)/(a) >= 0.5 (the first round's); and the peak memory of (a) and
(b), measured in a fresh child process
per workload (``multiprocessing`` spawn, so the two peaks are separate): the peak
resident set size during the workload, read from the kernel's high-water mark
(``VmHWM``) after resetting it through ``/proc/self/clear_refs`` just before the
workload, so that imports and opening the store do not count (where Linux refuses the
reset, ``getrusage``'s ``ru_maxrss`` for the whole child), with the RSS just before.
``--tracemalloc`` adds, in two more children, the peak of Python allocations during
each workload (slower). ``--profile`` prints a cProfile of one (a) and one (b). The
children time their run too; with ``--repeats 0`` (for the largest logs) those are the
only timings.

The history is written with the aggregates' own command methods (the events are those
the application records, community facts filled in as it would), many aggregates per
``save``, with snapshots and the aggregate cache off while writing.

``--cipher`` encrypts the store at rest (a fresh ``CIPHER_KEY``, set in the environment
so that the child processes share it): the events, and so the views too (pseudonyms
and ciphertext, ``docs/views.md``); compare with a run without it.

SQLite runs on a file in a temporary folder; PostgreSQL in a fresh schema
``bench_views_<random>`` of ``--postgres-url`` (default: the local ``test`` database),
dropped at the end; PostgreSQL is skipped, with a message, when unreachable.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import heapq
import io
import os
import platform
import pstats
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import views_baselines as baselines  # beside this script
from pgschema import create_schema, drop_schema, postgres_problem  # beside this script

from civicflow import CivicFlow, Policy, Proposal
from civicflow.application.store import Store
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident
from civicflow.domain.eventmodel import PydanticAggregate
from civicflow.views import Views

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
WORKLOADS = ("raw", "bare", "read", "views", "catchup")
CATCH_UP_STEP = 500  # events per catch-up: a busy minute of a city
PAGE = 2000  # notifications per page, for (a) and (b) alike (Views' default batch_size)
SAVE_EVERY = 5000  # events per application save while building
START = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai
STREETS, COMMUNITIES_PER_STREET, COMPOUNDS_PER_COMMUNITY = 8, 5, 8
COUNCIL_SHARE = 0.8  # compounds with a council
MEMBERS = 5  # seats per council
PROPOSALS_PER_COMPOUND_PER_QUARTER = 1.25
POLICY = Policy()  # the district's rules: the defaults


class BulkStore(Store):
    """civicflow's store with snapshots off, for writing a long history quickly."""

    snapshotting_intervals: ClassVar[dict[Any, int]] = {}


class BulkFlow(CivicFlow):
    """CivicFlow on the bulk store (the same tables: the store keeps its name)."""

    store_class = BulkStore


# --- building a district's history -----------------------------------------------------


class District:
    """A history written straight through the aggregates, in the order things happened.

    Every aggregate command runs at ``self.now``; the agenda holds generators, each the
    life of one proposal (or of the structure), yielding when it wants to act next.
    """

    def __init__(self, flow: CivicFlow, events: int, seed: int = 7) -> None:
        self.flow = flow
        self.target = events
        self.rng = random.Random(seed)
        self.now = START
        self.recorded = 0
        self.pending = 0
        self.touched: dict[UUID, PydanticAggregate] = {}
        self.agenda: list[tuple[datetime, int, Iterator[datetime]]] = []
        self.order = 0
        self.proposals = 0  # drawn; asked only where the scope has a council and residents
        self.asked = 0
        self.mix: Counter[str] = Counter()
        self.residents_per_compound = min(30, max(10, events // 3300))
        self.community_of: dict[str, str] = {}
        self.compounds_of: dict[str, list[str]] = {}
        self.members: dict[str, list[str]] = {}
        self.residents_in: dict[str, list[str]] = {}
        self.residents: dict[str, Resident] = {}
        self.directory = Directory.open(actor="office", occurred_at=START)
        self.touch(self.directory)

    # --- mechanics -------------------------------------------------------------------

    def touch(self, aggregate: PydanticAggregate) -> None:
        """Note the event just recorded by ``aggregate``; save every ``SAVE_EVERY`` events."""
        self.touched.setdefault(aggregate.id, aggregate)
        self.mix[type(aggregate.pending_events[-1]).__qualname__] += 1
        self.pending += 1
        if self.pending >= SAVE_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.touched:
            self.flow.save(*self.touched.values())
        self.recorded += self.pending
        self.pending = 0
        self.touched.clear()

    def later(self, life: Iterator[datetime], at: datetime) -> None:
        self.order += 1
        heapq.heappush(self.agenda, (at, self.order, life))

    def build(self) -> int:
        # Nothing built here forms reference cycles; without the collector's full passes
        # over every live aggregate, building is about a third faster.
        gc.disable()
        try:
            self.structure()
            self.later(self.structure_changes(), START + timedelta(days=7))
            self.later(self.new_proposals(), START + timedelta(hours=1))
            while self.agenda and self.recorded + self.pending < self.target:
                self.now, _, life = heapq.heappop(self.agenda)
                wanted = next(life, None)
                if wanted is not None:
                    self.later(life, wanted)
            self.flush()
        finally:
            gc.enable()
        return self.recorded

    def days(self, low: float, high: float) -> datetime:
        return self.now + timedelta(days=self.rng.uniform(low, high))

    # --- the structure -------------------------------------------------------------------

    def structure(self) -> None:
        d, at = self.directory, {"actor": "office", "occurred_at": START}
        d.add_area(area_id="d-1", kind="district", name="Shanyang District", **at)
        self.touch(d)
        for s in range(STREETS):
            street = f"s-{s}"
            d.add_area(area_id=street, kind="street", name=street, parent_id="d-1", **at)
            self.touch(d)
            for c in range(COMMUNITIES_PER_STREET):
                community = f"c-{s}-{c}"
                d.add_area(
                    area_id=community, kind="community", name=community, parent_id=street, **at
                )
                self.touch(d)
                self.compounds_of[community] = []
                for k in range(COMPOUNDS_PER_COMMUNITY):
                    self.compound(f"k-{s}-{c}-{k}", community)
        self.flush()

    def compound(self, compound: str, community: str) -> None:
        d, at = self.directory, {"actor": "office", "occurred_at": START}
        d.add_area(
            area_id=compound,
            kind="compound",
            name=f"Building {compound}",
            parent_id=community,
            is_old=self.rng.random() < 0.6,
            has_property_management=self.rng.random() < 0.5,
            households=self.rng.randint(40, 400),
            **at,
        )
        self.touch(d)
        self.community_of[compound] = community
        self.compounds_of[community].append(compound)
        self.members[compound] = []
        if self.rng.random() < COUNCIL_SHARE:
            d.form_council(compound_id=compound, **at)
            self.touch(d)
            for n in range(MEMBERS):
                self.seat(
                    compound, f"m-{compound}-{n}", ("chair", "secretary")[n] if n < 2 else None
                )
        residents = [f"r-{compound}-{n}" for n in range(self.residents_per_compound)]
        for rid in residents:
            resident = Resident.register(resident_id=rid, compound_id=compound, **at)
            self.residents[rid] = resident
            self.touch(resident)
        self.residents_in[compound] = residents

    def seat(self, compound: str, member: str, role: str | None) -> None:
        self.directory.join_council(
            compound_id=compound,
            member=member,
            via="election",
            role=role,
            actor="office",
            occurred_at=self.now,
        )
        self.touch(self.directory)
        self.members[compound].append(member)

    def structure_changes(self) -> Iterator[datetime]:
        """Weekly moves; monthly recounts and council seats; a compound reassigned yearly."""
        rng, d = self.rng, self.directory
        week = 0
        while True:
            week += 1
            compounds = list(self.community_of)
            for _ in range(max(1, len(self.residents) // 500)):
                old, new = rng.sample(compounds, 2)
                if len(self.residents_in[old]) > 5:
                    rid = self.residents_in[old].pop(rng.randrange(len(self.residents_in[old])))
                    self.residents[rid].move(compound_id=new, actor="office", occurred_at=self.now)
                    self.touch(self.residents[rid])
                    self.residents_in[new].append(rid)
            if week % 4 == 0:
                for compound in rng.sample(compounds, 5):
                    d.count_households(
                        area_id=compound,
                        households=rng.randint(40, 400),
                        actor="office",
                        occurred_at=self.now,
                    )
                    self.touch(d)
                for compound in rng.sample([c for c in compounds if self.members[c]], 2):
                    leaving = self.members[compound].pop(-1)
                    d.leave_council(
                        compound_id=compound, member=leaving, actor="office", occurred_at=self.now
                    )
                    self.touch(d)
                    self.seat(compound, f"m-{compound}-w{week}", None)
            if week % 52 == 0:
                compound = rng.choice(compounds)
                old = self.community_of[compound]
                street = old.rsplit("-", 1)[0]
                new = f"{street}-{(int(old.rsplit('-', 1)[1]) + 1) % COMMUNITIES_PER_STREET}"
                d.reassign_compound(
                    area_id=compound, community_id=new, actor="office", occurred_at=self.now
                )
                self.touch(d)
                self.compounds_of[old].remove(compound)
                self.compounds_of[new].append(compound)
                self.community_of[compound] = new
            yield self.now + timedelta(days=7)

    def within(self, scope: str) -> list[str]:
        """Compounds within ``scope`` now."""
        return list(self.compounds_of[scope]) if scope in self.compounds_of else [scope]

    # --- proposals --------------------------------------------------------------------------

    def new_proposals(self) -> Iterator[datetime]:
        per_day = PROPOSALS_PER_COMPOUND_PER_QUARTER * len(self.community_of) / 91
        while True:
            self.proposals += 1
            self.later(self.proposal_life(self.proposals), self.now)
            yield self.now + timedelta(days=self.rng.expovariate(per_day))

    def proposal_life(self, number: int) -> Iterator[datetime]:  # noqa: PLR0912, PLR0915 - one story, in order
        rng = self.rng
        if rng.random() < 0.8:
            scope = rng.choice(list(self.community_of))
        else:
            scope = rng.choice(list(self.compounds_of))
        compounds = self.within(scope)
        pool = [r for c in compounds for r in self.residents_in[c]]
        members = [m for c in compounds for m in self.members[c]]
        if len(pool) < 8 or len(members) < 3:
            return
        fate = rng.choices(["normal", "deferred", "rejected", "withdrawn"], weights=[84, 8, 5, 3])[
            0
        ]
        asker, *backers = rng.sample(pool, rng.randint(2, 5))
        p = Proposal.ask(
            proposal_id=UUID(int=rng.getrandbits(128), version=4),
            title=f"Need {number} of {scope}",
            details="Residents raised it at the door and in the group chat.",
            category=rng.choice(["lighting", "greening", "parking", "safety", "elevator"]),
            area_id=scope,
            resident=asker,
            channel=rng.choice(["visit", "meeting", "hotline", "online"]),
            actor=asker,
            occurred_at=self.now,
        )
        self.touch(p)
        self.asked += 1
        for backer in backers:
            yield self.days(0.1, 2)
            p.back(resident=backer, actor=backer, occurred_at=self.now)
            self.touch(p)

        def discuss() -> tuple[str, ...]:
            # The council as it sits now: all but one member come, and a few residents.
            members = [m for c in self.within(scope) for m in self.members[c]]
            present = tuple(rng.sample(members, len(members) - 1))
            guests = tuple(r for r in rng.sample(pool, 3) if r not in present)
            p.discuss(
                attendees=(*present, *guests),
                summary="The council heard the residents and the property office.",
                opinions=("do it this quarter", "ask for quotes"),
                members_present=present,
                council_size=len(members),
                actor=present[0],
                occurred_at=self.now,
            )
            self.touch(p)
            return present

        yield self.days(3, 10)
        present = discuss()
        vote = {"in_favour": len(present) - 1, "against": 0, "abstain": 1}
        yield self.days(0.5, 3)
        if fate == "deferred":
            p.decide(
                outcome="deferred", vote=vote, policy=POLICY, actor=present[0], occurred_at=self.now
            )
            self.touch(p)
            yield self.days(5, 15)
            present = discuss()
            yield self.days(0.5, 3)
        if fate == "rejected":
            p.decide(
                outcome="rejected",
                vote=vote,
                reasons="Not the community's to fix.",
                policy=POLICY,
                actor=present[0],
                occurred_at=self.now,
            )
            self.touch(p)
            yield self.days(1, 5)
            p.publish(
                channels=("notice_board",),
                summary="Why not.",
                policy=POLICY,
                actor="office",
                occurred_at=self.now,
            )
            self.touch(p)
            return
        p.decide(
            outcome="approved",
            vote=vote,
            plan="Do the work described.",
            budget={"amount": "5000.00", "funding_sources": ["district fund", "residents"]},
            responsible=present[-1],
            deadline=(self.now + timedelta(days=45)).date(),
            policy=POLICY,
            actor=present[0],
            occurred_at=self.now,
        )
        self.touch(p)
        yield self.days(5, 20)
        if fate == "withdrawn":
            p.withdraw(reason="The city did it.", actor="office", occurred_at=self.now)
            self.touch(p)
            return
        p.report_progress(
            percent=50, note="Half done.", spent="2000", actor="office", occurred_at=self.now
        )
        self.touch(p)
        failing = rng.random() < 0.3
        for round_ in (1, 2, 3):
            yield self.days(5, 30)
            p.complete(
                summary="Finished.",
                total_spent=f"{4000 + 300 * round_}",
                evidence=("photo:after.jpg",),
                actor="office",
                occurred_at=self.now,
            )
            self.touch(p)
            yield self.days(0.5, 3)
            p.publish(
                channels=("notice_board", "group_chat"),
                summary="Here is the result.",
                policy=POLICY,
                actor="office",
                occurred_at=self.now,
            )
            self.touch(p)
            published = self.now
            raters: list[str] = []
            for wave, day in enumerate((1, 6, 15)):  # the window is 30 days
                yield published + timedelta(days=day, hours=rng.uniform(0, 8))
                here = {r for c in self.within(scope) for r in self.residents_in[c]}
                if wave == 0:
                    raters = rng.sample(sorted(here), int(len(here) * rng.uniform(0.35, 0.75)))
                third = len(raters) // 3
                who = (raters[:third], raters[third:], raters[: len(raters) // 10])[wave]
                dissatisfied = 0.35 if failing else 0.05
                for n, rid in enumerate(r for r in who if r in here):
                    level = rng.choices(
                        ["satisfied", "basically_satisfied", "dissatisfied"],
                        weights=[0.7 - dissatisfied, 0.3, dissatisfied],
                    )[0]
                    p.rate(
                        resident=rid,
                        level=level,
                        actor=rid,
                        occurred_at=self.now + timedelta(seconds=n),
                    )
                    self.touch(p)
            yield published + POLICY.rating_window + timedelta(hours=1)
            if not p.state.ratings:
                return
            p.close_rating(actor="office", occurred_at=self.now)
            self.touch(p)
            if p.state.stage.value != "doing":
                return
            failing = False


# --- the two workloads -----------------------------------------------------------------------


def read_and_decode(flow: CivicFlow) -> int:
    """(a) Every notification, page by page, decoded to its domain event."""
    return baselines.read_and_decode(flow)


def rebuild(views: Views) -> int:
    """(b) Forget every figure and count the whole log again."""
    return views.rebuild()


def proc_status_mib(field: str) -> float | None:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, from Linux's /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Make the kernel's peak RSS restart from the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def memory_child(url: str, workload: str, traced: bool) -> dict[str, float]:
    """Runs in a fresh process: the peak memory of one workload, and nothing else.

    Peak RSS is the kernel's high-water mark, reset just before the workload where
    Linux allows it (so imports and opening the store do not count); otherwise
    ``getrusage``'s ``ru_maxrss``, which includes them.
    """
    with CivicFlow.open(url) as flow:
        views = Views(flow, batch_size=PAGE) if workload == "rebuild" else None
        gc.collect()
        before = proc_status_mib("VmRSS")
        reset = reset_peak_rss()
        if traced:
            tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        count = rebuild(views) if views is not None else read_and_decode(flow)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
        tracemalloc.stop()
        peak = proc_status_mib("VmHWM") if reset else None
        if peak is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        if views is not None:
            views.close()
    return {
        "events": count,
        "seconds": seconds,
        "cpu": cpu,
        "rss_before": before if before is not None else float("nan"),
        "rss_peak": peak,
        "reset": float(reset),
        "traced_peak": traced_peak,
    }


def in_child(url: str, workload: str, *, traced: bool) -> dict[str, float]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(memory_child, url, workload, traced).result()


# --- running it --------------------------------------------------------------------------------


@contextmanager
def store(name: str, postgres_url: str) -> Iterator[str | None]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="civicflow-bench-views-") as folder:
            yield f"sqlite:///{Path(folder) / 'civic.db'}"
        return
    problem = postgres_problem(postgres_url)
    if problem:
        print(f"\n== postgres: skipped ({problem})")
        yield None
        return
    schema = f"bench_views_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{postgres_url}?schema={schema}"
    finally:
        drop_schema(postgres_url, schema)
        drop_schema(postgres_url, f"{schema}_bare")


def bare_url(url: str) -> str:
    """Where eventsourcing's own log of the same size goes: beside civicflow's store."""
    if url.startswith("sqlite:///"):
        return url.replace("civic.db", "bare.db")
    base, schema = url.split("?schema=")
    create_schema(base, f"{schema}_bare")  # eventsourcing leaves that to its user
    return f"{url}_bare"  # the schema of the store's URL, suffixed


def timed(work: Callable[[], int]) -> tuple[int, float, float]:
    """How many events ``work`` counted, in how many seconds of wall clock and of CPU."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    count = work()
    return count, time.perf_counter() - wall, time.process_time() - cpu


def profile(work: Callable[[], object], title: str, lines: int = 22) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(work)
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
        body = out.getvalue()
        print(f"\n-- cProfile of {title}, by {order}\n{body[body.index('   ncalls') :]}")


def bench(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    print(f"\n== {name}: {args.events:,} events wanted")
    with BulkFlow.open(url, env={"AGGREGATE_CACHE_MAXSIZE": ""}) as writer:
        district = District(writer, args.events)
        written, seconds, _ = timed(district.build)
    print(
        f"   built {written:,} events in {seconds:.1f} s ({written / seconds:,.0f} events/s): "
        f"{district.asked:,} proposals asked, {len(district.residents):,} residents, "
        f"{len(district.community_of)} compounds, {START.date()} to {district.now.date()}"
    )
    mix = ", ".join(f"{n / written:.1%} {kind}" for kind, n in district.mix.most_common(6))
    print(f"   mix: {mix}, ...")
    del district  # its aggregates would slow every garbage collection measured below

    bare = bare_url(url)
    built, seconds, _ = timed(lambda: baselines.build_bare(bare, written))
    print(f"   eventsourcing's own log of {built:,} events built in {seconds:.1f} s")

    # Every workload in this process, alternating: events per second of wall clock and CPU.
    results: dict[str, float] = {}
    samples: dict[str, list[tuple[float, float]]] = {who: [] for who in WORKLOADS}
    measuring = time.perf_counter()
    with (
        CivicFlow.open(url) as flow,
        Views(flow, batch_size=PAGE) as views,
        closing(baselines.open_bare(bare)) as bare_app,
    ):
        last = flow.recorder.max_notification_id()
        work = {
            "raw": lambda: baselines.raw_read(flow),
            "bare": lambda: baselines.read_and_decode(bare_app),
            "read": lambda: read_and_decode(flow),
            "views": lambda: rebuild(views),
            "catchup": lambda: baselines.catch_up_in_steps(flow, views, CATCH_UP_STEP),
        }
        order = list(WORKLOADS)
        for _ in range(args.repeats):
            for who in order:
                count, wall, cpu = timed(work[who])
                expected = built if who == "bare" else last
                if count != expected or (who == "views" and views.position != last):
                    raise RuntimeError(f"{who} counted {count} of {expected} notifications")
                samples[who].append((count / wall, count / cpu))
            order.reverse()
        if args.profile:
            profile(lambda: read_and_decode(flow), "(a) read and decode")
            profile(lambda: rebuild(views), "(b) Views.rebuild()")
        if args.repeats or args.profile:
            rows = {
                table: views.tables.query(f"SELECT COUNT(*) FROM {table}")[0][0]  # noqa: S608
                for table in ("cf_view_proposals", "cf_view_ratings", "cf_view_participation")
            }
            print(f"   views hold {', '.join(f'{n:,} {t}' for t, n in rows.items())}")
    if args.repeats:
        print(
            f"   in this process, {args.repeats} repeats ({time.perf_counter() - measuring:.0f} s):"
        )
        results = report(samples)

    # Peak memory: each workload once more, alone in a fresh process.
    if not args.no_memory:
        children: dict[str, list[tuple[float, float]]] = {"read": [], "views": []}
        for who, workload in (("read", "read"), ("views", "rebuild")):
            found = in_child(url, workload, traced=False)
            if found["events"] != last:
                raise RuntimeError(f"{who} counted {found['events']} of {last} notifications")
            children[who].append(
                (found["events"] / found["seconds"], found["events"] / found["cpu"])
            )
            how = "high-water mark reset before it" if found["reset"] else "ru_maxrss"
            line = (
                f"   {'(a)' if who == 'read' else '(b)'} in a fresh child process: peak RSS "
                f"{found['rss_peak']:,.1f} MiB during the workload ({how}); "
                f"{found['rss_before']:,.1f} MiB before it, so "
                f"+{found['rss_peak'] - found['rss_before']:,.1f} MiB"
            )
            if args.tracemalloc:
                traced = in_child(url, workload, traced=True)
                line += f"; tracemalloc peak {traced['traced_peak']:,.1f} MiB"
            print(line)
        print("   in the child processes, one run each:")
        report(children)
    return results


LABELS = {
    "raw": "(r) raw rows + orjson.loads",
    "bare": "(e) eventsourcing's own read",
    "read": "(a) read + decode the log",
    "views": "(b) Views.rebuild()",
    "catchup": f"(c) catch-up, {CATCH_UP_STEP:,} a step",
}
# (name, numerator, denominator, target, whether higher is better)
RATIOS = (
    ("(b)/(r) rebuild / raw floor", "views", "raw", 0.25, True),
    ("(b)/(e) rebuild / eventsourcing", "views", "bare", 1.0, True),
    ("(b)/(a) rebuild / civicflow read", "views", "read", 0.5, True),
    ("(b)/(c) catch-up cost per event", "views", "catchup", 1.5, False),
)


def report(samples: dict[str, list[tuple[float, float]]]) -> dict[str, float]:
    """Print medians of events/s (wall clock and CPU) of each workload, and the ratios
    between the ones measured (each against its target).
    """
    wall = {who: [w for w, _ in runs] for who, runs in samples.items()}
    cpu = {who: [c for _, c in runs] for who, runs in samples.items()}
    results: dict[str, float] = {}
    for who, label in LABELS.items():
        if who not in samples:
            continue
        results[who], results[f"{who}_cpu"] = (
            statistics.median(wall[who]),
            statistics.median(cpu[who]),
        )
        print(
            f"   {label:32} {results[who]:9,.0f} events/s ({fmt(wall[who])}); "
            f"{results[who + '_cpu']:,.0f} per CPU-second ({fmt(cpu[who])})"
        )
    for label, top, bottom, target, higher in RATIOS:
        if top not in samples or bottom not in samples:
            continue
        by_wall = [t / b for b, t in zip(wall[bottom], wall[top], strict=True)]
        by_cpu = [t / b for b, t in zip(cpu[bottom], cpu[top], strict=True)]
        median = statistics.median(by_wall)
        met = median >= target if higher else median <= target
        results[f"{top}/{bottom}"] = median
        print(
            f"   {label:32} {median:9.2f} wall clock ({fmt(by_wall, '.2f')}); "
            f"{statistics.median(by_cpu):.2f} CPU ({fmt(by_cpu, '.2f')}); "
            f"target {'>=' if higher else '<='} {target} ({'met' if met else 'NOT met'})"
        )
    return results


def fmt(values: list[float], spec: str = ",.0f") -> str:
    return ", ".join(format(v, spec) for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--events", type=int, default=100_000, help="events in the history")
    size.add_argument("--million", action="store_true", help="1,000,000 events")
    size.add_argument("--quick", action="store_true", help="20,000 events, 2 repeats")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs of (a) and (b) in this process; default 3 (quick: 2); with 0, the rates "
        "come from the child processes only",
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CIVICFLOW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the child processes")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations")
    parser.add_argument("--profile", action="store_true", help="cProfile one (a) and one (b)")
    parser.add_argument("--cipher", action="store_true", help="encrypt the store at rest")
    args = parser.parse_args(argv)
    if args.repeats == 0 and args.no_memory:
        parser.error("--repeats 0 measures in the child processes: drop --no-memory")
    if args.million:
        args.events = 1_000_000
    if args.quick:
        args.events = 20_000
    if args.repeats is None:
        args.repeats = 2 if args.quick else 3
    names = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
    if args.cipher:
        from eventsourcing.cipher import AESCipher

        os.environ["CIPHER_KEY"] = AESCipher.create_key(num_bytes=32)
    print(
        f"civicflow views benchmark: Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {date.today()}; {args.events:,} events, "
        f"{args.repeats} repeats, medians; pages of {PAGE}"
        f"{'; encrypted at rest (CIPHER_KEY)' if args.cipher else ''}"
    )
    started = time.perf_counter()
    for name in names:
        with store(name, args.postgres_url) as url:
            if url is not None:
                began = time.perf_counter()
                bench(name, url, args)
                print(f"   ({name}: {time.perf_counter() - began:.0f} s in all)")
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
