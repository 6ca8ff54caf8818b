"""The application: one method per step of the six, plus queries.

Embedding applications create one ``CivicFlow`` per process and call its
methods; every refused command raises a ``CivicflowError`` and writes nothing.
Structure commands (areas, councils, residents, policies, sponsors) come from
``CommunityService``, which this class extends, so both share one store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from civicflow.application.community import CommunityService
from civicflow.audit import export, verification
from civicflow.audit import trail as audit
from civicflow.audit.ledger import LEDGER_ID, Checkpoint, Ledger
from civicflow.audit.trail import AuditEntry
from civicflow.audit.verification import Verification
from civicflow.domain.community.sponsorship import Sponsorship
from civicflow.domain.proposal import Proposal, ProposalState
from civicflow.domain.values import Budget, Channel, Level, Outcome, PublicationChannel, Vote
from civicflow.errors import (
    ConfigurationError,
    InvalidInputError,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
)
from civicflow.storage.mapper import PydanticMapper

# Computes, from the proposal as loaded, the facts a step records about the community
# (members present, the policy in force), raising if the community rules refuse it.
Prepare = Callable[[ProposalState], dict[str, Any]]


class CivicFlow(CommunityService):
    """Six-step community deliberation (问议定办晒评) as an event-sourced application.

    Args:
        env: eventsourcing settings; they override the process environment,
            which overrides civicflow's defaults (see ``docs/api.md``).
        clock: where "now" comes from; tests pass a fake one.
        max_clock_skew: how far in the future ``occurred_at`` may lie.
        policy: the rules used where no district or community set their own.
        rectification_threshold: shortcut for ``policy.rectification_threshold``.
        community_rules: check eligibility and quorum against the registered
            structure (default); False leaves that to the embedding application.
        max_attempts: how many times a command is re-run on fresh state after
            losing an optimistic-concurrency race before giving up.
    """

    name = "CivicFlow"

    # --- Ask (问) ---------------------------------------------------------------

    def ask(
        self,
        *,
        title: str,
        details: str,
        category: str,
        area_id: str,
        resident: str,
        channel: Channel | str,
        actor: str | None = None,
        occurred_at: datetime | None = None,
        proposal_id: UUID | str | None = None,
    ) -> ProposalState:
        """Collect a resident's need as a new proposal about ``area_id`` (its scope).

        Raises:
            InvalidInputError: a value is missing, malformed or out of range.
            MissingRegistrationError: the area or the resident is not registered.
            NotEligibleError: the resident does not live within the area.
            ProposalAlreadyExistsError: ``proposal_id`` is taken.
        """
        wanted_id = _uuid(proposal_id) if proposal_id is not None else None
        moment = self._when(occurred_at)
        if self.community_rules:
            structure = self.structure()  # one version of the structure for both checks
            self._require_area(area_id, moment, structure=structure)
            self._check_resident(resident, area_id, moment, "ask about", structure=structure)
        proposal = self._translating(
            "ask",
            Proposal.ask,
            proposal_id=wanted_id,
            title=title,
            details=details,
            category=category,
            area_id=area_id,
            resident=resident,
            channel=channel,
            actor=actor if actor is not None else resident,
            occurred_at=moment,
        )
        self._save_new(proposal, taken=lambda: ProposalAlreadyExistsError(proposal.id))
        return proposal.state

    def back(
        self,
        proposal_id: UUID | str,
        *,
        resident: str,
        actor: str | None = None,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record that another resident of the scope backs the same need (once each)."""
        moment = self._when(occurred_at)
        return self._command(
            proposal_id,
            "back",
            self._eligible(resident, moment, "back"),
            resident=resident,
            actor=actor if actor is not None else resident,
            occurred_at=moment,
        )

    # --- Discuss (议) and Decide (定) -------------------------------------------

    def discuss(
        self,
        proposal_id: UUID | str,
        *,
        attendees: list[str] | tuple[str, ...],
        summary: str,
        opinions: list[str] | tuple[str, ...] = (),
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record one council session: who attended, a summary, the main opinions.

        Which attendees were council members is recorded from the council as it
        stood at the session; a later decision needs a quorum of them.
        """
        moment = self._when(occurred_at)

        def members(state: ProposalState) -> dict[str, Any]:
            council = self._council_at(state.area_id, moment)
            if council is None:
                return {}
            present = tuple(a for a in dict.fromkeys(attendees) if a in council)
            return {"members_present": present, "council_size": len(council)}

        return self._command(
            proposal_id,
            "discuss",
            members,
            attendees=tuple(attendees),
            summary=summary,
            opinions=tuple(opinions),
            actor=actor,
            occurred_at=moment,
        )

    def decide(
        self,
        proposal_id: UUID | str,
        *,
        outcome: Outcome | str,
        vote: Vote | dict[str, int],
        actor: str,
        plan: str | None = None,
        budget: Budget | dict[str, Any] | None = None,
        responsible: str | None = None,
        deadline: date | None = None,
        reasons: str | None = None,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record the council's decision, with its vote, under the policy in force.

        Approved needs plan, budget, responsible and deadline; rejected needs
        reasons; deferred goes back to discussion. The latest session must have
        had a quorum and the vote must reach the policy's majority.
        """
        moment = self._when(occurred_at)
        return self._command(
            proposal_id,
            "decide",
            self._policy_for(moment),
            outcome=outcome,
            vote=vote,
            plan=plan,
            budget=budget,
            responsible=responsible,
            deadline=deadline,
            reasons=reasons,
            actor=actor,
            occurred_at=moment,
        )

    # --- Do (办) -------------------------------------------------------------------

    def report_progress(
        self,
        proposal_id: UUID | str,
        *,
        percent: int,
        note: str,
        spent: Decimal | int | str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record progress (never going down within a round) and money spent so far."""
        return self._command(
            proposal_id,
            "report_progress",
            None,
            percent=percent,
            note=note,
            spent=spent,
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    def complete(
        self,
        proposal_id: UUID | str,
        *,
        summary: str,
        total_spent: Decimal | int | str,
        evidence: list[str] | tuple[str, ...],
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record that the work of this round is complete, with total spending and evidence."""
        return self._command(
            proposal_id,
            "complete",
            None,
            summary=summary,
            total_spent=total_spent,
            evidence=tuple(evidence),
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    # --- Publish (晒) and Rate (评) ----------------------------------------------

    def publish(
        self,
        proposal_id: UUID | str,
        *,
        channels: list[PublicationChannel | str] | tuple[PublicationChannel | str, ...],
        summary: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Show the result (planned against actual spending), or the rejection, in public.

        Publishing a result opens a rating round under the policy in force now:
        its window and threshold hold for that round whatever changes later.
        """
        moment = self._when(occurred_at)
        return self._command(
            proposal_id,
            "publish",
            self._policy_for(moment),
            channels=tuple(channels),
            summary=summary,
            actor=actor,
            occurred_at=moment,
        )

    def rate(
        self,
        proposal_id: UUID | str,
        *,
        resident: str,
        level: Level | str,
        comment: str | None = None,
        actor: str | None = None,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record a resident's satisfaction with this round; a later rating replaces theirs.

        Only residents registered within the proposal's scope at the time may
        rate, and only within the round's rating window.
        """
        moment = self._when(occurred_at)
        return self._command(
            proposal_id,
            "rate",
            self._eligible(resident, moment, "rate"),
            resident=resident,
            level=level,
            comment=comment,
            actor=actor if actor is not None else resident,
            occurred_at=moment,
        )

    def rate_many(
        self,
        proposal_id: UUID | str,
        ratings: Iterable[Mapping[str, Any]],
        *,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Record many residents' ratings of this round in one transaction, all or none.

        For an office entering the forms of a rating meeting: each item has
        ``resident`` and ``level``, and may have ``comment``, ``actor`` and its own
        ``occurred_at`` (default: the call's). The same rules as ``rate`` apply to
        each; one refused rating refuses the whole batch.
        """
        moment = self._when(occurred_at)
        items = [
            {
                "resident": r.get("resident"),
                "level": r.get("level"),
                "comment": r.get("comment"),
                "actor": r.get("actor") or r.get("resident"),
                "occurred_at": self._when(r.get("occurred_at")) if r.get("occurred_at") else moment,
            }
            for r in ratings
        ]

        who = [(str(item["resident"]), cast("datetime", item["occurred_at"])) for item in items]

        def eligible(state: ProposalState) -> dict[str, Any]:
            structure = self.structure()  # one version of the structure for the whole batch
            for resident, when in who:
                self._check_resident(
                    resident, state.area_id, when, "rate", proposal_id=state.id, structure=structure
                )
            return {}

        return self._command(proposal_id, "rate_many", eligible, ratings=items)

    def close_rating(
        self, proposal_id: UUID | str, *, actor: str, occurred_at: datetime | None = None
    ) -> ProposalState:
        """End the rating round once its window has passed: closed if the satisfaction
        rate reaches the round's threshold, otherwise back to Do for rectification.
        """
        return self._command(
            proposal_id, "close_rating", None, actor=actor, occurred_at=self._when(occurred_at)
        )

    def withdraw(
        self,
        proposal_id: UUID | str,
        *,
        reason: str,
        actor: str,
        occurred_at: datetime | None = None,
    ) -> ProposalState:
        """Abandon the proposal before it is done; final."""
        return self._command(
            proposal_id,
            "withdraw",
            None,
            reason=reason,
            actor=actor,
            occurred_at=self._when(occurred_at),
        )

    # --- queries ----------------------------------------------------------------

    def proposal(self, proposal_id: UUID | str, *, version: int | None = None) -> ProposalState:
        """The proposal's state now, or just after event number ``version``.

        Raises:
            ProposalNotFoundError: no such proposal (or it has fewer events).
        """
        if version is not None and (type(version) is not int or version < 1):
            raise InvalidInputError("version", [("version", "must be a whole number >= 1")])
        pid = _uuid(proposal_id)
        state = self._load(pid, version).state
        if version is not None and state.version != version:
            # eventsourcing returns the latest state for a version not reached yet
            raise ProposalNotFoundError(pid, version)
        return state

    def history(self, proposal_id: UUID | str) -> list[Proposal.Event]:
        """Every event of the proposal, oldest first.

        Raises:
            ProposalNotFoundError: no such proposal.
        """
        pid = _uuid(proposal_id)
        events: list[Proposal.Event] = list(self.events.get(pid))  # type: ignore[arg-type]
        if not events or not isinstance(events[0], Proposal.Asked):
            raise ProposalNotFoundError(pid)
        return events

    def accountability(self, proposal_id: UUID | str) -> dict[str, tuple[Sponsorship, ...]]:
        """Who sponsored the proposal's area (分包) when it was decided and when it was done."""
        state = self.proposal(proposal_id)
        moments = {
            "decided": state.decision.occurred_at if state.decision else None,
            "done": state.completions[-1].occurred_at if state.completions else None,
        }
        structure = self.structure()
        return {
            step: structure.sponsors_at(state.area_id, moment)
            for step, moment in moments.items()
            if moment is not None
        }

    # --- audit (see docs/audit.md) ----------------------------------------------

    def audit_trail(
        self, proposal_id: UUID | str, *, as_of: datetime | None = None
    ) -> list[AuditEntry]:
        """Every event of the proposal with actor, times, stages and a line in zh and en.

        With ``as_of``, only what the store had recorded by that moment.
        """
        events = self.history(proposal_id)
        if as_of is not None:
            events = [e for e in events if e.timestamp <= as_of]
        return audit.trail(events)

    def audit_document(self, proposal_id: UUID | str, *, lang: str = "en") -> str:
        """The audit trail as a Markdown document."""
        return audit.markdown(self.proposal(proposal_id).title, self.audit_trail(proposal_id), lang)

    def proposal_as_of(self, proposal_id: UUID | str, moment: datetime) -> ProposalState:
        """The proposal as the store knew it at ``moment`` (by recording time).

        Raises:
            ProposalNotFoundError: nothing about it had been recorded by then.
        """
        known = [e.originator_version for e in self.history(proposal_id) if e.timestamp <= moment]
        if not known:
            raise ProposalNotFoundError(_uuid(proposal_id))
        return self.proposal(proposal_id, version=known[-1])

    def checkpoint(self, *, actor: str, occurred_at: datetime | None = None) -> Checkpoint:
        """Seal the log so far; publish the returned ``digest`` with the results (晒)."""
        moment = self._when(occurred_at)

        def load() -> Ledger:
            try:
                ledger: Ledger = self._get(LEDGER_ID)
            except AggregateNotFoundError:
                ledger = self._translating(
                    "checkpoint", Ledger.open, actor=actor, occurred_at=moment
                )
            last = ledger.checkpoints[-1] if ledger.checkpoints else None
            fields.update(verification.seal_log(self._pydantic_mapper(), self.recorder, last))
            return ledger

        fields: dict[str, Any] = {"actor": actor, "occurred_at": moment}
        ledger: Ledger = self._retrying(LEDGER_ID, load, "checkpoint", fields)
        return ledger.checkpoints[-1]

    def checkpoints(self) -> tuple[Checkpoint, ...]:
        """Every checkpoint taken, oldest first."""
        try:
            ledger: Ledger = self._get(LEDGER_ID)
        except AggregateNotFoundError:
            return ()
        return ledger.checkpoints

    def verify(self, published: Mapping[int, str] | None = None) -> Verification:
        """Check every seal, chain and checkpoint of the store.

        ``published`` maps checkpoint numbers to the digests published for them.
        """
        return verification.verify(
            self._pydantic_mapper(), self.recorder, self.snapshots, self.checkpoints(), published
        )

    def export_events(self, out: IO[str]) -> int:
        """Write the whole log as JSON Lines (see ``civicflow.export``); returns how many."""
        return export.export_events(self._pydantic_mapper(), self.recorder, out)

    def import_events(self, lines: Iterable[str]) -> int:
        """Load an events export into this (empty) store; returns how many.

        Raises:
            RuleViolationError: the store is not empty.
            InvalidInputError: the export is malformed.
        """
        return export.import_events(self._pydantic_mapper(), self.recorder, lines)

    # --- the mechanics ----------------------------------------------------------

    def _pydantic_mapper(self) -> PydanticMapper:
        if not isinstance(self.mapper, PydanticMapper):
            raise ConfigurationError("auditing needs civicflow's mapper (MAPPER_TOPIC unset)")
        return self.mapper

    def _command(
        self, proposal_id: UUID | str, method: str, prepare: Prepare | None, **fields: Any
    ) -> ProposalState:
        """Run a step on fresh state (re-run after a lost race), with community facts."""
        pid = _uuid(proposal_id)

        def load() -> Proposal:
            proposal = self._load(pid)
            if prepare is not None:
                fields.update(prepare(proposal.state))
            return proposal

        proposal: Proposal = self._retrying(pid, load, method, fields)
        return proposal.state

    def _eligible(self, resident: str, moment: datetime, step: str) -> Prepare:
        def check(state: ProposalState) -> dict[str, Any]:
            self._check_resident(resident, state.area_id, moment, step, proposal_id=state.id)
            return {}

        return check

    def _policy_for(self, moment: datetime) -> Prepare:
        def policy(state: ProposalState) -> dict[str, Any]:
            return {"policy": self._policy_at(self.structure(), state.area_id, moment)}

        return policy

    def _load(self, proposal_id: UUID, version: int | None = None) -> Proposal:
        try:
            proposal = self._get(proposal_id, version)
        except AggregateNotFoundError:
            raise ProposalNotFoundError(proposal_id, version) from None
        if not isinstance(proposal, Proposal):
            raise ProposalNotFoundError(proposal_id, version)
        return proposal


def _uuid(value: UUID | str) -> UUID:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInputError(
            "proposal id", [("proposal_id", f"{value!r} is not a UUID")]
        ) from None
