"""How fast the Merkle tree builds, proves and verifies at a million leaves, against baselines.

    python benchmarks/bench_merkle.py [--quick] [--leaves N] [--baseline-leaves M]
                                      [--repeats R] [--samples S]

Measured in one process (medians):

- building a tree of ``--leaves`` leaf hashes (default 1,000,000): ``append`` one at a
  time, and ``extend`` in batches of 1,000; leaves per second of wall clock and of CPU;
- for ``--samples`` random leaves, sizes and size pairs of that tree: an inclusion
  proof, its verification, a consistency proof, its verification, and ``root(size)``
  of a random earlier size, each call timed alone (median, 99th percentile and
  maximum of the wall clock, and the maximum of the thread's CPU time, which a busy
  machine's preemptions do not inflate; in microseconds);
- ``to_bytes`` and ``from_bytes`` of the whole tree, the bytes it stores, and the
  memory a tree keeps allocated once built (``tracemalloc``);
- against baselines on a tree of ``--baseline-leaves`` leaves (default 100,000): the
  root and an inclusion proof computed naively, by the recursive definitions of
  RFC 9162 §2.1 over the leaf hashes (what a tree without stored nodes pays), and
  pymerkle's ``InmemoryTree`` (if installed): building from data, a root of an earlier
  size and an inclusion proof. The ratios divide the baseline's median by ours.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence

from civicflow.audit.merkle import (
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)


def timed(call: Callable[[], object]) -> float:
    """Seconds of wall clock for one call."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def expect(condition: bool, what: str) -> None:
    """Stop the benchmark if what it times gives a wrong answer."""
    if not condition:
        raise SystemExit(f"wrong result: expected that {what}")


def micro(calls: Sequence[Callable[[], object]]) -> float:
    """The median of the calls' times, in microseconds."""
    return statistics.median(timed(call) for call in calls) * 1e6


def build_rates(hashes: list[bytes], repeats: int) -> tuple[MerkleTree, dict[str, float]]:
    walls: dict[str, list[float]] = {"append": [], "extend": []}
    cpus: dict[str, list[float]] = {"append": [], "extend": []}
    tree = MerkleTree()
    for _ in range(repeats):
        for how in ("append", "extend"):
            tree = MerkleTree()
            wall, cpu = time.perf_counter(), time.process_time()
            if how == "append":
                for leaf in hashes:
                    tree.append(leaf)
            else:
                for at in range(0, len(hashes), 1000):
                    tree.extend(hashes[at : at + 1000])
            walls[how].append(time.perf_counter() - wall)
            cpus[how].append(time.process_time() - cpu)
    return tree, {
        f"{how} {kind}": len(hashes) / statistics.median(times[how])
        for kind, times in (("wall", walls), ("cpu", cpus))
        for how in ("append", "extend")
    }


def spread(calls: Sequence[Callable[[], object]]) -> tuple[float, float, float, float]:
    """Median, 99th percentile and maximum of the calls' wall-clock times, then the maximum
    of their CPU times (which a shared machine's preemptions do not inflate), in µs."""
    walls, cpus = [], []
    for call in calls:
        wall, cpu = time.perf_counter(), time.thread_time()
        call()
        cpus.append((time.thread_time() - cpu) * 1e6)
        walls.append((time.perf_counter() - wall) * 1e6)
    walls.sort()
    return statistics.median(walls), walls[int(len(walls) * 0.99)], walls[-1], max(cpus)


def proof_timings(
    tree: MerkleTree, samples: int, rng: random.Random
) -> dict[str, tuple[float, float, float, float]]:
    n, out = tree.size, {}
    indexes = [rng.randrange(n) for _ in range(samples)]
    claims = [(tree.leaf(i), i, n, tree.inclusion_proof(i), tree.root()) for i in indexes]
    out["inclusion proof"] = spread([lambda i=i: tree.inclusion_proof(i) for i in indexes])
    out["inclusion verify"] = spread([lambda c=c: verify_inclusion(*c) for c in claims])
    expect(all(verify_inclusion(*c) for c in claims), "every inclusion proof verifies")
    pairs = [sorted((rng.randrange(1, n + 1), rng.randrange(1, n + 1))) for _ in range(samples)]
    out["consistency proof"] = spread([lambda p=p: tree.consistency_proof(*p) for p in pairs])
    checks = [(a, b, tree.root(a), tree.root(b), tree.consistency_proof(a, b)) for a, b in pairs]
    out["consistency verify"] = spread([lambda c=c: verify_consistency(*c) for c in checks])
    expect(all(verify_consistency(*c) for c in checks), "every consistency proof verifies")
    sizes = [rng.randrange(n + 1) for _ in range(samples)]
    out["root(size)"] = spread([lambda s=s: tree.root(s) for s in sizes])
    out["inclusion proof, earlier size"] = spread(
        [lambda s=s: tree.inclusion_proof(rng.randrange(s), s) for s in sizes if s]
    )
    return out


