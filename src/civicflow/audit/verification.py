"""Verifying a whole store: every seal, every chain, every checkpoint, every published digest.

``verify`` reads the log as stored (below the mapper's upcasting) and reports
each event that was altered, deleted, inserted or reordered, with its
aggregate and position; it passes on an untouched store.

How problems are told apart:

- **altered**: a record's seal does not match its content (and the content is
  not a record of the same aggregate moved from another version).
- **reordered**: a genuine record sits at the wrong place: a version seen out of
  order in the log, a sealed record of version *v* found at version *w*, or an
  event whose ``previous_digest`` names another predecessor.
- **checkpoint**: the log up to a checkpoint no longer gives the digest it sealed
  (its content or its order changed); **published**: a checkpoint's digest is not
  the one published for it; **unreadable**: a record cannot even be decoded.
- **deleted**: versions missing from an aggregate's history, or aggregates (or
  their last versions) that a checkpoint lists but the log no longer holds.
- **inserted**: a record without a seal in a keyed store, a record inside a
  checkpointed stretch that its checkpoint does not list, or a bad record at the
  end of an aggregate's history after the last checkpoint (it cannot be told from
  an altered last event: checkpoint often).

What no check can see: events after the last checkpoint deleted from the end of
their histories, or the whole database rolled back to an older copy, unless the
checkpoint digests were published (then the rollback shows as a mismatch).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import orjson

from civicflow.audit.checkpointing import LEDGER_TOPICS, running_digest
from civicflow.audit.findings import Problem, Verification
from civicflow.audit.ledger import LEDGER_ID, Checkpoint
from civicflow.audit.transparency import LogTree, plain_page
from civicflow.domain import integrity
from civicflow.storage import rawlog
from civicflow.storage.mapper import PydanticMapper
from civicflow.storage.rawlog import Row

# A record as civicflow seals it ends with its seal: {...,"_mac":"<64 hex digits>"}
SEAL_TAIL = b',"_mac":"'
TAIL_SIZE = len(SEAL_TAIL) + 64 + len(b'"}')
PREVIOUS = b'"previous_digest":'


@dataclass(slots=True)
class _Chain:
    version: int = 0
    digest: str | None = None
    altered: bool = False
    aggregate: str = "unknown"


@dataclass
class _Scan:
    """Running state of one pass over the log."""

    key: bytes | None
    checkpoints: Sequence[Checkpoint]
    chains: dict[str, _Chain] = field(default_factory=dict)
    running: str = ""
    sealed: int = 0
    seen_seals: bool = False  # some record carries a seal (so the store was keyed)
    problems: list[Problem] = field(default_factory=list)
    # Only records whose seal failed are kept (memory stays small on a sound store).
    bad: list[tuple[Row, dict[str, Any], str | None, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The running digest is only compared at checkpoints: past the last, skip it.
        self.digest_until = self.checkpoints[-1].sealed if self.checkpoints else 0
        self.sealer = integrity.Sealer(self.key) if self.key is not None else None

    def report(self, kind: str, row: Row | None, detail: str, **where: Any) -> None:
        if row is not None:
            where.setdefault("aggregate", _aggregate_name(row[3]))
            where.setdefault("aggregate_id", row[1])
            where.setdefault("version", row[2])
            where.setdefault("position", row[0])
        self.problems.append(Problem(kind=kind, detail=detail, **where))


def verify(
    mapper: PydanticMapper,
    recorder: Any,
    checkpoints: Sequence[Checkpoint],
    published: Mapping[int, str] | None = None,
    *,
    tree: LogTree | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Verification:
    """Check every record, chain and checkpoint of a store (see the module's notes).

    One pass over the log as stored; with ``tree``, the records it does not hold
    yet are added to it on the way (the caller holds it for this pass). Snapshots
    and published tree heads are checked by ``civicflow.audit.assurance``.
    ``progress(done, total)``, if given, is called after each page: the last
    notification id checked, of the log's last.
    """
    scan = _Scan(key=mapper.audit_key, checkpoints=checkpoints)
    events = 0
    top = (recorder.max_notification_id() or 0) if progress is not None else 0
    for page in rawlog.rows(recorder):
        plains = plain_page(mapper, page)
        _check_page(scan, page, plains)
        if tree is not None and page[-1][0] > (known := tree.last_position):
            first = next(n for n, row in enumerate(page) if row[0] > known)
            tree.add(page[first:], plains[first:])
        events += len(page)
        if progress is not None:
            progress(page[-1][0], max(top, page[-1][0]))
    _check_tails(scan)
    _check_checkpoints(scan, published or {})
    return Verification(
        ok=not scan.problems,
        keyed=scan.key is not None,
        events=events,
        checkpoints=len(checkpoints),
        problems=tuple(scan.problems),
    )


# --- one record -----------------------------------------------------------------------


def _check_page(scan: _Scan, page: Sequence[Row], plains: Sequence[bytes | None]) -> None:
    """Check a page of records in log order.

    The common case, a sealed record right after its sound predecessor, is checked
    from its bytes, without parsing: it is most of a verification's time. civicflow
    writes a record as orjson's encoding of its state with the seal last, so the
    state without the seal is the bytes before it, and its digest can be taken at
    once. When the seal holds for those bytes, the key holder wrote them, so they
    are that encoding, and ``"previous_digest":`` first appears as the record's own
    key (a quote inside a string is escaped). Every other record, and any record
    this check doubts, goes through ``_check_record``, which says what is wrong.
    """
    sealer, chains, ledger_topics = scan.sealer, scan.chains, LEDGER_TOPICS
    tail, tail_size, previous_key = SEAL_TAIL, TAIL_SIZE, PREVIOUS
    fresh = _Chain()
    for row, plain in zip(page, plains, strict=True):
        _, aggregate_id, version, topic, _ = row
        chain = chains.get(aggregate_id, fresh)
        if (
            sealer is None
            or plain is None
            or chain.altered
            or version != chain.version + 1
            or topic in ledger_topics
            or plain[-tail_size : len(tail) - tail_size] != tail
        ):
            _check_record(scan, row, plain)
            continue
        body = plain[:-tail_size] + b"}"
        record = integrity.digest_of_bytes(topic, aggregate_id, version, body)
        start = body.find(previous_key) + len(previous_key)
        linked = b'"%s"' % chain.digest.encode() if chain.digest else b"null"
        if (
            not sealer.verifies(record, plain[-66:-2])
            or body[start : start + len(linked)] != linked
        ):
            _check_record(scan, row, plain)
            continue
        _count_sealed(scan, row, record)
        if chain is fresh:
            chain = chains[aggregate_id] = _Chain(aggregate=_aggregate_name(topic))
        chain.version, chain.digest = version, record


def _check_record(scan: _Scan, row: Row, plain: bytes | None) -> None:
    """The careful path: parse the record, then judge its seal, its place and its link."""
    try:
        state = orjson.loads(cast(bytes, plain))
        if not isinstance(state, dict):
            raise TypeError("not a JSON object")
    except Exception as error:  # any undecodable record is itself the finding
        detail = "cannot be decrypted" if plain is None else f"cannot be decoded: {error}"
        scan.report("unreadable", row, detail)
        _skip_unreadable(scan, row)
        return
    mac = state.pop(integrity.SEAL_FIELD, None)
    scan.seen_seals = scan.seen_seals or mac is not None
    record = integrity.digest(row[3], row[1], row[2], state)
    previous = state.get("previous_digest")
    # Without the key a seal cannot be checked (a reader holding only the public
    # key checks the log against published heads instead): the chains still are.
    sealed_ok = scan.key is None or integrity.verifies(scan.key, record, mac)
    _count_sealed(scan, row, record)
    chain = scan.chains.get(row[1])
    if chain is None:
        chain = scan.chains[row[1]] = _Chain(aggregate=_aggregate_name(row[3]))
    if not sealed_ok:
        chain.altered = True
        scan.bad.append((row, state, mac, scan.sealed))
    _check_order(scan, chain, row, previous, sealed_ok)
    chain.version = max(chain.version, row[2])
    chain.digest = record


def _count_sealed(scan: _Scan, row: Row, record: str) -> None:
    if row[3] in LEDGER_TOPICS:
        return
    scan.sealed += 1
    if scan.sealed <= scan.digest_until:
        if scan.sealer is not None:  # the same HMAC as running_digest, its key prepared once
            scan.running = scan.sealer.seal(f"{scan.running}\n{record}")
        else:
            scan.running = running_digest(scan.key, scan.running, record)
        _at_checkpoint(scan, row)


def _skip_unreadable(scan: _Scan, row: Row) -> None:
    """Count an unreadable record in its place, so that it is not also called deleted."""
    _count_sealed(scan, row, "unreadable")
    chain = scan.chains.setdefault(row[1], _Chain(aggregate=_aggregate_name(row[3])))
    chain.version = max(chain.version, row[2])
    chain.digest, chain.altered = None, True


def _check_order(
    scan: _Scan, chain: _Chain, row: Row, previous: str | None, sealed_ok: bool
) -> None:
    version = row[2]
    if version <= chain.version:
        scan.report(
            "reordered", row, f"version {version} comes after version {chain.version} in the log"
        )
        return
    if version > chain.version + 1:
        for missing in range(chain.version + 1, version):
            scan.report(
                "deleted",
                row,
                f"version {missing} is missing before version {version}",
                version=missing,
                position=None,
            )
        return
    if sealed_ok and previous != chain.digest and not chain.altered:
        scan.report("reordered", row, "its previous_digest names another predecessor")


def _check_tails(scan: _Scan) -> None:
    """Classify records whose seal failed, now that each aggregate's history is known."""
    covered = _covered_versions(scan.checkpoints)
    for row, state, mac, position in scan.bad:
        scan.report(
            *_bad_record(
                scan,
                row,
                state,
                mac,
                position=position,
                covered=covered.get(row[1]),
                last=scan.chains[row[1]].version,
            )
        )


def _bad_record(
    scan: _Scan,
    row: Row,
    state: dict[str, Any],
    mac: str | None,
    *,
    position: int,
    covered: int | None,
    last: int,
) -> tuple[str, Row, str]:
    moved_from = _genuine_version(scan.key, row, state, mac, last)
    if moved_from is not None:
        return "reordered", row, f"holds the sealed record of version {moved_from}"
    if scan.key is not None and mac is None:
        return "inserted", row, "has no seal: civicflow did not write it"
    # ``position`` counts records in log order, which means the same in an imported store.
    checkpointed = bool(scan.checkpoints) and position <= scan.checkpoints[-1].sealed
    if checkpointed and (covered is None or row[2] > covered):
        return "inserted", row, "lies in a checkpointed stretch that does not list it"
    if not checkpointed and row[2] == last:
        return "inserted", row, "a record with a forged seal at the end of its history"
    return "altered", row, "its seal does not match its content"


def _genuine_version(
    key: bytes | None, row: Row, state: dict[str, Any], mac: str | None, last: int
) -> int | None:
    """The other version whose sealed record this one is, if any (rows swapped)."""
    if key is None or mac is None:
        return None  # nothing sealed it: it cannot be told from any other version
    for version in range(1, last + 1):
        if version == row[2]:
            continue
        record = integrity.digest(row[3], row[1], version, state)
        if integrity.verifies(key, record, mac):
            return version
    return None


# --- checkpoints ------------------------------------------------------------------------


def _at_checkpoint(scan: _Scan, row: Row) -> None:
    if scan.key is None and scan.seen_seals:
        return  # a sealed store's checkpoints are keyed digests: without the key, unchecked
    for checkpoint in scan.checkpoints:
        if checkpoint.sealed == scan.sealed and checkpoint.digest != scan.running:
            scan.report(
                "checkpoint",
                None,
                f"the log up to checkpoint {checkpoint.number} "
                "differs from what it sealed (content or order changed)",
                aggregate="log",
                position=row[0],
            )


def _check_checkpoints(scan: _Scan, published: Mapping[int, str]) -> None:
    by_number = {c.number: c for c in scan.checkpoints}
    for number, digest in sorted(published.items()):
        recorded = by_number.get(number)
        if recorded is None or recorded.digest != digest:
            scan.report(
                "published",
                None,
                f"checkpoint {number} does not carry the digest published for it",
                aggregate="log",
            )
    for checkpoint in scan.checkpoints:
        if checkpoint.sealed > scan.sealed:
            scan.report(
                "deleted",
                None,
                f"checkpoint {checkpoint.number} sealed "
                f"{checkpoint.sealed} events; the log holds {scan.sealed}",
                aggregate="log",
            )
        for aggregate_id, version in checkpoint.manifest:
            seen = scan.chains.get(aggregate_id)
            if seen is None or seen.version < version:
                scan.report(
                    "deleted",
                    None,
                    f"checkpoint {checkpoint.number} saw version "
                    f"{version}; the log holds {seen.version if seen else 'nothing'}",
                    aggregate=seen.aggregate if seen else "unknown",
                    aggregate_id=aggregate_id,
                    version=version,
                )


def _covered_versions(checkpoints: Sequence[Checkpoint]) -> dict[str, int]:
    covered: dict[str, int] = {}
    for checkpoint in checkpoints:
        covered.update(dict(checkpoint.manifest))
    return covered


def _aggregate_name(topic: str) -> str:
    # "civicflow.proposal:Proposal.Rated" -> "Proposal"
    return topic.rsplit(":", 1)[-1].split(".", 1)[0]


__all__ = ["LEDGER_ID", "LEDGER_TOPICS", "Problem", "Verification", "verify"]
