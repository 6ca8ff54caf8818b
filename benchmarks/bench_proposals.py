"""Throughput and load-time benchmarks for civicflow, per backend.

    python benchmarks/bench_proposals.py [--quick] [--backend memory|sqlite|postgres|all]

For each backend it prints medians over several repeats, and ratios measured in
the same process (machines here are noisy: read the ratios and medians):

(i)   commands per second for the full six-step flow through ``CivicFlow``
      (ask, back x3, discuss, decide, progress, complete, publish, rate x10, close);
(ii)  the same events, with the same payloads, written by a bare eventsourcing
      ``Aggregate`` (dataclass events from @event methods, default mapper and JSON
      transcoder, same cache and snapshot settings), and the ratio civicflow/bare;
(iii) one rate command on a proposal with 1,000 ratings, with snapshots and cache
      (the default application) against snapshots and cache both disabled;
(iv)  ``flow.proposal(id)`` for a 1,000-rating proposal from a fresh application,
      with and without snapshots.

SQLite runs in a temporary folder; PostgreSQL in a fresh schema
``bench_<random>`` of ``--postgres-url`` (default: the local ``test`` database),
dropped at the end. PostgreSQL is skipped, with a message, when unreachable.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from pgschema import drop_schema, postgres_problem  # beside this script

from civicflow import CivicFlow
from civicflow.application.store import Store
from civicflow.storage.settings import env_from_url

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
COMMANDS_PER_FLOW = (
    20  # ask, back x3, discuss, decide, progress, complete, publish, rate x10, close
)
RATINGS = 1_000


# --- the applications compared -------------------------------------------------------


class UncachedStore(Store):
    """civicflow's store with snapshots and the aggregate cache both disabled.

    eventsourcing reads AGGREGATE_CACHE_MAXSIZE as: missing or empty -> no cache,
    "0" or less -> an *unbounded* cache, N -> an LRU cache of N. So the key is
    removed here and overridden with "" (environment variables would win otherwise).
    """

    snapshotting_intervals: ClassVar[dict[Any, int]] = {}
    env: ClassVar[dict[str, str]] = {
        key: value for key, value in Store.env.items() if key != "AGGREGATE_CACHE_MAXSIZE"
    }


class UncachedCivicFlow(CivicFlow):
    """CivicFlow on the uncached store (the same tables: the store keeps its name)."""

    store_class = UncachedStore


NO_CACHE = {"AGGREGATE_CACHE_MAXSIZE": ""}


class BareProposal(Aggregate):
    """The library's own dataclass aggregate, one @event method per step.

    It keeps only the latest payload, so the library's deep copy out of the
    aggregate cache stays small: the leanest fair baseline.
    """

    @event("Asked")
    def __init__(self, data: dict[str, Any]) -> None:
        self.remember(data)

    @event("Backed")
    def back(self, data: dict[str, Any]) -> None:
        self.remember(data)

    @event("Discussed")
    def discuss(self, data: dict[str, Any]) -> None:
        self.remember(data)

    @event("Decided")
    def decide(self, data: dict[str, Any]) -> None:
        self.remember(data)

    @event("ProgressReported")
    def report_progress(self, data: dict[str, Any]) -> None:
        self.remember(data)

    @event("Done")
    def complete(self, data: dict[str, Any]) -> None:
        self.remember(data)

    @event("Published")
    def publish(self, data: dict[str, Any]) -> None:
        self.remember(data)

    @event("Rated")
    def rate(self, data: dict[str, Any]) -> None:
        self.remember(data)

    @event("RatingClosed")
    def close_rating(self, data: dict[str, Any]) -> None:
        self.remember(data)

    def remember(self, data: dict[str, Any]) -> None:
        self.latest = data


class HoardingBareProposal(BareProposal):
    """The same events, but the aggregate keeps every payload, as a Proposal keeps its facts.

    eventsourcing deep-copies a cached aggregate for every command, so this one pays
    for copying its growing history; civicflow's immutable state is shared instead.
    """

    def remember(self, data: dict[str, Any]) -> None:
        self.__dict__.setdefault("steps", []).append(data)


class BareApplication(Application[UUID]):
    """Default mapper and JSON transcoder; the same cache and snapshot settings as CivicFlow."""

    name = "BareBench"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "1000", "SQLITE_LOCK_TIMEOUT": "30"}
    snapshotting_intervals: ClassVar[dict[Any, int]] = {
        BareProposal: 100,
        HoardingBareProposal: 100,
    }


BARE_METHOD = {
    "Asked": "ask",
    "Backed": "back",
    "Discussed": "discuss",
    "Decided": "decide",
    "ProgressReported": "report_progress",
    "Done": "complete",
    "Published": "publish",
    "Rated": "rate",
    "RatingClosed": "close_rating",
}


# --- backends -------------------------------------------------------------------------


class MovingClock:
    """The benchmark's clock: now, plus however far rating windows made it jump."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