def held(hashes: list[bytes]) -> int:
    """The bytes a tree of these leaf hashes keeps allocated once built."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tree = MerkleTree()
    tree.extend(hashes)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before if tree.size else 0


def split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def naive_root(hashes: Sequence[bytes]) -> bytes:
    """MTH by the recursive definition, from the leaf hashes: every node hashed again."""
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node_hash(naive_root(hashes[:k]), naive_root(hashes[k:]))


def naive_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = split(len(hashes))
    if m < k:
        return [*naive_path(m, hashes[:k]), naive_root(hashes[k:])]
    return [*naive_path(m - k, hashes[k:]), naive_root(hashes[:k])]


def baselines(size: int, repeats: int, rng: random.Random) -> list[tuple[str, float, float]]:
    """(what, baseline median, our median) in microseconds, on trees of ``size`` leaves."""
    data = [i.to_bytes(8, "big") for i in range(size)]
    hashes = [leaf_hash(d) for d in data]
    tree = MerkleTree(hashes)
    sizes = [rng.randrange(size // 2, size + 1) for _ in range(repeats)]
    indexes = [rng.randrange(s) for s in sizes]
    rows = [
        (
            "root of an earlier size: naive recursion",
            micro([lambda s=s: naive_root(hashes[:s]) for s in sizes]),
            micro([lambda s=s: tree.root(s) for s in sizes]),
        ),
        (
            "inclusion proof: naive recursion",
            micro(
                [
                    lambda i=i, s=s: naive_path(i, hashes[:s])
                    for i, s in zip(indexes, sizes, strict=True)
                ]
            ),
            micro(
                [
                    lambda i=i, s=s: tree.inclusion_proof(i, s)
                    for i, s in zip(indexes, sizes, strict=True)
                ]
            ),
        ),
    ]
    expect(naive_root(hashes) == tree.root(), "the naive root is the tree's")
    expect(naive_path(size // 3, hashes) == tree.inclusion_proof(size // 3), "same proofs")
    return rows + pymerkle_rows(data, tree, sizes, indexes, repeats)


def pymerkle_rows(
    data: list[bytes], tree: MerkleTree, sizes: list[int], indexes: list[int], repeats: int
) -> list[tuple[str, float, float]]:
    try:
        from pymerkle import InmemoryTree
    except ImportError:
        print("pymerkle is not installed: its rows are skipped", file=sys.stderr)
        return []

    def theirs() -> object:
        other = InmemoryTree(algorithm="sha256")
        for d in data:
            other.append_entry(d)
        return other

    def ours() -> object:
        return MerkleTree([leaf_hash(d) for d in data])

    other = theirs()
    expect(other.get_root() == tree.root(), "pymerkle's root is the tree's")
    build = [(timed(theirs), timed(ours)) for _ in range(max(1, repeats // 10))]
    pairs = list(zip(indexes, sizes, strict=True))
    return [
        (
            "build from data, per leaf: pymerkle",
            statistics.median(t for t, _ in build) / len(data) * 1e6,
            statistics.median(o for _, o in build) / len(data) * 1e6,
        ),
        (
            "root of an earlier size: pymerkle",
            micro([lambda s=s: other.get_root(s) for s in sizes]),
            micro([lambda s=s: tree.root(s) for s in sizes]),
        ),
        (
            "inclusion proof: pymerkle",
            micro([lambda i=i, s=s: other.prove_inclusion(i + 1, s) for i, s in pairs]),
            micro([lambda i=i, s=s: tree.inclusion_proof(i, s) for i, s in pairs]),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 leaves, fewer samples")
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--baseline-leaves", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="builds of the big tree")
    parser.add_argument("--samples", type=int, default=2_000, help="timed calls per figure")
    args = parser.parse_args()
    if args.quick:
        args.leaves, args.baseline_leaves, args.repeats, args.samples = 100_000, 20_000, 1, 300
    rng = random.Random(6962)
    print(f"Python {sys.version.split()[0]}; {args.leaves:,} leaves, {args.repeats} builds")
    hashes = [leaf_hash(i.to_bytes(8, "big")) for i in range(args.leaves)]
    tree, rates = build_rates(hashes, args.repeats)
    for what, rate in rates.items():
        print(f"build, {what:<12} {rate:>12,.0f} leaves/s")
    print(f"{args.samples:,} random calls each, µs: median, 99th percentile, maximum; max CPU")
    for what, (median, p99, most, cpu) in proof_timings(tree, args.samples, rng).items():
        print(f"{what:<31} {median:>9.1f} {p99:>9.1f} {most:>9.1f}; {cpu:>9.1f}")
    stored = tree.to_bytes()
    saving, loading = timed(tree.to_bytes), timed(lambda: MerkleTree.from_bytes(stored))
    print(f"memory held by a tree built by extend: {held(hashes) / 1e6:.1f} MB (tracemalloc)")
    print(
        f"to_bytes {saving * 1e3:.1f} ms, {len(stored) / 1e6:.1f} MB "
        f"({len(stored) / tree.size:.1f} bytes a leaf); from_bytes {loading * 1e3:.1f} ms"
    )
    print(f"\nbaselines on {args.baseline_leaves:,} leaves (medians, µs; ratio = baseline / ours)")
    for what, base, ours in baselines(args.baseline_leaves, max(args.samples // 20, 10), rng):
        print(f"{what:<42} {base:>12,.1f} vs {ours:>8,.1f}  ratio {base / ours:>9,.0f}")


if __name__ == "__main__":
    main()
