"""The community rules inside proposal steps, and structure queries as of a date."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from civicflow import (
    AreaKind,
    CivicFlow,
    InvalidInputError,
    MissingRegistrationError,
    NotEligibleError,
    RuleViolationError,
    Stage,
)
from tests import flows
from tests.conftest import FakeClock
from tests.storage import stored_rows


@pytest.fixture
def flow() -> CivicFlow:
    return flows.open_flow()


def add_neighbour_compound(flow: CivicFlow, community: str = "community-1") -> None:
    flow.add_area(
        "compound-8",
        kind="compound",
        name="Hongqi 8",
        parent_id=community,
        is_old=False,
        has_property_management=True,
        households=10,
        actor="office",
    )
    flow.register_resident("neighbour-1", compound_id="compound-8", actor="office")


def test_a_resident_from_elsewhere_may_not_back_or_rate_and_nothing_is_written(
    flow: CivicFlow,
) -> None:
    add_neighbour_compound(flow)
    p = flows.rating(flow)
    before = stored_rows(flow)
    with pytest.raises(NotEligibleError, match="outside compound-7") as raised:
        flow.rate(p.id, resident="neighbour-1", level="dissatisfied")
    assert isinstance(raised.value, PermissionError)
    with pytest.raises(NotEligibleError, match="register_resident"):
        flow.rate(p.id, resident="stranger", level="satisfied")
    assert stored_rows(flow) == before


def test_a_community_wide_project_takes_residents_of_all_its_compounds(flow: CivicFlow) -> None:
    add_neighbour_compound(flow)
    p = flows.asked(flow, area_id="community-1")
    assert flow.back(p.id, resident="neighbour-1").backers == ("neighbour-1",)


def test_a_resident_who_moved_out_keeps_earlier_ratings_but_cannot_rate_again(
    flow: CivicFlow,
) -> None:
    p = flows.rating(flow)
    flow.rate(p.id, resident="resident-2", level="satisfied")
    flows.clock_of(flow).advance(days=1)
    flow.move_out("resident-2", actor="office")
    with pytest.raises(NotEligibleError, match="not registered"):
        flow.rate(p.id, resident="resident-2", level="dissatisfied")
    assert [r.resident for r in flow.proposal(p.id).ratings] == ["resident-2"]


def test_eligibility_follows_a_compound_moved_to_another_community(flow: CivicFlow) -> None:
    flow.add_area("community-2", kind="community", name="Two", parent_id="street-1", actor="office")
    p = flows.asked(flow, area_id="community-1")
    flows.clock_of(flow).advance(days=1)
    flow.reassign_compound(flows.COMPOUND, community_id="community-2", actor="office")
    with pytest.raises(NotEligibleError, match="outside community-1"):
        flow.back(p.id, resident="resident-3")
    earlier = flows.clock_of(flow).now - timedelta(hours=1)
    assert flow.back(p.id, resident="resident-3", occurred_at=earlier).backers == ("resident-3",)


def test_a_decision_needs_a_quorum_of_the_council_at_the_session(flow: CivicFlow) -> None:
    p = flows.asked(flow)
    flow.discuss(
        p.id, attendees=["member-1", "resident-1", "resident-2"], summary="thin", actor="member-1"
    )
    session = flow.proposal(p.id).discussions[-1]
    assert (session.members_present, session.council_size) == (("member-1",), 3)
    assert session.residents_present == ("resident-1", "resident-2")
    with pytest.raises(RuleViolationError, match="1 of 3 council members") as raised:
        flow.decide(p.id, **{**flows.APPROVAL, "vote": {"in_favour": 1, "against": 0}})
    assert raised.value.rule == "quorum"


def test_votes_cannot_outnumber_the_members_present(flow: CivicFlow) -> None:
    p = flows.discussing(flow)
    with pytest.raises(RuleViolationError, match="5 votes were cast"):
        flow.decide(p.id, **{**flows.APPROVAL, "vote": {"in_favour": 5, "against": 0}})


def test_the_majority_rule_comes_from_the_policy_and_is_recorded(flow: CivicFlow) -> None:
    flow.set_policy("district-1", majority="two_thirds", actor="office")
    p = flows.discussing(flow)
    with pytest.raises(RuleViolationError, match="two_thirds"):
        flow.decide(
            p.id, **{**flows.APPROVAL, "vote": {"in_favour": 1, "against": 0, "abstain": 1}}
        )
    decided = flow.decide(p.id, **{**flows.APPROVAL, "vote": {"in_favour": 2, "against": 1}})
    assert decided.decision is not None
    assert decided.decision.policy.majority == "two_thirds"


def test_a_policy_change_never_alters_a_round_already_open(flow: CivicFlow) -> None:
    flow.set_policy(
        "district-1", rectification_threshold="0.5", rating_window_days=10, actor="office"
    )
    p = flows.rating(flow)
    flow.set_policy(
        "community-1", rectification_threshold="0.95", rating_window_days=60, actor="office"
    )
    flows.rate_all(flow, p, ["satisfied"] * 6 + ["dissatisfied"] * 4)
    closed = flows.close_round(flow, p)
    assert closed.rounds[-1].threshold == Decimal("0.5")
    assert closed.rounds[-1].passed
    assert flow.policy(flows.COMPOUND).rectification_threshold == Decimal("0.95")


def test_late_ratings_are_refused_and_early_closing_too(flow: CivicFlow) -> None:
    p = flows.rating(flow)
    flow.rate(p.id, resident="resident-4", level="satisfied")
    with pytest.raises(RuleViolationError, match="close it after") as early:
        flow.close_rating(p.id, actor="member-1")
    assert early.value.rule == "window"
    flows.clock_of(flow).advance(days=31)
    with pytest.raises(RuleViolationError, match="late ratings are refused"):
        flow.rate(p.id, resident="resident-5", level="satisfied")
    assert flow.close_rating(p.id, actor="member-1").stage is Stage.CLOSED


def test_only_a_council_member_or_a_recorder_the_policy_names_records_the_council(
    flow: CivicFlow,
) -> None:
    p = flows.asked(flow)
    before = stored_rows(flow)
    with pytest.raises(NotEligibleError, match="nor named by the policy") as raised:
        flow.discuss(p.id, attendees=[*flows.MEMBERS], summary="s", actor="hongqi-office")
    assert (raised.value.who, raised.value.step) == ("hongqi-office", "discuss")
    assert stored_rows(flow) == before
    flow.set_policy("community-1", recorders=["hongqi-office"], actor="office")
    flow.discuss(p.id, attendees=[*flows.MEMBERS], summary="s", actor="hongqi-office")
    decided = flow.decide(p.id, **{**flows.APPROVAL, "actor": "hongqi-office"})
    assert decided.decision is not None
    assert decided.decision.policy.recorders == ("hongqi-office",)


def test_a_discussion_needs_a_council_and_an_ask_a_registered_area() -> None:
    flow = flows.open_flow()
    flow.dissolve_council(flows.COMPOUND, actor="office")
    p = flows.asked(flow)
    with pytest.raises(MissingRegistrationError, match="form_council"):
        flow.discuss(p.id, attendees=["member-1"], summary="s", actor="member-1")
    with pytest.raises(MissingRegistrationError, match="add_area"):
        flows.asked(flow, area_id="compound-99")


def test_rules_can_be_left_to_the_embedding_application() -> None:
    with CivicFlow(clock=FakeClock(), community_rules=False) as flow:
        p = flows.asked(flow, area_id="anywhere", resident="anyone")
        flow.discuss(p.id, attendees=["x"], summary="s", actor="x")
        decided = flow.decide(p.id, **{**flows.APPROVAL, "vote": {"in_favour": 9, "against": 0}})
        assert decided.discussions[-1].members_present is None
        assert decided.decision is not None
        assert decided.decision.policy == flow.default_policy


def test_sponsors_answer_for_what_was_decided_and_done(flow: CivicFlow) -> None:
    flow.assign_sponsor("community-1", sponsor="cadre-li", kind="cadre", actor="office")
    p = flows.doing(flow)
    flows.clock_of(flow).advance(days=2)
    flow.end_sponsorship("community-1", sponsor="cadre-li", actor="office")
    flow.assign_sponsor(flows.COMPOUND, sponsor="housing-bureau", kind="department", actor="office")
    flow.complete(p.id, summary="done", total_spent="100", evidence=["e"], actor="member-2")
    who = {
        step: [s.sponsor for s in sponsors] for step, sponsors in flow.accountability(p.id).items()
    }
    assert who == {"decided": ["cadre-li"], "done": ["housing-bureau"]}


def test_the_structure_can_be_read_as_it_stood_on_an_earlier_date(flow: CivicFlow) -> None:
    start = flows.clock_of(flow).now
    flows.clock_of(flow).advance(days=10)
    flow.rename_area(flows.COMPOUND, name="Hongqi Seven", actor="office")
    flow.count_households(flows.COMPOUND, households=44, actor="office")
    flow.leave_council(flows.COMPOUND, member="member-3", actor="office")
    then, now = flow.area(flows.COMPOUND, as_of=start), flow.area(flows.COMPOUND)
    assert (then.name, then.households) == ("Hongqi 7", 40)
    assert (now.name, now.households) == ("Hongqi Seven", 44)
    council = flow.council(flows.COMPOUND, as_of=start)
    assert council is not None
    assert council.members_at(start) == {"member-1", "member-2", "member-3"}
    assert [a.id for a in flow.areas(kind=AreaKind.COMPOUND, within="street-1")] == [flows.COMPOUND]
    assert flow.areas(as_of=start - timedelta(days=1)) == []
    assert flow.resident("resident-1").compound == flows.COMPOUND
    with pytest.raises(MissingRegistrationError):
        flow.area(flows.COMPOUND, as_of=start - timedelta(days=1))


def test_registering_someone_twice_is_refused_and_writes_nothing(flow: CivicFlow) -> None:
    before = stored_rows(flow)
    with pytest.raises(RuleViolationError, match="already registered"):
        flow.register_resident("resident-1", compound_id=flows.COMPOUND, actor="office")
    with pytest.raises(RuleViolationError, match="already registered"):
        flow.register_residents(["new-1", "resident-2"], compound_id=flows.COMPOUND, actor="office")
    with pytest.raises(RuleViolationError, match="twice"):
        flow.register_residents(["new-1", "new-1"], compound_id=flows.COMPOUND, actor="office")
    with pytest.raises(RuleViolationError, match="compound"):
        flow.register_resident("new-2", compound_id="community-1", actor="office")
    assert stored_rows(flow) == before


def test_queries_about_unknown_places_or_kinds_are_typed_errors(flow: CivicFlow) -> None:
    with pytest.raises(MissingRegistrationError):
        flow.policy("nowhere")
    with pytest.raises(MissingRegistrationError):
        flow.sponsors("nowhere")
    with pytest.raises(InvalidInputError, match="village"):
        flow.areas(kind="village")


def test_a_council_read_as_of_a_date_leaves_out_later_changes(flow: CivicFlow) -> None:
    start = flows.clock_of(flow).now
    flows.clock_of(flow).advance(days=3)
    flow.leave_council(flows.COMPOUND, member="member-3", actor="office")
    flow.dissolve_council(flows.COMPOUND, actor="office")
    then = flow.council(flows.COMPOUND, as_of=start)
    assert then is not None
    assert then.dissolved is None
    assert all(seat.left is None for seat in then.memberships)
    assert flow.council(flows.COMPOUND) is None


def test_every_areas_compounds_read_at_once_are_those_asked_area_by_area(flow: CivicFlow) -> None:
    """``compounds_within`` (one pass, a city's review) equals ``compounds_in`` for every
    area and moment: before a compound existed, and before and after it moved."""
    flow.add_area("community-2", kind="community", name="Two", parent_id="street-1", actor="office")
    flow.add_area(
        "compound-8",
        kind="compound",
        name="Eight",
        parent_id="community-2",
        is_old=False,
        has_property_management=True,
        households=12,
        actor="office",
    )
    before = flows.clock_of(flow).now
    flows.clock_of(flow).advance(days=1)
    flow.reassign_compound(flows.COMPOUND, community_id="community-2", actor="office")
    moved = flows.clock_of(flow).now
    structure = flow.structure()
    for moment in (before - timedelta(days=400), before, moved):
        within = structure.compounds_within(moment)
        for area in structure.areas:
            assert within.get(area, ()) == structure.compounds_in(area, moment), (area, moment)
    assert structure.compounds_within(moved)["community-2"] == (flows.COMPOUND, "compound-8")
