"""Writers of a city: spread over district stores, against all of them on one store.

    python benchmarks/bench_city.py [--quick] [--writers 4] [--seconds S]
                                    [--postgres-url URL]

eventsourcing's PostgreSQL recorder takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` on
every insert, so all writers to one events table queue behind each other. A city
keeps each district's events in a store of its own (``civicflow.federation``). Here
``--writers`` processes (``multiprocessing`` spawn) each run the proposals
benchmark's six-step flow (20 commands a proposal, community rules off, as in
``bench_proposals.py``) as fast as they can for ``--seconds``, in two layouts,
alternating, ``--repeats`` times:

(one)   every writer on the same store (one PostgreSQL schema);
(city)  a city of as many districts as writers, each district a store of its own (a
        schema each, on the same server, standing for a server each), each writer
        routed by ``City.for_area`` to its district's store.

It prints commands per second over all writers, the ratio (city)/(one) (target
>= 1.5) and the CPU-seconds each command cost the writers: on two cores the CPUs
may be the limit before the lock is. The server's CPU is not in the writers' time.
The city's views (issue 14's second figure) are not built yet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from pgschema import drop_schema, postgres_problem  # beside this script

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
COMMANDS_PER_FLOW = 20
TARGET = 1.5


def writer(
    registry: str | None, url: str | None, area: str, seconds: float, start: float
) -> dict[str, float]:
    """Runs in a child: six-step flows on ``area`` until ``seconds`` have passed."""
    from bench_proposals import CLOCK, civic_flow

    from civicflow import CivicFlow
    from civicflow.federation.city import City

    options = {"clock": CLOCK, "community_rules": False}
    city = City.open(registry, **options) if registry else None
    flow = city.for_area(area) if city else CivicFlow.open(str(url), **options)
    try:
        time.sleep(max(0.0, start - time.time()))  # every writer starts together
        cpu, began, flows = time.process_time(), time.perf_counter(), 0
        while time.perf_counter() - began < seconds:
            civic_flow(flow, area)
            flows += 1
        return {
            "commands": flows * COMMANDS_PER_FLOW,
            "seconds": time.perf_counter() - began,
            "cpu": time.process_time() - cpu,
        }
    finally:
        (city or flow).close()


def run(
    layout: str, stores: dict[str, str], registry: Path, args: argparse.Namespace
) -> tuple[float, float]:
    """Commands per second over every writer, and writer CPU-seconds per command."""
    areas = [f"k-{name}" for name in stores]
    with ProcessPoolExecutor(args.writers, mp_context=get_context("spawn")) as pool:
        start = time.time() + 3.0  # time for every child to import and connect
        jobs = [
            pool.submit(
                writer,
                str(registry) if layout == "city" else None,
                stores[next(iter(stores))] if layout == "one" else None,
                areas[n % len(areas)],
                args.seconds,
                start,
            )
            for n in range(args.writers)
        ]
        results = [job.result() for job in jobs]
    commands = sum(r["commands"] for r in results)
    elapsed = max(r["seconds"] for r in results)
    return commands / elapsed, sum(r["cpu"] for r in results) / commands


def prepare(stores: dict[str, str], folder: Path) -> Path:
    """The city's registry, and each district's areas in its own store."""
    from civicflow import CivicFlow

    lines = ['name = "Benchmark City"']
    for name, url in stores.items():
        lines += [f"[districts.{name}]", f'area = "d-{name}"', f'store = "{url}"']
        with CivicFlow.open(url) as flow:
            flow.add_area(f"d-{name}", kind="district", name=name, actor="office")
            flow.add_area(
                f"s-{name}", kind="street", name="s", parent_id=f"d-{name}", actor="office"
            )
            flow.add_area(
                f"c-{name}", kind="community", name="c", parent_id=f"s-{name}", actor="office"
            )
            flow.add_area(
                f"k-{name}",
                kind="compound",
                name="k",
                parent_id=f"c-{name}",
                is_old=True,
                has_property_management=False,
                households=40,
                actor="office",
            )
    registry = folder / "city.toml"
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s a run, 1 repeat")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None, help="per run (default 15)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (quick: 1)")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CIVICFLOW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    args.repeats = args.repeats or (1 if args.quick else 3)
    print(f"\n== city: {args.writers} writers, one store against {args.writers} district stores")
    problem = postgres_problem(args.postgres_url)
    if problem:
        print(f"   skipped: {problem}")
        return 0
    stem = f"bench_city_{uuid.uuid4().hex[:8]}"
    names = [f"d{n}" for n in range(args.writers)]
    stores = {name: f"{args.postgres_url}?schema={stem}_{name}" for name in names}
    try:
        with tempfile.TemporaryDirectory(prefix="civicflow-bench-city-") as folder:
            registry = prepare(stores, Path(folder))
            found: dict[str, list[tuple[float, float]]] = {"one": [], "city": []}
            order = ["one", "city"]
            for _ in range(args.repeats):
                for layout in order:
                    found[layout].append(run(layout, stores, registry, args))
                order.reverse()
    finally:
        for name in names:
            drop_schema(args.postgres_url, f"{stem}_{name}")
    for layout, label in (
        ("one", "(one) every writer on one store"),
        ("city", "(city) a store per district"),
    ):
        rates = [r for r, _ in found[layout]]
        cpu = statistics.median(c for _, c in found[layout]) * 1000
        print(
            f"   {label:34} {statistics.median(rates):7,.0f} commands/s "
            f"({', '.join(f'{r:,.0f}' for r in rates)}); {cpu:.2f} ms of writer CPU a command"
        )
    ratios = [c / o for (o, _), (c, _) in zip(found["one"], found["city"], strict=True)]
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(
        f"   {'ratio (city)/(one)':34} {ratio:7.2f} ({', '.join(f'{r:.2f}' for r in ratios)}); "
        f"target >= {TARGET} ({verdict}; the machine has {os.cpu_count()} CPUs)"
    )
    print("   city views against one store's views: not built yet (issue 14)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
