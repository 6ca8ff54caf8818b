"""Views through their public API: figures, privacy, catch-up, rebuild, following live."""

from __future__ import annotations

import io
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from eventsourcing.cipher import AESCipher

from civicflow import AreaKind, CivicFlow, ConfigurationError, InvalidInputError
from civicflow.views import Views, quarter_of
from tests import flows
from tests.conftest import FakeClock
from tests.walkthrough import run


def rated_proposal(flow: CivicFlow, levels: list[str]) -> None:
    p = flows.rating(flow)
    flows.rate_all(flow, p, levels)
    flows.close_round(flow, p)


def test_a_rating_round_becomes_satisfaction_per_compound_and_quarter() -> None:
    with flows.open_flow() as flow, Views(flow) as views:
        rated_proposal(flow, ["satisfied"] * 5 + ["basically_satisfied"] * 3 + ["dissatisfied"] * 2)
        assert views.catch_up() > 0
        [figure] = views.satisfaction(level="compound")
        assert (figure.area_id, figure.quarter) == (flows.COMPOUND, "2026Q3")
        assert (figure.satisfied, figure.basically_satisfied, figure.dissatisfied) == (5, 3, 2)
        assert (figure.rate, figure.full_rate) == (Decimal("0.8"), Decimal("0.5"))
        [district] = views.satisfaction(level=AreaKind.DISTRICT, quarter="2026Q3")
        assert district.n == 10


def test_only_each_residents_latest_rating_in_a_round_counts() -> None:
    with flows.open_flow() as flow, Views(flow, k=1) as views:
        p = flows.rating(flow)
        flow.rate(p.id, resident="resident-1", level="dissatisfied")
        views.catch_up()
        flow.rate(p.id, resident="resident-1", level="satisfied")
        views.catch_up()
        [figure] = views.proposal_satisfaction(p.id)
        assert (figure.n, figure.satisfied, figure.round) == (1, 1, 1)


def test_a_figure_from_fewer_than_k_residents_is_suppressed_not_reported() -> None:
    with flows.open_flow() as flow, Views(flow, k=5) as views:
        rated_proposal(flow, ["satisfied"] * 4)
        views.catch_up()
        [figure] = views.satisfaction(level="compound")
        assert figure.suppressed
        assert (figure.n, figure.rate, figure.satisfied) == (None, None, None)
        [people] = views.participation(level="compound")
        assert people.suppressed
        assert people.participants is None
        assert people.households == 40  # not about residents: never hidden


def add_compound(flow: CivicFlow, compound: str, *, households: int, residents: int) -> None:
    """A second compound of community-1, with a council of two and residents e-0, e-1..."""
    flow.add_area(
        compound,
        kind="compound",
        name="Eight",
        parent_id="community-1",
        is_old=True,
        has_property_management=False,
        households=households,
        actor="office",
    )
    flow.form_council(compound, actor="office")
    for member in ("m8-1", "m8-2"):
        flow.join_council(compound, member=member, via="election", actor="office")
    flow.register_residents(
        [f"e-{n}" for n in range(residents)], compound_id=compound, actor="office"
    )


def test_a_lone_suppressed_compound_takes_its_smallest_sibling_with_it() -> None:
    with flows.open_flow() as flow, Views(flow, k=5) as views:
        add_compound(flow, "compound-8", households=30, residents=10)
        rated_proposal(flow, ["satisfied"] * 6)  # compound-7: 6 ratings
        small = flows.asked(flow, area_id="compound-8", resident="e-0")
        flow.discuss(small.id, attendees=["m8-1", "m8-2"], summary="ok", actor="m8-1")
        flow.decide(
            small.id,
            **{**flows.APPROVAL, "vote": {"in_favour": 2, "against": 0}, "actor": "m8-1"},
        )
        flow.complete(small.id, summary="x", total_spent="1", evidence=["e"], actor="m8-1")
        flow.publish(small.id, channels=["app"], summary="x", actor="m8-1")
        for n in range(3):
            flow.rate(small.id, resident=f"e-{n}", level="dissatisfied")
        views.catch_up()
        by_area = {f.area_id: f for f in views.satisfaction(level="compound")}
        assert by_area["compound-8"].suppressed  # 3 ratings
        assert by_area[flows.COMPOUND].suppressed  # 6 ratings, but 9 - 6 would reveal 3
        [community] = views.satisfaction(level="community")
        assert community.n == 9


