"""Checkpoints of the whole log: a short digest an office can publish with its results (晒).

A checkpoint seals every aggregate event recorded so far with a running
digest over the log, in log order, and lists each aggregate's last version.
Once a checkpoint's digest is published, nobody (not even the key holder) can
rewrite what came before it without the published digest exposing it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, Unpack
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from civicflow.domain.eventmodel import AggregateSnapshot, PydanticAggregate, keep_topics
from civicflow.domain.values import ActorId

LEDGER_ID: UUID = uuid5(NAMESPACE_URL, "civicflow:ledger")


class Checkpoint(BaseModel):
    """One seal of the log: how far it reaches and the digest to publish."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: int  # 1 for the first checkpoint of the store
    sealed: int  # aggregate events covered, counted in log order
    up_to: int  # the notification id of the last event covered
    digest: str  # running digest over the covered events; publish this
    manifest: tuple[tuple[str, int], ...]  # (aggregate id, last version) changed since the last
    occurred_at: AwareDatetime


class Seal(TypedDict):
    """What a checkpoint command carries: the seal computed over the log, and who took it."""

    sealed: int
    up_to: int
    digest: str
    manifest: tuple[tuple[str, int], ...]
    actor: str
    occurred_at: datetime


class Ledger(PydanticAggregate):
    """The store's checkpoints, in order."""

    class Event(PydanticAggregate.Event):
        """Who took the checkpoint and when."""

        actor: ActorId
        occurred_at: AwareDatetime

    class Opened(Event, PydanticAggregate.Created):
        """The store started keeping checkpoints."""

        def apply(self, aggregate: Any) -> None:
            aggregate.checkpoints = ()

    class Checkpointed(Event):
        """The log up to a point was sealed with a running digest."""

        sealed: int = Field(ge=0)
        up_to: int = Field(ge=0)
        digest: str
        manifest: tuple[tuple[str, int], ...]

        def apply(self, aggregate: Any) -> None:
            number = len(aggregate.checkpoints) + 1
            aggregate.checkpoints = (
                *aggregate.checkpoints,
                Checkpoint(
                    number=number,
                    sealed=self.sealed,
                    up_to=self.up_to,
                    digest=self.digest,
                    manifest=self.manifest,
                    occurred_at=self.occurred_at,
                ),
            )

    class Snapshot(AggregateSnapshot):
        """The checkpoints at a version."""

    if TYPE_CHECKING:  # a class annotation would make this a dataclass
        checkpoints: tuple[Checkpoint, ...]

    @classmethod
    def open(cls, *, actor: str, occurred_at: Any) -> Ledger:
        """Start keeping checkpoints."""
        return cls._create(cls.Opened, id=LEDGER_ID, actor=actor, occurred_at=occurred_at)

    def checkpoint(self, **command: Unpack[Seal]) -> Checkpoint:
        """Record a checkpoint (computed by ``civicflow.audit.checkpointing.seal_log``)."""
        self._record(self._next_event(self.Checkpointed, {**command}))
        return self.checkpoints[-1]

    def snapshot_state(self) -> dict[str, Any]:
        return {"checkpoints": [c.model_dump(mode="json") for c in self.checkpoints]}

    def from_snapshot_state(self, data: dict[str, Any]) -> None:
        self.checkpoints = tuple(Checkpoint.model_validate(c) for c in data["checkpoints"])


keep_topics("civicflow.ledger", Ledger)
