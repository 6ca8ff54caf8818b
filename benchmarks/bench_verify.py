"""How fast ``verify`` checks a whole store, against merely reading and parsing its records.

    python benchmarks/bench_verify.py [--db sqlite:///demo.db] [--repeats 5]

Without ``--db`` it first writes the demo district (``civicflow demo``: 39,205
records, keyed, with its signing key and one published head) into a temporary
folder. Then it measures in one process, alternating, over ``--repeats``:

(a) the floor: reading every stored record with ``sqlite3`` and parsing its JSON
    with ``orjson.loads``, nothing checked;
(b) eventsourcing's own read of its log: ``select_notifications`` in pages of 5,000
    (a ``Notification`` and a ``UUID`` per record), nothing checked;
(c) ``flow.verify(heads=...)`` in a fresh application each time (so the Merkle tree is
    rebuilt, as in a ``civicflow verify`` process): every seal, chain, checkpoint and
    snapshot, the tree, and the store against the published head.

It prints records/s (medians) for each and the ratios (c)/(a) and (c)/(b); the
target is (c) >= 100,000 records/s on SQLite here.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from civicflow import CivicFlow
from civicflow.audit.feed import read_feed
from civicflow.audit.keys import load_seal_key, load_verifier
from civicflow.cli.main import main as cli


def floor(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            "FROM stored_events ORDER BY rowid"
        ).fetchall()
        for row in rows:
            orjson.loads(row[4])
    return len(rows)


def eventsourcing_read(url: str) -> int:
    count, after = 0, 0
    with CivicFlow.open(url, create=False) as flow:
        while page := flow.recorder.select_notifications(
            start=after, limit=5000, inclusive_of_start=False
        ):
            count += len(page)
            after = page[-1].id
    return count


def verification(url: str, keys: Path) -> Callable[[], int]:
    log_key = load_verifier(keys / "signing.pub")
    heads = read_feed(keys / "feed.jsonl", log_key)
    env = {"AUDIT_KEY": load_seal_key(keys / "seal.key")}

    def run() -> int:
        with CivicFlow.open(url, create=False, env=env) as flow:
            report = flow.verify(heads=heads)
        if not report.ok or report.proven != report.events:
            raise SystemExit(f"the demo store does not verify: {report.problems[:3]}")
        return report.events

    return run


def timed(action: Callable[[], int]) -> tuple[float, float]:
    """Records per second of wall clock, and per second of this process's CPU time."""
    started, cpu = time.perf_counter(), time.process_time()
    records = action()
    return (
        records / (time.perf_counter() - started),
        records / (time.process_time() - cpu),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a store made by civicflow demo (default: make one)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/demo.db"
        if not args.db:
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                cli(["demo", "--db", url])
            print(f"demo store written in {time.perf_counter() - started:.1f} s")
        path = Path(urlsplit(url).path[1:] if url.startswith("sqlite:////") else url[10:])
        measure(url, path, Path(f"{path}.keys"), args.repeats)


def measure(url: str, path: Path, keys: Path, repeats: int) -> None:
    workloads = {
        "(a) floor: sqlite3 + orjson.loads": lambda: floor(path),
        "(b) eventsourcing select_notifications": lambda: eventsourcing_read(url),
        "(c) civicflow verify": verification(url, keys),
    }
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in workloads}
    for _ in range(repeats):
        for name, action in workloads.items():
            rates[name].append(timed(action))
    records = floor(path)
    print(f"{records:,} records, {repeats} runs each, alternating; records/s, medians")
    print(f"{'':<42} {'wall clock':>11} {'CPU time':>11}   wall clock range")
    wall = {name: statistics.median(w for w, _ in values) for name, values in rates.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in rates.items()}
    for name, values in rates.items():
        spread = f"{min(w for w, _ in values):,.0f}..{max(w for w, _ in values):,.0f}"
        print(f"{name:<42} {wall[name]:>11,.0f} {cpu[name]:>11,.0f}   ({spread})")
    for label, median in (("wall clock", wall), ("CPU time", cpu)):
        verify, (base_a, base_b) = median["(c) civicflow verify"], list(median.values())[:2]
        print(
            f"{label}: ratio (c)/(a) {verify / base_a:.2f}, (c)/(b) {verify / base_b:.2f}; "
            f"target (c) >= 100,000 records/s {'met' if verify >= 100_000 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