def test_catch_up_counts_each_event_once_and_rebuild_gives_the_same_figures(
    durable_url: str,
) -> None:
    start = datetime.now(UTC) - timedelta(days=200)
    with CivicFlow.open(durable_url) as flow, Views(flow, k=1, batch_size=7) as views:
        run(flow, io.StringIO(), start=start)
        first = views.catch_up(limit=20)
        assert first == 20
        run(flow, io.StringIO(), start=start + timedelta(days=3))
        rest = views.catch_up()
        assert views.catch_up() == 0
        assert views.position == first + rest
        figures = (
            views.satisfaction(level="compound"),
            views.participation(level="street"),
            views.pipeline(level="district"),
        )
        assert views.rebuild() == first + rest
        again = (
            views.satisfaction(level="compound"),
            views.participation(level="street"),
            views.pipeline(level="district"),
        )
        assert again == figures
    with CivicFlow.open(durable_url) as reader, Views(reader, k=1) as fresh:
        assert fresh.catch_up() == 0  # the tracking position lives with the views
        assert fresh.satisfaction(level="compound") == figures[0]


def test_the_quarterly_review_ranks_areas_and_proposals() -> None:
    with flows.open_flow() as flow, Views(flow, k=1) as views:
        rated_proposal(flow, ["satisfied"] * 2 + ["dissatisfied"] * 2)
        rated_proposal(flow, ["satisfied"] * 4)
        views.catch_up()
        review = views.review("2026Q3", level="compound")
        assert [p.rate for p in review.proposals] == [Decimal(1), Decimal("0.5")]
        assert review.by_participation[0].area_id == flows.COMPOUND


def test_the_participation_rate_is_per_registered_resident_and_beside_it_per_household() -> None:
    with flows.open_flow() as flow, Views(flow) as views:
        rated_proposal(flow, ["satisfied"] * 10)
        flow.move_out("resident-30", actor="office")  # in 2026Q3: 29 registered at its end
        views.catch_up()
        [people] = views.participation(level="compound", quarter="2026Q3")
        assert (people.participants, people.residents, people.households) == (10, 29, 40)
        assert (people.rate, people.household_rate) == (Decimal("0.3448"), Decimal("0.2500"))


def test_the_review_ranks_participation_per_registered_resident() -> None:
    with flows.open_flow() as flow, Views(flow) as views:
        add_compound(flow, "compound-8", households=100, residents=10)
        rated_proposal(flow, ["satisfied"] * 6)  # compound-7: 30 residents, 40 households
        small = flows.asked(flow, area_id="compound-8", resident="e-0")
        flow.discuss(small.id, attendees=["m8-1", "m8-2"], summary="ok", actor="m8-1")
        flow.decide(
            small.id,
            **{**flows.APPROVAL, "vote": {"in_favour": 2, "against": 0}, "actor": "m8-1"},
        )
        flow.complete(small.id, summary="x", total_spent="1", evidence=["e"], actor="m8-1")
        flow.publish(small.id, channels=["app"], summary="x", actor="m8-1")
        for n in range(6):
            flow.rate(small.id, resident=f"e-{n}", level="satisfied")
        views.catch_up()
        ranked = views.review("2026Q3", level="compound").by_participation
        # 6 of 10 residents beat 6 of 30, though per household 6/100 trails 6/40.
        assert [(f.area_id, f.rate) for f in ranked] == [
            ("compound-8", Decimal("0.6000")),
            (flows.COMPOUND, Decimal("0.2000")),
        ]
        assert [f.household_rate for f in ranked] == [Decimal("0.0600"), Decimal("0.1500")]


def test_the_pipeline_counts_stages_and_work_past_its_deadline() -> None:
    with flows.open_flow() as flow, Views(flow) as views:
        late = flows.doing(flow)
        flows.asked(flow)
        views.catch_up()
        [figure] = views.pipeline(level="compound", as_of=datetime(2030, 6, 1).date())
        assert figure.stages == {"asked": 1, "doing": 1}
        assert figure.overdue == (str(late.id),)
        assert figure.ask_to_decide.count == 1
        [before] = views.pipeline(level="compound", as_of=datetime(2029, 6, 1).date())
        assert before.overdue == ()


