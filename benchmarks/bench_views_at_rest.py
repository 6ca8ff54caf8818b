"""What keeping the views encrypted costs a rebuild, with the events' decryption set apart.

    python benchmarks/bench_views_at_rest.py [--events N] [--repeats R] [--backend sqlite|postgres]

Builds the district history of ``bench_views.py`` in a store encrypted at rest (a fresh
``CIPHER_KEY``), then rebuilds views of it into two databases of their own, alternating:
views kept as an unencrypted store keeps them (the pseudonyms and ciphertext switched off)
and views kept as an encrypted store keeps them (pseudonyms and ciphertext). Both read and
decrypt the same log, so the difference is what the views' own encryption costs. Each
rebuild opens its views afresh, as a new process would (nothing sealed is remembered).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from eventsourcing.cipher import AESCipher

from civicflow import CivicFlow, Views
from civicflow.storage.settings import env_from_url
from civicflow.views import backend
from civicflow.views.sealing import PLAIN

sys.path.insert(0, str(Path(__file__).parent))
from bench_views import DEFAULT_POSTGRES, BulkFlow, District
from pgschema import drop_schema


def rebuilt(flow: CivicFlow, settings: dict[str, str], sealed: bool) -> tuple[float, float]:
    """Seconds of wall clock and of this process's CPU for one rebuild into ``settings``."""
    original = backend.sealing_of
    if not sealed:
        backend.sealing_of = lambda flow: PLAIN
    try:
        with Views(flow, settings=settings, batch_size=2000) as views:
            wall, cpu = time.perf_counter(), time.process_time()
            views.rebuild()
            return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        backend.sealing_of = original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args(argv)
    os.environ["CIPHER_KEY"] = AESCipher.create_key(num_bytes=32)
    schemas: list[str] = []
    with tempfile.TemporaryDirectory(prefix="civicflow-bench-at-rest-") as folder:

        def database(name: str) -> str:
            if args.backend == "sqlite":
                return f"sqlite:///{Path(folder) / name}.db"
            schemas.append(f"bench_at_rest_{name}_{uuid.uuid4().hex[:8]}")
            return f"{DEFAULT_POSTGRES}?schema={schemas[-1]}"

        url = database("events")
        try:
            with BulkFlow.open(url, env={"AGGREGATE_CACHE_MAXSIZE": ""}) as writer:
                events = District(writer, args.events).build()
            places = {sealed: database(f"views_{sealed}".lower()) for sealed in (False, True)}
            for place in places.values():
                CivicFlow.open(place).close()  # makes the database (a schema on PostgreSQL)
            times: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
            with CivicFlow.open(url) as flow:
                for _ in range(args.repeats):
                    for sealed in (False, True):
                        times[sealed].append(rebuilt(flow, env_from_url(places[sealed]), sealed))
        finally:
            for schema in schemas:
                drop_schema(DEFAULT_POSTGRES, schema)
    print(f"{args.backend}, {events:,} events encrypted at rest, medians of {args.repeats}:")
    for index, what in ((0, "wall clock"), (1, "CPU of this process")):
        clear, sealed = (statistics.median(t[index] for t in times[s]) for s in (False, True))
        print(
            f"  {what}: views in clear {clear:.2f} s ({events / clear:,.0f} events/s), "
            f"views encrypted {sealed:.2f} s ({events / sealed:,.0f} events/s): "
            f"{sealed / clear - 1:+.0%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