CLOCK = MovingClock()
# Community rules (eligibility, quorum) are measured by the demo; this benchmark measures
# the cost of civicflow's layer over eventsourcing, so structure checks are left out.
OPTIONS: dict[str, Any] = {"clock": CLOCK, "community_rules": False}


@dataclass
class Backend:
    """Where one backend's stores live, and how to open applications on them."""

    name: str
    url: str
    bare_url: str
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    memory_source: CivicFlow | None = None

    def open(self, cls: type[CivicFlow] = CivicFlow, **env: str) -> CivicFlow:
        return cls.open(self.url, env=env, **OPTIONS)

    def fresh(self, source: CivicFlow, cls: type[CivicFlow] = CivicFlow, **env: str) -> CivicFlow:
        """A new application reading ``source``'s store, its cache empty.

        Durable stores are simply opened again. A new in-memory application has a
        store of its own, so for ``memory://`` the new one is built on ``source``'s
        recorder and snapshot store (eventsourcing's construct_* hooks).
        """
        if self.name != "memory":
            return self.open(cls, **env)

        class OnSourceStore(cls.store_class):  # type: ignore[name-defined,misc]
            def construct_recorder(self) -> Any:
                return source.recorder

            def construct_snapshot_store(self) -> Any:
                return source.snapshots or super().construct_snapshot_store()

        class OnSourceFlow(cls):  # type: ignore[valid-type,misc]
            store_class = OnSourceStore

        reader: CivicFlow = OnSourceFlow.open(self.url, env=env, **OPTIONS)
        return reader


@contextlib.contextmanager
def backend(name: str, postgres_url: str) -> Iterator[Backend | None]:
    if name == "memory":
        yield Backend(name, "memory://", "memory://")
        return
    if name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="civicflow-bench-") as folder:
            yield Backend(
                name,
                f"sqlite:///{Path(folder) / 'civic.db'}",
                f"sqlite:///{Path(folder) / 'bare.db'}",
            )
        return
    problem = postgres_problem(postgres_url)
    if problem:
        print(f"\n== postgres: skipped ({problem})")
        yield None
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    url = f"{postgres_url}?schema={schema}"
    try:
        yield Backend(name, url, url)
    finally:
        drop_schema(postgres_url, schema)


def open_bare(url: str) -> BareApplication:
    return BareApplication(env=env_from_url(url))


# --- the workloads ----------------------------------------------------------------------


def civic_flow(flow: CivicFlow, area_id: str = "compound-hongqi-3") -> UUID:
    """The full six-step flow: 20 commands, 20 events."""
    p = flow.ask(
        title="Repair the stairwell lights in building 3",
        details="Three floors are dark at night; older residents fall.",
        category="lighting",
        area_id=area_id,
        resident="resident-017",
        channel="visit",
    )
    for neighbour in ("resident-021", "resident-044", "resident-102"):
        flow.back(p.id, resident=neighbour)
    flow.discuss(
        p.id,
        attendees=["member-1", "member-2", "member-3", "resident-017"],
        summary="Residents prefer motion-sensor LEDs.",
        opinions=["LED", "solar"],
        actor="member-1",
    )
    flow.decide(
        p.id,
        outcome="approved",
        vote={"in_favour": 5, "against": 0, "abstain": 1},
        plan="Install 12 motion-sensor LED fittings.",
        budget={"amount": "3600.00", "funding_sources": ["district fund", "residents"]},
        responsible="member-2",
        deadline=date(2099, 1, 31),
        actor="member-1",
    )
    flow.report_progress(p.id, percent=60, note="Wiring done.", spent="2000", actor="member-2")
    flow.complete(
        p.id,
        summary="All fittings installed.",
        total_spent="3450.00",
        evidence=["photo:stairs-after.jpg"],
        actor="member-2",
    )
    flow.publish(
        p.id, channels=["notice_board", "group_chat"], summary="Lights are on.", actor="member-1"
    )
    for n in range(10):
        level = "satisfied" if n < 9 else "dissatisfied"
        flow.rate(p.id, resident=f"resident-{n:03d}", level=level)
    CLOCK.advance(days=31)  # past the rating window, so that the round may close
    flow.close_rating(p.id, actor="member-1")
    return p.id