def test_work_completed_on_the_day_asked_about_is_not_overdue_that_day() -> None:
    with flows.open_flow() as flow, Views(flow) as views:
        clock = flows.clock_of(flow)
        deadline = clock.now.date()  # 1 July; 17:00 in Shanghai
        p = flows.discussing(flow)
        flow.decide(p.id, **{**flows.APPROVAL, "deadline": deadline})
        clock.advance(days=3)  # 4 July, 17:00 in Shanghai
        flow.complete(p.id, summary="Done", total_spent="1", evidence=["e"], actor="member-2")
        views.catch_up()
        [before] = views.pipeline(level="compound", as_of=deadline + timedelta(days=2))
        assert before.overdue == (str(p.id),)
        [that_day] = views.pipeline(level="compound", as_of=deadline + timedelta(days=3))
        assert that_day.overdue == ()


@pytest.mark.parametrize("env", [None, {"CIPHER_KEY": AESCipher.create_key(num_bytes=32)}])
def test_without_community_rules_or_areas_figures_go_by_the_area_the_proposal_names(
    env: dict[str, str] | None, sqlite_url: str
) -> None:
    with (
        CivicFlow.open(sqlite_url, env=env, clock=FakeClock(), community_rules=False) as flow,
        Views(flow) as views,
    ):
        p = flows.asked(flow, area_id="building-12", resident="person-1")
        flow.discuss(p.id, attendees=["chair-1"], summary="s", actor="chair-1")
        flow.decide(p.id, **{**flows.APPROVAL, "vote": {"in_favour": 5, "against": 0}})
        flow.complete(p.id, summary="x", total_spent="1", evidence=["e"], actor="chair-1")
        flow.publish(p.id, channels=["app"], summary="x", actor="chair-1")
        for n in range(1, 6):
            flow.rate(p.id, resident=f"person-{n}", level="satisfied")
        views.catch_up()
        for level in AreaKind:  # unknown to the structure, the area stands for itself
            [rated] = views.satisfaction(level=level, quarter="2026Q3")
            assert (rated.area_id, rated.level, rated.n) == ("building-12", level, 5)
            [people] = views.participation(level=level, quarter="2026Q3")
            assert (people.area_id, people.participants, people.rated) == ("building-12", 6, 5)
            assert (people.residents, people.households, people.rate) == (0, 0, None)
            [pipe] = views.pipeline(level=level)
            assert (pipe.area_id, pipe.stages) == ("building-12", {"rating": 1})
        flow.rate(p.id, resident="person-6", level="dissatisfied")
        with (  # another process: the area's id is read back, not remembered from writing it
            CivicFlow.open(sqlite_url, env=env, community_rules=False) as other,
            Views(other) as reader,
        ):
            assert reader.catch_up() == 1
            [rated] = reader.satisfaction(level="compound")
            assert (rated.area_id, rated.n, rated.dissatisfied) == ("building-12", 6, 1)


def test_quarters_follow_the_districts_time_zone() -> None:
    moment = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # 1 October, 01:00 in Shanghai
    assert quarter_of(moment) == "2026Q4"
    assert quarter_of(moment, "Europe/Berlin") == "2026Q3"


def test_a_quarter_in_an_unknown_time_zone_is_a_typed_error() -> None:
    moment = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    for zone in ("Mars/Olympus_Mons", "", "../etc/passwd"):
        with pytest.raises(InvalidInputError, match="time zone"):
            quarter_of(moment, zone)


def test_bad_levels_quarters_and_settings_are_typed_errors() -> None:
    with flows.open_flow() as flow, Views(flow) as views:
        with pytest.raises(InvalidInputError, match="level"):
            views.satisfaction(level="galaxy")
        with pytest.raises(InvalidInputError, match="quarter"):
            views.participation(quarter="2026-3")
        with pytest.raises(ConfigurationError):
            Views(flow, k=0)


def test_views_follow_a_postgresql_store_live(postgres_url: str) -> None:
    with flows.open_flow(postgres_url) as flow, Views(flow, k=1) as views:
        stop = threading.Event()
        follower = threading.Thread(target=views.follow, args=(stop,), daemon=True)
        follower.start()
        p = flows.rating(flow)
        flow.rate(p.id, resident="resident-1", level="satisfied")
        last = flow.recorder.max_notification_id()
        assert last is not None
        deadline = time.monotonic() + 10
        while views.position < last and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        follower.join(timeout=10)
        assert views.proposal_satisfaction(p.id)[0].n == 1
        assert not follower.is_alive()


def test_views_poll_a_sqlite_store(sqlite_url: str) -> None:
    with flows.open_flow(sqlite_url) as flow, Views(flow, k=1) as views:
        stop = threading.Event()
        follower = threading.Thread(target=views.follow, args=(stop, 0.01), daemon=True)
        follower.start()
        flows.asked(flow)
        last = flow.recorder.max_notification_id()
        assert last is not None
        deadline = time.monotonic() + 10
        while views.position < last and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        follower.join(timeout=10)
        assert views.pipeline(level="district")[0].stages == {"asked": 1}


