"""No published figure gives away a small group, alone or combined with the others.

Five leaks, each a minimal story (issue 12), then the linear-programming interval
attack of ``tests/attack.py`` on random histories, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from civicflow import CivicFlow, ProposalState
from civicflow.storage.settings import env_from_url
from civicflow.views import Views
from tests import flows
from tests.attack import disclosed
from tests.conftest import POSTGRES_URL, FakeClock
from tests.test_views_properties import SETUPS, Setup, history

K = 5


def compound(flow: CivicFlow, compound_id: str, residents: list[str]) -> None:
    """A compound of community-1 with a council of two and these residents."""
    flow.add_area(
        compound_id,
        kind="compound",
        name=compound_id,
        parent_id="community-1",
        is_old=True,
        has_property_management=False,
        households=30,
        actor="office",
    )
    flow.form_council(compound_id, actor="office")
    for member in ("m1", "m2"):
        flow.join_council(
            compound_id, member=f"{compound_id}-{member}", via="election", actor="office"
        )
    flow.register_residents(residents, compound_id=compound_id, actor="office")


def rated(
    flow: CivicFlow,
    compound_id: str,
    levels: dict[str, str],
    *,
    asker: str | None = None,
    backers: tuple[str, ...] = (),
) -> ProposalState:
    """A proposal of ``compound_id`` taken to Rate, and rated: resident -> level."""
    members = (
        flows.MEMBERS
        if compound_id == flows.COMPOUND
        else (
            f"{compound_id}-m1",
            f"{compound_id}-m2",
        )
    )
    member = members[0]
    p = flow.ask(
        title=f"Need of {compound_id}",
        details="x",
        category="lighting",
        area_id=compound_id,
        resident=asker or next(iter(levels)),
        channel="visit",
    )
    for backer in backers:
        flow.back(p.id, resident=backer)
    flow.discuss(p.id, attendees=list(members), summary="ok", actor=member)
    vote = {"in_favour": len(members), "against": 0}
    approval = {"vote": vote, "responsible": member, "actor": member}
    flow.decide(p.id, **{**flows.APPROVAL, **approval})
    flow.complete(p.id, summary="x", total_spent="1", evidence=["e"], actor=member)
    flow.publish(p.id, channels=["app"], summary="x", actor=member)
    for resident, level in levels.items():
        flow.rate(p.id, resident=resident, level=level)
    return p


def people(prefix: str, count: int, level: str = "satisfied") -> dict[str, str]:
    """``count`` residents rating ``level``: resident-1, ... (as ``flows`` registers them),
    or e-0, ... for the compounds these tests add."""
    first = 1 if prefix == "resident" else 0
    return {f"{prefix}-{n}": level for n in range(first, first + count)}


def by_area(figures: list[Any]) -> dict[str, Any]:
    return {f.area_id: f for f in figures}


# --- the five leaks ------------------------------------------------------------------------


def test_k_counts_residents_not_ratings() -> None:
    """Two residents rating three proposals give n=6: still two residents, hidden."""
    with flows.open_flow() as flow, Views(flow, k=K) as views:
        compound(flow, "compound-8", ["e-0", "e-1"])
        rated(flow, flows.COMPOUND, people("resident", 20))
        for _ in range(3):
            rated(flow, "compound-8", {"e-0": "dissatisfied", "e-1": "satisfied"})
        views.catch_up()
        assert by_area(views.satisfaction(level="compound"))["compound-8"].suppressed
        assert disclosed(views, K) == []


def test_a_compound_minus_its_shown_proposals_does_not_reveal_a_hidden_one() -> None:
    """Compound n=8, dissatisfied=1; one proposal n=6, dissatisfied=0: the other is hidden,
    and so is enough beside it that 8 - 6 cannot be taken."""
    with flows.open_flow() as flow, Views(flow, k=K) as views:
        shown = rated(flow, flows.COMPOUND, people("resident", 6))
        hidden = rated(
            flow, flows.COMPOUND, {"resident-20": "dissatisfied", "resident-21": "satisfied"}
        )
        views.catch_up()
        [area] = views.satisfaction(level="compound", quarter="2026Q3")
        rows = {f.proposal_id: f for f in views.review("2026Q3").proposals}
        assert rows[str(hidden.id)].suppressed
        assert area.suppressed or rows[str(shown.id)].suppressed
        assert disclosed(views, K) == []


def test_a_round_rated_across_two_quarters_does_not_reveal_its_small_part() -> None:
    """A round's total n=6 minus its third-quarter row n=5 would leave one rating."""
    clock = FakeClock(datetime(2026, 9, 20, 2, 0, tzinfo=UTC))
    with flows.open_flow(clock=clock) as flow, Views(flow, k=K) as views:
        levels = people("resident", 5)
        p = rated(flow, flows.COMPOUND, levels)
        clock.now = datetime(2026, 10, 3, 2, 0, tzinfo=UTC)
        flow.rate(p.id, resident="resident-9", level="dissatisfied")
        views.catch_up()
        [total] = views.proposal_satisfaction(p.id)
        [third] = [f for f in views.review("2026Q3").proposals if f.proposal_id == str(p.id)]
        [fourth] = [f for f in views.review("2026Q4").proposals if f.proposal_id == str(p.id)]
        assert fourth.suppressed
        assert total.suppressed or third.suppressed
        assert disclosed(views, K) == []


