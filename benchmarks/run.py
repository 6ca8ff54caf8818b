"""One entry point for every benchmark: ``python benchmarks/run.py [--quick] [--backend B]``.

Runs, per backend (memory, SQLite, PostgreSQL when reachable), the proposal
benchmark (commands per second against a bare eventsourcing aggregate in the
same run, snapshots and the cache on a long history) and then the views
benchmark (the floor, eventsourcing's own read and civicflow's against rebuilding
every view, and catching up); then, once, the command line's start-up against Python
importing eventsourcing and pydantic, the demo (a district, then a city of districts), and on
PostgreSQL a city of district stores: its writers and its views against one store's.
Figures and how to read them: docs/performance.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"benchmarks/{name}.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run, a few minutes")
    parser.add_argument("--backend", default="all", choices=("memory", "sqlite", "postgres", "all"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    common = [*(["--quick"] if args.quick else []), "--backend", args.backend]
    status = load("bench_proposals").main(common)
    if (HERE / "bench_views.py").exists():
        views_backend = "all" if args.backend in ("all", "memory") else args.backend
        status |= load("bench_views").main(
            [*(["--quick"] if args.quick else []), "--backend", views_backend]
        )
    if (HERE / "bench_startup.py").exists():
        status |= load("bench_startup").main(["--quick"] if args.quick else [])
    if args.backend in ("all", "sqlite"):
        status |= load("bench_demo").main(["--quick"] if args.quick else [])
    if args.backend in ("all", "postgres"):  # a city of district stores (skips without one)
        status |= load("bench_city").main(["--quick"] if args.quick else [])
    print(f"\nall benchmarks: {time.perf_counter() - started:.1f} s")
    return int(status or 0)


if __name__ == "__main__":
    raise SystemExit(main())