def bare_payloads() -> list[tuple[str, dict[str, Any]]]:
    """The civicflow flow's events as (step, JSON payload): what the bare aggregate records."""
    with CivicFlow(clock=CLOCK, community_rules=False) as flow:
        history = flow.history(civic_flow(flow))
    check(len(history) == COMMANDS_PER_FLOW, "the flow records one event per command")
    envelope = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    return [
        (BARE_METHOD[type(e).__name__], e.model_dump(mode="json", exclude=envelope))
        for e in history
    ]


def bare_flow(
    app: BareApplication,
    payloads: list[tuple[str, dict[str, Any]]],
    cls: type[BareProposal] = BareProposal,
) -> UUID:
    """The same 20 events, one load-command-save per event, as CivicFlow does."""
    (_, asked), *rest = payloads
    proposal = cls(asked)
    app.save(proposal)
    for method, data in rest:
        loaded: BareProposal = app.repository.get(proposal.id)
        getattr(loaded, method)(data)
        app.save(loaded)
    return proposal.id


def mean_stored_bytes(app: Application[UUID], aggregate_id: UUID) -> float:
    stored = app.recorder.select_events(aggregate_id)
    return statistics.fmean(len(s.state) for s in stored)


def rated_proposal(flow: CivicFlow, ratings: int) -> UUID:
    """A published proposal with ``ratings`` distinct residents' ratings (ask..publish: 9)."""
    p = flow.ask(
        title="Repair the lights",
        details="Dark at night.",
        category="lighting",
        area_id="compound-3",
        resident="asker",
        channel="visit",
    )
    for backer in ("backer-1", "backer-2", "backer-3"):
        flow.back(p.id, resident=backer)
    flow.discuss(p.id, attendees=["m-1", "m-2"], summary="LEDs", actor="m-1")
    flow.decide(
        p.id,
        outcome="approved",
        vote={"in_favour": 5, "against": 0},
        plan="12 LED fittings",
        budget={"amount": "3600", "funding_sources": ["district fund"]},
        responsible="m-2",
        deadline=date(2099, 1, 31),
        actor="m-1",
    )
    flow.report_progress(p.id, percent=50, note="Wiring done", spent="1500", actor="m-2")
    flow.complete(p.id, summary="Installed", total_spent="3450", evidence=["photo"], actor="m-2")
    flow.publish(p.id, channels=["notice_board"], summary="Lights on", actor="m-1")
    for n in range(ratings):
        flow.rate(
            p.id, resident=f"resident-{n:04d}", level="satisfied" if n % 7 else "dissatisfied"
        )
    return p.id


# --- timing ------------------------------------------------------------------------------


def repeatedly(work: Callable[[], object], times: int) -> None:
    for _ in range(times):
        work()


def rerate(app: CivicFlow, proposal_id: UUID, n: int, repeat: int) -> None:
    """Resident ``n`` rates again, so the proposal keeps 1,000 ratings."""
    level = ("satisfied", "basically_satisfied")[(n + repeat) % 2]
    app.rate(proposal_id, resident=f"resident-{n:04d}", level=level)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(f"benchmark set-up is wrong: expected {what}")


