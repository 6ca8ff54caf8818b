"""A city of district stores against one store: its writers, and its views.

    python benchmarks/bench_city.py [--quick] [--only writers|views] [--writers 4]
                                    [--seconds S] [--repeats R] [--districts D]
                                    [--compounds C] [--views-repeats V] [--profile]
                                    [--postgres-url URL]

(a) Writers.

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

(b) Views. The demo city of ``--districts`` districts and ``--compounds`` compounds
each (``extras/demo_city.build_city``: a schema each) and the one-store demo of as
many compounds (``extras/demo.build_into``: one schema) hold the same compounds,
residents and proposals; district ``i`` holds the one store's ``i``-th part (only
each district's own district area, streets and communities are extra). Then,
alternating, ``--views-repeats`` times, each from nothing into a fresh schema of its
own (so both sides write their views to a schema apart from the events they read):

(one)   ``Views(flow, settings=...).catch_up()`` of the one store;
(city)  ``CityViews(city, settings=...).catch_up()`` of every district.

Only the catch-up is timed (the views' tables are made before it; the stores are
opened before it, though the city probes each district's server in it, as it does
on every catch-up). It prints events/s of each (wall clock, and per CPU-second of
this process: the server's share is not in it) and the ratio (city)/(one) (target
>= 0.8); ``--profile`` adds a cProfile of one more catch-up of each. ``--quick``:
2 districts of 100 compounds (about 25,000 events each side); the default: 10
districts of 304 (about 400,000). Every schema made is dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from pgschema import create_schema, drop_schema, postgres_problem  # beside this script

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
COMMANDS_PER_FLOW = 20
TARGET = 1.5
VIEWS_TARGET = 0.8


def writer(
    registry: str | None, url: str | None, area: str, seconds: float, start: float
) -> dict[str, float]:
    """Runs in a child: six-step flows on ``area`` until ``seconds`` have passed."""
    from bench_proposals import CLOCK, civic_flow

    from civicflow import CivicFlow
    from civicflow.federation.city import City

    options: dict[str, Any] = {"clock": CLOCK, "community_rules": False}
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
    parser.add_argument("--quick", action="store_true", help="a short run of each")
    parser.add_argument("--only", choices=("writers", "views"), default=None)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=None, help="per run (default 15)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (quick: 1)")
    parser.add_argument("--districts", type=int, default=None, help="default 10 (quick: 2)")
    parser.add_argument(
        "--compounds", type=int, default=None, help="a district's (default 304; quick: 100)"
    )
    parser.add_argument("--views-repeats", type=int, default=None, help="default 3")
    parser.add_argument("--profile", action="store_true", help="cProfile one more catch-up each")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CIVICFLOW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.districts = args.districts or (2 if args.quick else 10)
    args.compounds = args.compounds or (100 if args.quick else 304)
    args.views_repeats = args.views_repeats or 3
    problem = postgres_problem(args.postgres_url)
    if args.only != "views":
        print(
            f"\n== city: {args.writers} writers, one store against {args.writers} district stores"
        )
        if problem:
            print(f"   skipped: {problem}")
        else:
            writers(args)
    if args.only != "writers":
        print(
            f"\n== city views: {args.districts} district stores of {args.compounds} compounds "
            f"against one store of {args.districts * args.compounds}"
        )
        if problem:
            print(f"   skipped: {problem}")
        else:
            views(args)
    return 0


def writers(args: argparse.Namespace) -> None:
    """(a): commands/s of the writers on one store and spread over district stores."""
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


def views(args: argparse.Namespace) -> None:
    """(b): the city views' catch-up against one store's, the same compounds on each side."""
    stem = f"bench_city_{uuid.uuid4().hex[:8]}"
    made: list[str] = []  # every schema, dropped at the end whatever happens

    def schema(name: str) -> str:
        made.append(f"{stem}_{name}")
        return f"{args.postgres_url}?schema={stem}_{name}"

    stores = {f"d{n}": schema(f"d{n}") for n in range(args.districts)}
    one = schema("one")
    try:
        with tempfile.TemporaryDirectory(prefix="civicflow-bench-city-") as folder:
            registry = Path(folder) / "city.toml"
            lines = ['name = "Benchmark City"']
            for name, url in stores.items():
                lines += [f"[districts.{name}]", f'area = "a-{name}"', f'store = "{url}"']
            registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
            counted = build_both(stores, one, args)
            found = catch_ups(registry, one, schema, counted, args)
    finally:
        for name in made:
            drop_schema(args.postgres_url, name)
    report_views(found)


def build_both(stores: dict[str, str], one: str, args: argparse.Namespace) -> dict[str, int]:
    """The demo city into the district stores, the one-store demo into ``one``: events of each."""
    from civicflow import CivicFlow
    from civicflow.extras.demo import build_into
    from civicflow.extras.demo_city import Seat, build_city
    from civicflow.extras.demo_district import Size

    size = Size.scaled(args.districts * args.compounds)
    part = args.compounds  # a district's worth at a time on both sides: the same draws
    began = time.perf_counter()
    with contextlib.ExitStack() as stack:
        targets = [
            (stack.enter_context(CivicFlow.open(url)), Seat(f"a-{name}", name, f"a-{name}-"))
            for name, url in stores.items()
        ]
        city = sum(o.events for o in build_city(targets, size=size, part=part))
    city_seconds = time.perf_counter() - began
    began = time.perf_counter()
    with CivicFlow.open(one) as flow:
        single = build_into(flow, size=size, part=part).events
    print(
        f"   built {city:,} events into {len(stores)} district stores in {city_seconds:.0f} s, "
        f"{single:,} into one store in {time.perf_counter() - began:.0f} s "
        f"(the same {size.compounds:,} compounds and proposals)"
    )
    return {"city": city, "one": single}


def catch_ups(
    registry: Path,
    one: str,
    schema: Callable[[str], str],
    counted: dict[str, int],
    args: argparse.Namespace,
) -> dict[str, list[tuple[float, float]]]:
    """Each side's views counted from nothing, alternating: (events/s, events/CPU-second)."""
    from civicflow import CivicFlow
    from civicflow.federation.city import City
    from civicflow.federation.cityviews import CityViews
    from civicflow.storage.settings import env_from_url
    from civicflow.views import Views

    found: dict[str, list[tuple[float, float]]] = {"one": [], "city": []}
    rows: dict[str, int] = {}
    with City.open(registry) as city, CivicFlow.open(one) as flow:
        for name in city.names:
            city.district(name)  # every store opened before the clock starts, as ``flow`` is
        order = ["one", "city"]
        for repeat in range(args.views_repeats + (1 if args.profile else 0)):
            profiling = repeat == args.views_repeats  # one more of each, profiled
            for side in order:
                url = schema(f"views_{side}_{repeat}")
                create_schema(args.postgres_url, url.rsplit("=", 1)[1])
                settings = env_from_url(url)
                opened = (
                    Views(flow, settings=settings)
                    if side == "one"
                    else CityViews(city, settings=settings)
                )
                with opened as views:

                    def count(views: Views | CityViews = views) -> int:
                        result = views.catch_up()
                        return result if isinstance(result, int) else sum(result.values())

                    profiler = cProfile.Profile() if profiling else None
                    gc.collect()
                    wall, cpu = time.perf_counter(), time.process_time()
                    events = profiler.runcall(count) if profiler else count()
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    if events != counted[side]:
                        raise RuntimeError(f"({side}) counted {events} of {counted[side]} events")
                    if profiler:
                        show_profile(profiler, f"({side}), {cpu:.1f} CPU-seconds profiled")
                        continue
                    found[side].append((events / wall, events / cpu))
                    rows[side] = views.tables.query("SELECT COUNT(*) FROM cf_view_ratings")[0][0]
            order.reverse()
    same = "the same" if rows["one"] == rows["city"] else "NOT the same"
    print(
        f"   each from nothing into a schema of its own, {args.views_repeats} repeats, "
        f"alternating, medians; ratings counted: {rows['one']:,} and {rows['city']:,} ({same})"
    )
    return found


