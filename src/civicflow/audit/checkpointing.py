"""The next checkpoint: a running digest over the log, continued from the last one.

See ``civicflow.audit.ledger`` for what a checkpoint records, and
``civicflow.audit.verification`` for how a store is checked against them.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
from eventsourcing.utils import get_topic

from civicflow.audit.ledger import Checkpoint, Ledger
from civicflow.domain import integrity
from civicflow.storage import rawlog
from civicflow.storage.mapper import PydanticMapper

# The ledger's own records are not sealed into checkpoints (they are the checkpoints).
LEDGER_TOPICS = frozenset(get_topic(cls) for cls in (Ledger.Opened, Ledger.Checkpointed))


def running_digest(key: bytes | None, previous: str, record_digest: str) -> str:
    """The log's running digest after one more record."""
    message = f"{previous}\n{record_digest}".encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal_log(mapper: PydanticMapper, recorder: Any, last: Checkpoint | None) -> dict[str, Any]:
    """The fields of the next checkpoint: the log sealed from where ``last`` stopped.

    The place to resume is found by counting records, not by database id: an
    imported store numbers its records afresh, and a PostgreSQL store may have
    gaps in its ids, so only the count of records means the same everywhere.
    """
    running, skip = (last.digest, last.sealed) if last else ("", 0)
    sealed, up_to = 0, 0
    manifest: dict[str, int] = {}
    for page in rawlog.rows(recorder):
        for row in page:
            position, aggregate_id, version, topic, stored = row
            if topic in LEDGER_TOPICS:
                continue
            sealed += 1
            up_to = position
            if sealed <= skip:
                continue  # already in the running digest of the last checkpoint
            state = orjson.loads(mapper.unpack(stored))
            state.pop(integrity.SEAL_FIELD, None)
            record = integrity.digest(topic, aggregate_id, version, state)
            running = running_digest(mapper.audit_key, running, record)
            manifest[aggregate_id] = version
    return {
        "sealed": sealed,
        "up_to": up_to,
        "digest": running,
        "manifest": tuple(sorted(manifest.items())),
    }
