"""Pydantic base classes that let eventsourcing aggregates record pydantic events.

eventsourcing 9.5 ships dataclass events only; these bases give frozen pydantic
models the "can mutate / can init / can snapshot" behaviour the library expects,
so that ``persistence.PydanticMapper`` can store them as JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
)
from eventsourcing.utils import TopicError, get_topic, register_topic, resolve_topic
from pydantic import AwareDatetime, BaseModel, ConfigDict, PrivateAttr

from civicflow.domain import integrity
from civicflow.errors import NewerRecordError


class Stored(NamedTuple):
    """Which record a state was read from, to name it when it cannot be read."""

    topic: str
    originator_id: UUID | str
    originator_version: int
    position: int | None = None  # in the log, when read from it
    kind: str = "event"

    def newer(self, class_version: int | None, known_version: int | None) -> NewerRecordError:
        """The error for this record: its class version (or kind) is unknown here."""
        return NewerRecordError(
            self.topic,
            self.originator_id,
            self.originator_version,
            class_version,
            known_version,
            position=self.position,
            kind=self.kind,
        )


def upcast(cls: type, state: dict[str, Any], stored: Stored) -> None:
    """Bring a stored state up to ``cls``'s version with its ``upcast_vN_vM`` methods.

    The one upcaster: the mapper runs it on events, snapshots on their state.

    Raises:
        NewerRecordError: the state is of a version newer than ``cls`` knows; read
            as the current version it would be misread, and written over.
    """
    version = state.pop("class_version", 1)
    known = getattr(cls, "class_version", 1)
    if not isinstance(version, int):
        raise stored.newer(None, known)  # no version this code could ever have written
    if version > known:
        raise stored.newer(version, known)
    while version < known:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1


def own_topic(cls: type) -> None:
    """Give ``cls`` the topic of its own module and name, never one inherited.

    ``keep_topics`` sets ``TOPIC`` on stored classes; without this a subclass
    (an upcasting example, a test double) would be stored under its parent's.
    """
    type.__setattr__(cls, "TOPIC", f"{cls.__module__}:{cls.__qualname__}")


class DomainEvent(BaseModel):
    """A fact recorded in the store: frozen, and unknown fields are an error.

    ``timestamp`` is when the store recorded the fact, not when it happened in
    the world; events that concern the world add their own ``occurred_at``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime

    # The digest of the record this event was read from (None for a live event).
    _stored_digest: str | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        # The same fact, whether it was just recorded or read back from the store.
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = BaseModel.__hash__

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        own_topic(cls)


class AggregateEvent(DomainEvent, CanMutateAggregate[UUID]):
    """An event that evolves an existing aggregate through ``apply``.

    ``previous_digest`` links it to the event before it in the same aggregate,
    making each aggregate's history a hash chain (see ``civicflow.integrity``).
    """

    previous_digest: str | None = None

    def mutate(self, aggregate: Any) -> Any:
        evolved = super().mutate(aggregate)
        if evolved is not None:
            evolved._chain = self._stored_digest or integrity.event_digest(self)
        return evolved


class AggregateCreated(AggregateEvent, CanInitAggregate[UUID]):
    """An event that starts an aggregate's life."""

    originator_topic: str


class AggregateSnapshot(DomainEvent, CanSnapshotAggregate[UUID]):
    """The whole state of an aggregate at a version, to skip replaying its past.

    ``state`` is JSON-ready; the aggregate class says how to dump and load it
    (``snapshot_state`` / ``from_snapshot_state``) and may upcast old states
    with ``upcast_vN_vM`` static methods, as eventsourcing does for events.
    """

    topic: str
    state: dict[str, Any]

    @classmethod
    def take(cls, aggregate: Any) -> AggregateSnapshot:
        """Capture ``aggregate`` (which must define ``snapshot_state``)."""
        state = dict(aggregate.snapshot_state())
        state["class_version"] = getattr(type(aggregate), "class_version", 1)
        state["created_on"] = aggregate.created_on.isoformat()
        state["modified_on"] = aggregate.modified_on.isoformat()
        state["chain"] = aggregate._chain
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state,
        )

    def mutate(self, _: None) -> Any:
        """Rebuild the aggregate this snapshot captured."""
        stored = Stored(self.topic, self.originator_id, self.originator_version, kind="snapshot")
        try:
            cls: Any = resolve_topic(self.topic)
        except TopicError:
            raise stored.newer(self.state.get("class_version", 1), None) from None
        state = dict(self.state)
        upcast(cls, state, stored)
        aggregate = cls.__new__(cls)
        aggregate.__base_init__(
            originator_id=self.originator_id,
            originator_version=self.originator_version,
            timestamp=datetime.fromisoformat(state.pop("created_on")),
        )
        aggregate.modified_on = datetime.fromisoformat(state.pop("modified_on"))
        aggregate._chain = state.pop("chain", None)
        aggregate.from_snapshot_state(state)
        return aggregate


E = TypeVar("E", bound=AggregateEvent)


class PydanticAggregate(BaseAggregate[UUID]):
    """Aggregate base whose nested events are pydantic models.

    Commands build their event first (so pydantic validates every value), check
    their rules against that typed event, and only then ``_record`` it: a
    refused command leaves the aggregate untouched. Rules never live in
    ``apply``, because replaying history must not re-judge old facts.
    """

    class Event(AggregateEvent):
        pass

    class Created(Event, AggregateCreated):
        pass

    if TYPE_CHECKING:  # a class annotation would make aggregates dataclasses
        _chain: str | None  # the digest of the last event, for the next one to link to

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own_topic(cls)

    def __base_init__(
        self, originator_id: Any, originator_version: int, timestamp: datetime
    ) -> None:
        super().__base_init__(originator_id, originator_version, timestamp)
        self._chain = None

    def _next_event(self, event_class: type[E], fields: dict[str, Any]) -> E:
        """Build (and so validate) the next event, without applying it."""
        return event_class(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=event_class.create_timestamp(),
            previous_digest=self._chain,
            **fields,
        )

    def _record(self, event: AggregateEvent) -> None:
        """Apply a checked event and keep it for saving."""
        event.mutate(self)
        self.pending_events.append(event)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # States are immutable, so the aggregate cache can hand out shallow copies.
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, _pending_events=[])
        return copy


def keep_topics(module: str, aggregate: type[PydanticAggregate]) -> None:
    """Store ``aggregate`` and its nested classes under ``module``, wherever they live now.

    A topic (``module:QualifiedName``) is written into every stored record and
    every digest, so it is part of the storage format, not of the code layout:
    records written before a class moved must still resolve, and new records
    must carry the same topic as old ones. eventsourcing takes a class's
    ``TOPIC`` attribute when it has one; registering each topic up front lets
    a fresh process read before it writes.
    """
    classes = [aggregate, *(v for v in vars(aggregate).values() if isinstance(v, type))]
    for cls in classes:
        topic = f"{module}:{cls.__qualname__}"
        type.__setattr__(cls, "TOPIC", topic)
        register_topic(topic, cls)
