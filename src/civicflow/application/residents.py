"""Use cases for residents: registration to a compound, moves, moving out.

A resident is an opaque id from the embedding application; civicflow keeps
only where each one was registered when, which is what eligibility is judged by.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from civicflow.application.boundary import UseCases, public
from civicflow.application.commands import CommandId
from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.residents import Home, Resident, resident_uuid
from civicflow.errors import MissingRegistrationError, RuleViolationError


class ResidentCommands(UseCases):
    """Register residents, move them, move them out."""

    @public
    def register_resident(
        self,
        resident_id: str,
        *,
        compound_id: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Home:
        """Register a resident (an opaque id) to a compound for the first time.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: no such compound then.
            RuleViolationError: the resident is registered already.
            InvalidInputError: an id is malformed.
        """
        return self.register_residents(
            [resident_id],
            compound_id=compound_id,
            actor=actor,
            occurred_at=occurred_at,
            command_id=command_id,
        )[0]

    @public
    def register_residents(
        self,
        resident_ids: list[str] | tuple[str, ...],
        *,
        compound_id: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> list[Home]:
        """Register many residents to one compound in one transaction (all or none).

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: no such compound then.
            RuleViolationError: one is registered already, or listed twice.
            InvalidInputError: an id is malformed.
        """
        moment = self._ctx.when(occurred_at)
        self._ctx.require_area(compound_id, moment, AreaKind.COMPOUND)
        what = "register_resident" if len(resident_ids) == 1 else "register_residents"
        register = functools.partial(
            Resident.register, compound_id=compound_id, actor=actor, occurred_at=moment
        )

        def make() -> list[Resident]:
            residents = [register(resident_id=rid) for rid in resident_ids]
            if len({r.id for r in residents}) != len(residents):
                raise RuleViolationError(None, "residence", "the same resident is listed twice")
            return residents

        residents = self._ctx.commands.create(
            what, make, lambda: _already_registered(resident_ids), CommandId.of(command_id)
        )
        return [resident.state for resident in residents]

    @public
    def move_resident(
        self,
        resident_id: str,
        *,
        compound_id: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Home:
        """Register a resident to another compound (or back in after moving out).

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: the resident or the compound is not registered.
            RuleViolationError: already there, or out of order.
        """
        moment = self._ctx.when(occurred_at)
        self._ctx.require_area(compound_id, moment, AreaKind.COMPOUND)
        return self._resident(
            resident_id,
            "move",
            command_id,
            lambda r: r.move(compound_id=compound_id, actor=actor, occurred_at=moment),
        )

    @public
    def move_out(
        self,
        resident_id: str,
        *,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Home:
        """End a resident's registration; their past ratings stand.

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            MissingRegistrationError: the resident was never registered.
            RuleViolationError: moved out already, or out of order.
        """
        moment = self._ctx.when(occurred_at)
        return self._resident(
            resident_id,
            "move_out",
            command_id,
            lambda r: r.move_out(actor=actor, occurred_at=moment),
        )

    # --- the parts -------------------------------------------------------------------

    def _resident(
        self,
        resident_id: str,
        what: str,
        command_id: UUID | str | None,
        act: Callable[[Resident], None],
    ) -> Home:
        def load() -> Resident:
            resident = self._ctx.resident(resident_id)
            if resident is None:
                raise MissingRegistrationError(
                    "resident", resident_id, "register them with register_resident()"
                )
            return resident

        command = CommandId.of(command_id)
        rid = resident_uuid(resident_id)
        resident = self._ctx.commands.update(rid, what, load, act, command, kind=Resident)
        return resident.state


def _already_registered(resident_ids: list[str] | tuple[str, ...]) -> RuleViolationError:
    if len(resident_ids) == 1:
        message = (
            f"resident {resident_ids[0]} is already registered; use move_resident() or move_out()"
        )
    else:
        message = "one of these residents is already registered; use move_resident() for them"
    return RuleViolationError(None, "residence", message)