def show_profile(profiler: cProfile.Profile, title: str, lines: int = 14) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
        body = out.getvalue()
        print(f"\n-- cProfile of {title}, by {order}\n{body[body.index('   ncalls') :]}")


def report_views(found: dict[str, list[tuple[float, float]]]) -> None:
    """Events/s of each side (wall clock and CPU) and the ratio against its target."""

    def listed(values: list[float], spec: str = ",.0f") -> str:
        return ", ".join(format(v, spec) for v in values)

    for side, label in (
        ("one", "(one) Views.catch_up(), one store"),
        ("city", "(city) CityViews.catch_up()"),
    ):
        wall, cpu = [w for w, _ in found[side]], [c for _, c in found[side]]
        print(
            f"   {label:34} {statistics.median(wall):7,.0f} events/s ({listed(wall)}); "
            f"{statistics.median(cpu):,.0f} per CPU-second ({listed(cpu)})"
        )
    pairs = list(zip(found["one"], found["city"], strict=True))
    by_wall = [c[0] / o[0] for o, c in pairs]
    by_cpu = [c[1] / o[1] for o, c in pairs]
    ratio = statistics.median(by_wall)
    verdict = "met" if ratio >= VIEWS_TARGET else "NOT met"
    print(
        f"   {'ratio (city)/(one)':34} {ratio:7.2f} wall clock ({listed(by_wall, '.2f')}); "
        f"{statistics.median(by_cpu):.2f} CPU ({listed(by_cpu, '.2f')}); "
        f"target >= {VIEWS_TARGET} ({verdict})"
    )


if __name__ == "__main__":
    sys.exit(main())
