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

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from pydantic import BaseModel, ConfigDict

from civicflow.audit.ledger import LEDGER_ID, Checkpoint, Ledger
from civicflow.domain import integrity
from civicflow.storage.mapper import PydanticMapper

PAGE = 5000
LEDGER_TOPICS = frozenset(get_topic(cls) for cls in (Ledger.Opened, Ledger.Checkpointed))


class Problem(BaseModel):
    """One thing wrong with the store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str  # altered, deleted, inserted, reordered, checkpoint, published, unreadable
    aggregate: str  # Proposal, Directory, Resident, Ledger, or "log" for the whole log
    aggregate_id: str | None = None
    version: int | None = None
    position: int | None = None  # notification id in the log
    detail: str


class Verification(BaseModel):
    """What ``verify`` found: ``ok`` when nothing is wrong."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    keyed: bool  # False: no audit key, so anyone who can write could forge the chains
    events: int
    checkpoints: int
    problems: tuple[Problem, ...]
    heads: int = 0  # published tree heads checked
    proven: int = 0  # records covered by the largest head the store matches
    assurance: str = ""  # what a clean result proves, in a sentence


@dataclass
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
    problems: list[Problem] = field(default_factory=list)
    # Only records whose seal failed are kept (memory stays small on a sound store).
    bad: list[tuple[Notification, dict[str, Any], str | None, int]] = field(default_factory=list)

    def report(self, kind: str, note: Notification | None, detail: str, **where: Any) -> None:
        if note is not None:
            where.setdefault("aggregate", _aggregate_name(note.topic))
            where.setdefault("aggregate_id", str(note.originator_id))
            where.setdefault("version", note.originator_version)
            where.setdefault("position", note.id)
        self.problems.append(Problem(kind=kind, detail=detail, **where))


def running_digest(key: bytes | None, previous: str, record_digest: str) -> str:
    """The log's running digest after one more record."""
    message = f"{previous}\n{record_digest}".encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pages(recorder: Any, after: int = 0) -> Iterator[Sequence[Notification]]:
    """The log in pages, oldest first."""
    while True:
        page = recorder.select_notifications(start=after, limit=PAGE, inclusive_of_start=False)
        if not page:
            return
        yield page
        after = page[-1].id


def seal_log(mapper: PydanticMapper, recorder: Any, last: Checkpoint | None) -> dict[str, Any]:
    """The fields of the next checkpoint: the log sealed from where ``last`` stopped.

    The place to resume is found by counting records, not by database id: an
    imported store numbers its records afresh, and a PostgreSQL store may have
    gaps in its ids, so only the count of records means the same everywhere.
    """
    running, skip = (last.digest, last.sealed) if last else ("", 0)
    sealed, up_to = 0, 0
    manifest: dict[str, int] = {}
    for page in pages(recorder):
        for note in page:
            if note.topic in LEDGER_TOPICS:
                continue
            sealed += 1
            up_to = note.id
            if sealed <= skip:
                continue  # already in the running digest of the last checkpoint
            state = mapper.decode_state(note)
            state.pop(integrity.SEAL_FIELD, None)
            record = integrity.digest(
                note.topic, note.originator_id, note.originator_version, state
            )
            running = running_digest(mapper.audit_key, running, record)
            manifest[str(note.originator_id)] = note.originator_version
    return {
        "sealed": sealed,
        "up_to": up_to,
        "digest": running,
        "manifest": tuple(sorted(manifest.items())),
    }


def verify(
    mapper: PydanticMapper,
    recorder: Any,
    checkpoints: Sequence[Checkpoint],
    published: Mapping[int, str] | None = None,
) -> Verification:
    """Check every record, chain and checkpoint of a store (see the module's notes).

    Snapshots and published tree heads are checked by ``civicflow.audit.assurance``.
    """
    scan = _Scan(key=mapper.audit_key, checkpoints=checkpoints)
    events = 0
    for page in pages(recorder):
        for note in page:
            events += 1
            _check_record(scan, mapper, note)
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


