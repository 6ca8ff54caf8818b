"""Use cases that read: proposals, who answered for them, and the community structure.

Every query reads the state the events built; structure queries take the moment
they ask about (``as_of``, default now) and answer as the structure stood then.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from civicflow.application.boundary import UseCases, public
from civicflow.application.context import proposal_uuid
from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.councils import Council
from civicflow.domain.community.policy import Policy
from civicflow.domain.community.residents import Home
from civicflow.domain.community.sponsorship import Sponsorship
from civicflow.domain.community.structure import AreaView, Structure, area_view
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import ProposalState
from civicflow.errors import InvalidInputError, ProposalNotFoundError


class Queries(UseCases):
    """What the store knows now, or knew at a moment."""

    # --- proposals ----------------------------------------------------------------

    @public
    def proposal(self, proposal_id: UUID | str, *, version: int | None = None) -> ProposalState:
        """The proposal's state now, or just after event number ``version``.

        Raises:
            InvalidInputError: the id is not a UUID, or the version not a whole number >= 1.
            ProposalNotFoundError: no such proposal (or it has fewer events).
        """
        if version is not None and (type(version) is not int or version < 1):
            raise InvalidInputError("version", [("version", "must be a whole number >= 1")])
        pid = proposal_uuid(proposal_id)
        state = self._ctx.proposal(pid, version).state
        if version is not None and state.version != version:
            # eventsourcing returns the latest state for a version not reached yet
            raise ProposalNotFoundError(pid, version)
        return state

    @public
    def history(self, proposal_id: UUID | str) -> list[Proposal.Event]:
        """Every event of the proposal, oldest first.

        Raises:
            InvalidInputError: the id is not a UUID.
            ProposalNotFoundError: no such proposal.
        """
        return self._ctx.history(proposal_uuid(proposal_id))

    @public
    def accountability(self, proposal_id: UUID | str) -> dict[str, tuple[Sponsorship, ...]]:
        """Who sponsored the proposal's area (分包) when it was decided and when it was done.

        Raises:
            InvalidInputError: the id is not a UUID.
            ProposalNotFoundError: no such proposal.
        """
        state = self._ctx.proposal(proposal_uuid(proposal_id)).state
        moments = {
            "decided": state.decision.occurred_at if state.decision else None,
            "done": state.completions[-1].occurred_at if state.completions else None,
        }
        structure = self._ctx.structure()
        return {
            step: structure.sponsors_at(state.area_id, moment)
            for step, moment in moments.items()
            if moment is not None
        }

    # --- the community ------------------------------------------------------------

    @public
    def structure(self) -> Structure:
        """Everything the directory knows, with history (empty before any registration).

        Raises:
            BackendUnavailableError: the database failed.
        """
        return self._ctx.structure()

    @public
    def area(self, area_id: str, *, as_of: datetime | None = None) -> AreaView:
        """An area as it stood at ``as_of`` (default now).

        Raises:
            MissingRegistrationError: the area did not exist then.
        """
        moment = self._ctx.now_or(as_of)
        structure = self._ctx.structure()
        self._ctx.require_area(area_id, moment, structure=structure)
        return area_view(structure, area_id, moment)

    @public
    def areas(
        self,
        *,
        kind: AreaKind | str | None = None,
        within: str | None = None,
        as_of: datetime | None = None,
    ) -> list[AreaView]:
        """Areas as they stood at ``as_of``, optionally of one kind and within one area.

        Raises:
            InvalidInputError: ``kind`` is not an area kind.
        """
        moment = self._ctx.now_or(as_of)
        structure = self._ctx.structure()
        try:
            wanted = AreaKind(kind) if kind is not None else None
        except ValueError:
            kinds = ", ".join(k.value for k in AreaKind)
            raise InvalidInputError("kind", [("kind", f"{kind!r} is not one of {kinds}")]) from None
        return [
            area_view(structure, area.id, moment)
            for area in structure.areas.values()
            if area.exists_at(moment)
            and (wanted is None or area.kind is wanted)
            and (within is None or structure.contains(within, area.id, moment))
        ]

    @public
    def council(self, compound_id: str, *, as_of: datetime | None = None) -> Council | None:
        """The compound's council as it stood at ``as_of`` (default now), or None.

        Seats taken or ended after ``as_of`` are left out, as is a later dissolution.

        Raises:
            MissingRegistrationError: the compound did not exist then.
            RuleViolationError: the area is not a compound.
        """
        moment = self._ctx.now_or(as_of)
        structure = self._ctx.structure()
        self._ctx.require_area(compound_id, moment, AreaKind.COMPOUND, structure)
        council = structure.council_at(compound_id, moment)
        return council.as_of(moment) if council is not None else None

    @public
    def policy(self, area_id: str, *, as_of: datetime | None = None) -> Policy:
        """The rules in force for an area at ``as_of``: defaults, then district, then community.

        Raises:
            MissingRegistrationError: the area did not exist then (community rules on).
        """
        moment = self._ctx.now_or(as_of)
        structure = self._ctx.structure()
        if self._ctx.community_rules:
            self._ctx.require_area(area_id, moment, structure=structure)
        return self._ctx.policy_at(structure, area_id, moment)

    @public
    def sponsors(self, area_id: str, *, as_of: datetime | None = None) -> tuple[Sponsorship, ...]:
        """Who sponsored the area (or an area it lies in) at ``as_of``.

        Raises:
            MissingRegistrationError: the area did not exist then.
        """
        moment = self._ctx.now_or(as_of)
        structure = self._ctx.structure()
        self._ctx.require_area(area_id, moment, structure=structure)
        return structure.sponsors_at(area_id, moment)

    @public
    def resident(self, resident_id: str) -> Home:
        """A resident's registrations over time.

        Raises:
            MissingRegistrationError: the resident was never registered.
        """
        return self._ctx.home(resident_id)
