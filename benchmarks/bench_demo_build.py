"""What building the demo costs, without the views: wall clock, CPU and peak memory.

    python benchmarks/bench_demo_build.py [--compounds 304] [--db sqlite:///bench-demo.db]

Times ``demo.build_into`` (``civicflow demo``'s build, every command through the rules)
into a new SQLite store, and reads the process's peak resident memory. Run it for the
district (304) and the city (3040) in the same conditions: building should grow with the
size (a city of ten districts in about ten times the district's time).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from civicflow import CivicFlow
from civicflow.extras import demo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compounds", type=int, default=304)
    parser.add_argument("--db", default="sqlite:///bench-demo.db")
    a = parser.parse_args()
    if a.db.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(a.db.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    with CivicFlow.open(a.db, env={"AUDIT_KEY": "bench-demo-key"}) as flow:
        started, cpu = time.perf_counter(), time.process_time()
        built = demo.build_into(flow, size=demo.Size.scaled(a.compounds))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KB on Linux
    print(
        f"{a.compounds} compounds: {built.events} events, {len(built.proposals)} proposals "
        f"built in {seconds:.1f} s ({cpu:.1f} s CPU); peak RSS {peak} MB"
    )


if __name__ == "__main__":
    main()
