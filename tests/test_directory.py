"""The directory aggregate and the structure it keeps: places, councils, policies, sponsors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from civicflow import MissingRegistrationError, RuleViolationError
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.policy import Majority, Policy

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def district() -> Directory:
    d = Directory.open(actor="office", occurred_at=T0)
    add = d.add_area
    add(area_id="D", kind="district", name="Shanyang", actor="office", occurred_at=T0)
    add(area_id="S", kind="street", name="Baizhuang", parent_id="D", actor="office", occurred_at=T0)
    for community in ("C1", "C2"):
        add(
            area_id=community,
            kind="community",
            name=community,
            parent_id="S",
            actor="office",
            occurred_at=T0,
        )
    add(
        area_id="K",
        kind="compound",
        name="Hongqi 3",
        parent_id="C1",
        is_old=True,
        has_property_management=False,
        households=120,
        actor="office",
        occurred_at=T0,
    )
    d.form_council(compound_id="K", actor="office", occurred_at=T0)
    for member, role in (("m1", "chair"), ("m2", "secretary"), ("m3", None)):
        d.join_council(
            compound_id="K",
            member=member,
            via="election",
            role=role,
            actor="office",
            occurred_at=T0,
        )
    return d


def test_a_district_gets_the_default_time_zone_and_compounds_their_attributes() -> None:
    structure = district().state
    assert structure.time_zone("K", T0) == "Asia/Shanghai"
    assert structure.areas["K"].households_at(T0) == 120
    assert structure.ancestry("K", T0) == ("K", "C1", "S", "D")


def test_reassigning_a_compound_keeps_where_it_was_before() -> None:
    d = district()
    d.reassign_compound(area_id="K", community_id="C2", actor="office", occurred_at=day(10))
    assert d.state.contains("C1", "K", day(9))
    assert d.state.contains("C2", "K", day(10))
    assert d.state.compounds_in("C1", day(11)) == ()


def test_renames_and_household_counts_are_kept_with_their_dates() -> None:
    d = district()
    d.rename_area(area_id="K", name="Hongqi New", actor="office", occurred_at=day(5))
    d.count_households(area_id="K", households=130, actor="office", occurred_at=day(5))
    area = d.state.areas["K"]
    assert (area.name_at(day(4)), area.name_at(day(5))) == ("Hongqi 3", "Hongqi New")
    assert (area.households_at(day(4)), area.households_at(day(5))) == (120, 130)


def test_members_come_and_go_and_a_dissolution_ends_every_seat() -> None:
    d = district()
    d.leave_council(compound_id="K", member="m3", actor="office", occurred_at=day(3))
    assert d.state.council_members("K", day(2)) == {"m1", "m2", "m3"}
    assert d.state.council_members("K", day(3)) == {"m1", "m2"}
    d.dissolve_council(compound_id="K", actor="office", occurred_at=day(4))
    assert d.state.council_members("D", day(4)) == frozenset()
    d.form_council(compound_id="K", actor="office", occurred_at=day(5))
    d.join_council(
        compound_id="K", member="m9", via="self_nomination", actor="office", occurred_at=day(5)
    )
    assert d.state.council_members("C1", day(6)) == {"m9"}
    assert len(d.state.councils["K"]) == 2


def test_a_community_overrides_the_district_policy_from_its_effective_date() -> None:
    d = district()
    d.set_policy(
        area_id="D",
        change={"rectification_threshold": "0.9", "majority": "absolute"},
        effective_from=T0,
        actor="office",
        occurred_at=T0,
    )
    d.set_policy(
        area_id="C1",
        change={"rating_window_days": 14},
        effective_from=day(30),
        actor="office",
        occurred_at=day(1),
    )
    before, after = (d.state.policy_at("K", moment, Policy()) for moment in (day(29), day(30)))
    assert before == Policy(rectification_threshold=Decimal("0.9"), majority=Majority.ABSOLUTE)
    assert after.rating_window_days == 14
    assert after.majority is Majority.ABSOLUTE
    assert d.state.policy_at("C2", day(30), Policy()).rating_window_days == 30


def test_sponsors_of_the_compound_and_its_community_answer_for_it() -> None:
    d = district()
    d.assign_sponsor(sponsor="cadre-li", kind="cadre", area_id="C1", actor="office", occurred_at=T0)
    d.assign_sponsor(
        sponsor="dept-housing", kind="department", area_id="K", actor="office", occurred_at=day(2)
    )
    d.end_sponsorship(sponsor="cadre-li", area_id="C1", actor="office", occurred_at=day(5))
    assert {s.sponsor for s in d.state.sponsors_at("K", day(3))} == {"cadre-li", "dept-housing"}
    assert {s.sponsor for s in d.state.sponsors_at("K", day(6))} == {"dept-housing"}


def test_a_snapshot_restores_the_same_structure() -> None:
    d = district()
    assert Directory.Snapshot.take(d).mutate(None).state == d.state


@pytest.mark.parametrize(
    ("command", "fields", "error"),
    [
        (
            "add_area",
            {
                "area_id": "K",
                "kind": "compound",
                "name": "x",
                "parent_id": "C1",
                "is_old": True,
                "has_property_management": True,
                "households": 1,
            },
            RuleViolationError,
        ),
        (
            "add_area",
            {
                "area_id": "X",
                "kind": "compound",
                "name": "x",
                "parent_id": "S",
                "is_old": True,
                "has_property_management": True,
                "households": 1,
            },
            RuleViolationError,
        ),
        (
            "add_area",
            {"area_id": "X", "kind": "compound", "name": "x", "parent_id": "C1"},
            RuleViolationError,
        ),
        (
            "add_area",
            {"area_id": "X", "kind": "community", "name": "x", "parent_id": "S", "households": 3},
            RuleViolationError,
        ),
        ("add_area", {"area_id": "X", "kind": "street", "name": "x"}, RuleViolationError),
        (
            "add_area",
            {"area_id": "X", "kind": "street", "name": "x", "parent_id": "nowhere"},
            MissingRegistrationError,
        ),
        (
            "add_area",
            {"area_id": "D2", "kind": "district", "name": "x", "parent_id": "D"},
            RuleViolationError,
        ),
        (
            "add_area",
            {
                "area_id": "S2",
                "kind": "street",
                "name": "x",
                "parent_id": "D",
                "time_zone": "Asia/Shanghai",
            },
            RuleViolationError,
        ),
        ("reassign_compound", {"area_id": "K", "community_id": "C1"}, RuleViolationError),
        ("reassign_compound", {"area_id": "C1", "community_id": "C2"}, RuleViolationError),
        ("form_council", {"compound_id": "K"}, RuleViolationError),
        (
            "join_council",
            {"compound_id": "K", "member": "m1", "via": "election"},
            RuleViolationError,
        ),
        (
            "join_council",
            {"compound_id": "K", "member": "m7", "via": "election", "role": "chair"},
            RuleViolationError,
        ),
        ("leave_council", {"compound_id": "K", "member": "nobody"}, RuleViolationError),
        (
            "set_policy",
            {"area_id": "K", "change": {"quorum": "0.6"}, "effective_from": T0},
            RuleViolationError,
        ),
        ("set_policy", {"area_id": "D", "change": {}, "effective_from": T0}, RuleViolationError),
        ("assign_sponsor", {"area_id": "D", "sponsor": "x", "kind": "cadre"}, RuleViolationError),
        ("end_sponsorship", {"area_id": "K", "sponsor": "x"}, RuleViolationError),
        ("rename_area", {"area_id": "K", "name": "early"}, MissingRegistrationError),
    ],
)
def test_a_refused_structure_change_leaves_the_directory_untouched(
    command: str, fields: dict[str, object], error: type[Exception]
) -> None:
    d = district()
    before = (d.state, d.version, len(d.pending_events))
    moment = T0 - timedelta(days=1) if command == "rename_area" else T0
    with pytest.raises(error):
        getattr(d, command)(actor="office", occurred_at=moment, **fields)
    assert (d.state, d.version, len(d.pending_events)) == before
