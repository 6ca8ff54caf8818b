"""What a verification can prove beyond the seals: snapshots replayed, published heads matched.

Seals and chains (``verification``) find an edit by someone without the audit
key; they cannot find one by someone with it, nor a store rolled back whole, and
a store without a key has only unkeyed digests that anyone can recompute. Two
checks need no secret at all:

- **Snapshots against their events.** Every snapshot is compared with the
  aggregate rebuilt by replaying its events up to the snapshot's version: an
  edited snapshot (a rectification threshold lowered, say) is found in every
  configuration, keyed or not.
- **The store against published heads.** A signed tree head commits to the
  first ``size`` records of the log; the store must still give that root for
  them. An alteration, insertion, deletion or reordering among them changes the
  root; fewer records than the head's size is a deletion or a rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

import orjson

from civicflow.audit.errors import because
from civicflow.audit.ledger import Checkpoint
from civicflow.audit.notes import TreeHead, open_checkpoint
from civicflow.audit.signing import Verifier
from civicflow.audit.transparency import LogTree
from civicflow.audit.verification import Problem
from civicflow.domain import integrity
from civicflow.errors import BackendUnavailableError, InvalidInputError
from civicflow.storage import rawlog
from civicflow.storage.mapper import PydanticMapper


def check_snapshots(mapper: PydanticMapper, recorder: Any, snapshots: Any) -> list[Problem]:
    """Problems with every snapshot stored: a seal or a replay that disagrees.

    One query finds the aggregates that have snapshots; only those are replayed.
    """
    problems: list[Problem] = []
    for text in rawlog.snapshotted(snapshots.recorder):
        try:
            aggregate_id = UUID(text)
        except ValueError:
            detail = f"a snapshot of {text!r}, which is no aggregate id: civicflow did not write it"
            problems.append(Problem(kind="inserted", aggregate="unknown", detail=detail))
            continue
        for stored in snapshots.recorder.select_events(aggregate_id):
            problem = _snapshot_problem(mapper, recorder, stored)
            if problem:
                problems.append(
                    Problem(
                        kind="altered",
                        aggregate=_aggregate_name(stored.topic),
                        aggregate_id=str(aggregate_id),
                        version=stored.originator_version,
                        detail=f"a snapshot {problem}",
                    )
                )
    return problems


def _snapshot_problem(mapper: PydanticMapper, recorder: Any, stored: Any) -> str | None:
    try:
        state = mapper.decode_state(stored)
        mac = state.pop(integrity.SEAL_FIELD, None)
        record = integrity.digest(
            stored.topic, stored.originator_id, stored.originator_version, state
        )
        if not integrity.verifies(mapper.audit_key, record, mac):
            return "'s seal does not match its content"
        snapshot = mapper.to_domain_event(stored)
        events = recorder.select_events(stored.originator_id, lte=stored.originator_version)
        replayed = None
        for event in events:
            replayed = mapper.to_domain_event(event).mutate(replayed)
    except Exception as error:  # any snapshot that cannot be checked is itself the finding
        return f"cannot be checked: {str(error).splitlines()[0]}"
    if replayed is None or replayed.version != stored.originator_version:
        return f"is at version {stored.originator_version}, beyond the events stored"
    taken = type(snapshot).take
    if _canonical(taken(snapshot.mutate(None)).state) != _canonical(taken(replayed).state):
        return "differs from the aggregate its events replay to"
    return None


def _canonical(state: dict[str, Any]) -> bytes:
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS, default=str)


def check_heads(log: LogTree, heads: Sequence[TreeHead]) -> tuple[list[Problem], int]:
    """Problems with the store against signed heads, and how many records the heads prove."""
    problems: list[Problem] = []
    proven = 0
    for number, head in enumerate(heads, 1):
        if head.size > log.size:
            detail = (
                f"published head {number} commits to {head.size} records, the store holds "
                f"{log.size}: records were deleted, or the store rolled back"
            )
            problems.append(Problem(kind="deleted", aggregate="log", detail=detail))
        elif log.tree.root(head.size) != head.root:
            detail = (
                f"the store's first {head.size} records do not give published head {number}'s "
                "root: records among them were altered, inserted, deleted or reordered"
            )
            problems.append(Problem(kind="published", aggregate="log", detail=detail))
        else:
            proven = max(proven, head.size)
    return problems, proven


def assurance(*, keyed: bool, heads: int, proven: int, records: int) -> str:
    """What a clean verification proves, in a sentence (never a bare OK)."""
    if heads and proven == records:
        return f"every record is proven against a published head signed by the log ({proven})"
    if heads:
        return (
            f"the first {proven} records are proven against a published head; the "
            f"{records - proven} after it only by their "
            + ("seals" if keyed else "unkeyed digests, which anyone can recompute")
        )
    if keyed:
        return (
            "no published head was given: seals prove no edit by someone without the audit "
            "key, but nothing against a key holder or a rollback of the whole store"
        )
    return (
        "no audit key and no published head: this proves nothing beyond the store's internal "
        "consistency (anyone who can write can recompute every digest)"
    )


def _aggregate_name(topic: str) -> str:
    return topic.rsplit(":", 1)[-1].split(".", 1)[0]


def opened_heads(
    heads: Iterable[TreeHead | str], log_key: Verifier | None, witnesses: tuple[Verifier, ...]
) -> list[TreeHead]:
    """The published heads: notes opened with ``log_key`` (and ``witnesses``), heads as given.

    Raises:
        InvalidInputError: a note was given without ``log_key``.
        MalformedNoteError, SignatureError: a note is malformed or not signed.
    """
    opened: list[TreeHead] = []
    for head in heads:
        if isinstance(head, TreeHead):
            opened.append(head)
            continue
        if log_key is None:
            problem = ("log_key", because("signed heads are checked with the log's public key"))
            raise InvalidInputError("verify", [problem])
        opened.append(open_checkpoint(head, log_key, required_witnesses=witnesses))
    return opened


def readable_checkpoints(
    read: Callable[[], tuple[Checkpoint, ...]],
) -> tuple[tuple[Checkpoint, ...], list[Problem]]:
    """The checkpoints ``read`` returns, or none and the problem that they cannot be read.

    An edited ledger must not stop the verification that is there to find it.
    """
    try:
        return read(), []
    except BackendUnavailableError:
        raise
    except Exception as error:  # an edited ledger fails in any way replay can fail
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        detail = f"the checkpoints cannot be read, so none was checked: {reason}"
        return (), [Problem(kind="unreadable", aggregate="Ledger", detail=detail)]
