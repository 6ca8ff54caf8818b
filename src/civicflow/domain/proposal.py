"""The Proposal aggregate: one residents' need through Ask, Discuss, Decide, Do, Publish, Rate.

Commands check the lifecycle table and the business rules *before* any event
exists, so a refused command leaves the aggregate (and the store) untouched.
Each event knows its step; the base ``Event.apply`` moves the stage by the table.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from civicflow.domain import lifecycle
from civicflow.domain.community.policy import Policy
from civicflow.domain.eventmodel import (
    AggregateCreated,
    AggregateEvent,
    AggregateSnapshot,
    PydanticAggregate,
    keep_topics,
)
from civicflow.domain.lifecycle import Stage, Step
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
    content,
    fraction,
)
from civicflow.errors import RuleViolationError, StepNotAllowedError


class Proposal(PydanticAggregate):
    """One need of a compound's residents and everything done about it."""

    class_version = 1  # of the snapshot state; bump with an upcast_vN_vM for old snapshots

    class Event(AggregateEvent):
        """Base of every proposal event: who did it and when it happened in the world."""

        step: ClassVar[Step]
        actor: ActorId
        occurred_at: AwareDatetime

        def branch(self) -> str:
            """Which row of the lifecycle table this event follows, when a step has several."""
            return ""

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
            approval = {
                "plan": self.plan,
                "budget": self.budget,
                "responsible": self.responsible,
                "deadline": self.deadline,
            }
            given = [name for name, value in approval.items() if value is not None]
            missing = [name for name, value in approval.items() if value is None]
            if self.outcome is Outcome.APPROVED and missing:
                raise ValueError(f"an approval needs {', '.join(missing)}")
            if self.outcome is not Outcome.APPROVED and given:
                raise ValueError(f"only an approval carries {', '.join(given)}")
            if self.outcome is Outcome.REJECTED and self.reasons is None:
                raise ValueError("a rejection needs reasons")
            return self

        def branch(self) -> str:
            return self.outcome.value

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
            others = tuple(r for r in state.ratings if r.resident != self.resident)
            return {"ratings": (*others, self)}

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

        def branch(self) -> str:
            return "passed" if self.passed else "rectify"

        def changes(self, state: ProposalState) -> dict[str, Any]:
            update: dict[str, Any] = {"rounds": (*state.rounds, self), "ratings": ()}
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
    def ask(cls, proposal_id: UUID | None = None, **fields: Any) -> Proposal:
        """Start a proposal from a resident's need."""
        return cls._create(cls.Asked, id=proposal_id or uuid4(), **fields)

    def snapshot_state(self) -> dict[str, Any]:
        """The state as JSON-ready data, for ``Proposal.Snapshot``."""
        return self.state.model_dump(mode="json")

    def from_snapshot_state(self, data: dict[str, Any]) -> None:
        """Restore the state from ``snapshot_state`` output."""
        self.state = ProposalState.model_validate(data)

    # --- commands: validate, check the rules, then record ------------------------
    # Each command builds its event first (pydantic validates every value), checks
    # the lifecycle table and the rules against that typed event, and only then
    # applies it. Rules live here, never in ``apply``: replaying history must not
    # re-judge facts by today's rules.

    def back(self, **fields: Any) -> None:
        """Record that a resident backs this need."""
        event = self._propose(self.Backed, fields, not_before=self.state.asked_at)
        if event.resident == self.state.asked_by or event.resident in self.state.backers:
            self._refuse(
                "backing", f"resident {event.resident} already asked for or backed this need"
            )
        self._record(event)

    def discuss(self, **fields: Any) -> None:
        """Record one council session."""
        self._record(self._propose(self.Discussed, fields))

    def decide(self, **fields: Any) -> None:
        """Record the council's decision and its vote, by the rules in force."""
        event = self._propose(self.Decided, fields)
        self._check_quorum(event)
        vote, majority = event.vote, event.policy.majority
        if not majority.is_met(vote.in_favour, vote.against, vote.abstain):
            self._refuse(
                "majority",
                f"the vote ({vote.in_favour} for, {vote.against} against, {vote.abstain} "
                f"abstaining) does not reach the {majority.value} majority: "
                f"{majority.describe()}",
            )
        if event.deadline is not None and event.deadline < event.occurred_at.date():
            self._refuse("deadline", f"deadline {event.deadline} is before the decision itself")
        self._record(event)

    def report_progress(self, **fields: Any) -> None:
        """Record how far the work is and what it has cost so far."""
        event = self._propose(self.ProgressReported, fields)
        if event.percent < self.state.percent:
            self._refuse(
                "progress",
                f"progress cannot go down from {self.state.percent}% to {event.percent}%",
            )
        self._check_spending(event.spent)
        self._record(event)

    def complete(self, **fields: Any) -> None:
        """Record that this round's work is complete."""
        event = self._propose(self.Done, fields)
        self._check_spending(event.total_spent)
        self._record(event)

    def publish(self, **fields: Any) -> None:
        """Record that the result (or the rejection) was shown in public."""
        decision = self.state.decision
        if decision is not None and decision.outcome is Outcome.REJECTED:
            fields.update(reasons=decision.reasons)
        elif decision is not None and decision.budget is not None:
            fields.update(planned_spending=decision.budget.amount, actual_spending=self.state.spent)
        self._record(self._propose(self.Published, fields))

    def rate(self, **fields: Any) -> None:
        """Record a resident's rating of this round, replacing their earlier one."""
        event = self._propose(self.Rated, {**fields, "round": self.state.round})
        closes_at = self.state.rating_closes_at
        if closes_at is not None and event.occurred_at > closes_at:
            self._refuse(
                "window",
                f"the rating window of round {self.state.round} closed at "
                f"{closes_at.isoformat()}; late ratings are refused",
            )
        self._record(event)

    def rate_many(self, *, ratings: list[dict[str, Any]]) -> None:
        """Record several residents' ratings at once; one refusal refuses them all."""
        for fields in ratings:
            self.rate(**fields)

    def close_rating(self, **fields: Any) -> None:
        """End this round: closed when satisfied enough, otherwise back to Do (整改)."""
        self._check_step(Step.CLOSE_RATING)
        levels = [rating.level for rating in self.state.ratings]
        policy = self.state.publications[-1].policy
        counts = {level.value: levels.count(level) for level in Level}
        satisfied = content(counts)
        rate = fraction(satisfied, len(levels)) or Decimal(0)
        threshold = policy.rectification_threshold
        event = self._propose(
            self.RatingClosed,
            {
                **fields,
                **counts,
                "round": self.state.round,
                "satisfaction_rate": rate,
                "threshold": threshold,
                "passed": satisfied >= threshold * len(levels),
            },
        )
        # Values are checked (by building the event) before the rules, as in every command.
        if not levels:
            self._refuse("ratings", "a round cannot close before anyone has rated it")
        closes_at = self.state.rating_closes_at
        if closes_at is not None and event.occurred_at < closes_at:
            self._refuse(
                "window",
                f"round {self.state.round} accepts ratings until "
                f"{closes_at.isoformat()}; close it after that",
            )
        self._record(event)

    def withdraw(self, **fields: Any) -> None:
        """Abandon the proposal before completion."""
        self._record(self._propose(self.Withdrawn, fields))

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

    def _check_quorum(self, decision: Proposal.Decided) -> None:
        """A decision comes from the latest session, which needs a quorum of the council."""
        session = self.state.discussions[-1]
        if decision.occurred_at < session.occurred_at:
            self._refuse(
                "chronology",
                f"the decision is dated before the session of "
                f"{session.occurred_at.isoformat()} it rests on",
            )
        if session.council_size is None or session.members_present is None:
            return  # community rules were off for that session
        present, size = len(session.members_present), session.council_size
        if not decision.policy.quorum_met(present, size):
            self._refuse(
                "quorum",
                f"the session of {session.occurred_at.date()} had {present} "
                f"of {size} council members present; a decision needs more than "
                f"{decision.policy.quorum:.0%} of them",
            )
        if decision.vote.cast > present:
            self._refuse(
                "vote",
                f"{decision.vote.cast} votes were cast but only {present} "
                "council members were present",
            )

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

    def _refuse(self, rule: str, message: str) -> NoReturn:
        raise RuleViolationError(self.id, rule, message)


