"""Turning events into bytes and back.

This is the only module that serialises domain objects. The mapper stores a
pydantic event as its JSON dump, writes the class's ``class_version`` and runs
``upcast_vN_vM`` static methods on read, exactly as eventsourcing's own mapper
does for dataclasses; compression and encryption configured through the usual
``COMPRESSOR_TOPIC`` / ``CIPHER_TOPIC`` / ``CIPHER_KEY`` settings still apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import TopicError, get_topic, resolve_topic
from pydantic import BaseModel

from civicflow.domain import integrity
from civicflow.domain.eventmodel import AggregateSnapshot, Stored, upcast
from civicflow.storage.rawlog import Row


class OrjsonTranscoder(Transcoder):
    """JSON bytes via orjson; the mapper hands it only JSON-ready data."""

    def encode(self, obj: Any) -> bytes:
        # orjson's bytes keep the 4 KB buffer they were written into: a record held in
        # memory (an in-memory store, a batch) would cost ten times its size. Copied
        # to its length, it costs what it holds (0.1 µs for a record of 400 bytes).
        return bytes(memoryview(orjson.dumps(obj)))

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class PydanticMapper(Mapper[UUID]):
    """Maps pydantic domain events to stored events, honouring class versions.

    With an audit key (``audit_key``, from the ``AUDIT_KEY`` setting) every
    record is sealed with an HMAC of its digest; see ``civicflow.integrity``.
    """

    audit_key: bytes | None = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The record of an event: its JSON, sealed, compressed and encrypted as configured."""
        event = cast("BaseModel", domain_event)
        topic = get_topic(type(event))
        state = integrity.stored_state(event)
        if self.audit_key is not None:
            record_digest = integrity.digest(
                topic, domain_event.originator_id, domain_event.originator_version, state
            )
            state[integrity.SEAL_FIELD] = integrity.seal(self.audit_key, record_digest)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic,
            state=self.pack(self.transcoder.encode(state)),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The event a record holds, upcast to its class's current version.

        Raises:
            NewerRecordError: the record's kind or class version is newer than this code.
        """
        state = self.decode_state(stored_event)
        cls = self.event_class(stored_event, state)
        state.pop(integrity.SEAL_FIELD, None)
        # An event's digest links the next event to it; a snapshot carries its aggregate's
        # link itself (``chain``), so its own digest, over a large state, is never needed.
        stored_digest = None
        if not issubclass(cls, AggregateSnapshot):
            stored_digest = integrity.digest(
                stored_event.topic,
                stored_event.originator_id,
                stored_event.originator_version,
                state,
            )
        upcast(cls, state, stored(stored_event))
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        event = cls.model_validate(state)
        if stored_digest is not None:
            event.__pydantic_private__["_stored_digest"] = stored_digest
        return event

    def current_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The record's fields as its event class now reads them, not validated.

        Decrypted, decompressed, unsealed and upcast to the class's current version:
        for readers that need a few fields of many events (the views), and trust
        what was validated when it was written.

        Raises:
            NewerRecordError: the record's kind or class version is newer than this code.
        """
        state = self.decode_state(stored_event)
        cls = self.event_class(stored_event, state)
        state.pop(integrity.SEAL_FIELD, None)
        upcast(cls, state, stored(stored_event))
        return state

    def fields_of(self, cls: type, row: Row) -> dict[str, Any]:
        """``current_state`` of a raw row of the log (``storage/rawlog.py``) whose topic
        names ``cls``: the same fields, without building a record object per row.

        Raises:
            NewerRecordError: the record's class version is newer than this code.
        """
        return self.fields_reader(cls)(row)

    def fields_reader(self, cls: type) -> Callable[[Row], dict[str, Any]]:
        """``fields_of`` for rows of ``cls``, as one function: for the views, which call
        it for most records of a log, the usual case (JSON in clear, the class at its
        first version) costs a parse and nothing else.
        """
        loads, seal = self.transcoder.decode, integrity.SEAL_FIELD
        packed, first = bool(self.cipher or self.compressor), getattr(cls, "class_version", 1) == 1

        def read(row: Row) -> dict[str, Any]:
            state: dict[str, Any] = loads(self.unpack(row[4]) if packed else row[4])
            state.pop(seal, None)
            if not first or "class_version" in state:
                upcast(cls, state, Stored(row[3], row[1], row[2], row[0]))
            return state

        return read

    def event_class(self, stored_event: StoredEvent, state: dict[str, Any] | None = None) -> Any:
        """The class a record's topic names (``state``, if decoded, names its version).

        Raises:
            NewerRecordError: no class here has that topic (newer code wrote it).
        """
        try:
            return resolve_topic(stored_event.topic)
        except TopicError:
            version = state.get("class_version", 1) if state is not None else None
            raise stored(stored_event).newer(version, None) from None

    def decode_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The stored JSON object of a record, decrypted and decompressed."""
        state: dict[str, Any] = self.transcoder.decode(self.unpack(stored_event.state))
        return state

    def pack(self, data: bytes) -> bytes:
        """Compress and encrypt stored bytes, as configured."""
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return data

    def unpack(self, data: bytes) -> bytes:
        """Stored bytes decrypted and decompressed: the JSON the mapper wrote.

        Raises:
            Exception: whatever the cipher or compressor raises on damaged bytes.
        """
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return data


def stored(record: StoredEvent) -> Stored:
    """Which record this is: its topic, aggregate, version and (in the log) position."""
    return Stored(
        record.topic,
        record.originator_id,
        record.originator_version,
        getattr(record, "id", None),  # a notification's position in the log
    )
