"""Turning events into bytes and back, and choosing a backend from a URL.

This is the only module that serialises domain objects. The mapper stores a
pydantic event as its JSON dump, writes the class's ``class_version`` and runs
``upcast_vN_vM`` static methods on read, exactly as eventsourcing's own mapper
does for dataclasses; compression and encryption configured through the usual
``COMPRESSOR_TOPIC`` / ``CIPHER_TOPIC`` / ``CIPHER_KEY`` settings still apply.
"""

from __future__ import annotations

import os
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID, uuid4

import orjson
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from civicflow.domain import integrity
from civicflow.errors import ConfigurationError


class OrjsonTranscoder(Transcoder):
    """JSON bytes via orjson; the mapper hands it only JSON-ready data."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class PydanticMapper(Mapper[UUID]):
    """Maps pydantic domain events to stored events, honouring class versions.

    With an audit key (``audit_key``, from the ``AUDIT_KEY`` setting) every
    record is sealed with an HMAC of its digest; see ``civicflow.integrity``.
    """

    audit_key: bytes | None = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
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
        cls = resolve_topic(stored_event.topic)
        state = self.decode_state(stored_event)
        state.pop(integrity.SEAL_FIELD, None)
        stored_digest = integrity.digest(
            stored_event.topic, stored_event.originator_id, stored_event.originator_version, state
        )
        _upcast(cls, state)
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        event = cls.model_validate(state)
        event.__pydantic_private__["_stored_digest"] = stored_digest
        return event

    def current_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The record's fields as its event class now reads them, not validated.

        Decrypted, decompressed, unsealed and upcast to the class's current version:
        for readers that need a few fields of many events (the views), and trust
        what was validated when it was written.
        """
        state = self.decode_state(stored_event)
        state.pop(integrity.SEAL_FIELD, None)
        _upcast(resolve_topic(stored_event.topic), state)
        return state

    def decode_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The stored JSON object of a record, decrypted and decompressed."""
        state: dict[str, Any] = self.transcoder.decode(self._unpack(stored_event.state))
        return state

    def pack(self, data: bytes) -> bytes:
        """Compress and encrypt stored bytes, as configured."""
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return data

    def _unpack(self, data: bytes) -> bytes:
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        return data


def _upcast(cls: type, state: dict[str, Any]) -> None:
    """Run the class's ``upcast_vN_vM`` methods on a stored state, oldest first."""
    from_version = state.pop("class_version", 1)
    while from_version < getattr(cls, "class_version", 1):
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1


def env_from_url(url: str) -> dict[str, str]:
    """eventsourcing settings for a store URL.

    ``memory://`` keeps events in this process; ``sqlite:///relative.db``,
    ``sqlite:////absolute.db`` or ``sqlite:///:memory:`` use SQLite;
    ``postgresql://user:password@host:port/dbname?schema=name`` uses PostgreSQL
    (``postgres://`` is accepted too).

    Raises:
        ConfigurationError: the URL names no supported backend or lacks a part.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        return _sqlite_env(unquote(url[len("sqlite://") :]))
    if scheme in ("postgresql", "postgres"):
        return _postgres_env(url)
    raise ConfigurationError(
        f"unsupported store URL {url!r}: use memory://, sqlite:///path.db "
        "or postgresql://user@host:port/dbname"
    )


def _sqlite_env(path: str) -> dict[str, str]:
    # "sqlite:///x.db" leaves "/x.db" (relative), "sqlite:////x.db" leaves "//x.db" (absolute).
    path = path[1:] if path.startswith("/") else path
    if not path:
        raise ConfigurationError("sqlite URL needs a file path, as in sqlite:///civic.db")
    if path == ":memory:":
        # A shared-cache URI so that every pooled connection sees the same database.
        path = f"file:civicflow-{uuid4().hex}?mode=memory&cache=shared"
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def _postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname:
        raise ConfigurationError(
            f"postgresql URL {url!r} needs a host and a database, as in "
            "postgresql://postgres@127.0.0.1:5432/civic"
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_CONNECT_TIMEOUT": "5",
    }
    if parts.password is not None:
        env["POSTGRES_PASSWORD"] = unquote(parts.password)
    elif not (os.environ.get("CIVICFLOW_POSTGRES_PASSWORD") or os.environ.get("POSTGRES_PASSWORD")):
        env["POSTGRES_PASSWORD"] = ""  # trust or peer authentication
    # otherwise eventsourcing reads the password from the environment, kept out of the URL
    schema = parse_qs(parts.query).get("schema")
    if schema:
        env["POSTGRES_SCHEMA"] = schema[0]
    return env
