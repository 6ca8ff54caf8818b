"""What the protection of small groups costs on the demo district: share hidden, time.

    python benchmarks/bench_suppression.py [--compounds 304] [--k 5]

Builds the demo district (``civicflow demo``'s, in memory), counts its views, then, for
the whole publication and for each quarter's figures: how many non-zero figures are
published, how many of them are hidden (because fewer than k residents are behind
them, and to protect those), and how long deciding it takes (``Views.protection()``,
read from the view tables; the median of three fresh decisions).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

from civicflow import CivicFlow
from civicflow.extras import demo
from civicflow.views import Views


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compounds", type=int, default=304)
    parser.add_argument("--k", type=int, default=5)
    a = parser.parse_args()
    with CivicFlow() as flow:
        demo.build_into(flow, size=demo.Size.scaled(a.compounds))
        with Views(flow, k=a.k) as views:
            views.catch_up()
            seconds = []
            for _ in range(3):
                views._kept_protection = None  # time a fresh decision
                started = time.perf_counter()
                protection = views.protection()
                seconds.append(time.perf_counter() - started)
    hidden, published = protection.share_hidden()
    primary = _primary(protection, a.k)
    print(f"demo district, {a.compounds} compounds, k={a.k}")
    print(f"published non-zero figures: {published}; hidden: {hidden} ({hidden / published:.1%})")
    print(f"  of which below k themselves: {primary}; to protect them: {hidden - primary}")
    print(f"deciding what to hide: {statistics.median(seconds):.2f} s (all quarters at once)")
    for kind, (h, p) in sorted(_by_kind(protection).items()):
        print(f"  {kind:<14} {h:>6} of {p:>6} hidden ({h / p:.1%})")


def _primary(protection: object, k: int) -> int:
    values = protection.values  # type: ignore[attr-defined]
    hidden = protection.hidden  # type: ignore[attr-defined]
    return sum(1 for n in hidden if 0 < values.get(n, 0) < k)


def _by_kind(protection: object) -> dict[str, tuple[int, int]]:
    values = protection.values  # type: ignore[attr-defined]
    hidden = protection.hidden  # type: ignore[attr-defined]
    unpublished = protection.unpublished  # type: ignore[attr-defined]
    shown: Counter[str] = Counter()
    hid: Counter[str] = Counter()
    for node, value in values.items():
        if value <= 0 or node in unpublished or node[0] == "level":
            continue
        kind = f"{node[0]} {node[1]}" if node[0] == "part" else f"{node[0]}"
        if node[0] == "sat":
            kind = f"sat {node[1]}"
        if node[0] == "prop":
            kind = "prop total" if node[3] is None else "prop quarter"
        shown[kind] += 1
        hid[kind] += node in hidden
    return {kind: (hid[kind], shown[kind]) for kind in shown}


if __name__ == "__main__":
    main()
