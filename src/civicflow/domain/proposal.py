"""The Proposal aggregate: one residents' need through Ask, Discuss, Decide, Do, Publish, Rate.

Commands check the lifecycle table and the business rules *before* any event
exists, so a refused command leaves the aggregate (and the store) untouched.
Each event knows its step; the base ``Event.apply`` moves the stage by the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar, Unpack
from uuid import uuid4

from pydantic import AwareDatetime, Field, model_validator

from civicflow.domain import lifecycle
from civicflow.domain import proposal_commands as commands
from civicflow.domain import proposal_rules as rules
from civicflow.domain import proposal_state as kept
from civicflow.domain.community.policy import Policy
from civicflow.domain.eventmodel import (
    AggregateCreated,
    AggregateEvent,
    AggregateSnapshot,
    PydanticAggregate,
    keep_topics,
)
from civicflow.domain.lifecycle import Step
from civicflow.domain.proposal_state import NO_RATINGS, ProposalState, with_rating
from civicflow.domain.values import (
    ActorId,
    Budget,
    Channel,
    DistinctIds,
    Level,
    Money,
    Outcome,
    PublicationChannel,
    ShortText,
    Text,
    Vote,
)
from civicflow.errors import RuleViolationError, StepNotAllowedError


class Proposal(PydanticAggregate):
    """One need of a compound's residents and everything done about it."""

    class_version = 3  # of the snapshot state; bump with an upcast_vN_vM for old snapshots

    class Event(AggregateEvent):
        """Base of every proposal event: who did it and when it happened in the world."""

        step: ClassVar[Step]
        actor: ActorId
        occurred_at: AwareDatetime

        def branch(self) -> lifecycle.Branch | None:
            """Which row of the lifecycle table this event follows, when a step has several."""
            return None

        def changes(self, state: ProposalState) -> dict[str, Any]:
            """What this event changes in the state, beside stage and version."""
            return {}

        def apply(self, aggregate: Any) -> None:
            state: ProposalState = aggregate.state
            target = lifecycle.target_stage(state.stage, self.step, self.branch())
            update = self.changes(state)
            update.update(stage=target, version=self.originator_version, recorded_at=self.timestamp)
            if target is not state.stage:
                update["stage_entered_at"] = self.occurred_at
            aggregate.state = state.model_copy(update=update)

    class Asked(Event, AggregateCreated):
        """A resident's need was collected (问)."""

        step = Step.ASK
        title: ShortText
        details: Text
        category: ShortText
        area_id: ActorId
        resident: ActorId
        channel: Channel

        def apply(self, aggregate: Any) -> None:
            aggregate.state = ProposalState(
                id=self.originator_id,
                version=self.originator_version,
                stage=lifecycle.target_stage(None, Step.ASK),
                title=self.title,
                details=self.details,
                category=self.category,
                area_id=self.area_id,
                asked_by=self.resident,
                channel=self.channel,
                asked_at=self.occurred_at,
                stage_entered_at=self.occurred_at,
                recorded_at=self.timestamp,
            )

    class Backed(Event):
        """Another resident backed the same need."""

        step = Step.BACK
        resident: ActorId

        def changes(self, state: ProposalState) -> dict[str, Any]:
            return {"backers": (*state.backers, self.resident)}

    class Discussed(Event):
        """The council held one session on the proposal (议)."""

        step = Step.DISCUSS
        attendees: DistinctIds = Field(min_length=1)
        summary: Text
        opinions: tuple[Text, ...] = ()
        # Filled in by the application from the council as it stood at the session;
        # None when community rules are off (quorum then cannot be judged).
        members_present: tuple[ActorId, ...] | None = None
        council_size: int | None = Field(default=None, ge=0)

        @property
        def residents_present(self) -> tuple[str, ...]:
            """Attendees who were not council members at the session."""
            members = set(self.members_present or ())
            return tuple(a for a in self.attendees if a not in members)

        def changes(self, state: ProposalState) -> dict[str, Any]:
            return {"discussions": (*state.discussions, self)}

    class Decided(Event):
        """The council decided: approved with a plan, rejected with reasons, or deferred (定)."""

        step = Step.DECIDE
        outcome: Outcome
        vote: Vote
        plan: Text | None = None
        budget: Budget | None = None
        responsible: ActorId | None = None
        deadline: date | None = None
        reasons: Text | None = None
        policy: Policy  # the rules in force when the decision was taken

        @model_validator(mode="after")
        def _outcome_has_what_it_needs(self) -> Proposal.Decided:
            problem = rules.missing_for_outcome(self)
            if problem:
                raise ValueError(problem)
            return self

        def branch(self) -> lifecycle.Branch | None:
            return self.outcome

        def changes(self, state: ProposalState) -> dict[str, Any]:
            update: dict[str, Any] = {"decisions": (*state.decisions, self)}
            if self.outcome is Outcome.APPROVED:
                update["round"] = 1
            return update

    class ProgressReported(Event):
        """Work moved on: how far, what it cost so far (办)."""

        step = Step.REPORT_PROGRESS
        percent: int = Field(ge=0, le=100)
        note: Text
        spent: Money

        def changes(self, state: ProposalState) -> dict[str, Any]:
            return {
                "progress": (*state.progress, self),
                "percent": self.percent,
                "spent": self.spent,
            }

    class Done(Event):
        """The work of this round is complete, with what it cost in total."""

        step = Step.COMPLETE
        summary: Text
        total_spent: Money
        evidence: tuple[ShortText, ...] = Field(min_length=1)

        def changes(self, state: ProposalState) -> dict[str, Any]:
            return {
                "completions": (*state.completions, self),
                "percent": 100,
                "spent": self.total_spent,
            }

    class Published(Event):
        """The result was shown in public, with planned against actual spending (晒)."""

        step = Step.PUBLISH
        channels: tuple[PublicationChannel, ...] = Field(min_length=1)
        summary: Text
        planned_spending: Money | None = None
        actual_spending: Money | None = None
        reasons: Text | None = None
        policy: Policy  # the rules of the rating round this publication opens

        def changes(self, state: ProposalState) -> dict[str, Any]:
            return {"publications": (*state.publications, self)}

    class Rated(Event):
        """A resident rated this round's result (评); a later rating replaces an earlier one."""

        step = Step.RATE
        resident: ActorId
        level: Level
        comment: Text | None = None
        round: int = Field(ge=1)

        def changes(self, state: ProposalState) -> dict[str, Any]:
            return with_rating(state, self)

    class RatingClosed(Event):
        """A rating round ended: passed (closed) or below threshold (back to Do, 整改)."""

        step = Step.CLOSE_RATING
        round: int = Field(ge=1)
        satisfied: int = Field(ge=0)
        basically_satisfied: int = Field(ge=0)
        dissatisfied: int = Field(ge=0)
        satisfaction_rate: Decimal = Field(ge=0, le=1)
        threshold: Decimal = Field(gt=0, le=1)  # from the policy the round opened with
        passed: bool

        def branch(self) -> lifecycle.Branch | None:
            return lifecycle.Verdict.PASSED if self.passed else lifecycle.Verdict.RECTIFY

        def changes(self, state: ProposalState) -> dict[str, Any]:
            update: dict[str, Any] = {"rounds": (*state.rounds, self), **NO_RATINGS}
            if not self.passed:
                update.update(round=state.round + 1, percent=0)
            return update

    class Withdrawn(Event):
        """The proposal was abandoned before completion; this is final."""

        step = Step.WITHDRAW
        reason: Text

        def changes(self, state: ProposalState) -> dict[str, Any]:
            return {"withdrawal": self}

    class Snapshot(AggregateSnapshot):
        """The proposal's whole state at a version."""

    # --- construction and copying -------------------------------------------------

    if TYPE_CHECKING:  # declared here only: a class annotation would make this a dataclass
        state: ProposalState

    @classmethod
    def ask(cls, **command: Unpack[commands.Ask]) -> Proposal:
        """Start a proposal from a resident's need."""
        fields = {key: value for key, value in command.items() if key != "proposal_id"}
        return cls._create(cls.Asked, id=command["proposal_id"] or uuid4(), **fields)

    def snapshot_state(self) -> dict[str, Any]:
        """The state as JSON-ready data, for ``Proposal.Snapshot``."""
        return kept.snapshot_data(self.state)

    def from_snapshot_state(self, data: dict[str, Any]) -> None:
        """Restore the state from ``snapshot_state`` output."""
        self.state = kept.state_from_snapshot(data)

    # Version 1 kept each rating as its whole event, version 2 as a row of its fields.
    upcast_v1_v2 = staticmethod(kept.upcast_events_to_rows)
    upcast_v2_v3 = staticmethod(kept.upcast_rows_to_columns)

    # --- commands: validate, check the rules, then record ------------------------
    # Each command builds its event first (pydantic validates every value), checks
    # the lifecycle table and the rules against that typed event, and only then
    # applies it. Rules live here and in ``proposal_rules``, never in ``apply``:
    # replaying history must not re-judge facts by today's rules.

    def back(self, **command: Unpack[commands.Back]) -> None:
        """Record that a resident backs this need."""
        event = self._propose(self.Backed, {**command}, not_before=self.state.asked_at)
        if event.resident == self.state.asked_by or event.resident in self.state.backers:
            self._refuse(
                "backing", f"resident {event.resident} already asked for or backed this need"
            )
        self._record(event)

    def discuss(self, **command: Unpack[commands.Discuss]) -> None:
        """Record one council session."""
        self._record(self._propose(self.Discussed, {**command}))

    def decide(self, **command: Unpack[commands.Decide]) -> None:
        """Record the council's decision and its vote, by the policy in force."""
        event = self._propose(self.Decided, {**command})
        self._check(rules.decision_refusal(event, self.state.discussions[-1]))
        self._record(event)

    def report_progress(self, **command: Unpack[commands.ReportProgress]) -> None:
        """Record how far the work is and what it has cost so far."""
        event = self._propose(self.ProgressReported, {**command})
        if event.percent < self.state.percent:
            self._refuse(
                "progress",
                f"progress cannot go down from {self.state.percent}% to {event.percent}%",
            )
        self._check_spending(event.spent)
        self._record(event)

    def complete(self, **command: Unpack[commands.Complete]) -> None:
        """Record that this round's work is complete."""
        event = self._propose(self.Done, {**command})
        self._check_spending(event.total_spent)
        self._record(event)

    def publish(self, **command: Unpack[commands.Publish]) -> None:
        """Record that the result (or the rejection) was shown in public."""
        fields: dict[str, Any] = {**command}
        decision = self.state.decision
        if decision is not None and decision.outcome is Outcome.REJECTED:
            fields.update(reasons=decision.reasons)
        elif decision is not None and decision.budget is not None:
            fields.update(planned_spending=decision.budget.amount, actual_spending=self.state.spent)
        self._record(self._propose(self.Published, fields))

    def rate(self, **command: Unpack[commands.Rate]) -> None:
        """Record a resident's rating of this round, replacing their earlier one."""
        event = self._propose(self.Rated, {**command, "round": self.state.round})
        self._check(rules.late_rating_refusal(self.state, event.occurred_at))
        self._record(event)

    def rate_many(self, ratings: Sequence[commands.Rate]) -> None:
        """Record several residents' ratings at once; one refusal refuses them all."""
        for rating in ratings:
            self.rate(**rating)

    def close_rating(self, **command: Unpack[commands.CloseRating]) -> None:
        """End this round: closed when satisfied enough, otherwise back to Do (整改)."""
        self._check_step(Step.CLOSE_RATING)
        tally = rules.tally(self.state.rating_levels, self.state.publications[-1].policy)
        # Values are checked (by building the event) before the rules, as in every command.
        event = self._propose(self.RatingClosed, {**command, **tally, "round": self.state.round})
        self._check(rules.early_close_refusal(self.state, event.occurred_at))
        self._record(event)

    def withdraw(self, **command: Unpack[commands.Withdraw]) -> None:
        """Abandon the proposal before completion."""
        self._record(self._propose(self.Withdrawn, {**command}))

    # --- the mechanics behind every command -------------------------------------

    def _propose(
        self, event_class: type[E], fields: dict[str, Any], not_before: datetime | None = None
    ) -> E:
        """The next event, validated, once the stage and chronology allow it."""
        self._check_step(event_class.step)
        event = self._next_event(event_class, fields)
        bound = not_before or self.state.stage_entered_at
        if event.occurred_at < bound:
            self._refuse(
                "chronology",
                f"{event.step.value} at {event.occurred_at.isoformat()} "
                f"would be before the stage it belongs to began ({bound.isoformat()})",
            )
        return event

    def _check_step(self, step: Step) -> None:
        stage = self.state.stage
        if not lifecycle.is_allowed(stage, step):
            allowed = [s.value for s in lifecycle.allowed_steps(stage)]
            raise StepNotAllowedError(self.id, stage.value, step.value, allowed)

    def _check_spending(self, spent: Decimal) -> None:
        if spent < self.state.spent:
            self._refuse(
                "spending", f"money spent cannot go down from {self.state.spent} to {spent}"
            )

    def _check(self, refusal: rules.Refusal) -> None:
        if refusal is not None:
            self._refuse(*refusal)

    def _refuse(self, rule: str, message: str) -> NoReturn:
        raise RuleViolationError(self.id, rule, message)


E = TypeVar("E", bound=Proposal.Event)


ProposalState.model_rebuild(_types_namespace={"Proposal": Proposal})
ProposalState.rated_event = Proposal.Rated  # how ``ratings`` turns rows back into events


keep_topics("civicflow.proposal", Proposal)
