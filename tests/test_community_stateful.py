"""A random life of a community and its proposals, checked against a plain reference model.

The state machine interleaves changes to the community (areas, councils, residents,
policies, sponsors) with the six steps, on a fake clock that jumps minutes to weeks
between rules; steps are sometimes entered late (``occurred_at`` in the past).

``Model`` restates the rules in plain Python, from dictionaries of what held when; it
never asks civicflow's structure or policy code. For every command it predicts
acceptance or the refusal (and its error class). The invariants check that refused
commands wrote nothing, that every accepted event respected the rules in force at its
time, and that replaying the store gives the live state, which agrees with the model.

Structure changes happen one second after the previous rule, so a change never shares
its instant with a step recorded before it (which would rewrite what held at that step).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Generic, TypeVar
from uuid import UUID

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from civicflow import (
    CivicFlow,
    CivicflowError,
    InvalidInputError,
    MissingRegistrationError,
    NotEligibleError,
    Policy,
    Proposal,
    ProposalState,
    RuleViolationError,
    StepNotAllowedError,
)
from civicflow.domain.community.directory import DIRECTORY_ID
from civicflow.domain.community.residents import resident_uuid
from tests.conftest import FakeClock
from tests.storage import stored_rows

OFFICE = "office"
CHAIR = "member-1"
RESIDENTS = tuple(f"resident-{n}" for n in range(1, 13))  # 9-12 start unregistered
MEMBER_POOL = (*(f"member-{n}" for n in range(1, 7)), "resident-1", "resident-5", "resident-7")
VISITORS = ("resident-2", "resident-6", "resident-8", "visitor-1")
SPONSORS = {"cadre-1": "cadre", "cadre-2": "cadre", "dept-housing": "department"}
PARENT_KIND = {
    "district": None,
    "street": "district",
    "community": "street",
    "compound": "community",
}
UNKNOWN_AREA = "compound-unknown"
LEVEL_NAMES = ("satisfied", "basically_satisfied", "dissatisfied")

# The lifecycle, restated: which steps each stage accepts.
STEPS_ALLOWED: dict[str, frozenset[str]] = {
    "asked": frozenset({"back", "discuss", "withdraw"}),
    "discussing": frozenset({"back", "discuss", "decide", "withdraw"}),
    "doing": frozenset({"complete", "withdraw"}),
    "done": frozenset({"publish"}),
    "rating": frozenset({"rate", "close_rating"}),
    "rejected": frozenset({"publish"}),
    "closed": frozenset(),
    "withdrawn": frozenset(),
}

T = TypeVar("T")
Refusal = tuple[type[CivicflowError], str]
Command = tuple[Callable[..., object], dict[str, Any]]  # a civicflow method and its own fields


def refusals(*checks: tuple[bool, type[CivicflowError], str]) -> list[Refusal]:
    """The refusals whose condition holds."""
    return [(error, why) for failed, error, why in checks if failed]


# --- the reference model ----------------------------------------------------------


@dataclass
class Timeline(Generic[T]):
    """A value over time: each change holds from its moment on; the later record wins a tie."""

    changes: list[tuple[datetime, T]] = field(default_factory=list)

    def set(self, moment: datetime, value: T) -> None:
        self.changes.append((moment, value))

    def at(self, moment: datetime) -> T | None:
        held = [value for start, value in self.changes if start <= moment]
        return held[-1] if held else None

    @property
    def latest(self) -> T | None:
        return self.changes[-1][1] if self.changes else None


@dataclass
class Place:
    kind: str
    added_at: datetime
    name: Timeline[str]
    parent: Timeline[str]
    households: Timeline[int]


@dataclass
class Seat:
    member: str
    role: str | None
    joined: datetime
    left: datetime | None = None

    def held_at(self, moment: datetime) -> bool:
        return self.joined <= moment and (self.left is None or moment < self.left)


@dataclass
class Term:
    """One council of a compound, from forming to dissolution."""

    formed: datetime
    dissolved: datetime | None = None
    seats: list[Seat] = field(default_factory=list)

    def members_at(self, moment: datetime) -> set[str]:
        if moment < self.formed or (self.dissolved is not None and moment >= self.dissolved):
            return set()
        return {seat.member for seat in self.seats if seat.held_at(moment)}

    def open_seat(self, member: str) -> Seat | None:
        return next((s for s in self.seats if s.member == member and s.left is None), None)


@dataclass(frozen=True)
class Rules:
    """The policy, restated: defaults, overridden by a district, then by a community."""

    rectification_threshold: Decimal = Decimal("0.8")
    rating_window_days: int = 30
    quorum: Decimal = Decimal("0.5")
    majority: str = "simple"

    @property
    def rating_window(self) -> timedelta:
        return timedelta(days=self.rating_window_days)

    def has_quorum(self, present: int, size: int) -> bool:
        return size > 0 and present > self.quorum * size

    def carries(self, in_favour: int, against: int, abstain: int) -> bool:
        cast = in_favour + against + abstain
        if self.majority == "simple":
            return in_favour > against
        if self.majority == "absolute":
            return 2 * in_favour > cast
        return cast > 0 and 3 * in_favour >= 2 * cast

    def passes(self, content: int, rated: int) -> bool:
        return content >= self.rectification_threshold * rated


def rules_of(policy: Policy) -> Rules:
    """civicflow's recorded policy, in the model's terms (for comparing only)."""
    return Rules(
        policy.rectification_threshold,
        policy.rating_window_days,
        policy.quorum,
        policy.majority.value,
    )


@dataclass
class Sponsorship:
    sponsor: str
    area_id: str
    start: datetime
    end: datetime | None = None

    def held_at(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


@dataclass
class Session:
    at: datetime
    present: frozenset[str]
    size: int


@dataclass
class Case:
    """What the model expects of one proposal."""

    id: UUID
    scope: str
    asker: str
    asked_at: datetime
    stage: str = "asked"
    stage_entered: datetime | None = None
    backers: list[str] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    round: int = 0
    published_at: datetime | None = None
    round_rules: Rules | None = None
    ratings: dict[str, str] = field(default_factory=dict)
    decided_at: datetime | None = None
    done_at: datetime | None = None
    latest_step: datetime | None = None  # the latest moment any step happened

    def enter(self, stage: str, moment: datetime) -> None:
        if stage != self.stage:
            self.stage, self.stage_entered = stage, moment

    def took_step(self, moment: datetime) -> None:
        assert self.latest_step is not None
        self.latest_step = max(self.latest_step, moment)

    @property
    def rating_closes_at(self) -> datetime:
        assert self.published_at is not None
        assert self.round_rules is not None
        return self.published_at + self.round_rules.rating_window


class Model:
    """The community and its proposals as plain dictionaries of what held when."""

    def __init__(self) -> None:
        self.areas: dict[str, Place] = {}
        self.terms: dict[str, list[Term]] = {}
        self.homes: dict[str, Timeline[str | None]] = {}
        self.policies: dict[str, list[tuple[datetime, dict[str, Any]]]] = {}
        self.sponsorships: list[Sponsorship] = []
        self.cases: list[Case] = []

    # --- the structure as it stood at a moment ---------------------------------------

    def ids_of(self, *kinds: str) -> list[str]:
        return sorted(a for a, place in self.areas.items() if place.kind in kinds)

    def exists(self, area_id: str, moment: datetime) -> bool:
        place = self.areas.get(area_id)
        return place is not None and place.added_at <= moment

    def chain(self, area_id: str | None, moment: datetime) -> list[str]:
        """The area and every area it lay in at ``moment``, narrowest first."""
        chain: list[str] = []
        while area_id and self.exists(area_id, moment) and area_id not in chain:
            chain.append(area_id)
            area_id = self.areas[area_id].parent.at(moment)
        return chain

    def within(self, scope: str, area_id: str, moment: datetime) -> bool:
        return scope in self.chain(area_id, moment)

    def enclosing(self, area_id: str, kind: str, moment: datetime) -> str | None:
        return next((a for a in self.chain(area_id, moment) if self.areas[a].kind == kind), None)

    def home_at(self, resident: str, moment: datetime) -> str | None:
        homes = self.homes.get(resident)
        return homes.at(moment) if homes else None

    def residents_within(self, scope: str, moment: datetime) -> list[str]:
        homes = {r: self.home_at(r, moment) for r in sorted(self.homes)}
        return [r for r, home in homes.items() if home and self.within(scope, home, moment)]

    def members_at(self, compound: str, moment: datetime) -> set[str]:
        members: set[str] = set()
        for term in self.terms.get(compound, []):
            members |= term.members_at(moment)
        return members

    def council_within(self, scope: str, moment: datetime) -> set[str]:
        """Members at ``moment`` of the councils of every compound lying within ``scope``."""
        members: set[str] = set()
        for compound in self.ids_of("compound"):
            if self.within(scope, compound, moment):
                members |= self.members_at(compound, moment)
        return members

    def open_term(self, compound: str) -> Term | None:
        terms = self.terms.get(compound, [])
        return terms[-1] if terms and terms[-1].dissolved is None else None

    def rules_at(self, scope: str, moment: datetime) -> Rules:
        rules = Rules()
        for kind in ("district", "community"):
            source = self.enclosing(scope, kind, moment)
            for effective, change in self.policies.get(source or "", []):
                if effective <= moment:
                    rules = replace(rules, **change)
        return rules

    def sponsors_at(self, area_id: str, moment: datetime) -> set[tuple[str, str, datetime]]:
        chain = self.chain(area_id, moment)
        return {
            (s.sponsor, s.area_id, s.start)
            for s in self.sponsorships
            if s.area_id in chain and s.held_at(moment)
        }

    # --- predictions for structure commands ---------------------------------------------

    def refusals_to_reassign(self, compound: str, community: str) -> list[Refusal]:
        current = self.areas[compound].parent.latest
        return refusals((current == community, RuleViolationError, f"already in {community}"))

    def refusals_to_change_council(
        self, change: str, compound: str, member: str, role: str | None
    ) -> list[Refusal]:
        term = self.open_term(compound)
        if change == "form":
            return refusals((term is not None, RuleViolationError, "a council already sits"))
        if term is None:
            return [(MissingRegistrationError, f"{compound} has no council")]
        sitting = term.open_seat(member) is not None
        if change == "leave":
            return refusals((not sitting, RuleViolationError, f"{member} does not sit"))
        taken = role is not None and any(s.role == role for s in term.seats if s.left is None)
        return refusals(
            (change == "join" and sitting, RuleViolationError, f"{member} already sits"),
            (change == "join" and taken, RuleViolationError, f"the {role} seat is taken"),
        )

    def refusals_to_change_home(self, change: str, resident: str, compound: str) -> list[Refusal]:
        known = resident in self.homes
        if change == "register":
            return refusals((known, RuleViolationError, f"{resident} is already registered"))
        if not known:
            return [(MissingRegistrationError, f"{resident} was never registered")]
        current = self.homes[resident].latest
        if change == "move":
            return refusals((current == compound, RuleViolationError, f"already in {compound}"))
        return refusals((current is None, RuleViolationError, "already moved out"))

    def refusals_to_set_policy(
        self, area_id: str, change: dict[str, Any], effective: datetime
    ) -> list[Refusal]:
        earlier = self.policies.get(area_id, [])
        return refusals(
            (
                self.areas[area_id].kind not in ("district", "community"),
                RuleViolationError,
                f"policies belong to districts and communities, not to {area_id}",
            ),
            (not change, RuleViolationError, "a policy change sets no rule"),
            (
                bool(earlier) and effective < earlier[-1][0],
                RuleViolationError,
                "effective before the last change",
            ),
        )

    def open_sponsorship(self, sponsor: str, area_id: str) -> Sponsorship | None:
        return next(
            (
                s
                for s in self.sponsorships
                if (s.sponsor, s.area_id, s.end) == (sponsor, area_id, None)
            ),
            None,
        )

    def refusals_to_sponsor(self, change: str, sponsor: str, area_id: str) -> list[Refusal]:
        held = self.open_sponsorship(sponsor, area_id) is not None
        if change == "end":
            return refusals((not held, RuleViolationError, f"{sponsor} does not sponsor it"))
        return refusals(
            (
                self.areas[area_id].kind not in ("community", "compound"),
                RuleViolationError,
                f"sponsors answer for communities and compounds, not for {area_id}",
            ),
            (held, RuleViolationError, f"{sponsor} already sponsors {area_id}"),
        )

    # --- predictions for proposal commands ----------------------------------------------

    def eligibility(self, resident: str, scope: str, moment: datetime) -> list[Refusal]:
        """Only residents registered within the scope at the moment take part (an id never
        registered included: it is not eligible, see docs/community.md)."""
        home = self.home_at(resident, moment)
        return refusals(
            (home is None, NotEligibleError, f"{resident} had no home at {moment}"),
            (
                home is not None and not self.within(scope, home, moment),
                NotEligibleError,
                f"{resident} lived in {home}, outside {scope}, at {moment}",
            ),
        )

    def refusals_to_ask(self, scope: str, resident: str, moment: datetime) -> list[Refusal]:
        missing = not self.exists(scope, moment)
        return [
            *refusals((missing, MissingRegistrationError, f"{scope} did not exist at {moment}")),
            *self.eligibility(resident, scope, moment),
        ]

    @staticmethod
    def out_of_stage(case: Case, step: str) -> list[Refusal]:
        return refusals(
            (step not in STEPS_ALLOWED[case.stage], StepNotAllowedError, f"{step} in {case.stage}")
        )

    @staticmethod
    def before_stage(case: Case, moment: datetime) -> list[Refusal]:
        assert case.stage_entered is not None
        return refusals(
            (moment < case.stage_entered, RuleViolationError, "dated before its stage began")
        )

    def refusals_to_back(self, case: Case, resident: str, moment: datetime) -> list[Refusal]:
        return [
            *self.eligibility(resident, case.scope, moment),
            *self.out_of_stage(case, "back"),
            *refusals(
                (moment < case.asked_at, RuleViolationError, "dated before the need was asked"),
                (
                    resident in (case.asker, *case.backers),
                    RuleViolationError,
                    f"{resident} already asked or backed",
                ),
            ),
        ]

    def refusals_to_discuss(
        self, case: Case, attendees: list[str], moment: datetime, actor: str
    ) -> list[Refusal]:
        council = self.council_within(case.scope, moment)
        return [
            *refusals(
                (not council, MissingRegistrationError, f"no council members in {case.scope}"),
                (not attendees, InvalidInputError, "nobody attended"),
            ),
            *self.not_a_recorder(case, moment, actor),
            *self.out_of_stage(case, "discuss"),
            *self.before_stage(case, moment),
        ]

    def refusals_to_decide(
        self, case: Case, vote: tuple[int, int, int], moment: datetime, actor: str
    ) -> list[Refusal]:
        if "decide" not in STEPS_ALLOWED[case.stage]:
            return [*self.out_of_stage(case, "decide"), *self.not_a_recorder(case, moment, actor)]
        rules, session = self.rules_at(case.scope, moment), case.sessions[-1]
        present = len(session.present)
        return [
            *self.not_a_recorder(case, moment, actor),
            *self.before_stage(case, moment),
            *refusals(
                (
                    moment < session.at,
                    RuleViolationError,
                    f"dated before the session of {session.at} it rests on",
                ),
                (
                    not rules.has_quorum(present, session.size),
                    RuleViolationError,
                    f"{present} of {session.size} present, quorum {rules.quorum}",
                ),
                (sum(vote) > present, RuleViolationError, f"{sum(vote)} votes, {present} present"),
                (not rules.carries(*vote), RuleViolationError, f"no {rules.majority} majority"),
            ),
        ]

    def not_a_recorder(self, case: Case, moment: datetime, actor: str) -> list[Refusal]:
        """Sessions and decisions are recorded by a council member within the scope then."""
        outsider = actor not in self.council_within(case.scope, moment)
        return refusals((outsider, NotEligibleError, f"{actor} sits on no council there"))

    def refusals_to_step(self, case: Case, step: str, moment: datetime) -> list[Refusal]:
        """Complete, publish and withdraw: the stage must allow it, and not be dated before it."""
        if step not in STEPS_ALLOWED[case.stage]:
            return self.out_of_stage(case, step)
        return self.before_stage(case, moment)

    def refusals_to_rate(self, case: Case, resident: str, moment: datetime) -> list[Refusal]:
        eligibility = self.eligibility(resident, case.scope, moment)
        if "rate" not in STEPS_ALLOWED[case.stage]:
            return [*eligibility, *self.out_of_stage(case, "rate")]
        late = moment > case.rating_closes_at
        return [
            *eligibility,
            *self.before_stage(case, moment),
            *refusals((late, RuleViolationError, f"the window closed at {case.rating_closes_at}")),
        ]

    def refusals_to_close(self, case: Case, moment: datetime) -> list[Refusal]:
        if "close_rating" not in STEPS_ALLOWED[case.stage]:
            return self.out_of_stage(case, "close_rating")
        early = moment < case.rating_closes_at
        return [
            *self.before_stage(case, moment),
            *refusals(
                (not case.ratings, RuleViolationError, "nobody rated this round"),
                (early, RuleViolationError, f"the window is open until {case.rating_closes_at}"),
            ),
        ]

    # --- what accepted proposal commands change ------------------------------------------

    def discussed(self, case: Case, attendees: list[str], moment: datetime) -> None:
        council = self.council_within(case.scope, moment)
        case.sessions.append(Session(moment, frozenset(attendees) & council, len(council)))
        case.enter("discussing", moment)

    def decided(self, case: Case, outcome: str, moment: datetime) -> None:
        case.decided_at = moment
        if outcome == "approved":
            case.round = 1
            case.enter("doing", moment)
        elif outcome == "rejected":
            case.enter("rejected", moment)

    def published(self, case: Case, moment: datetime) -> None:
        if case.stage == "rejected":
            case.enter("closed", moment)
            return
        case.published_at, case.round_rules = moment, self.rules_at(case.scope, moment)
        case.enter("rating", moment)

    def closed(self, case: Case, moment: datetime) -> None:
        assert case.round_rules is not None
        content = sum(level != "dissatisfied" for level in case.ratings.values())
        passed = case.round_rules.passes(content, len(case.ratings))
        case.ratings = {}
        if not passed:
            case.round += 1
        case.enter("closed" if passed else "doing", moment)


# --- the state machine ------------------------------------------------------------

PICK = st.integers(min_value=0, max_value=30)
LEVELS = st.sampled_from(LEVEL_NAMES)
MOSTLY = st.sampled_from([True, True, True, False])
BACKDATES = {
    "10 minutes ago": timedelta(minutes=10),
    "6 hours ago": timedelta(hours=6),
    "3 days ago": timedelta(days=3),
}
WHEN = st.sampled_from(
    ["now"] * 6 + [*BACKDATES, "midway through its stage", "just before its latest step"]
)
DELAYS = st.one_of(
    st.integers(1, 180).map(lambda n: timedelta(minutes=n)),
    st.integers(1, 72).map(lambda n: timedelta(hours=n)),
    st.integers(1, 40).map(lambda n: timedelta(days=n)),
    st.integers(1, 40).map(lambda n: timedelta(days=n)),
)
POLICY_CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "rectification_threshold": st.sampled_from(["0.5", "0.6", "0.6667", "0.8", "1"]).map(
            Decimal
        ),
        "rating_window_days": st.sampled_from([1, 3, 7, 30]),
        "quorum": st.sampled_from(["0", "0.3", "0.5", "0.66"]).map(Decimal),
        "majority": st.sampled_from(["simple", "absolute", "two_thirds"]),
    },
)
VOTES = st.one_of(
    st.just("everyone present in favour"),
    st.just("everyone present in favour"),
    st.just("everyone present in favour"),
    st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 2)),
)
APPROVAL: dict[str, Any] = {
    "plan": "Install 12 LED fittings",
    "budget": {"amount": "3600.00", "funding_sources": ["district fund"]},
    "responsible": "member-2",
    "deadline": date(2099, 1, 1),
}


class CommunityLife(RuleBasedStateMachine):
    """A community changing under its proposals, on a clock that jumps ahead."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.flow = CivicFlow(clock=self.clock)
        self.model = Model()
        self.serial = 0
        self.checked: dict[tuple[str, UUID], Hashable] = {}

    # --- mechanics ----------------------------------------------------------------------

    def attempt(
        self,
        step: str,
        expected: list[Refusal],
        command: Callable[..., object],
        *args: object,
        **kw: object,
    ) -> bool:
        """Run a command, check it against the model's prediction; True if it was accepted."""
        before = stored_rows(self.flow) if expected else None  # a surprise refusal fails anyway
        try:
            command(*args, **kw)
        except CivicflowError as error:
            refused = error
        else:
            event(f"{step}: accepted")
            assert not expected, f"{step} accepted, but the model refuses it: {expected}"
            return True
        event(f"{step}: refused ({type(refused).__name__})")
        assert expected, f"{step} refused, but the model accepts it: {refused!r}"
        assert type(refused) in {e for e, _ in expected}, f"{refused!r}; expected {expected}"
        assert stored_rows(self.flow) == before, f"the refused {step} changed the store"
        return False

    def tick(self) -> datetime:
        """Structure changes come strictly after every step recorded so far."""
        return self.clock.advance(seconds=1)

    def pick_area(self, kinds: tuple[str, ...], pick: int) -> str:
        ids = self.model.ids_of(*kinds)
        return ids[pick % len(ids)]

    def pick_case(self, step: str, pick: int, fitting: bool) -> Case:
        cases = self.model.cases
        ready = [c for c in cases if step in STEPS_ALLOWED[c.stage]]
        pool = ready if fitting and ready else cases
        return pool[pick % len(pool)]

    def pick_resident(self, scope: str, moment: datetime, insider: bool, pick: int) -> str:
        insiders = self.model.residents_within(scope, moment) if insider else []
        pool = insiders or list(RESIDENTS)
        return pool[pick % len(pool)]

    # --- structure changes ------------------------------------------------------------------

    def add_area(self, area_id: str, kind: str, parent: str | None, households: int = 40) -> None:
        moment = self.tick()
        extra: dict[str, Any] = {}
        if kind == "compound":
            extra = {"is_old": True, "has_property_management": False, "households": households}
        if self.attempt(
            "add_area",
            [],
            self.flow.add_area,
            area_id,
            kind=kind,
            name=area_id,
            parent_id=parent,
            actor=OFFICE,
            **extra,
        ):
            place = Place(kind, moment, Timeline(), Timeline(), Timeline())
            place.name.set(moment, area_id)
            if parent:
                place.parent.set(moment, parent)
            if kind == "compound":
                place.households.set(moment, households)
            self.model.areas[area_id] = place

    def change_council(
        self, change: str, compound: str, member: str = CHAIR, role: str | None = None
    ) -> None:
        moment = self.tick()
        expected = self.model.refusals_to_change_council(change, compound, member, role)
        commands: dict[str, Command] = {
            "form": (self.flow.form_council, {}),
            "dissolve": (self.flow.dissolve_council, {}),
            "join": (self.flow.join_council, {"member": member, "via": "election", "role": role}),
            "leave": (self.flow.leave_council, {"member": member}),
        }
        command, fields = commands[change]
        if self.attempt(f"{change} council", expected, command, compound, actor=OFFICE, **fields):
            self.council_changed(change, compound, member, role, moment)

    def council_changed(
        self, change: str, compound: str, member: str, role: str | None, moment: datetime
    ) -> None:
        if change == "form":
            self.model.terms.setdefault(compound, []).append(Term(moment))
            return
        term = self.model.open_term(compound)
        assert term is not None
        if change == "join":
            term.seats.append(Seat(member, role, moment))
        elif change == "leave":
            seat = term.open_seat(member)
            assert seat is not None
            seat.left = moment
        else:
            term.dissolved = moment
            for seat in term.seats:
                seat.left = seat.left or moment

    def change_home(self, change: str, resident: str, compound: str) -> None:
        moment = self.tick()
        expected = self.model.refusals_to_change_home(change, resident, compound)
        commands: dict[str, Command] = {
            "register": (self.flow.register_resident, {"compound_id": compound}),
            "move": (self.flow.move_resident, {"compound_id": compound}),
            "move out": (self.flow.move_out, {}),
        }
        command, fields = commands[change]
        if self.attempt(change, expected, command, resident, actor=OFFICE, **fields):
            home = None if change == "move out" else compound
            self.model.homes.setdefault(resident, Timeline()).set(moment, home)

    @initialize()
    def a_community_a_week_old_with_two_needs_asked(self) -> None:
        self.add_area("district-1", "district", None)
        self.add_area("street-1", "street", "district-1")
        for community in ("community-1", "community-2"):
            self.add_area(community, "community", "street-1")
        for compound, community in (
            ("compound-1", "community-1"),
            ("compound-2", "community-1"),
            ("compound-3", "community-2"),
        ):
            self.add_area(compound, "compound", community)
        for compound, members in (
            ("compound-1", ("member-1", "member-2", "member-3")),
            ("compound-3", ("member-4", "resident-5")),
        ):
            self.change_council("form", compound)
            for member in members:
                self.change_council("join", compound, member)
        for number, resident in enumerate(RESIDENTS[:8]):
            self.change_home("register", resident, f"compound-{1 + number // 3}")
        self.clock.advance(days=7)
        self.ask("compound-1", "resident-1")
        self.ask("community-1", "resident-4")

    @rule(delay=DELAYS)
    def time_passes(self, delay: timedelta) -> None:
        self.clock.advance(seconds=delay.total_seconds())

    @rule(kind=st.sampled_from(list(PARENT_KIND)), parent=PICK, households=st.integers(0, 300))
    def an_area_is_added(self, kind: str, parent: int, households: int) -> None:
        self.serial += 1
        parent_kind = PARENT_KIND[kind]
        parent_id = self.pick_area((parent_kind,), parent) if parent_kind else None
        self.add_area(f"{kind}-{10 + self.serial}", kind, parent_id, households)

    @rule(
        change=st.sampled_from(["rename", "reassign", "count households"]),
        area=PICK,
        community=PICK,
        households=st.integers(0, 300),
    )
    def an_area_changes(self, change: str, area: int, community: int, households: int) -> None:
        if change == "rename":
            self.rename(self.pick_area(tuple(PARENT_KIND), area), f"Hongqi {households}")
            return
        compound = self.pick_area(("compound",), area)
        if change == "reassign":
            self.reassign(compound, self.pick_area(("community",), community))
        else:
            self.count_households(compound, households)

    def rename(self, area_id: str, name: str) -> None:
        moment = self.tick()
        if self.attempt("rename", [], self.flow.rename_area, area_id, name=name, actor=OFFICE):
            self.model.areas[area_id].name.set(moment, name)

    def reassign(self, compound: str, community: str) -> None:
        moment = self.tick()
        expected = self.model.refusals_to_reassign(compound, community)
        reassign = self.flow.reassign_compound
        if self.attempt(
            "reassign", expected, reassign, compound, community_id=community, actor=OFFICE
        ):
            self.model.areas[compound].parent.set(moment, community)

    def count_households(self, compound: str, households: int) -> None:
        moment = self.tick()
        count = self.flow.count_households
        if self.attempt("count", [], count, compound, households=households, actor=OFFICE):
            self.model.areas[compound].households.set(moment, households)

    @rule(
        change=st.sampled_from(["form", "dissolve", "join", "join", "join", "leave"]),
        compound=PICK,
        member=st.sampled_from(MEMBER_POOL),
        role=st.sampled_from([None, None, None, "chair", "secretary"]),
    )
    def the_council_changes(
        self, change: str, compound: int, member: str, role: str | None
    ) -> None:
        self.change_council(change, self.pick_area(("compound",), compound), member, role)

    @rule(
        change=st.sampled_from(["register", "move", "move", "move out"]),
        resident=st.sampled_from(RESIDENTS),
        compound=PICK,
    )
    def a_resident_changes_home(self, change: str, resident: str, compound: int) -> None:
        self.change_home(change, resident, self.pick_area(("compound",), compound))

    @rule(
        level=st.sampled_from(["district", "district", "community", "community", "street"]),
        area=PICK,
        change=POLICY_CHANGES,
        delay=st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(days=3)]),
    )
    def a_policy_is_set(
        self, level: str, area: int, change: dict[str, Any], delay: timedelta
    ) -> None:
        moment = self.tick()
        area_id = self.pick_area((level,), area)
        effective = moment + delay
        expected = self.model.refusals_to_set_policy(area_id, change, effective)
        if self.attempt(
            "set_policy",
            expected,
            self.flow.set_policy,
            area_id,
            **change,
            effective_from=effective if delay else None,
            actor=OFFICE,
        ):
            self.model.policies.setdefault(area_id, []).append((effective, change))

    @rule(
        change=st.sampled_from(["assign", "assign", "end"]),
        level=st.sampled_from(["community", "compound", "compound", "street"]),
        area=PICK,
        sponsor=st.sampled_from(sorted(SPONSORS)),
    )
    def a_sponsorship_changes(self, change: str, level: str, area: int, sponsor: str) -> None:
        moment = self.tick()
        area_id = self.pick_area((level,), area)
        expected = self.model.refusals_to_sponsor(change, sponsor, area_id)
        commands: dict[str, Command] = {
            "assign": (self.flow.assign_sponsor, {"kind": SPONSORS[sponsor]}),
            "end": (self.flow.end_sponsorship, {}),
        }
        command, fields = commands[change]
        if not self.attempt(
            f"{change} sponsor", expected, command, area_id, sponsor=sponsor, actor=OFFICE, **fields
        ):
            return
        held = self.model.open_sponsorship(sponsor, area_id)
        if held is not None:
            held.end = moment
        else:
            self.model.sponsorships.append(Sponsorship(sponsor, area_id, moment))

    # --- the six steps, each predicted by the model ---------------------------------------

    def ask(self, scope: str, resident: str, at: datetime | None = None) -> None:
        moment = at or self.clock.now
        proposal_id = UUID(int=len(self.model.cases) + 1)
        if self.attempt(
            "ask",
            self.model.refusals_to_ask(scope, resident, moment),
            self.flow.ask,
            title="Fix the stairwell lights",
            details="Dark at night",
            category="lighting",
            area_id=scope,
            resident=resident,
            channel="visit",
            occurred_at=at,
            proposal_id=proposal_id,
        ):
            case = Case(
                proposal_id, scope, resident, moment, stage_entered=moment, latest_step=moment
            )
            self.model.cases.append(case)

    def back(self, case: Case, resident: str, at: datetime | None = None) -> None:
        moment = at or self.clock.now
        if self.attempt(
            "back",
            self.model.refusals_to_back(case, resident, moment),
            self.flow.back,
            case.id,
            resident=resident,
            occurred_at=at,
        ):
            case.backers.append(resident)
            case.took_step(moment)

    def discuss(
        self, case: Case, attendees: list[str], at: datetime | None = None, outsider: bool = False
    ) -> None:
        moment = at or self.clock.now
        actor = OFFICE if outsider else self.recorder(case, moment)
        if self.attempt(
            "discuss",
            self.model.refusals_to_discuss(case, attendees, moment, actor),
            self.flow.discuss,
            case.id,
            attendees=attendees,
            summary="Residents want lights",
            actor=actor,
            occurred_at=at,
        ):
            self.model.discussed(case, attendees, moment)
            case.took_step(moment)

    def decide(
        self,
        case: Case,
        outcome: str,
        vote: tuple[int, int, int],
        at: datetime | None = None,
        outsider: bool = False,
    ) -> None:
        moment = at or self.clock.now
        actor = OFFICE if outsider else self.recorder(case, moment)
        details = {"approved": APPROVAL, "rejected": {"reasons": "Not ours"}}.get(outcome, {})
        if self.attempt(
            f"decide ({outcome})",
            self.model.refusals_to_decide(case, vote, moment, actor),
            self.flow.decide,
            case.id,
            outcome=outcome,
            vote=dict(zip(("in_favour", "against", "abstain"), vote, strict=True)),
            actor=actor,
            occurred_at=at,
            **details,
        ):
            self.model.decided(case, outcome, moment)
            case.took_step(moment)

    def recorder(self, case: Case, moment: datetime) -> str:
        """The chair when they sit on a council within the scope then, else another member."""
        council = sorted(self.model.council_within(case.scope, moment))
        return CHAIR if CHAIR in council or not council else council[0]

    def complete(self, case: Case, at: datetime | None = None) -> None:
        moment = at or self.clock.now
        if self.attempt(
            "complete",
            self.model.refusals_to_step(case, "complete", moment),
            self.flow.complete,
            case.id,
            summary="Installed",
            total_spent="3450",
            evidence=["photo:1"],
            actor="member-2",
            occurred_at=at,
        ):
            case.done_at = moment
            case.enter("done", moment)
            case.took_step(moment)

    def publish(self, case: Case, at: datetime | None = None) -> None:
        moment = at or self.clock.now
        if self.attempt(
            "publish",
            self.model.refusals_to_step(case, "publish", moment),
            self.flow.publish,
            case.id,
            channels=["notice_board"],
            summary="Lights on",
            actor=CHAIR,
            occurred_at=at,
        ):
            self.model.published(case, moment)
            case.took_step(moment)

    def rate(self, case: Case, resident: str, level: str, at: datetime | None = None) -> None:
        moment = at or self.clock.now
        if self.attempt(
            "rate",
            self.model.refusals_to_rate(case, resident, moment),
            self.flow.rate,
            case.id,
            resident=resident,
            level=level,
            occurred_at=at,
        ):
            case.ratings.pop(resident, None)
            case.ratings[resident] = level
            case.took_step(moment)

    def close_rating(self, case: Case, at: datetime | None = None) -> None:
        moment = at or self.clock.now
        if self.attempt(
            "close_rating",
            self.model.refusals_to_close(case, moment),
            self.flow.close_rating,
            case.id,
            actor=CHAIR,
            occurred_at=at,
        ):
            self.model.closed(case, moment)
            case.took_step(moment)
            event(f"a rating round ended in {case.stage}")

    def withdraw(self, case: Case, at: datetime | None = None) -> None:
        moment = at or self.clock.now
        if self.attempt(
            "withdraw",
            self.model.refusals_to_step(case, "withdraw", moment),
            self.flow.withdraw,
            case.id,
            reason="No longer needed",
            actor=CHAIR,
            occurred_at=at,
        ):
            case.enter("withdrawn", moment)
            case.took_step(moment)

    # --- rules: any step, with random inputs --------------------------------------------------

    def backdated(self, when: str, case: Case | None = None) -> datetime | None:
        """When a step entered late happened (None: now)."""
        now = self.clock.now
        if when == "midway through its stage" and case is not None:
            assert case.stage_entered is not None
            return case.stage_entered + (now - case.stage_entered) / 2
        if when == "just before its latest step" and case is not None:
            assert case.latest_step is not None
            return case.latest_step - timedelta(minutes=1)
        return now - BACKDATES[when] if when in BACKDATES else None

    @rule(
        level=st.sampled_from(["compound", "compound", "community", "community", "street", "?"]),
        area=PICK,
        insider=MOSTLY,
        who=PICK,
        when=WHEN,
    )
    def a_resident_asks(self, level: str, area: int, insider: bool, who: int, when: str) -> None:
        scope = self.pick_area((level,), area) if level != "?" else UNKNOWN_AREA
        at = self.backdated(when)
        self.ask(scope, self.pick_resident(scope, at or self.clock.now, insider, who), at)

    @rule(which=PICK, fitting=MOSTLY, insider=MOSTLY, who=PICK, when=WHEN)
    def another_resident_backs(
        self, which: int, fitting: bool, insider: bool, who: int, when: str
    ) -> None:
        case = self.pick_case("back", which, fitting)
        at = self.backdated(when, case)
        self.back(case, self.pick_resident(case.scope, at or self.clock.now, insider, who), at)

    @rule(
        which=PICK,
        fitting=MOSTLY,
        members=st.integers(0, 5),
        others=st.lists(st.sampled_from((*MEMBER_POOL, *VISITORS)), unique=True, max_size=3),
        when=WHEN,
        member=MOSTLY,
    )
    def the_council_discusses(  # noqa: PLR0917 - one argument per drawn value
        self, which: int, fitting: bool, members: int, others: list[str], when: str, member: bool
    ) -> None:
        case = self.pick_case("discuss", which, fitting)
        at = self.backdated(when, case)
        council = sorted(self.model.council_within(case.scope, at or self.clock.now))
        attendees = list(dict.fromkeys([*council[:members], *others]))
        self.discuss(case, attendees, at, outsider=not member)

    @rule(
        which=PICK,
        fitting=MOSTLY,
        outcome=st.sampled_from(["approved", "approved", "rejected", "deferred"]),
        vote=VOTES,
        when=WHEN,
        member=MOSTLY,
    )
    def the_council_decides(  # noqa: PLR0917 - one argument per drawn value
        self,
        which: int,
        fitting: bool,
        outcome: str,
        vote: str | tuple[int, int, int],
        when: str,
        member: bool,
    ) -> None:
        case = self.pick_case("decide", which, fitting)
        if isinstance(vote, str):
            vote = (len(case.sessions[-1].present) if case.sessions else 1, 0, 0)
        self.decide(case, outcome, vote, self.backdated(when, case), outsider=not member)

    @rule(which=PICK, fitting=MOSTLY, when=WHEN)
    def the_work_is_completed(self, which: int, fitting: bool, when: str) -> None:
        case = self.pick_case("complete", which, fitting)
        self.complete(case, self.backdated(when, case))

    @rule(which=PICK, fitting=MOSTLY, when=WHEN)
    def the_result_is_published(self, which: int, fitting: bool, when: str) -> None:
        case = self.pick_case("publish", which, fitting)
        self.publish(case, self.backdated(when, case))

    @rule(which=PICK, fitting=MOSTLY, insider=MOSTLY, who=PICK, level=LEVELS, when=WHEN)
    def a_resident_rates(  # noqa: PLR0917 - one argument per drawn value
        self, which: int, fitting: bool, insider: bool, who: int, level: str, when: str
    ) -> None:
        case = self.pick_case("rate", which, fitting)
        at = self.backdated(when, case)
        resident = self.pick_resident(case.scope, at or self.clock.now, insider, who)
        self.rate(case, resident, level, at)

    @rule(which=PICK, fitting=MOSTLY, when=WHEN)
    def the_rating_round_is_closed(self, which: int, fitting: bool, when: str) -> None:
        case = self.pick_case("close_rating", which, fitting)
        self.close_rating(case, self.backdated(when, case))

    @rule(which=PICK, fitting=st.booleans(), when=WHEN)
    def the_proposal_is_withdrawn(self, which: int, fitting: bool, when: str) -> None:
        case = self.pick_case("withdraw", which, fitting)
        self.withdraw(case, self.backdated(when, case))

    # --- a rule that moves a proposal along: depth, whichever rules swarm testing disables ----

    @rule(
        after=DELAYS,
        which=PICK,
        steps=st.integers(1, 5),
        turnout=st.integers(0, 4),
        minutes=WHEN,
        who=PICK,
        level=LEVELS,
    )
    def later_a_proposal_takes_its_likely_next_steps(  # noqa: PLR0917 - one per drawn value
        self,
        after: timedelta,
        which: int,
        steps: int,
        turnout: int,
        minutes: str,
        who: int,
        level: str,
    ) -> None:
        """A first session sees ``turnout`` members, later ones the whole council; every step
        is entered as it happens, except that a decision's minutes may come late."""
        self.clock.advance(seconds=after.total_seconds())
        cases = self.model.cases
        moving = [c for c in cases if STEPS_ALLOWED[c.stage]] or cases
        case = moving[which % len(moving)]
        for _ in range(steps):
            self.take_likely_next_step(case, turnout, minutes, who, level)

    def take_likely_next_step(
        self, case: Case, turnout: int, minutes: str, who: int, level: str
    ) -> None:
        now = self.clock.now
        council = sorted(self.model.council_within(case.scope, now))
        if case.stage == "asked":
            self.discuss(case, [*council[:turnout], case.asker])
        elif case.stage == "discussing" and not self.ready_to_decide(case):
            self.discuss(case, council)
        elif case.stage == "discussing":
            vote = (len(case.sessions[-1].present), 0, 0)
            self.decide(case, "approved", vote, self.backdated(minutes, case))
        elif case.stage == "doing":
            self.complete(case)
        elif case.stage in ("done", "rejected"):
            self.publish(case)
        elif case.stage == "rating" and now <= case.rating_closes_at:
            self.rate(
                case, self.pick_resident(case.scope, now, True, who + len(case.ratings)), level
            )
        elif case.stage == "rating":
            self.close_rating(case)

    def ready_to_decide(self, case: Case) -> bool:
        if not case.sessions:
            return False
        session, rules = case.sessions[-1], self.model.rules_at(case.scope, self.clock.now)
        return rules.has_quorum(len(session.present), session.size)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def the_structure_reads_as_the_model_says(self) -> None:
        now, model = self.clock.now, self.model
        if not self.changed("structure", DIRECTORY_ID, self.structure_version()):
            return
        for area_id, place in model.areas.items():
            view = self.flow.area(area_id)
            seen = (view.kind.value, view.name, view.parent_id, view.households)
            wanted = (
                place.kind,
                place.name.at(now),
                place.parent.at(now),
                place.households.at(now),
            )
            assert seen == wanted, area_id
        for compound in model.ids_of("compound"):
            council = self.flow.council(compound)
            members = council.members_at(now) if council else frozenset()
            assert members == model.members_at(compound, now), compound
        for resident in model.homes:
            assert self.flow.resident(resident).compound_at(now) == model.home_at(resident, now)
        for area_id in model.ids_of(*PARENT_KIND):
            assert rules_of(self.flow.policy(area_id)) == model.rules_at(area_id, now), area_id

    def structure_version(self) -> tuple[int, ...]:
        """What the structure as of now depends on: recorded changes, and policies in force."""
        now = self.clock.now
        return (
            self.flow.repository.get(DIRECTORY_ID).version,
            sum(len(home.changes) for home in self.model.homes.values()),
            sum(eff <= now for changes in self.model.policies.values() for eff, _ in changes),
        )

    def changed(self, check: str, aggregate_id: UUID, version: Hashable) -> bool:
        """Whether an aggregate recorded events since ``check`` last looked at it.

        What the model expects of an aggregate changes only with an accepted command,
        and the model's history only grows after the moments already recorded, so an
        aggregate that recorded nothing new needs no second look.
        """
        changed = self.checked.get((check, aggregate_id)) != version
        self.checked[check, aggregate_id] = version
        return changed

    @invariant()
    def replaying_the_store_gives_the_live_state_which_agrees_with_the_model(self) -> None:
        for case in self.model.cases:
            live = self.flow.proposal(case.id)
            if self.changed("replay", case.id, live.version):
                assert self.flow.proposal(case.id, version=live.version) == live
                self.agrees(case, live)
        repository = self.flow.repository
        for aggregate_id in (DIRECTORY_ID, *map(resident_uuid, self.model.homes)):
            live = repository.get(aggregate_id)
            if self.changed("replay", aggregate_id, live.version):
                assert repository.get(aggregate_id, version=live.version).state == live.state

    def agrees(self, case: Case, state: ProposalState) -> None:
        seen = (state.stage.value, state.round, state.stage_entered_at, len(state.discussions))
        assert seen == (case.stage, case.round, case.stage_entered, len(case.sessions))
        assert list(state.backers) == case.backers
        assert {r.resident: r.level.value for r in state.ratings} == case.ratings
        accountable = self.flow.accountability(case.id)
        for step, moment in (("decided", case.decided_at), ("done", case.done_at)):
            if moment is not None:
                sponsors = {(s.sponsor, s.area_id, s.start) for s in accountable[step]}
                assert sponsors == self.model.sponsors_at(case.scope, moment), step

    @invariant()
    def every_accepted_step_respected_the_rules_in_force_at_its_time(self) -> None:
        for case in self.model.cases:
            if self.changed("audit", case.id, self.flow.proposal(case.id).version):
                Audit(self.model, case).check(self.flow.history(case.id))