def test_two_processes_counting_the_same_views_never_overwrite_each_other(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with flows.open_flow(sqlite_url) as flow:
        p = flows.asked(flow)
        with Views(flow, k=1) as first, Views(flow, k=1) as second:
            stale = first.tables.load()  # what the first had read before the second counted
            second.catch_up()
            flow.discuss(p.id, attendees=[*flows.MEMBERS], summary="ok", actor="member-1")
            calls = iter([stale])
            original = first.tables.load
            monkeypatch.setattr(first.tables, "load", lambda: next(calls, None) or original())
            assert first.catch_up() > 0  # refused once (moved), then counted from fresh figures
            [pipeline] = first.pipeline(level="compound")
            assert pipeline.stages == {"discussing": 1}
            assert first.position == flow.recorder.max_notification_id()


def test_the_views_keep_the_whole_structure_batch_after_batch() -> None:
    """Areas, councils, policies and sponsorships are written entry by entry as they
    change, over many small batches; read back, they are the directory's own structure.
    """
    with flows.open_flow() as flow, Views(flow, batch_size=3) as views:
        flow.assign_sponsor("community-1", sponsor="cadre-1", kind="cadre", actor="office")
        flow.set_policy("district-1", rating_window_days=20, actor="office")
        flow.set_policy("community-1", quorum="0.6", actor="office")
        flow.end_sponsorship("community-1", sponsor="cadre-1", actor="office")
        flow.assign_sponsor(flows.COMPOUND, sponsor="dept-1", kind="department", actor="office")
        assert views.catch_up() > 3
        assert views.structure() == flow.structure()
        flow.count_households(flows.COMPOUND, households=42, actor="office")
        flow.leave_council(flows.COMPOUND, member=flows.MEMBERS[0], actor="office")
        assert views.catch_up() == 2
        assert views.structure() == flow.structure()


def test_catch_up_hands_every_object_back_to_the_garbage_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counting freezes each page's survivors; none stay frozen once it returns or fails."""
    import gc

    with flows.open_flow() as flow, Views(flow, batch_size=5) as views:
        rated_proposal(flow, ["satisfied"] * 6)
        assert views.catch_up() > 5
        assert gc.get_freeze_count() == 0
        rated_proposal(flow, ["dissatisfied"] * 6)

        def broken(*args: object) -> None:
            raise RuntimeError("a page could not be written")

        monkeypatch.setattr(views.tables, "write", broken)
        with pytest.raises(RuntimeError):
            views.catch_up()
        assert gc.get_freeze_count() == 0


def test_a_catch_up_goes_on_from_the_last_one_unless_another_moved_the_views(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The views' state is loaded from the tables only when this object did not leave it."""
    with flows.open_flow(sqlite_url) as flow, Views(flow) as views, Views(flow) as other:
        loads = []
        load = views.tables.load

        def counting_load() -> object:
            loads.append(views.position)
            return load()

        monkeypatch.setattr(views.tables, "load", counting_load)
        rated_proposal(flow, ["satisfied"] * 6)
        views.catch_up()
        rated_proposal(flow, ["basically_satisfied"] * 6)
        views.catch_up()
        assert len(loads) == 1  # the second went on with what the first left

        rated_proposal(flow, ["dissatisfied"] * 6)
        other.catch_up()  # another object (or process) moves the views on
        rated_proposal(flow, ["satisfied"] * 6)
        views.catch_up()
        assert len(loads) == 2  # so this one reads them back first
        assert views.position == other.position
        after = views.satisfaction(level="compound")
        views.rebuild()
        assert views.satisfaction(level="compound") == after


def test_views_made_by_an_older_definition_are_counted_again(sqlite_url: str) -> None:
    with flows.open_flow(sqlite_url) as flow:
        rated_proposal(flow, ["satisfied"] * 6)
        with Views(flow) as views:
            views.catch_up()
            counted = views.satisfaction(level="compound")
            with views.tables.transaction(commit=True) as cursor:
                cursor.execute("UPDATE cf_view_state SET value = '1' WHERE name = 'schema'")
        with Views(flow) as again:
            assert again.position == 0  # the old tables were dropped on opening
            assert again.catch_up() > 0
            assert again.satisfaction(level="compound") == counted
