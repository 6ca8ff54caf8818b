"""The memory of what ``civicflow demo`` does after building: the views' catch-up, then the review.

    python benchmarks/bench_demo_build.py --compounds 3040 --db sqlite:///city.db
    python benchmarks/bench_views_memory.py --store city.db --compounds 3040

Copies a store built by ``bench_demo_build.py`` (left as it is), counts its views from
nothing in this process, then reads the street and community reviews of the last quarter,
as the demo does; prints the time, the peak and the current resident memory after each
step, and a digest of the reviews (equal digests: the same figures, the same ones hidden).
Figures: docs/performance.md, "The demo".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from civicflow import CivicFlow
from civicflow.domain.community.areas import AreaKind
from civicflow.extras import demo
from civicflow.views import Views


def memory(step: str, started: float) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    status = Path("/proc/self/status").read_text().splitlines()
    now = next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024
    print(f"{step}: {time.perf_counter() - started:.1f} s, peak {peak:.0f} MB, now {now:.0f} MB")


def dumped(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else str(value)


def reviews_of(store: Path, compounds: int) -> dict[str, Any]:
    """The demo's reviews of ``store``, its views counted from nothing, memory said."""
    started = time.perf_counter()
    with (
        CivicFlow.open(f"sqlite:///{store}", env={"AUDIT_KEY": "bench-demo-key"}) as flow,
        Views(flow) as views,
    ):
        memory("opened", started)
        views.catch_up()
        memory("caught up", started)
        quarter = demo.quarter_labels(demo.Size.scaled(compounds))[-1]
        levels = (AreaKind.STREET, AreaKind.COMMUNITY)
        found = {level.value: views.review(quarter, level=level) for level in levels}
        memory("reviewed", started)
        return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True, help="a SQLite file bench_demo_build.py made")
    parser.add_argument("--compounds", type=int, default=3040)
    a = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civicflow-views-memory-") as folder:
        copy = Path(folder) / "store.db"
        shutil.copy(a.store, copy)
        reviews = reviews_of(copy, a.compounds)
    text = json.dumps(reviews, default=dumped, sort_keys=True)
    print("reviews digest", hashlib.sha256(text.encode()).hexdigest()[:16])


if __name__ == "__main__":
    main()