def test_participation_fields_hidden_one_at_a_time_do_not_leak_by_subtraction() -> None:
    """Compound-7 has one asker (hidden) beside ten raters (shown): the community's askers
    minus compound-8's would give it away, though neither figure is ``suppressed``."""
    with flows.open_flow() as flow, Views(flow, k=K) as views:
        compound(flow, "compound-8", [f"e-{n}" for n in range(12)])
        rated(flow, flows.COMPOUND, people("resident", 10))
        backers = tuple(f"e-{n}" for n in range(1, 6))
        rated(flow, "compound-8", people("e", 10), backers=backers)
        views.catch_up()
        compounds = by_area(views.participation(level="compound", quarter="2026Q3"))
        [community] = views.participation(level="community", quarter="2026Q3")
        assert compounds[flows.COMPOUND].asked_or_backed is None
        assert not compounds[flows.COMPOUND].suppressed
        assert community.asked_or_backed is None or compounds["compound-8"].asked_or_backed is None
        assert disclosed(views, K) == []


def test_several_hidden_siblings_are_not_revealed_together() -> None:
    """Siblings with 1, 2 and 10 ratings: 13 - 10 would leave 3 for the two hidden."""
    with flows.open_flow() as flow, Views(flow, k=K) as views:
        compound(flow, "compound-8", ["e-0"])
        compound(flow, "compound-9", ["f-0", "f-1"])
        rated(flow, flows.COMPOUND, people("resident", 10))
        rated(flow, "compound-8", people("e", 1))
        rated(flow, "compound-9", people("f", 2))
        views.catch_up()
        compounds = by_area(views.satisfaction(level="compound"))
        assert all(f.suppressed for f in compounds.values())
        [community] = views.satisfaction(level="community")
        assert community.n == 13  # the parent stays shown: its part are hidden enough
        assert disclosed(views, K) == []


# --- the attack on random histories ------------------------------------------------------


def attacked(life_flow: CivicFlow, k: int, settings_: dict[str, str] | None) -> list[str]:
    with Views(life_flow, k=k, settings=settings_) as views:
        views.rebuild()
        return disclosed(views, k)


ATTACKS = settings(
    max_examples=6,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # a history takes seconds to shrink
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@ATTACKS
@given(setup=SETUPS, seed=st.integers(0, 2**32 - 1), k=st.sampled_from([3, 5]))
def test_the_interval_attack_narrows_no_small_hidden_figure_on_sqlite(
    setup: Setup, seed: int, k: int
) -> None:
    life, genes = history(setup, seed, 160)
    life.run(genes)
    assert attacked(life.flow, k, None) == []


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A PostgreSQL store URL in a schema of its own (one per example), dropped after."""
    import psycopg  # only where PostgreSQL is there
    from psycopg import sql

    schema = f"civicflow_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.usefixtures("postgres_available")
@ATTACKS
@given(setup=SETUPS, seed=st.integers(0, 2**32 - 1))
def test_the_interval_attack_narrows_no_small_hidden_figure_on_postgresql(
    setup: Setup, seed: int
) -> None:
    with fresh_schema() as url:
        life, genes = history(setup, seed, 160)
        life.run(genes)
        assert attacked(life.flow, K, env_from_url(url)) == []  # the views on PostgreSQL
