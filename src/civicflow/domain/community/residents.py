"""Residents: opaque ids from the embedding application, and where they lived when.

No names, phone numbers or addresses are stored: only the id the embedding
application gives, and which compound it was registered to over time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, Unpack
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict

from civicflow.domain.community import commands
from civicflow.domain.eventmodel import AggregateSnapshot, PydanticAggregate, keep_topics
from civicflow.domain.timeline import Change, value_at
from civicflow.domain.values import ActorId
from civicflow.errors import RuleViolationError


def resident_uuid(resident_id: str) -> UUID:
    """The aggregate id of a resident: derived, so any application finds it again."""
    return uuid5(NAMESPACE_URL, f"civicflow:resident:{resident_id}")


class Home(BaseModel):
    """Where a resident is registered now, and where before."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    resident_id: str
    homes: tuple[Change[str], ...]

    def compound_at(self, moment: datetime) -> str | None:
        """The compound the resident was registered to at ``moment`` (None: not registered)."""
        return value_at(self.homes, moment)

    @property
    def compound(self) -> str | None:
        """The latest registration (None once moved out)."""
        return self.homes[-1].value


class Resident(PydanticAggregate):
    """One resident's registrations over time."""

    class Event(PydanticAggregate.Event):
        """Who recorded the change and when it took effect."""

        actor: ActorId
        occurred_at: AwareDatetime

        def apply(self, aggregate: Any) -> None:
            home: Home = aggregate.state
            change = Change[str](effective=self.occurred_at, value=self.compound())
            aggregate.state = home.model_copy(update={"homes": (*home.homes, change)})

        def compound(self) -> str | None:
            """The compound the resident is registered to after this event."""
            return None

    class Registered(Event, PydanticAggregate.Created):
        """A resident was registered to a compound for the first time."""

        resident_id: ActorId
        compound_id: ActorId

        def apply(self, aggregate: Any) -> None:
            change = Change[str](effective=self.occurred_at, value=self.compound_id)
            aggregate.state = Home(resident_id=self.resident_id, homes=(change,))

    class Moved(Event):
        """The resident's registration moved to another compound (or back in)."""

        compound_id: ActorId

        def compound(self) -> str | None:
            return self.compound_id

    class MovedOut(Event):
        """The resident left; ratings given while living here still stand."""

    class Snapshot(AggregateSnapshot):
        """A resident's registrations at a version."""

    if TYPE_CHECKING:  # declared here only: a class annotation would make this a dataclass
        state: Home

    @classmethod
    def register(cls, **command: Unpack[commands.Register]) -> Resident:
        """Register a resident for the first time."""
        return cls._create(cls.Registered, id=resident_uuid(command["resident_id"]), **command)

    def snapshot_state(self) -> dict[str, Any]:
        return self.state.model_dump(mode="json")

    def from_snapshot_state(self, data: dict[str, Any]) -> None:
        self.state = Home.model_validate(data)

    def move(self, **command: Unpack[commands.Move]) -> None:
        """Register the resident to another compound from a moment on."""
        event = self._next_event(self.Moved, {**command})
        if event.compound_id == self.state.compound:
            self._refuse(f"already registered to {event.compound_id}")
        self._check_order(event.occurred_at)
        self._record(event)

    def move_out(self, **command: Unpack[commands.Change]) -> None:
        """End the resident's registration from a moment on."""
        event = self._next_event(self.MovedOut, {**command})
        if self.state.compound is None:
            self._refuse("already moved out")
        self._check_order(event.occurred_at)
        self._record(event)

    def _check_order(self, moment: datetime) -> None:
        last = self.state.homes[-1].effective
        if moment < last:
            self._refuse(
                f"{moment.isoformat()} is before the last change ({last.isoformat()}); "
                "history is recorded in order",
                rule="chronology",
            )

    def _refuse(self, message: str, rule: str = "residence") -> NoReturn:
        raise RuleViolationError(None, rule, f"resident {self.state.resident_id}: {message}")


keep_topics("civicflow.resident", Resident)