E = TypeVar("E", bound=Proposal.Event)


class ProposalState(BaseModel):
    """What a proposal is now: every fact recorded about it, by step.

    Immutable: each event produces a new state, so a state handed out by a
    query can never change under its reader.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID
    version: int
    stage: Stage
    title: str
    details: str
    category: str
    area_id: str
    asked_by: str
    channel: Channel
    asked_at: datetime
    stage_entered_at: datetime
    recorded_at: datetime
    round: int = 0
    backers: tuple[str, ...] = ()
    discussions: tuple[Proposal.Discussed, ...] = ()
    decisions: tuple[Proposal.Decided, ...] = ()
    progress: tuple[Proposal.ProgressReported, ...] = ()
    percent: int = 0
    spent: Decimal = Decimal(0)
    completions: tuple[Proposal.Done, ...] = ()
    publications: tuple[Proposal.Published, ...] = ()
    ratings: tuple[Proposal.Rated, ...] = ()
    rounds: tuple[Proposal.RatingClosed, ...] = ()
    withdrawal: Proposal.Withdrawn | None = None

    @property
    def decision(self) -> Proposal.Decided | None:
        """The latest decision, if any (a deferral is followed by another)."""
        return self.decisions[-1] if self.decisions else None

    @property
    def rating_closes_at(self) -> datetime | None:
        """When the open rating round stops accepting ratings (None: no round open)."""
        if self.stage is not Stage.RATING:
            return None
        return self.stage_entered_at + self.publications[-1].policy.rating_window

    @property
    def is_final(self) -> bool:
        """Whether no step can follow."""
        return self.stage in lifecycle.FINAL_STAGES


ProposalState.model_rebuild()


keep_topics("civicflow.proposal", Proposal)
