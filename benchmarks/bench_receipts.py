"""Receipts at a million records: issuing one and checking it, against a signature alone.

    python benchmarks/bench_receipts.py [--records 1000000] [--samples 2000]

Builds the transparency log's tree over ``--records`` records (synthetic records of
the shape civicflow stores: an aggregate id, a version, a topic and a state digest;
the proof's cost does not depend on what a record holds), signs one head, then for
``--samples`` random records measures, alternating in one process:

(a) issuing a receipt under that head (``issue_receipt``: find the record, build its
    inclusion proof, encode it);
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
import time
from collections.abc import Callable
from functools import partial
from uuid import uuid4

from civicflow.audit.merkle import MerkleTree
from civicflow.audit.notes import open_checkpoint, sign_checkpoint
from civicflow.audit.signing import Signer
from civicflow.audit.transparency import LogTree, _leaf, check_receipt, issue_receipt

TOPIC = "civicflow.proposal:Proposal.Rated"


def build(records: int) -> LogTree:
    log = LogTree()
    leaves = []
    for index in range(records):
        aggregate = uuid4()
        digest = f"{index:064x}"
        log.records[(aggregate, 1)] = (index, TOPIC, digest)
        leaves.append(_leaf(str(aggregate), 1, TOPIC, digest))
    log.tree = MerkleTree(leaves)
    log.positions = list(range(1, records + 1))
    return log


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
    started = time.perf_counter()
    log = build(args.records)
    print(f"tree over {log.size:,} records built in {time.perf_counter() - started:.1f} s")
    head = sign_checkpoint(log.head(signer.name), signer)
    keys = list(log.records)
    issue, check, signature = [], [], []
    sizes = []
    for _ in range(args.samples):
        aggregate, version = random.choice(keys)
        receipt = issue_receipt(log, signer, aggregate, version, head)
        issue.append(timed(partial(issue_receipt, log, signer, aggregate, version, head)))
        check.append(timed(partial(check_receipt, receipt, signer.verifier)))
        signature.append(timed(partial(open_checkpoint, head, signer.verifier)))
        sizes.append(len(receipt.to_text().encode()))
    print(summary("(a) issue a receipt under a signed head", issue))
    print(summary("(b) check it with the public key alone", check))
    print(summary("(c) baseline: the head's signature alone", signature))
    ratio = statistics.median(check) / statistics.median(signature)
    print(f"ratio (b)/(c), medians: {ratio:.2f}")
    print(f"receipt size: median {statistics.median(sizes):.0f} bytes, max {max(sizes)} bytes")


if __name__ == "__main__":
    main()
