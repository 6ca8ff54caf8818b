"""Receipts at a million records: issuing one and checking it, against a signature alone.

    python benchmarks/bench_receipts.py [--records 1000000] [--samples 2000]

Writes ``--records`` records to a SQLite store (synthetic ratings of the shape
civicflow stores, written straight into its events table: the proof's cost does not
depend on what a record holds), grows the transparency log's tree over them, signs
one head, then for ``--samples`` random records measures, alternating in one process:

(a) issuing a receipt under that head (``LogTree.record``: find the record in the
    database and hash its state; ``issue_receipt``: build its inclusion proof, encode
    it);
(b) checking it with the public key alone (``check_receipt``: open the signed head,
    recompute the leaf, verify the proof);
(c) the baseline every check pays anyway: verifying the head's Ed25519 signature.

It prints medians, 99th percentiles and maxima, the ratio (b)/(c), and the size of a
receipt as text (a QR code holds 2,953 bytes). Targets: (a) < 10 ms, (b) < 1 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import orjson

from civicflow import CivicFlow
from civicflow.audit.notes import open_checkpoint, sign_checkpoint
from civicflow.audit.signing import Signer
from civicflow.audit.transparency import LogTree, check_receipt, issue_receipt

TOPIC = "civicflow.proposal:Proposal.Rated"


def build(flow: CivicFlow, records: int) -> list[tuple[UUID, int]]:
    """Write ``records`` synthetic ratings straight into the store's events table."""
    keys = [(uuid4(), 1) for _ in range(records)]
    recorder = flow.recorder
    statement = f"INSERT INTO {recorder.events_table_name} VALUES (?,?,?,?)"  # noqa: S608
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.executemany(
            statement,
            (
                (aggregate.hex, version, TOPIC, orjson.dumps({"resident": f"r{n}", "round": 1}))
                for n, (aggregate, version) in enumerate(keys)
            ),
        )
    return keys


def issue(flow: CivicFlow, log: LogTree, signer: Signer, key: tuple[UUID, int], head: str) -> Any:
    leaf = log.record(flow.store.pydantic_mapper, flow.recorder, *key)
    return issue_receipt(log, signer, leaf, head)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return (
        f"{name:<44} median {statistics.median(ordered) * 1e6:8.1f} µs   "
        f"p99 {p99 * 1e6:8.1f} µs   max {ordered[-1] * 1e6:8.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    signer = Signer.generate("civicflow.example/district-1")
    with (
        tempfile.TemporaryDirectory() as folder,
        CivicFlow.open(f"sqlite:///{folder}/receipts.db") as flow,
    ):
        measure(flow, signer, args.records, args.samples)


def measure(flow: CivicFlow, signer: Signer, records: int, samples: int) -> None:
    started = time.perf_counter()
    keys = build(flow, records)
    print(f"{records:,} records written in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    log = LogTree()
    log.grow(flow.store.pydantic_mapper, flow.recorder)
    print(f"tree over {log.size:,} records grown in {time.perf_counter() - started:.1f} s")
    head = sign_checkpoint(log.head(signer.name), signer)
    issued, check, signature = [], [], []
    sizes = []
    for _ in range(samples):
        key = random.choice(keys)
        receipt = issue(flow, log, signer, key, head)
        issued.append(timed(partial(issue, flow, log, signer, key, head)))
        check.append(timed(partial(check_receipt, receipt, signer.verifier)))
        signature.append(timed(partial(open_checkpoint, head, signer.verifier)))
        sizes.append(len(receipt.to_text().encode()))
    print(summary("(a) issue a receipt under a signed head", issued))
    print(summary("(b) check it with the public key alone", check))
    print(summary("(c) baseline: the head's signature alone", signature))
    ratio = statistics.median(check) / statistics.median(signature)
    print(f"ratio (b)/(c), medians: {ratio:.2f}")
    print(f"receipt size: median {statistics.median(sizes):.0f} bytes, max {max(sizes)} bytes")


if __name__ == "__main__":
    main()