class Audit:
    """Walks one proposal's history and checks each event against the model."""

    def __init__(self, model: Model, case: Case) -> None:
        self.model, self.case = model, case
        self.session: Proposal.Discussed | None = None
        self.opened: datetime | None = None
        self.round_ratings: dict[str, str] = {}  # each resident's latest rating of the round

    def check(self, history: list[Proposal.Event]) -> None:
        for step in history:
            match step:
                case Proposal.Asked() | Proposal.Backed():
                    self.lived_within(step.resident, step.occurred_at)
                case Proposal.Discussed():
                    self.discussed(step)
                case Proposal.Decided():
                    self.decided(step)
                case Proposal.Published():
                    policy = self.model.rules_at(self.case.scope, step.occurred_at)
                    assert rules_of(step.policy) == policy
                    self.opened, self.round_ratings = step.occurred_at, {}
                case Proposal.Rated():
                    self.rated(step)
                case Proposal.RatingClosed():
                    self.rating_closed(step)

    def lived_within(self, resident: str, moment: datetime) -> None:
        home = self.model.home_at(resident, moment)
        assert home is not None, f"{resident} had no home at {moment}"
        assert self.model.within(self.case.scope, home, moment), (resident, home, moment)

    def discussed(self, session: Proposal.Discussed) -> None:
        council = self.model.council_within(self.case.scope, session.occurred_at)
        assert set(session.members_present or ()) == council & set(session.attendees)
        assert session.council_size == len(council)
        self.session = session

    def decided(self, decision: Proposal.Decided) -> None:
        assert self.session is not None
        at, session_at = decision.occurred_at, self.session.occurred_at
        rules = self.model.rules_at(self.case.scope, at)
        council = self.model.council_within(self.case.scope, session_at)
        present = len(council & set(self.session.attendees))
        vote = decision.vote
        assert rules_of(decision.policy) == rules
        assert session_at <= at, f"decided at {at}, on a session held at {session_at}"
        assert rules.has_quorum(present, len(council)), (present, len(council), rules.quorum)
        assert vote.cast <= present
        assert rules.carries(vote.in_favour, vote.against, vote.abstain)

    def rated(self, rating: Proposal.Rated) -> None:
        self.lived_within(rating.resident, rating.occurred_at)
        assert self.opened is not None
        window = self.model.rules_at(self.case.scope, self.opened).rating_window
        assert self.opened <= rating.occurred_at <= self.opened + window
        self.round_ratings[rating.resident] = rating.level.value

    def rating_closed(self, closing: Proposal.RatingClosed) -> None:
        assert self.opened is not None
        rules = self.model.rules_at(self.case.scope, self.opened)
        levels = list(self.round_ratings.values())
        counts = (closing.satisfied, closing.basically_satisfied, closing.dissatisfied)
        assert counts == tuple(levels.count(level) for level in LEVEL_NAMES)
        content = closing.satisfied + closing.basically_satisfied
        rated = content + closing.dissatisfied
        rate = (Decimal(content) / rated).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
        assert closing.threshold == rules.rectification_threshold
        assert closing.occurred_at >= self.opened + rules.rating_window
        assert (closing.satisfaction_rate, closing.passed) == (rate, rules.passes(content, rated))


CommunityLife.TestCase.settings = settings(stateful_step_count=40, deadline=None)
TestACommunityAndItsProposalsFollowTheRulesInForce = CommunityLife.TestCase