def timed(work: Callable[[], object]) -> float:
    """Wall-clock seconds of ``work()``, the collector paused as ``timeit`` does.

    Not a ``gc.collect()`` before each call: walking every object evicts the CPU caches,
    and a server's commands follow each other warm (it added about 0.3 ms to every
    single-command figure here, civicflow's and the bare baselines' alike).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started
    finally:
        if enabled:
            gc.enable()


@dataclass
class Settings:
    repeats: int
    flows: int  # full flows per repeat, for (i) and (ii)
    rate_commands: int  # rate commands per repeat, for (iii)
    loads: int  # fresh-application loads, for (iv)


QUICK = Settings(repeats=3, flows=10, rate_commands=30, loads=5)
FULL = Settings(repeats=7, flows=40, rate_commands=60, loads=15)


def bench_backend(
    b: Backend, settings: Settings, payloads: list[tuple[str, dict[str, Any]]]
) -> dict[str, float]:
    results: dict[str, float] = {}
    print(f"\n== {b.name}")

    # (i) and (ii): civicflow and the bare aggregates, in a rotating order per repeat.
    with b.open() as flow, contextlib.closing(open_bare(b.bare_url)) as bare:
        contenders: dict[str, Callable[[], object]] = {
            "civicflow": lambda: civic_flow(flow),
            "bare": lambda: bare_flow(bare, payloads),
            "bare_hoarding": lambda: bare_flow(bare, payloads, HoardingBareProposal),
        }
        rates: dict[str, list[float]] = {who: [] for who in contenders}
        for one_flow in contenders.values():
            one_flow()  # warm up: tables, prepared statements, caches
        order = list(contenders)
        for _ in range(settings.repeats):
            for who in order:
                one_flow = contenders[who]
                seconds = timed(partial(repeatedly, one_flow, settings.flows))
                rates[who].append(settings.flows * COMMANDS_PER_FLOW / seconds)
            order = order[1:] + order[:1]
        civic_bytes = mean_stored_bytes(flow, civic_flow(flow))
        bare_bytes = mean_stored_bytes(bare, bare_flow(bare, payloads))
    for who, values in rates.items():
        results[f"{who}_cmd_per_s"] = statistics.median(values)
    ratios = {
        other: [c / r for c, r in zip(rates["civicflow"], rates[other], strict=True)]
        for other in ("bare", "bare_hoarding")
    }
    results["civic_over_bare"] = statistics.median(ratios["bare"])
    results["civic_over_bare_hoarding"] = statistics.median(ratios["bare_hoarding"])
    print(
        f"(i)   civicflow, full flow            {results['civicflow_cmd_per_s']:7.0f} commands/s"
        f"  (repeats: {fmt(rates['civicflow'], '.0f')})"
    )
    print(
        f"(ii)  bare Aggregate, same events     {results['bare_cmd_per_s']:7.0f} commands/s"
        f"  (repeats: {fmt(rates['bare'], '.0f')})"
    )
    print(
        f"      ratio civicflow/bare            {results['civic_over_bare']:7.2f}"
        f"             (repeats: {fmt(ratios['bare'], '.2f')}; target >= 0.8)"
    )
    print(
        f"      bare keeping every payload      {results['bare_hoarding_cmd_per_s']:7.0f}"
        f" commands/s  ratio civicflow/it {results['civic_over_bare_hoarding']:.2f}"
    )
    print(f"      mean stored event: civicflow {civic_bytes:.0f} B, bare {bare_bytes:.0f} B")

    bench_long_proposal(b, settings, results)
    return results


def bench_long_proposal(b: Backend, settings: Settings, results: dict[str, float]) -> None:
    """(iii) and (iv): a proposal with 1,000 ratings."""
    with b.open() as flow:
        started = time.perf_counter()
        pid = rated_proposal(flow, RATINGS)
        built = time.perf_counter() - started
        version = flow.proposal(pid).version
        print(f"      (built a {RATINGS}-rating proposal, version {version}, in {built:.1f} s)")

        # (iv) first, while the last snapshot is at 1,000 and 9 events follow it.
        with_snapshots: list[float] = []
        without: list[float] = []
        for _ in range(settings.loads):
            for cls, env, into in (
                (CivicFlow, {}, with_snapshots),
                (UncachedCivicFlow, NO_CACHE, without),
            ):
                with b.fresh(flow, cls, **env) as reader:
                    check(
                        (reader.snapshots is not None) is (cls is CivicFlow),
                        "snapshots exactly in the default application",
                    )
                    into.append(timed(partial(reader.proposal, pid)))
        results["load_snapshot_ms"] = statistics.median(with_snapshots) * 1e3
        results["load_replay_ms"] = statistics.median(without) * 1e3
        results["load_speedup"] = results["load_replay_ms"] / results["load_snapshot_ms"]
        print(
            f"(iv)  load 1,000-rating proposal, fresh app: with snapshots "
            f"{results['load_snapshot_ms']:.2f} ms, without {results['load_replay_ms']:.2f} ms"
            f"  -> {results['load_speedup']:.0f}x; target with snapshots <= 2 ms"
        )

        # (iii) one rate command: default application against no snapshots, no cache.
        with b.fresh(flow, UncachedCivicFlow, **NO_CACHE) as uncached:
            check(uncached.repository.cache is None, "the cache is disabled")
            check(uncached.snapshots is None, "snapshots are disabled")
            check(flow.repository.cache is not None, "the default application caches")
            cached_times: list[float] = []
            uncached_times: list[float] = []
            for repeat in range(settings.repeats):
                for app, into in ((flow, cached_times), (uncached, uncached_times)):
                    into.extend(
                        timed(partial(rerate, app, pid, n, repeat))
                        for n in range(settings.rate_commands)
                    )
        results["rate_bare_ms"] = statistics.median(bare_rates(b.bare_url, settings)) * 1e3
        results["command_bare_ms"] = statistics.median(bare_commands(b.bare_url, settings)) * 1e3
        results["rate_cached_ms"] = statistics.median(cached_times) * 1e3
        results["rate_uncached_ms"] = statistics.median(uncached_times) * 1e3
        results["rate_speedup"] = results["rate_uncached_ms"] / results["rate_cached_ms"]
        print(
            f"(iii) rate on 1,000 ratings: snapshots+cache {results['rate_cached_ms']:.2f} ms"
            f" (mean {statistics.fmean(cached_times) * 1e3:.2f},"
            f" max {max(cached_times) * 1e3:.0f}),"
            f" neither {results['rate_uncached_ms']:.2f} ms"
            f" (mean {statistics.fmean(uncached_times) * 1e3:.2f})"
            f"  -> {results['rate_speedup']:.0f}x; target snapshots+cache <= 0.5 ms"
        )
        say_floor(results)


def say_floor(results: dict[str, float]) -> None:
    print(
        f"      the floor: bare eventsourcing, one event on a 1,000-event aggregate "
        f"(cached, snapshots), same backend: {results['rate_bare_ms']:.2f} ms"
        f"  -> civicflow {results['rate_cached_ms'] / results['rate_bare_ms']:.2f}x of it"
    )
    print(
        f"      the library's least command: load, one small event, save, on a new bare "
        f"aggregate: {results['command_bare_ms']:.2f} ms"
        f"  -> the 0.5 ms target is {0.5 / results['command_bare_ms']:.2f}x of it"
    )


def bare_rates(url: str, settings: Settings) -> list[float]:
    """One rating saved on a bare aggregate of 1,000 events: the write path's floor
    (the same backend and durability, none of civicflow's rules, chains or indexes).
    """
    with contextlib.closing(open_bare(url)) as app:
        proposal = BareProposal({"title": "floor"})
        for n in range(1000):
            proposal.rate({"resident": f"resident-{n:04d}", "level": "satisfied"})
        app.save(proposal)

        def one(n: int) -> None:
            loaded: BareProposal = app.repository.get(proposal.id)
            loaded.rate({"resident": f"resident-{n:04d}", "level": "dissatisfied"})
            app.save(loaded)

        return [
            timed(partial(one, n))
            for _ in range(settings.repeats)
            for n in range(settings.rate_commands)
        ]


def bare_commands(url: str, settings: Settings) -> list[float]:
    """The cheapest command eventsourcing runs on this backend: load a cached aggregate of
    two events, trigger one event with a small payload, save it (no snapshot falls due).
    """
    with contextlib.closing(open_bare(url)) as app:
        proposal = BareProposal({"title": "least"})
        app.save(proposal)

        def one(n: int) -> None:
            loaded: BareProposal = app.repository.get(proposal.id)
            loaded.back({"resident": f"resident-{n:04d}"})
            app.save(loaded)

        # Fewer than the snapshot interval (100): no command here pays for a snapshot.
        count = min(90, settings.repeats * settings.rate_commands * 4)
        return [timed(partial(one, n)) for n in range(count)]


def fmt(values: list[float], spec: str) -> str:
    return ", ".join(format(v, spec) for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Throughput and load-time benchmarks for civicflow, per backend."
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats; under a minute")
    parser.add_argument("--backend", choices=["memory", "sqlite", "postgres", "all"], default="all")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CIVICFLOW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    names = ["memory", "sqlite", "postgres"] if args.backend == "all" else [args.backend]

    print(
        f"civicflow benchmarks ({'quick' if args.quick else 'full'}): Python "
        f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{settings.repeats} repeats, {settings.flows} flows x {COMMANDS_PER_FLOW} commands "
        f"per repeat; medians"
    )
    payloads = bare_payloads()
    started = time.perf_counter()
    for name in names:
        with backend(name, args.postgres_url) as b:
            if b is not None:
                bench_backend(b, settings, payloads)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
