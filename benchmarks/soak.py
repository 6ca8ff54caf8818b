"""Soak: four writers, a terminator and a views worker that is killed, against PostgreSQL.

    python benchmarks/soak.py [--minutes 10] [--postgres-url URL] [--writers 4]

For ``--minutes``, ``--writers`` processes send a stream of mixed commands (rate,
back, ask; each with its own command id) to one PostgreSQL store, while:

- a terminator process cuts their connections at random (``pg_terminate_backend``
  of one of them, or of all at once, every 0.3 to 3 seconds);
- a views worker counts the log, and is killed with SIGKILL and started again every
  5 to 20 seconds.

A writer told ``CommandOutcomeUnknownError`` retries the command with its own id until
the store answers (that is the contract); one told ``BackendUnavailableError`` gives it
up (nothing may have been written). Then the store is read back by a fresh application
and the script prints: commands sent, acknowledged, refused and given up; events
written; duplicates (events beyond the commands acknowledged); lost (acknowledged
commands not recorded); commands written although reported failed; and whether the
views, caught up, equal a clean count of the whole log. It exits 1 if any of those is
wrong. The store lives in a fresh schema ``soak_<random>``, dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from civicflow import (
    BackendUnavailableError,
    CivicFlow,
    CommandOutcomeUnknownError,
    RuleViolationError,
    Views,
)

APPLICATION = "civicflow-soak"  # the name every connection to cut carries
ADMIN = "soak-terminator"  # not matched by APPLICATION%
RESIDENTS = [f"resident-{n}" for n in range(1, 201)]
MEMBERS = ("member-1", "member-2", "member-3")
COMPOUND = "compound-1"
RATED_PROPOSALS = 20


# --- the store and its community ------------------------------------------------------------


def set_up(url: str) -> tuple[list[str], list[str]]:
    """A compound, its council and residents; proposals open for rating and others asked."""
    with CivicFlow.open(url) as flow:
        for kind, area, parent in (
            ("district", "district-1", None),
            ("street", "street-1", "district-1"),
            ("community", "community-1", "street-1"),
        ):
            flow.add_area(area, kind=kind, name=area, parent_id=parent, actor="office")
        flow.add_area(
            COMPOUND,
            kind="compound",
            name="Hongqi",
            parent_id="community-1",
            is_old=True,
            has_property_management=False,
            households=400,
            actor="office",
        )
        flow.form_council(COMPOUND, actor="office")
        for member in MEMBERS:
            flow.join_council(COMPOUND, member=member, via="election", actor="office")
        flow.register_residents(RESIDENTS, compound_id=COMPOUND, actor="office")
        rating = [str(open_for_rating(flow).id) for _ in range(RATED_PROPOSALS)]
        asked = [str(ask(flow, uuid4(), "resident-1").id) for _ in range(RATED_PROPOSALS)]
    return rating, asked


def ask(flow: CivicFlow, key: UUID, resident: str) -> Any:
    return flow.ask(
        title="Fix the stairwell lights",
        details="Dark at night",
        category="lighting",
        area_id=COMPOUND,
        resident=resident,
        channel="visit",
        command_id=key,
    )


def open_for_rating(flow: CivicFlow) -> Any:
    p = ask(flow, uuid4(), "resident-1")
    flow.discuss(p.id, attendees=[*MEMBERS, "resident-1"], summary="ok", actor="member-1")
    flow.decide(
        p.id,
        outcome="approved",
        vote={"in_favour": 2, "against": 0, "abstain": 1},
        plan="Install LED fittings",
        budget={"amount": "3600.00", "funding_sources": ["district fund"]},
        responsible="member-2",
        deadline=date(2030, 1, 1),
        actor="member-1",
    )
    flow.complete(p.id, summary="Done", total_spent="3450", evidence=["photo:1"], actor="member-2")
    return flow.publish(p.id, channels=["notice_board"], summary="Lights on", actor="member-1")


# --- the processes ----------------------------------------------------------------------------


def writer(url: str, rating: list[str], asked: list[str], until: float, log: str) -> None:
    """Send mixed commands until ``until``; write one JSON line per command to ``log``."""
    os.environ["PGAPPNAME"] = APPLICATION
    with CivicFlow.open(url, create=False) as flow, Path(log).open("w") as out:
        while time.time() < until:
            kind = random.choice(("rate", "rate", "rate", "back", "ask"))
            resident = random.choice(RESIDENTS)
            key = uuid4()
            target = random.choice(rating if kind == "rate" else asked)

            def command(
                kind: str = kind, resident: str = resident, key: UUID = key, target: str = target
            ) -> Any:
                if kind == "rate":
                    return flow.rate(
                        UUID(target), resident=resident, level="satisfied", command_id=key
                    )
                if kind == "back":
                    return flow.back(UUID(target), resident=resident, command_id=key)
                return ask(flow, key, resident)

            outcome, aggregate = send(command)
            out.write(
                json.dumps(
                    {
                        "kind": kind,
                        "key": str(key),
                        "aggregate": aggregate or target,
                        "outcome": outcome,
                    }
                )
                + "\n"
            )


def send(command: Any) -> tuple[str, str | None]:
    """One command, retried with its id while its outcome is unknown."""
    retries = 0
    while True:
        try:
            state = command()
        except CommandOutcomeUnknownError:
            retries += 1
            time.sleep(min(2.0, 0.1 * 2**retries))
            continue
        except RuleViolationError:
            return "refused", None
        except BackendUnavailableError:
            return "failed", None
        return ("settled" if retries else "acknowledged"), str(state.id)


def terminator(dsn: str, terminated: Any) -> None:
    """Cut one or all of the application's connections at random moments, forever."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True, application_name=ADMIN) as admin:
        while True:
            time.sleep(random.uniform(0.3, 3.0))
            pids = [
                row[0]
                for row in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s",
                    (APPLICATION + "%",),
                )
            ]
            if pids and random.random() < 0.5:
                pids = [random.choice(pids)]
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", (pids,))
            with terminated.get_lock():
                terminated.value += len(pids)


