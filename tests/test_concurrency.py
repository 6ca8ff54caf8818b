"""Racing writers: threads and processes rating one proposal at the same time.

Every command that loses an optimistic-concurrency race is re-run on fresh state
(``CivicFlow.max_attempts``), so callers see either success or a typed refusal,
never a lost race. A fresh application then reads the proposal back and the
history must hold exactly the events of the successful commands, once each.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import cast
from uuid import UUID

import pytest

from civicflow import (
    CivicFlow,
    ConcurrencyError,
    Level,
    Proposal,
    ProposalState,
    Stage,
    StepNotAllowedError,
)

# where the back-off between attempts lives:
from civicflow.application import commands as application
from civicflow.domain.community.policy import Policy
from tests.conftest import POSTGRES_URL

LEVELS = [Level.SATISFIED, Level.BASICALLY_SATISFIED, Level.DISSATISFIED]
JOIN_TIMEOUT = 60.0

# One successful rate call: (resident, level, version of the event it recorded).
Success = tuple[str, str, int]
Report = tuple[list[Success], list[str], int]  # from one process: successes, failures, lost races
# Every application here runs on this fixed "now", with a 10-day rating window: the round
# opens 10 days before now, so ratings "now" are on time and closing "now" is allowed.
NOW = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)


def fixed_now() -> datetime:
    return NOW


def open_flow(url: str) -> CivicFlow:
    """An application without community structure (the race is the point here)."""
    return CivicFlow.open(
        url, clock=fixed_now, community_rules=False, policy=Policy(rating_window_days=10)
    )


# --- helpers ---------------------------------------------------------------------


def bring_to_rating(flow: CivicFlow) -> tuple[UUID, int]:
    """A proposal published and open for rating; returns its id and event count."""
    p = flow.ask(
        title="Repair the stairwell lights",
        details="Three floors are dark at night.",
        category="lighting",
        area_id="compound-3",
        resident="asker",
        channel="visit",
        occurred_at=NOW - timedelta(days=20),
    )
    early = NOW - timedelta(days=15)
    for backer in ("backer-1", "backer-2", "backer-3"):
        flow.back(p.id, resident=backer, occurred_at=early)
    flow.discuss(
        p.id, attendees=["m-1", "m-2", "asker"], summary="LEDs", actor="m-1", occurred_at=early
    )
    flow.decide(
        p.id,
        outcome="approved",
        vote={"in_favour": 5, "against": 0},
        plan="12 LED fittings",
        budget={"amount": "3600", "funding_sources": ["district fund"]},
        responsible="m-2",
        deadline=date(2099, 1, 31),
        actor="m-1",
        occurred_at=early,
    )
    flow.report_progress(
        p.id, percent=50, note="Wiring done", spent="1500", actor="m-2", occurred_at=early
    )
    flow.complete(
        p.id,
        summary="Installed",
        total_spent="3450",
        evidence=["photo"],
        actor="m-2",
        occurred_at=early,
    )
    state = flow.publish(
        p.id,
        channels=["notice_board"],
        summary="Lights on",
        actor="m-1",
        occurred_at=NOW - timedelta(days=10),
    )
    assert state.stage is Stage.RATING
    return p.id, state.version


def rating_plan(
    residents: int, workers: int, every_nth_rerates: int = 5
) -> list[list[tuple[str, str]]]:
    """Per worker, the (resident, level) calls it makes, in order.

    Each resident belongs to one worker; every ``every_nth_rerates``-th resident
    rates a second time with a different level, after the worker's first pass, so
    the level expected to stand is known.
    """
    plans: list[list[tuple[str, str]]] = [[] for _ in range(workers)]
    again: list[list[tuple[str, str]]] = [[] for _ in range(workers)]
    for n in range(residents):
        resident = f"resident-{n:03d}"
        plans[n % workers].append((resident, LEVELS[n % 3].value))
        if n % every_nth_rerates == 0:
            again[n % workers].append((resident, LEVELS[(n + 1) % 3].value))
    return [first + second for first, second in zip(plans, again, strict=True)]


def expected_levels(plans: Iterable[list[tuple[str, str]]]) -> dict[str, str]:
    """The level each resident should end with: their last call in plan order."""
    return {resident: level for plan in plans for resident, level in plan}


def replay(events: Iterable[Proposal.Event]) -> Proposal:
    """Fold the history by hand, without snapshots or cache."""
    aggregate: Proposal | None = None
    for event in events:
        aggregate = event.mutate(aggregate)
    assert isinstance(aggregate, Proposal)
    return aggregate


def assert_consistent_after_race(
    url: str,
    proposal_id: UUID,
    prior: int,
    successes: list[Success],
    expected: dict[str, str],
) -> ProposalState:
    """The store holds the prior events plus exactly one event per successful call."""
    with open_flow(url) as reader:
        state = reader.proposal(proposal_id)
        history = reader.history(proposal_id)
        snapshots = list(reader.snapshots.get(proposal_id)) if reader.snapshots else []

    # Version: prior events plus one per successful command, with no gap or repeat.
    assert state.version == prior + len(successes)
    assert [e.originator_version for e in history] == list(range(1, state.version + 1))
    assert sorted(version for _, _, version in successes) == list(
        range(prior + 1, state.version + 1)
    )

    # Each successful call is in the history exactly once, at the version it reported.
    rated = {e.originator_version: e for e in history if isinstance(e, Proposal.Rated)}
    assert len(rated) == len(successes)
    for resident, level, version in successes:
        assert (rated[version].resident, rated[version].level.value) == (resident, level)

    # Exactly one latest rating per resident, the one each resident gave last.
    by_resident = Counter(r.resident for r in state.ratings)
    assert set(by_resident.values()) == {1}
    assert {r.resident: r.level.value for r in state.ratings} == expected
    last_in_history = {e.resident: e.level.value for e in rated.values()}
    assert last_in_history == expected

    # Snapshots and the aggregate cache agree with a plain replay of the history.
    assert replay(history).state == state
    assert [s.originator_version for s in snapshots] == list(range(100, state.version + 1, 100))
    for snapshot in snapshots:
        from_snapshot: Proposal = cast(Proposal.Snapshot, snapshot).mutate(None)
        assert from_snapshot.state == replay(history[: snapshot.originator_version]).state
    return state


def count_lost_races(setattr_: Callable[[object, str, object], None]) -> list[int]:
    """Count the commands re-run after a lost race (each one backs off first)."""
    lost: list[int] = []
    back_off = application._back_off

    def counting_back_off(attempt: int) -> None:
        lost.append(attempt)
        back_off(attempt)

    setattr_(application, "_back_off", counting_back_off)
    return lost


def run_threads(targets: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=target, daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"


# --- (a) threads on SQLite ---------------------------------------------------------


def test_threads_with_their_own_and_a_shared_application_lose_no_rating(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost_races = count_lost_races(monkeypatch.setattr)
    own_apps, shared_threads = 8, 4
    workers = own_apps + shared_threads
    with open_flow(sqlite_url) as setup:
        proposal_id, prior = bring_to_rating(setup)
    plans = rating_plan(residents=200, workers=workers)
    calls = sum(len(plan) for plan in plans)
    assert calls == 240

    successes: list[Success] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(workers)
    shared = open_flow(sqlite_url)

    def worker(number: int) -> None:
        own = number < own_apps
        flow = open_flow(sqlite_url) if own else shared
        try:
            start.wait(JOIN_TIMEOUT)
            for resident, level in plans[number]:
                try:
                    state = flow.rate(proposal_id, resident=resident, level=level)
                except BaseException as error:
                    with lock:
                        failures.append(error)
                    continue
                mine = [r.level.value for r in state.ratings if r.resident == resident]
                with lock:
                    successes.append((resident, level, state.version))
                    if mine != [level]:
                        failures.append(AssertionError(f"{resident}: returned {mine}"))
        finally:
            if own:
                flow.close()

    try:
        run_threads([partial(worker, n) for n in range(workers)])
    finally:
        shared.close()

    assert not [f for f in failures if isinstance(f, ConcurrencyError)]
    assert failures == []
    assert len(successes) == calls
    assert lost_races, "the writers never raced; the test proves nothing"
    assert_consistent_after_race(sqlite_url, proposal_id, prior, successes, expected_levels(plans))


# --- (b) a real conflict surfaces as a typed error -----------------------------------


def test_closing_the_round_while_residents_rate_refuses_late_ratings(sqlite_url: str) -> None:
    raters = 6
    with open_flow(sqlite_url) as setup:
        proposal_id, prior = bring_to_rating(setup)
    # Mostly satisfied, so the round passes and closes (either branch ends rating).
    plans = [
        [
            (f"resident-{w}-{n:02d}", "dissatisfied" if n % 10 == 0 else "satisfied")
            for n in range(30)
        ]
        for w in range(raters)
    ]

    successes: list[Success] = []
    refused: list[tuple[str, StepNotAllowedError]] = []
    failures: list[BaseException] = []
    closed: list[ProposalState] = []
    lock = threading.Lock()
    start = threading.Barrier(raters + 1)
    enough_ratings = threading.Event()
    round_closed = threading.Event()

    def attempt(flow: CivicFlow, resident: str, level: str) -> None:
        try:
            state = flow.rate(proposal_id, resident=resident, level=level)
        except StepNotAllowedError as error:
            with lock:
                refused.append((resident, error))
        except BaseException as error:
            with lock:
                failures.append(error)
        else:
            with lock:
                successes.append((resident, level, state.version))
                if len(successes) >= 40:
                    enough_ratings.set()

    def rater(number: int) -> None:
        with open_flow(sqlite_url) as flow:
            start.wait(JOIN_TIMEOUT)
            for resident, level in plans[number]:
                attempt(flow, resident, level)
            # One more after the close is certain to meet the closed round.
            round_closed.wait(JOIN_TIMEOUT)
            attempt(flow, f"late-{number}", "satisfied")

    def closer() -> None:
        with open_flow(sqlite_url) as flow:
            start.wait(JOIN_TIMEOUT)
            try:
                enough_ratings.wait(JOIN_TIMEOUT)
                closed.append(flow.close_rating(proposal_id, actor="m-1"))
            except BaseException as error:
                failures.append(error)
            finally:
                round_closed.set()

    run_threads([closer, *(partial(rater, n) for n in range(raters))])

    assert failures == []
    assert len(closed) == 1
    assert len(refused) >= raters
    assert all(error.step == "rate" for _, error in refused)
    assert all(error.stage in (Stage.CLOSED, Stage.DOING) for _, error in refused)
    assert len(successes) + len(refused) == raters * 31

    with open_flow(sqlite_url) as reader:
        history = reader.history(proposal_id)
        state = reader.proposal(proposal_id)
    [close] = [e for e in history if isinstance(e, Proposal.RatingClosed)]
    before = history[: close.originator_version - 1]
    assert [e.originator_version for e in history] == list(range(1, len(history) + 1))
    assert len(history) == prior + len(successes) + 1
    # Every successful rating landed before the close; no refused one is stored.
    assert all(version < close.originator_version for _, _, version in successes)
    stored = Counter((e.resident, e.level.value) for e in before if isinstance(e, Proposal.Rated))
    assert stored == Counter((resident, level) for resident, level, _ in successes)
    assert not {resident for resident, _ in refused} & {r for r, _ in stored}
    # The closed round counted exactly the ratings recorded before it, latest per resident.
    latest = {e.resident: e.level for e in before if isinstance(e, Proposal.Rated)}
    counts = Counter(latest.values())
    assert (close.satisfied, close.basically_satisfied, close.dissatisfied) == (
        counts[Level.SATISFIED],
        counts[Level.BASICALLY_SATISFIED],
        counts[Level.DISSATISFIED],
    )
    assert state.rounds == (close,)
    assert closed[0] == replay(history[: close.originator_version]).state
    assert state.stage is (Stage.CLOSED if close.passed else Stage.DOING)


# --- (c) processes on PostgreSQL -----------------------------------------------------


def rate_in_a_process(
    url: str,
    proposal_id: str,
    plan: list[tuple[str, str]],
    *,
    opening: multiprocessing.synchronize.Lock,
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue[Report],
) -> None:
    """Runs in a spawned process: its own application, its own connections."""
    successes: list[Success] = []
    failures: list[str] = []
    lost_races = count_lost_races(setattr)
    try:
        # Opened one process at a time, so that the race measured is the rating race.
        with opening:
            flow = open_flow(url)
        with flow:
            flow.proposal(proposal_id)  # connect and warm the cache before the race
            start.wait(JOIN_TIMEOUT)
            for resident, level in plan:
                try:
                    state = flow.rate(proposal_id, resident=resident, level=level)
                except Exception as error:
                    failures.append(f"{type(error).__name__}: {error}")
                else:
                    successes.append((resident, level, state.version))
    except Exception as error:
        failures.append(f"{type(error).__name__}: {error}")
    results.put((successes, failures, len(lost_races)))


def test_processes_on_postgres_lose_no_rating(postgres_url: str) -> None:
    processes = 4
    with open_flow(postgres_url) as setup:
        proposal_id, prior = bring_to_rating(setup)
    plans = rating_plan(residents=160, workers=processes)
    context = multiprocessing.get_context("spawn")
    opening = context.Lock()
    start = context.Barrier(processes)
    results = context.Queue()
    children = [
        context.Process(
            target=rate_in_a_process,
            args=(postgres_url, str(proposal_id), plans[n]),
            kwargs={"opening": opening, "start": start, "results": results},
        )
        for n in range(processes)
    ]
    for child in children:
        child.start()
    successes: list[Success] = []
    failures: list[str] = []
    lost_races = 0
    try:
        for _ in children:
            got_successes, got_failures, lost = results.get(timeout=JOIN_TIMEOUT)
            successes.extend(got_successes)
            failures.extend(got_failures)
            lost_races += lost
    except queue.Empty:
        failures.append("a rating process reported nothing in time")
    finally:
        for child in children:
            child.join(10)
            if child.is_alive():
                child.terminate()
    assert not [f for f in failures if f.startswith(ConcurrencyError.__name__)]
    assert failures == []
    assert [child.exitcode for child in children] == [0] * processes
    assert lost_races, "the processes never raced; the test proves nothing"
    assert len(successes) == sum(len(plan) for plan in plans)
    assert_consistent_after_race(
        postgres_url, proposal_id, prior, successes, expected_levels(plans)
    )


def test_a_process_can_open_a_store_while_another_opens_it(postgres_url: str) -> None:
    import psycopg
    from eventsourcing.postgres import PostgresApplicationRecorder

    with open_flow(postgres_url) as first:
        # What every open runs; an open transaction holding it stands for a slower process.
        recorder = cast(PostgresApplicationRecorder, first.recorder)  # a PostgreSQL store
        statement = recorder.sql_create_pg_function_insert_events
    outcome: list[BaseException | CivicFlow] = []

    def second_process_opens() -> None:
        try:
            outcome.append(open_flow(postgres_url))
        except BaseException as error:
            outcome.append(error)

    with psycopg.connect(POSTGRES_URL) as other:
        other.execute(statement)
        opener = threading.Thread(target=second_process_opens)
        opener.start()
        opener.join(1.0)  # the opener now waits for the other transaction
        other.commit()
    opener.join(JOIN_TIMEOUT)
    [result] = outcome
    if isinstance(result, BaseException):
        raise result
    result.close()
