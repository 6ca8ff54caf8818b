"""Views equal a naive recount of the whole log, however catch-up is cut into batches.

Each example lives through a random history of two districts (one on Shanghai time, one
on New York time): compounds added late and reassigned between communities, councils
formed, changed and dissolved, residents registering, moving between compounds and moving
out, policies with different rating windows and quorums, and many proposals at compound and
community scope stepping through the six steps, with community rules on or (sometimes) off.
A fake clock crosses several quarters and often stops just before a quarter ends in one of
the two zones; steps are often entered late (``occurred_at`` in the past), and residents
rate and rate again.

``Recount`` restates every figure from the decoded notification log in plain Python: it
reads event fields only, never civicflow's views, structure or tracker code. The tests
assert that ``Views`` gives its figures whatever the batch size and however catch-up is
cut by ``limit`` (also part-way, as the log grows): every number equal, or hidden; that a
rebuild gives the same; that small groups stay private (every figure from 1..k-1 distinct
residents hidden, each participation field on its own; nothing suppressed with k = 1 and
everything from anyone with a huge k); and that overdue work goes by the district's days.

The recount hides only what is small itself. What the views hide beside it (complementary
suppression, so that no combination of shown figures narrows a hidden one) is held to the
linear-programming attack of ``tests/test_views_disclosure.py``, not restated here. Where
the definitions leave a choice, overdue work is judged on the calendar day of the
proposal's district.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from random import Random
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import Phase, event, given, settings
from hypothesis import strategies as st

from civicflow import CivicFlow, CivicflowError, ProposalState, Stage
from civicflow.views import Views
from tests.conftest import FakeClock

OFFICE = "office"
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SHANGHAI, NEW_YORK = "Asia/Shanghai", "America/New_York"
LEVELS = ("compound", "community", "street", "district")
PARENT = {"compound": "community", "community": "street", "street": "district"}
HUGE_K = 10**6
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

DISTRICTS = {"district-1": None, "district-2": NEW_YORK}
STREETS = {"street-1": "district-1", "street-2": "district-1", "street-3": "district-2"}
COMMUNITIES = {
    "comm-1": "street-1",
    "comm-2": "street-1",
    "comm-3": "street-2",
    "comm-4": "street-3",
    "comm-5": "street-3",
}
COMPOUNDS = {
    "c-1": "comm-1",
    "c-2": "comm-1",
    "c-3": "comm-2",
    "c-4": "comm-3",
    "c-5": "comm-3",
    "c-6": "comm-4",
    "c-7": "comm-4",
    "c-8": "comm-5",
}
LATE_COMPOUNDS = {"c-9": "comm-2", "c-10": "comm-4", "c-11": "comm-1"}
DISTRICT_OF = {c: STREETS[s] for c, s in COMMUNITIES.items()}
RESIDENTS = tuple(f"r-{n:02}" for n in range(1, 97))
FIRST_RESIDENTS = RESIDENTS[:72]
VISITORS = ("v-1", "v-2")
ELSEWHERE = ("building-1", "building-2")  # areas an application without rules never registers
POLICY_AREAS = ("district-1", "district-2", "comm-2", "comm-4")
GRADES = ("satisfied", "basically_satisfied", "dissatisfied")


def pick(items: list[Any] | tuple[Any, ...], index: int) -> Any:
    return items[index % len(items)]


# --- a random life of the community, through the application ------------------------------


@dataclass
class Life:
    """Runs drawn operations against a ``CivicFlow``; a refused command is simply skipped."""

    rules: bool = True  # community rules; off, anyone takes part anywhere
    env: dict[str, str] | None = None  # eventsourcing settings (a cipher, say)
    clock: FakeClock = field(default_factory=lambda: FakeClock(START))
    flow: CivicFlow = field(init=False)
    parent: dict[str, str] = field(default_factory=dict)  # compound -> community now
    added: dict[str, datetime] = field(default_factory=dict)
    parent_changed: dict[str, datetime] = field(default_factory=dict)
    counted: dict[str, datetime] = field(default_factory=dict)
    councils: dict[str, list[str]] = field(default_factory=dict)  # active councils' members
    home: dict[str, str | None] = field(default_factory=dict)
    home_changed: dict[str, datetime] = field(default_factory=dict)
    stage: dict[UUID, Stage] = field(default_factory=dict)
    accepted: int = 0
    refused: int = 0

    def __post_init__(self) -> None:
        self.flow = CivicFlow(env=self.env, clock=self.clock, community_rules=self.rules)

    # --- the community at the start -------------------------------------------------------

    def build(self, households: list[int], windows: list[int], without: set[str]) -> None:
        for district, zone in DISTRICTS.items():
            self.flow.add_area(
                district, kind="district", name=district, time_zone=zone, actor=OFFICE
            )
        for street, district in STREETS.items():
            self.flow.add_area(street, kind="street", name=street, parent_id=district, actor=OFFICE)
        for community, street in COMMUNITIES.items():
            self.flow.add_area(
                community, kind="community", name=community, parent_id=street, actor=OFFICE
            )
        for n, compound in enumerate(COMPOUNDS):
            self.add_compound(compound, COMPOUNDS[compound], households[n])
            if compound not in without:
                self.form_council(compound)
        for n, resident in enumerate(FIRST_RESIDENTS):
            self.register(resident, pick(list(COMPOUNDS), n), self.clock.now)
        with_council = [c for c in COMPOUNDS if c in self.councils]
        self.join(FIRST_RESIDENTS[0], with_council[0])  # a resident on a council
        for area, window in zip(POLICY_AREAS, windows, strict=False):
            self.flow.set_policy(area, rating_window_days=window, actor=OFFICE)

    def add_compound(self, compound: str, community: str, households: int) -> None:
        self.flow.add_area(
            compound,
            kind="compound",
            name=compound,
            parent_id=community,
            is_old=households % 2 == 0,
            has_property_management=households % 3 == 0,
            households=households,
            actor=OFFICE,
        )
        now = self.clock.now
        self.parent[compound] = community
        self.added[compound] = self.parent_changed[compound] = self.counted[compound] = now

    def form_council(self, compound: str) -> None:
        self.flow.form_council(compound, actor=OFFICE)
        self.councils[compound] = []
        for n in (1, 2):
            self.join(f"m-{compound}-{n}", compound)

    def join(self, member: str, compound: str) -> None:
        self.flow.join_council(compound, member=member, via="election", actor=OFFICE)
        self.councils[compound].append(member)

    def register(self, resident: str, compound: str, moment: datetime) -> None:
        self.flow.register_resident(
            resident, compound_id=compound, actor=OFFICE, occurred_at=moment
        )
        self.home[resident], self.home_changed[resident] = compound, moment

    # --- running operations -------------------------------------------------------------

    def run(self, genes: Iterable[tuple[str, int, int, int]]) -> None:
        for name, a, b, c in genes:
            operation: Callable[[int, int, int], object] = getattr(self, f"op_{name}")
            try:
                operation(a, b, c)
            except CivicflowError:
                self.refused += 1
            else:
                self.accepted += 1

    def when(self, lower: datetime, gene: int) -> datetime:
        """Now, or a while ago (a step entered late), but never before ``lower``."""
        kind, amount = gene % 6, gene // 6
        back = (
            timedelta(0),
            timedelta(0),
            timedelta(minutes=amount % 120),
            timedelta(hours=amount % 36),
            timedelta(days=amount % 8, minutes=amount % 1440),
            timedelta(days=amount % 20),
        )[kind]
        return max(lower, self.clock.now - back)

    def compounds(self) -> list[str]:
        return sorted(self.parent)

    def within(self, resident: str, scope: str) -> bool:
        home = self.home.get(resident)
        return not self.rules or (home is not None and scope in (home, self.parent[home]))

    def people(self, scope: str) -> list[str]:
        """Who may take part in a proposal about ``scope`` (as far as the model knows)."""
        return [r for r in (*RESIDENTS, *VISITORS) if self.within(r, scope)] or list(RESIDENTS)

    def op_tick(self, a: int, b: int, c: int) -> None:
        if a % 5 == 4:  # to just before a quarter ends, in one of the two time zones
            start = next_quarter_start(self.clock.now, pick((SHANGHAI, NEW_YORK), b))
            target = start - timedelta(seconds=c % (8 * 3600))
            if timedelta(0) < target - self.clock.now < timedelta(days=45):
                self.clock.now = target
                return
        steps = (
            timedelta(seconds=1 + b % 600),
            timedelta(minutes=1 + b % 300),
            timedelta(hours=1 + b % 40),
            timedelta(days=1 + b % 9, seconds=c % 86400),
            timedelta(days=8 + b % 25),
        )
        self.clock.now += pick(steps, a)

    def op_register(self, a: int, b: int, c: int) -> None:
        waiting = [r for r in RESIDENTS if r not in self.home]
        if not waiting:
            self.op_move(a, b, c)
            return
        compound = pick(self.compounds(), b)
        self.register(pick(waiting, a), compound, self.when(self.added[compound], c))

    def op_move(self, a: int, b: int, c: int) -> None:
        resident = pick(sorted(self.home), a)
        compound = pick([x for x in self.compounds() if x != self.home[resident]], b)
        lower = max(self.home_changed[resident], self.added[compound])
        moment = self.when(lower, c)
        self.flow.move_resident(resident, compound_id=compound, actor=OFFICE, occurred_at=moment)
        self.home[resident], self.home_changed[resident] = compound, moment

    def op_move_out(self, a: int, b: int, c: int) -> None:
        living = sorted(r for r, home in self.home.items() if home is not None)
        resident = pick(living, a)
        moment = self.when(self.home_changed[resident], c)
        self.flow.move_out(resident, actor=OFFICE, occurred_at=moment)
        self.home[resident], self.home_changed[resident] = None, moment

    def op_add_compound(self, a: int, b: int, c: int) -> None:
        waiting = [x for x in LATE_COMPOUNDS if x not in self.parent]
        if not waiting:
            self.op_households(a, b, c)
            return
        self.add_compound(waiting[0], LATE_COMPOUNDS[waiting[0]], b % 70)
        if c % 2:
            self.form_council(waiting[0])

    def op_reassign(self, a: int, b: int, c: int) -> None:
        compound = pick(self.compounds(), a)
        district = DISTRICT_OF[self.parent[compound]]
        targets = [
            x for x, d in DISTRICT_OF.items() if d == district and x != self.parent[compound]
        ]
        community = pick(targets, b)
        moment = self.when(self.parent_changed[compound], c)
        self.flow.reassign_compound(
            compound, community_id=community, actor=OFFICE, occurred_at=moment
        )
        self.parent[compound], self.parent_changed[compound] = community, moment

    def op_households(self, a: int, b: int, c: int) -> None:
        compound = pick(self.compounds(), a)
        moment = self.when(self.counted[compound], c)
        self.flow.count_households(compound, households=b % 90, actor=OFFICE, occurred_at=moment)
        self.counted[compound] = moment

    def op_council(self, a: int, b: int, c: int) -> None:
        compound = pick(self.compounds(), a)
        members = self.councils.get(compound)
        if members is None:
            self.form_council(compound)
        elif b % 6 == 0 and c % 2 == 0:
            self.flow.dissolve_council(compound, actor=OFFICE)
            del self.councils[compound]
        elif b % 6 == 1 and members:
            member = pick(members, c)
            self.flow.leave_council(compound, member=member, actor=OFFICE)
            members.remove(member)
        else:
            candidates = [r for r in RESIDENTS if self.home.get(r) == compound]
            newcomer = (
                f"m-{compound}-{3 + c % 5}" if b % 2 or not candidates else pick(candidates, c)
            )
            if newcomer not in members:
                self.join(newcomer, compound)

    def op_policy(self, a: int, b: int, c: int) -> None:
        quorum = Decimal(c % 3) / 4 if c % 2 else None
        self.flow.set_policy(
            pick(POLICY_AREAS, a), rating_window_days=1 + b % 35, quorum=quorum, actor=OFFICE
        )

    def op_ask(self, a: int, b: int, c: int) -> None:
        living = sorted(r for r, home in self.home.items() if home is not None)
        resident = pick(living, a)
        home = self.home[resident]
        assert home is not None
        scope = home if b % 3 else self.parent[home]
        if not self.rules and c % 3 == 0:  # someone from elsewhere, or from nowhere
            resident = pick((*RESIDENTS, *VISITORS), a)
            scope = pick([*self.compounds(), *COMMUNITIES, *ELSEWHERE], b)
        state = self.flow.ask(
            title=f"need {len(self.stage) + 1}",
            details="what residents asked for",
            category=pick(("lighting", "drains", "parking"), b),
            area_id=scope,
            resident=resident,
            channel=pick(("visit", "meeting", "hotline", "online"), c),
            occurred_at=self.when(self.home_changed.get(resident, START), c),
        )
        self.stage[state.id] = state.stage

    def op_step(self, a: int, b: int, c: int) -> None:
        unfinished = [p for p, s in self.stage.items() if s not in (Stage.CLOSED, Stage.WITHDRAWN)]
        if not unfinished:
            self.op_ask(a, b, c)
            return
        state = self.flow.proposal(pick(unfinished[:6], a))  # the oldest move on first
        steps: dict[Stage, Callable[[ProposalState, int, int], ProposalState]] = {
            Stage.ASKED: self.early,
            Stage.DISCUSSING: self.early,
            Stage.DOING: self.doing,
            Stage.DONE: self.publish,
            Stage.REJECTED: self.publish,
            Stage.RATING: self.rating,
        }
        after = steps[state.stage](state, b, c)
        self.stage[after.id] = after.stage

    def op_rate(self, a: int, b: int, c: int) -> None:
        rating = [p for p, s in self.stage.items() if s is Stage.RATING]
        if not rating:
            self.op_step(a, b, c)
            return
        self.rate(self.flow.proposal(pick(rating, a)), b, c)

    # --- proposal steps -------------------------------------------------------------------

    def early(self, state: ProposalState, b: int, c: int) -> ProposalState:
        moment = self.when(state.stage_entered_at, c)
        if c % 41 == 0:
            return self.flow.withdraw(state.id, reason="no longer needed", actor=OFFICE)
        if b % 12 < 2:
            return self.back(state, b, c)
        if state.stage is Stage.DISCUSSING and b % 12 >= 5:
            return self.decide(state, b, c)
        members = sorted(self.flow.structure().council_members(state.area_id, moment))
        if not members and self.rules and state.area_id in self.parent:
            if state.area_id not in self.councils:  # the compound gets its council now
                self.form_council(state.area_id)
            self.join(f"m-{state.area_id}-{len(self.councils[state.area_id]) + 3}", state.area_id)
            moment = self.clock.now
            members = sorted(self.councils[state.area_id])
        guests = [*RESIDENTS, *VISITORS]
        attendees = [m for n, m in enumerate(members) if n or b % 5] + [
            pick(guests, c // (n + 1)) for n in range(b % 4)
        ]
        return self.flow.discuss(
            state.id,
            attendees=list(dict.fromkeys(attendees)),
            summary="talked it over",
            actor=self.recorder(state, moment),
            occurred_at=moment,
        )

    def recorder(self, state: ProposalState, moment: datetime) -> str:
        """A council member within the scope then records the council (the office when none)."""
        members = sorted(self.flow.structure().council_members(state.area_id, moment))
        return members[0] if members else OFFICE

    def back(self, state: ProposalState, b: int, c: int) -> ProposalState:
        taken = {state.asked_by, *state.backers}
        backers = [r for r in self.people(state.area_id) if r not in taken]
        return self.flow.back(
            state.id,
            resident=pick(backers or RESIDENTS, b + c),
            occurred_at=self.when(state.asked_at, c),
        )

    def decide(self, state: ProposalState, b: int, c: int) -> ProposalState:
        moment = self.when(state.stage_entered_at, c)
        present = state.discussions[-1].members_present or ()
        vote = {"in_favour": max(1, len(present)), "against": 0}
        outcome = pick(("approved",) * 4 + ("rejected",) * 2 + ("deferred",), b // 12)
        facts: dict[str, Any] = {"reasons": "not ours"}
        if outcome == "approved":
            facts = {
                "plan": "do the work",
                "budget": {"amount": "1000", "funding_sources": ["district fund"]},
                "responsible": "m-works",
                "deadline": moment.date() + timedelta(days=c % 15),
            }
        return self.flow.decide(
            state.id,
            outcome=outcome,
            vote=vote,
            actor=self.recorder(state, moment),
            occurred_at=moment,
            **(facts if outcome != "deferred" else {}),
        )

    def doing(self, state: ProposalState, b: int, c: int) -> ProposalState:
        moment = self.when(state.stage_entered_at, c)
        if c % 53 == 0:
            return self.flow.withdraw(state.id, reason="gave up", actor=OFFICE, occurred_at=moment)
        spent = state.spent + b % 100
        if b % 4 == 0:
            return self.flow.report_progress(
                state.id,
                percent=min(100, state.percent + 1 + c % 50),
                note="going on",
                spent=spent,
                actor=OFFICE,
                occurred_at=moment,
            )
        return self.flow.complete(
            state.id,
            summary="finished",
            total_spent=spent,
            evidence=["photo"],
            actor=OFFICE,
            occurred_at=moment,
        )

    def publish(self, state: ProposalState, b: int, c: int) -> ProposalState:
        return self.flow.publish(
            state.id,
            channels=[pick(("notice_board", "group_chat", "app"), b)],
            summary="shown in public",
            actor=OFFICE,
            occurred_at=self.when(state.stage_entered_at, c),
        )

    def rating(self, state: ProposalState, b: int, c: int) -> ProposalState:
        closes = state.rating_closes_at
        assert closes is not None
        if self.clock.now >= closes and state.ratings:
            return self.flow.close_rating(state.id, actor=OFFICE, occurred_at=self.when(closes, c))
        return self.rate(state, b, c)

    def rate(self, state: ProposalState, b: int, c: int) -> ProposalState:
        """A few residents of the scope rate (or rate again) within the round's window."""
        closes = state.rating_closes_at
        assert closes is not None
        voters = self.people(state.area_id)
        for n in range(1 + b % 5):
            try:
                state = self.flow.rate(
                    state.id,
                    resident=pick(voters, c // (n + 1) + n),
                    level=pick(GRADES, b * 31 + n * 17 + c),
                    occurred_at=min(closes, self.when(state.stage_entered_at, c // (n + 2))),
                )
            except CivicflowError:
                self.refused += 1
        return state


def next_quarter_start(moment: datetime, zone: str) -> datetime:
    local = moment.astimezone(ZoneInfo(zone))
    quarter = (local.month - 1) // 3
    year, month = (local.year + 1, 1) if quarter == 3 else (local.year, 3 * quarter + 4)
    return datetime(year, month, 1, tzinfo=ZoneInfo(zone)).astimezone(UTC)


OPERATIONS = (
    ("step",) * 20
    + ("rate",) * 5
    + ("tick",) * 6
    + ("ask",) * 3
    + ("move", "move", "register", "move_out", "council", "households", "policy")
    + ("reassign", "add_compound")
)
SETUPS = st.tuples(
    st.lists(st.integers(0, 80), min_size=len(COMPOUNDS), max_size=len(COMPOUNDS)),
    st.lists(st.integers(1, 40), min_size=len(POLICY_AREAS), max_size=len(POLICY_AREAS)),
    st.sets(st.sampled_from(sorted(COMPOUNDS)), max_size=2),
    st.sampled_from([True, True, True, False]),  # community rules on, mostly
)
Setup = tuple[list[int], list[int], set[str], bool]


# --- the figures, recounted naively from the whole log ------------------------------------


def value_at(changes: list[tuple[datetime, Any]], moment: datetime) -> Any:
    """The value of the latest change effective at ``moment`` (None before any)."""
    held = [value for effective, value in changes if effective <= moment]
    return held[-1] if held else None


def quarter_of(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.year}Q{(local.month + 2) // 3}"


def quarter_end(quarter: str, zone: str) -> datetime:
    year, number = int(quarter[:4]), int(quarter[5])
    year, month = (year + 1, 1) if number == 4 else (year, 3 * number + 1)
    return datetime(year, month, 1, tzinfo=ZoneInfo(zone)) - timedelta(microseconds=1)


def rounded(value: Fraction, places: int) -> Decimal:
    """``value`` to ``places`` decimals, halves to even."""
    scaled = value * 10**places
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest > scaled.denominator or (2 * rest == scaled.denominator and whole % 2):
        whole += 1
    return Decimal(whole).scaleb(-places)


def ratio(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else rounded(Fraction(part, whole), 4)


@dataclass
class Area:
    kind: str
    added: datetime
    zone: str | None
    parents: list[tuple[datetime, str]] = field(default_factory=list)
    households: list[tuple[datetime, int]] = field(default_factory=list)


@dataclass
class Need:
    """One proposal as the pipeline sees it."""

    scope: str
    title: str
    areas: tuple[str, ...]
    zone: str
    asked: datetime
    stage: str = "asked"
    decided: datetime | None = None
    deadline: date | None = None
    done: datetime | None = None
    published: datetime | None = None
    finished: datetime | None = None


Placed = tuple[str, tuple[str, ...]]  # quarter, areas at each of LEVELS ('' above the scope)
SATISFACTION_NUMBERS = (
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "n",
    "rate",
    "full_rate",
)
PARTICIPATION_NUMBERS = (
    "asked_or_backed",
    "discussed",
    "rated",
    "participants",
    "rate",
    "household_rate",
)


class Recount:
    """Every figure of the views, from the events in log order, in plain Python."""

    def __init__(self, events: Iterable[object]) -> None:
        self.areas: dict[str, Area] = {}
        self.councils: dict[str, list[list[datetime | None]]] = defaultdict(list)
        self.homes: dict[str, list[tuple[datetime, str | None]]] = {}
        self.names: dict[UUID, str] = {}
        self.needs: dict[str, Need] = {}
        self.latest: dict[tuple[str, int, str], tuple[str, str, tuple[str, ...]]] = {}
        self.facts: set[tuple[str, str, str, tuple[str, ...]]] = set()
        for item in events:
            handler = getattr(self, "on_" + type(item).__qualname__.replace(".", "_"), None)
            if handler is not None:
                handler(item)

    # --- structure and homes, as recorded so far ------------------------------------------

    def on_Directory_AreaAdded(self, e: Any) -> None:  # noqa: N802
        area = Area(kind=str(e.kind), added=e.occurred_at, zone=e.time_zone)
        if e.parent_id:
            area.parents.append((e.occurred_at, e.parent_id))
        if e.households is not None:
            area.households.append((e.occurred_at, e.households))
        self.areas[e.area_id] = area

    def on_Directory_CompoundReassigned(self, e: Any) -> None:  # noqa: N802
        self.areas[e.area_id].parents.append((e.occurred_at, e.community_id))

    def on_Directory_HouseholdsCounted(self, e: Any) -> None:  # noqa: N802
        self.areas[e.area_id].households.append((e.occurred_at, e.households))

    def on_Directory_CouncilFormed(self, e: Any) -> None:  # noqa: N802
        self.councils[e.compound_id].append([e.occurred_at, None])

    def on_Directory_CouncilDissolved(self, e: Any) -> None:  # noqa: N802
        self.councils[e.compound_id][-1][1] = e.occurred_at

    def on_Resident_Registered(self, e: Any) -> None:  # noqa: N802
        self.names[e.originator_id] = e.resident_id
        self.homes[e.resident_id] = [(e.occurred_at, e.compound_id)]

    def on_Resident_Moved(self, e: Any) -> None:  # noqa: N802
        self.homes[self.names[e.originator_id]].append((e.occurred_at, e.compound_id))

    def on_Resident_MovedOut(self, e: Any) -> None:  # noqa: N802
        self.homes[self.names[e.originator_id]].append((e.occurred_at, None))

    def chain(self, area_id: str | None, moment: datetime) -> list[str]:
        chain: list[str] = []
        while area_id in self.areas and area_id not in chain:
            if self.areas[area_id].added > moment:
                break
            chain.append(area_id)
            area_id = value_at(self.areas[area_id].parents, moment)
        return chain

    def zone(self, area_id: str, moment: datetime) -> str:
        districts = [a for a in self.chain(area_id, moment) if self.areas[a].kind == "district"]
        return (self.areas[districts[0]].zone if districts else None) or SHANGHAI

    def place(self, area_id: str, moment: datetime) -> Placed:
        """The quarter, and the area at each level; an area unknown then stands for itself."""
        chain = self.chain(area_id, moment)
        by_kind = {self.areas[a].kind: a for a in chain}
        areas = tuple(by_kind.get(level, "") for level in LEVELS) if chain else (area_id,) * 4
        return quarter_of(moment, self.zone(area_id, moment)), areas

    def took_part(self, resident: str, kind: str, need: Need, moment: datetime) -> None:
        home = value_at(self.homes.get(resident, []), moment)
        quarter, areas = self.place(home or need.scope, moment)
        self.facts.add((resident, kind, quarter, areas))

    # --- proposals ---------------------------------------------------------------------------

    def need(self, e: Any, stage: str | None = None) -> Need:
        need = self.needs[str(e.originator_id)]
        need.stage = stage or need.stage
        return need

    def on_Proposal_Asked(self, e: Any) -> None:  # noqa: N802
        _, areas = self.place(e.area_id, e.occurred_at)
        need = Need(e.area_id, e.title, areas, self.zone(e.area_id, e.occurred_at), e.occurred_at)
        self.needs[str(e.originator_id)] = need
        self.took_part(e.resident, "ask", need, e.occurred_at)

    def on_Proposal_Backed(self, e: Any) -> None:  # noqa: N802
        self.took_part(e.resident, "ask", self.need(e), e.occurred_at)

    def on_Proposal_Discussed(self, e: Any) -> None:  # noqa: N802
        need = self.need(e, "discussing")
        members = set(e.members_present or ())
        for resident in e.attendees:
            if resident not in members:
                self.took_part(resident, "discuss", need, e.occurred_at)

    def on_Proposal_Decided(self, e: Any) -> None:  # noqa: N802
        outcome = str(e.outcome)
        stage = {"approved": "doing", "rejected": "rejected", "deferred": "discussing"}[outcome]
        need = self.need(e, stage)
        if outcome != "deferred" and need.decided is None:
            need.decided = e.occurred_at
        if outcome == "approved":
            need.deadline = e.deadline
        if outcome == "rejected":
            need.finished = e.occurred_at

    def on_Proposal_ProgressReported(self, e: Any) -> None:  # noqa: N802
        self.need(e, "doing")

    def on_Proposal_Done(self, e: Any) -> None:  # noqa: N802
        need = self.need(e, "done")
        need.done = need.done or e.occurred_at

    def on_Proposal_Published(self, e: Any) -> None:  # noqa: N802
        need = self.need(e)
        need.stage = "rating" if need.stage == "done" else "closed"
        if need.done is not None and need.published is None:
            need.published = e.occurred_at

    def on_Proposal_Rated(self, e: Any) -> None:  # noqa: N802
        need = self.need(e, "rating")
        quarter, areas = self.place(need.scope, e.occurred_at)
        self.latest[(str(e.originator_id), e.round, e.resident)] = (str(e.level), quarter, areas)
        self.took_part(e.resident, "rate", need, e.occurred_at)

    def on_Proposal_RatingClosed(self, e: Any) -> None:  # noqa: N802
        need = self.need(e, "closed" if e.passed else "doing")
        if e.passed:
            need.finished = e.occurred_at

    def on_Proposal_Withdrawn(self, e: Any) -> None:  # noqa: N802
        self.need(e, "withdrawn").finished = e.occurred_at

    # --- satisfaction ------------------------------------------------------------------------

    def satisfaction(self, level: str, quarter: str | None, k: int) -> list[dict[str, Any]]:
        at = LEVELS.index(level)
        counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        raters: dict[tuple[str, str], set[str]] = defaultdict(set)
        for (_, _, resident), (grade, when, areas) in self.latest.items():
            if areas[at] and quarter in (None, when):
                counts[(areas[at], when)][grade] += 1
                raters[(areas[at], when)].add(resident)
        return [
            satisfaction_figure(key[0], c, k, people=len(raters[key]), level=level, quarter=key[1])
            for key, c in sorted(counts.items())
        ]

    def proposal_satisfaction(
        self, k: int, *, proposal_id: str | None = None, quarter: str | None = None
    ) -> list[dict[str, Any]]:
        counts: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        for (pid, round_, _), (grade, when, _) in self.latest.items():
            if proposal_id in (None, pid) and quarter in (None, when):
                counts[(pid, round_)][grade] += 1
        return [
            satisfaction_figure(
                self.needs[pid].scope,
                c,
                k,
                proposal_id=pid,
                title=self.needs[pid].title,
                round=round_,
                quarter=quarter,
            )
            for (pid, round_), c in sorted(counts.items())
        ]

    # --- participation -----------------------------------------------------------------------

    def participation(self, level: str, quarter: str | None, k: int) -> list[dict[str, Any]]:
        at = LEVELS.index(level)
        kinds: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        anyone: dict[tuple[str, str], set[str]] = defaultdict(set)
        for resident, kind, when, areas in self.facts:
            if areas[at] and quarter in (None, when):
                kinds[(areas[at], when)][kind].add(resident)
                anyone[(areas[at], when)].add(resident)
        # Every area of the level existing at a quarter's end (in its district's zone), for
        # each quarter with participation placed at that level, and for the quarter asked;
        # and every area participation was placed in at that level and quarter.
        quarters = {when for _, when in anyone} | ({quarter} if quarter else set())
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for when in sorted(quarters):
            placed = {area for area, placed_in in anyone if placed_in == when}
            for area in sorted(set(self.areas_at(level, when)) | placed):
                counts = {kind: len(who) for kind, who in kinds[(area, when)].items()}
                total = len(anyone.get((area, when), ()))
                found[(area, when)] = self.participation_figure(
                    area, level, when, counts=counts, total=total, k=k
                )
        return [figure for _, figure in sorted(found.items())]

    def end_of(self, area_id: str, quarter: str) -> datetime:
        """The quarter's last moment in the zone of the area's district now (the default
        zone for an area the structure never knew)."""
        return quarter_end(quarter, self.zone(area_id, LATEST))

    def areas_at(self, level: str, quarter: str) -> list[str]:
        return sorted(
            a
            for a, area in self.areas.items()
            if area.kind == level and area.added <= self.end_of(a, quarter)
        )

    def participation_figure(
        self, area_id: str, level: str, quarter: str, *, counts: dict[str, int], total: int, k: int
    ) -> dict[str, Any]:
        end = self.end_of(area_id, quarter)
        compounds = [
            c
            for c, area in self.areas.items()
            if area.kind == "compound" and area_id in self.chain(c, end)
        ]
        households = sum(value_at(self.areas[c].households, end) or 0 for c in compounds)
        residents = sum(1 for home in self.homes.values() if value_at(home, end) in compounds)
        councils = sum(1 for c in compounds if any(active(term, end) for term in self.councils[c]))
        hidden = 0 < total < k

        def shown(count: int) -> int | None:
            return None if hidden or 0 < count < k else count

        return {
            "suppressed": hidden,
            "area_id": area_id,
            "level": level,
            "quarter": quarter,
            "asked_or_backed": shown(counts.get("ask", 0)),
            "discussed": shown(counts.get("discuss", 0)),
            "rated": shown(counts.get("rate", 0)),
            "participants": shown(total),
            "households": households,
            "residents": residents,
            "rate": None if hidden else ratio(total, residents),
            "household_rate": None if hidden else ratio(total, households),
            "compounds": len(compounds),
            "compounds_with_council": councils,
            "council_coverage": ratio(councils, len(compounds)),
        }

    # --- pipeline ------------------------------------------------------------------------------

    def pipeline(self, level: str, as_of: date) -> list[dict[str, Any]]:
        at = LEVELS.index(level)
        by_area: dict[str, list[tuple[str, Need]]] = defaultdict(list)
        for pid, need in self.needs.items():
            if need.areas[at]:
                by_area[need.areas[at]].append((pid, need))
        return [
            {
                "area_id": area,
                "level": level,
                "stages": dict(sorted(Counter(n.stage for _, n in needs).items())),
                "ask_to_decide": durations([(n.asked, n.decided) for _, n in needs]),
                "decide_to_done": durations([(n.decided, n.done) for _, n in needs]),
                "done_to_publish": durations([(n.done, n.published) for _, n in needs]),
                "overdue": tuple(sorted(pid for pid, n in needs if overdue(n, as_of))),
            }
            for area, needs in sorted(by_area.items())
        ]


def active(term: list[datetime | None], moment: datetime) -> bool:
    formed, dissolved = term
    assert formed is not None
    return formed <= moment and (dissolved is None or moment < dissolved)


def satisfaction_figure(
    area_id: str, counts: Counter[str], k: int, *, people: int | None = None, **about: Any
) -> dict[str, Any]:
    """The figure before complementary suppression: hidden when fewer than ``k`` residents
    (``people``; a proposal's round has one rating per resident) are behind it."""
    n = sum(counts.values())
    hidden = (n if people is None else people) < k
    figure: dict[str, Any] = {
        "suppressed": hidden,
        "area_id": area_id,
        "level": None,
        "quarter": None,
        "proposal_id": None,
        "round": None,
        "title": None,
        **dict.fromkeys(SATISFACTION_NUMBERS),
        **about,
    }
    if not hidden:
        content = counts["satisfied"] + counts["basically_satisfied"]
        figure |= {level: counts[level] for level in GRADES}
        figure |= {"n": n, "rate": ratio(content, n), "full_rate": ratio(counts["satisfied"], n)}
    return figure


def durations(pairs: list[tuple[datetime | None, datetime | None]]) -> dict[str, Any]:
    days = sorted(
        Fraction((end - start) // timedelta(microseconds=1), 86_400_000_000)
        for start, end in pairs
        if start is not None and end is not None
    )
    if not days:
        return {"count": 0, "median_days": None, "p90_days": None}
    rank = -(-9 * len(days) // 10)  # nearest rank: the smallest rank covering 90%
    return {
        "count": len(days),
        "median_days": rounded(days[(len(days) - 1) // 2], 2),
        "p90_days": rounded(days[rank - 1], 2),
    }


def overdue(need: Need, as_of: date) -> bool:
    """Approved, past its deadline, decided by then, neither done nor finished by that day's end."""

    def day(moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(need.zone)).date()

    return (
        need.deadline is not None
        and need.decided is not None
        and need.deadline < as_of
        and day(need.decided) <= as_of
        and (need.done is None or day(need.done) > as_of)
        and (need.finished is None or day(need.finished) > as_of)
    )


# --- asking the views ----------------------------------------------------------------------------


def logged(flow: CivicFlow) -> list[tuple[int, object]]:
    notifications = flow.recorder.select_notifications(start=None, limit=10**9)
    return [(n.id, flow.mapper.to_domain_event(n)) for n in notifications]


def ordered(figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Figures in one order (the views promise none)."""
    return sorted(
        figures,
        key=lambda f: (
            f.get("quarter") or "",
            f["area_id"],
            f.get("proposal_id") or "",
            f.get("round") or 0,
        ),
    )


def dumped(figures: Iterable[Any]) -> list[dict[str, Any]]:
    return ordered([f.model_dump() for f in figures])


@dataclass
class Questions:
    """What to ask: all quarters at once, some quarters alone (and an empty one either side)."""

    quarters: list[str]
    proposals: list[str]

    @classmethod
    def about(cls, recount: Recount, today: date) -> Questions:
        counted = sorted({q for *_, q, _ in recount.facts})
        later = datetime(today.year, today.month, 1, tzinfo=UTC) + timedelta(days=100)
        quarters = {"2025Q4", quarter_of(later, SHANGHAI), *counted[-1:]}
        return cls(sorted(quarters), sorted(recount.needs))

    def brief(self) -> Questions:
        """The same questions about all quarters at once only."""
        return Questions([], self.proposals)


def answers(views: Views, questions: Questions) -> dict[str, Any]:
    """Every figure the views give for these questions, as plain data."""
    found: dict[str, Any] = {}
    for level in LEVELS:
        for quarter in (None, *questions.quarters):
            found[f"satisfaction {level} {quarter}"] = dumped(
                views.satisfaction(level=level, quarter=quarter)
            )
            found[f"participation {level} {quarter}"] = dumped(
                views.participation(level=level, quarter=quarter)
            )
        found[f"pipeline {level}"] = [
            without_overdue(p.model_dump()) for p in views.pipeline(level=level, as_of=START.date())
        ]
    for pid in questions.proposals:
        found[f"proposal {pid}"] = dumped(views.proposal_satisfaction(pid))
    for quarter in questions.quarters:
        found[f"review proposals {quarter}"] = dumped(views.review(quarter).proposals)
    return found


def expected(recount: Recount, questions: Questions, k: int) -> dict[str, Any]:
    """The same figures, recounted."""
    found: dict[str, Any] = {}
    for level in LEVELS:
        for quarter in (None, *questions.quarters):
            found[f"satisfaction {level} {quarter}"] = ordered(
                recount.satisfaction(level, quarter, k)
            )
            found[f"participation {level} {quarter}"] = ordered(
                recount.participation(level, quarter, k)
            )
        found[f"pipeline {level}"] = [
            without_overdue(p) for p in recount.pipeline(level, START.date())
        ]
    for pid in questions.proposals:
        found[f"proposal {pid}"] = recount.proposal_satisfaction(k, proposal_id=pid)
    for quarter in questions.quarters:
        found[f"review proposals {quarter}"] = ordered(
            recount.proposal_satisfaction(k, quarter=quarter)
        )
    return found


def without_overdue(pipeline: dict[str, Any]) -> dict[str, Any]:
    """Stages and durations (overdue work has a test of its own)."""
    return {key: value for key, value in pipeline.items() if key != "overdue"}


def probe_days(recount: Recount, today: date) -> list[date]:
    """Days on which overdue work changes: after deadlines, and both days of a late evening.

    Work done (or ended) in the evening falls on one day in UTC and on the next in
    Shanghai, or on the previous one in New York: ask on both days.
    """
    approved = [n for n in recount.needs.values() if n.deadline is not None]
    deadlines = [n.deadline for n in approved if n.deadline is not None]
    days = {START.date(), today, *(deadline + timedelta(days=1) for deadline in deadlines[:4])}
    evenings: set[date] = set()
    for need in approved:
        for moment in (need.decided, need.done, need.finished):
            if moment is None:
                continue
            local = moment.astimezone(ZoneInfo(need.zone)).date()
            if local != moment.date():
                evenings |= {moment.date(), local}
    return sorted(days | set(sorted(evenings)[:10]))


def overdue_answers(views: Views, days: list[date]) -> dict[str, Any]:
    return {
        f"overdue {level} {day}": {
            p.area_id: p.overdue for p in views.pipeline(level=level, as_of=day)
        }
        for level in LEVELS
        for day in days
    }


def overdue_expected(recount: Recount, days: list[date]) -> dict[str, Any]:
    return {
        f"overdue {level} {day}": {p["area_id"]: p["overdue"] for p in recount.pipeline(level, day)}
        for level in LEVELS
        for day in days
    }


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got.keys() == want.keys()
    for key, figures in want.items():
        assert got[key] == figures, difference(key, got[key], figures)


def assert_agrees(got: dict[str, Any], want: dict[str, Any]) -> None:
    """The views give the recount's figures, each number either equal or hidden beside the
    small ones (complementary suppression); every figure the recount hides is hidden."""
    assert got.keys() == want.keys()
    for key, figures in want.items():
        assert len(got[key]) == len(figures), difference(key, got[key], figures)
        for g, w in zip(got[key], figures, strict=True):
            assert agrees(g, w), difference(key, g, w)


def agrees(got: Any, want: Any) -> bool:
    if not isinstance(want, dict) or "suppressed" not in want:
        return bool(got == want)
    numbers = {*SATISFACTION_NUMBERS, *PARTICIPATION_NUMBERS}
    return got.keys() == want.keys() and all(
        got[name] == want[name]
        or (name in numbers and got[name] is None)
        or (name == "suppressed" and got[name])
        for name in want
    )


def difference(key: str, got: Any, want: Any) -> str:
    """The first figure where the views and the recount part."""
    if isinstance(got, list) and len(got) == len(want):
        got, want = next((g, w) for g, w in zip(got, want, strict=True) if g != w)
    return f"{key}:\n  the views give {got}\n  the recount   {want}"


def ranking(figure: Any) -> tuple[Any, ...]:
    size = getattr(figure, "n", None) or getattr(figure, "participants", None) or 0
    return (figure.suppressed, -(figure.rate or 0), -size, figure.area_id)


def assert_reviews_ranked(views: Views, questions: Questions) -> None:
    """The quarterly review lists the same figures, best first, suppressed ones last."""
    for quarter in questions.quarters[-2:]:
        for level in ("compound", "street"):
            review = views.review(quarter, level=level)
            for ranked, plain in (
                (review.by_satisfaction, views.satisfaction(level=level, quarter=quarter)),
                (review.by_participation, views.participation(level=level, quarter=quarter)),
            ):
                assert dumped(ranked) == dumped(plain)
                keys = [ranking(f) for f in ranked]
                assert keys == sorted(keys)
            keys = [ranking(f)[:3] for f in review.proposals]
            assert keys == sorted(keys)


# --- privacy --------------------------------------------------------------------------------


def assert_private(got: dict[str, Any], recount: Recount, k: int) -> None:
    """A suppressed figure shows no number, and no shown number is from 1..k-1 residents.

    (That what is shown cannot be combined to narrow what is hidden is the interval attack
    of ``tests/test_views_disclosure.py``.)
    """
    for key, figures in got.items():
        if key.startswith("pipeline"):
            continue
        numbers = PARTICIPATION_NUMBERS if key.startswith("participation") else SATISFACTION_NUMBERS
        for figure in figures:
            if figure["suppressed"]:
                assert all(figure[name] is None for name in numbers), (key, figure)
            for name in ("n", "asked_or_backed", "discussed", "rated", "participants"):
                assert not 0 < (figure.get(name) or 0) < k, (key, figure)


def participation_sizes(recount: Recount, level: str) -> Counter[tuple[str, str]]:
    at = LEVELS.index(level)
    distinct = {(resident, q, areas[at]) for resident, _, q, areas in recount.facts if areas[at]}
    return Counter((area, q) for _, q, area in distinct)


# --- the properties -------------------------------------------------------------------------
# A history is a few hundred commands drawn from a seed: uniform enough to stay rich (drawn
# one by one, hypothesis repeats and zeroes values, and histories thin out), and replayed
# exactly from the printed example. Running one takes seconds, so hypothesis could not
# shrink it in reasonable time: shrinking is off, and each assertion names what differs.


def histories(max_examples: int) -> settings:
    """``max_examples`` under the default profile (60 examples), in proportion under others."""
    default = settings.default
    assert default is not None  # conftest loads a profile at import time
    return settings(
        max_examples=max(1, max_examples * default.max_examples // 60),
        deadline=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
    )


Gene = tuple[str, int, int, int]


def history(
    setup: Setup, seed: int, size: int, env: dict[str, str] | None = None
) -> tuple[Life, list[Gene]]:
    """A community set up as drawn, and ``size`` operations drawn from ``seed``."""
    households, windows, without, rules = setup
    life = Life(rules=rules, env=env)
    life.build(households, windows, without)
    draw = Random(seed)
    genes = [
        (
            draw.choice(OPERATIONS),
            draw.randrange(2**16),
            draw.randrange(2**16),
            draw.randrange(2**16),
        )
        for _ in range(size)
    ]
    return life, genes


def segments(genes: list[Gene], cuts: list[int]) -> Iterator[list[Gene]]:
    bounds = sorted({0, len(genes), *(c % (len(genes) + 1) for c in cuts)})
    for start, end in pairwise(bounds):
        yield genes[start:end]


def catch_up_in_pieces(views: Views, limits: list[int], total: int) -> None:
    """Catch up with each limit in turn; each call counts what it may, and no more."""
    for limit in limits:
        before = views.position
        counted = views.catch_up(limit=limit)
        assert counted == min(limit, total - before)
        assert views.position == before + counted


def statistics(life: Life, recount: Recount) -> None:
    event(f"latest ratings counted: {len(recount.latest) // 50 * 50}+")
    event(f"quarters with facts: {len({q for *_, q, _ in recount.facts})}")
    event(f"proposals: {len(recount.needs) // 10 * 10}+")
    event(f"refused commands: {life.refused * 10 // (life.accepted + life.refused) * 10}%+")


@histories(max_examples=18)
@given(
    setup=SETUPS,
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(150, 240),
    cuts=st.lists(st.integers(0, 10_000), max_size=3),
    limits=st.lists(st.integers(1, 400), min_size=1, max_size=4),
    k=st.integers(2, 6),
    batch_size=st.integers(1, 90),
)
def test_views_caught_up_in_random_batches_and_rebuilt_equal_a_naive_recount_of_the_log(
    *,
    setup: Setup,
    seed: int,
    size: int,
    cuts: list[int],
    limits: list[int],
    k: int,
    batch_size: int,
) -> None:
    life, genes = history(setup, seed, size)
    with Views(life.flow, k=k, batch_size=batch_size) as views:
        for part in segments(genes, cuts):  # the log grows between catch-ups
            life.run(part)
            catch_up_in_pieces(views, limits, len(logged(life.flow)))
        log = logged(life.flow)
        partial = Recount(e for n, e in log if n <= views.position)
        questions = Questions.about(partial, life.clock.now.date()).brief()
        assert_agrees(answers(views, questions), expected(partial, questions, k))

        assert views.catch_up(limit=0) == 0
        pending = len(log) - views.position
        assert views.catch_up() == pending
        recount = Recount(e for _, e in log)
        questions = Questions.about(recount, life.clock.now.date())
        caught_up = answers(views, questions)
        assert_agrees(caught_up, expected(recount, questions, k))
        assert_private(caught_up, recount, k)
        assert_reviews_ranked(views, questions)

        assert views.rebuild() == len(log)
        assert views.position == log[-1][0]
        rebuilt = answers(views, questions.brief())
        assert_same(rebuilt, {key: caught_up[key] for key in rebuilt})
    statistics(life, recount)


@histories(max_examples=12)
@given(
    setup=SETUPS,
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(150, 240),
    k=st.sampled_from([2, 3, 5, 8]),
)
def test_no_shown_figure_comes_from_fewer_than_k_residents(
    setup: Setup, seed: int, size: int, k: int
) -> None:
    life, genes = history(setup, seed, size)
    life.run(genes)
    recount = Recount(e for _, e in logged(life.flow))
    questions = Questions.about(recount, life.clock.now.date()).brief()
    for smallest in (1, k, HUGE_K):
        with Views(life.flow, k=smallest, batch_size=500) as views:
            views.catch_up()
            got = answers(views, questions)
        assert_agrees(got, expected(recount, questions, smallest))
        assert_private(got, recount, smallest)
        if smallest == 1:
            assert not [f for f in figures_in(got) if f["suppressed"]]
    assert_all_shown_or_all_hidden(got, recount)  # k = HUGE_K
    statistics(life, recount)


def figures_in(got: dict[str, Any]) -> list[dict[str, Any]]:
    """Every satisfaction and participation figure among the answers."""
    return [f for key, figures in got.items() if not key.startswith("pipeline") for f in figures]


def assert_all_shown_or_all_hidden(got: dict[str, Any], recount: Recount) -> None:
    """With k above every count, every figure from anyone is suppressed, and only those."""
    for key, figures in got.items():
        view, level = key.split()[:2]
        if view == "participation":
            sizes = participation_sizes(recount, level)
            for f in figures:
                assert f["suppressed"] == (sizes[(f["area_id"], f["quarter"])] > 0), (key, f)
        elif view != "pipeline":
            assert all(f["suppressed"] for f in figures), key


@histories(max_examples=10)
@given(
    setup=SETUPS,
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(150, 240),
    batch_size=st.integers(1, 90),
)
def test_overdue_work_is_judged_by_the_calendar_day_of_its_district(
    setup: Setup, seed: int, size: int, batch_size: int
) -> None:
    """Approved work past its deadline, decided by then and neither done nor ended before then.

    Days are those of the district's time zone, as quarters are: work done at 07:00 on the
    10th in Shanghai was not done before the 10th, although it was still the 9th in UTC.
    """
    life, genes = history(setup, seed, size)
    life.run(genes)
    recount = Recount(e for _, e in logged(life.flow))
    days = probe_days(recount, life.clock.now.date())
    with Views(life.flow, batch_size=batch_size) as views:
        views.catch_up()
        assert_same(overdue_answers(views, days), overdue_expected(recount, days))
    statistics(life, recount)