def views_worker(url: str) -> None:
    """Count the log as it grows, until killed."""
    os.environ["PGAPPNAME"] = APPLICATION + "-views"
    with CivicFlow.open(url, create=False) as flow, Views(flow) as views:
        while True:
            with contextlib.suppress(BackendUnavailableError):  # left after the views' retries
                views.catch_up()
            time.sleep(0.2)


# --- the check ----------------------------------------------------------------------------------


def check(url: str, logs: list[Path]) -> dict[str, Any]:
    """Read the store back with a fresh application and compare it with what writers were told."""
    lines = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    outcomes = Counter(line["outcome"] for line in lines)
    written = [line for line in lines if line["outcome"] in ("acknowledged", "settled")]
    with CivicFlow.open(url, create=False) as flow:
        recorded = {
            line["key"]
            for line in lines
            if flow.store.recorded_version(UUID(line["key"]), UUID(line["aggregate"])) is not None
        }
        topics = Counter(
            n.topic.rsplit(".", 1)[-1] for n in flow.recorder.select_notifications(0, 10**9)
        )
        expected = Counter({"Rated": 0, "Backed": 0, "Asked": 2 * RATED_PROPOSALS})
        for line in written:
            expected[{"rate": "Rated", "back": "Backed", "ask": "Asked"}[line["kind"]]] += 1
        with Views(flow) as views:
            views.catch_up()
            clean = Views.as_of(flow, flow.clock())
            try:
                same = all(
                    getattr(views, query)(level=level) == getattr(clean, query)(level=level)
                    for query in ("satisfaction", "participation")
                    for level in ("compound", "community", "street", "district")
                )
            finally:
                clean.close()
    return {
        "commands sent": len(lines),
        "acknowledged": outcomes["acknowledged"],
        "acknowledged after retrying an unknown outcome": outcomes["settled"],
        "refused by a rule": outcomes["refused"],
        "given up (BackendUnavailableError)": outcomes["failed"],
        "events written (rate, back, ask)": sum(topics[k] for k in expected),
        "duplicates": sum(max(0, topics[k] - expected[k]) for k in expected),
        "lost": sum(1 for line in written if line["key"] not in recorded),
        "written behind a reported failure": sum(
            1 for line in lines if line["outcome"] == "failed" and line["key"] in recorded
        ),
        "missing events": sum(max(0, expected[k] - topics[k]) for k in expected),
        "views == clean rebuild": same,
    }


# --- the run -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    schema = f"soak_{uuid4().hex[:8]}"
    url = f"{args.postgres_url}?schema={schema}"
    spawn = multiprocessing.get_context("spawn")
    workdir = Path(tempfile.mkdtemp(prefix=schema))
    try:
        rating, asked = set_up(url)
        until = time.time() + 60 * args.minutes
        logs = [workdir / f"writer-{n}.jsonl" for n in range(args.writers)]
        writers = [
            spawn.Process(target=writer, args=(url, rating, asked, until, str(log))) for log in logs
        ]
        terminated = spawn.Value("i", 0)
        cutter = spawn.Process(target=terminator, args=(args.postgres_url, terminated), daemon=True)
        for process in (*writers, cutter):
            process.start()
        kills = keep_killing_views(spawn, url, until)
        for process in writers:
            process.join()
        cutter.kill()
        report = check(url, logs)
        report["connections terminated"] = terminated.value
        report["views worker killed (SIGKILL)"] = kills
        for name, value in report.items():
            print(f"{name:>48}: {value}")
        bad = report["duplicates"] or report["lost"] or report["written behind a reported failure"]
        return 1 if bad or report["missing events"] or not report["views == clean rebuild"] else 0
    finally:
        drop_schema(args.postgres_url, schema)


def keep_killing_views(spawn: Any, url: str, until: float) -> int:
    """Run the views worker; SIGKILL it every 5 to 20 seconds and start it again."""
    kills = 0
    while time.time() < until:
        worker = spawn.Process(target=views_worker, args=(url,))
        worker.start()
        time.sleep(min(random.uniform(5, 20), max(0.0, until - time.time())))
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        kills += 1
    return kills


def drop_schema(dsn: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, autocommit=True, application_name=ADMIN) as admin:
        admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


if __name__ == "__main__":
    sys.exit(main())