def _check_record(scan: _Scan, mapper: PydanticMapper, note: Notification) -> None:
    try:
        state = mapper.decode_state(note)
    except Exception as error:  # any undecodable record is itself the finding
        scan.report("unreadable", note, f"cannot be decoded: {error}")
        _skip_unreadable(scan, note)
        return
    mac = state.pop(integrity.SEAL_FIELD, None)
    record = integrity.digest(note.topic, note.originator_id, note.originator_version, state)
    ledger = note.topic in LEDGER_TOPICS
    if not ledger:
        scan.running = running_digest(scan.key, scan.running, record)
        scan.sealed += 1
        _at_checkpoint(scan, note)
    chain = scan.chains.setdefault(
        str(note.originator_id), _Chain(aggregate=_aggregate_name(note.topic))
    )
    sealed_ok = integrity.verifies(scan.key, record, mac)
    if not sealed_ok:
        chain.altered = True
        scan.bad.append((note, state, mac, scan.sealed))
    _check_order(scan, chain, note, state, sealed_ok)
    chain.version = max(chain.version, note.originator_version)
    chain.digest = record


def _skip_unreadable(scan: _Scan, note: Notification) -> None:
    """Count an unreadable record in its place, so that it is not also called deleted."""
    if note.topic not in LEDGER_TOPICS:
        scan.sealed += 1
        scan.running = running_digest(scan.key, scan.running, "unreadable")
    chain = scan.chains.setdefault(
        str(note.originator_id), _Chain(aggregate=_aggregate_name(note.topic))
    )
    chain.version = max(chain.version, note.originator_version)
    chain.digest, chain.altered = None, True


def _check_order(
    scan: _Scan, chain: _Chain, note: Notification, state: dict[str, Any], sealed_ok: bool
) -> None:
    version = note.originator_version
    if version <= chain.version:
        scan.report(
            "reordered", note, f"version {version} comes after version {chain.version} in the log"
        )
        return
    if version > chain.version + 1:
        for missing in range(chain.version + 1, version):
            scan.report(
                "deleted",
                note,
                f"version {missing} is missing before version {version}",
                version=missing,
                position=None,
            )
        return
    linked = state.get("previous_digest") == chain.digest
    if sealed_ok and not linked and not chain.altered:
        scan.report("reordered", note, "its previous_digest names another predecessor")


def _check_tails(scan: _Scan) -> None:
    """Classify records whose seal failed, now that each aggregate's history is known."""
    covered = _covered_versions(scan.checkpoints)
    for note, state, mac, position in scan.bad:
        aggregate_id = str(note.originator_id)
        scan.report(
            *_bad_record(
                scan,
                note,
                state,
                mac,
                position=position,
                covered=covered.get(aggregate_id),
                last=scan.chains[aggregate_id].version,
            )
        )


def _bad_record(
    scan: _Scan,
    note: Notification,
    state: dict[str, Any],
    mac: str | None,
    *,
    position: int,
    covered: int | None,
    last: int,
) -> tuple[str, Notification, str]:
    moved_from = _genuine_version(scan.key, note, state, mac, last)
    if moved_from is not None:
        return "reordered", note, f"holds the sealed record of version {moved_from}"
    if scan.key is not None and mac is None:
        return "inserted", note, "has no seal: civicflow did not write it"
    # ``position`` counts records in log order, which means the same in an imported store.
    checkpointed = bool(scan.checkpoints) and position <= scan.checkpoints[-1].sealed
    if checkpointed and (covered is None or note.originator_version > covered):
        return "inserted", note, "lies in a checkpointed stretch that does not list it"
    if not checkpointed and note.originator_version == last:
        return "inserted", note, "a record with a forged seal at the end of its history"
    return "altered", note, "its seal does not match its content"


def _genuine_version(
    key: bytes | None, note: Notification, state: dict[str, Any], mac: str | None, last: int
) -> int | None:
    """The other version whose sealed record this one is, if any (rows swapped)."""
    for version in range(1, last + 1):
        if version == note.originator_version:
            continue
        record = integrity.digest(note.topic, note.originator_id, version, state)
        if integrity.verifies(key, record, mac):
            return version
    return None


# --- checkpoints ------------------------------------------------------------------------


def _at_checkpoint(scan: _Scan, note: Notification) -> None:
    for checkpoint in scan.checkpoints:
        if checkpoint.sealed == scan.sealed and checkpoint.digest != scan.running:
            scan.report(
                "checkpoint",
                None,
                f"the log up to checkpoint {checkpoint.number} "
                "differs from what it sealed (content or order changed)",
                aggregate="log",
                position=note.id,
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


__all__ = ["LEDGER_ID", "Problem", "Verification", "running_digest", "seal_log", "verify"]
