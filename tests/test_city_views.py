"""A city's views: every district counted once into one views store, whatever happens.

The city's figures are held to what each district's own views give when counted alone
(``Views`` is held to a naive recount of the log in ``test_views_properties.py``), for
random histories across districts and however catch-up is interleaved between them;
the city's totals to the sums of the districts'. A district made unreachable through a
TCP proxy is passed over while the others count, is reported behind, and catches up
when it returns, with nothing lost or counted twice.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from civicflow import ConfigurationError
from civicflow.federation.city import City
from civicflow.federation.cityviews import CityViews
from civicflow.views import Views
from civicflow.views.backend import private_memory
from tests.citylife import START, CityLife, populate, write_registry
from tests.conftest import FakeClock
from tests.tcpproxy import proxy_to_postgres
from tests.test_federation import _Databases

LEVELS = ("compound", "community", "street", "district")
NAMES = ("east", "west", "north")


def figures(views: Any, quarters: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every figure of ``views`` (a district's or the city's), as plain sorted data."""
    found: dict[str, list[dict[str, Any]]] = {}
    for level in LEVELS:
        for quarter in (None, *quarters):
            found[f"satisfaction {level} {quarter}"] = _sorted(
                views.satisfaction(level=level, quarter=quarter)
            )
            found[f"participation {level} {quarter}"] = _sorted(
                # Areas with no participant are listed for every quarter in which their
                # store saw any: in a city's views, any district's activity lists them.
                p
                for p in views.participation(level=level, quarter=quarter)
                if p.participants != 0
            )
        found[f"pipeline {level}"] = _sorted(views.pipeline(level=level, as_of=START.date()))
    for quarter in quarters:
        found[f"proposals {quarter}"] = _sorted(views.review(quarter).proposals)
    return found


def _sorted(items: Any) -> list[dict[str, Any]]:
    dumped = [item.model_dump(mode="json") for item in items]
    return sorted(dumped, key=repr)


def each_district_alone(city: City, quarters: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The figures each district's own views give, counted alone, side by side."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for name in city.names:
        with Views(city.district(name), settings=private_memory(), k=1) as alone:
            alone.catch_up()
            for key, found in figures(alone, quarters).items():
                merged[key] = sorted(merged.get(key, []) + found, key=repr)
    return merged


def quarters_of(views: CityViews) -> list[str]:
    rated = {f.quarter for f in views.satisfaction(level="district") if f.quarter}
    return sorted(rated | {f.quarter for f in views.participation(level="district")})


def assert_city_totals_are_the_district_sums(views: CityViews) -> None:
    districts = views.satisfaction(level="district")
    for total in views.city_satisfaction():
        parts = [d for d in districts if d.quarter == total.quarter]
        for name in ("satisfied", "basically_satisfied", "dissatisfied", "n"):
            assert getattr(total, name) == sum(getattr(d, name) for d in parts)
    people = views.participation(level="district")
    for whole in views.city_participation():
        areas = [p for p in people if p.quarter == whole.quarter]
        assert whole.participants == sum(p.participants or 0 for p in areas)
        assert whole.residents == sum(p.residents for p in areas)


@pytest.fixture
def memory_city() -> Iterator[tuple[City, FakeClock]]:
    folder = Path(tempfile.mkdtemp())
    registry = write_registry(folder, dict.fromkeys(NAMES, "memory://"), "sqlite:///views.db")
    clock = FakeClock(START)
    with City.open(registry, clock=clock) as city:
        yield city, clock


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            (0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 4, 5, 5)
        ),  # see CityLife.run; 5: catch up
        st.integers(0, 2),
        st.integers(0, 11),
        st.integers(0, 11),
        st.integers(0, 5),
    ),
    min_size=10,
    max_size=80,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS, batch=st.integers(1, 40))
def test_city_views_equal_each_district_counted_alone_however_catch_up_interleaves(
    operations: list[tuple[int, ...]], batch: int
) -> None:
    folder = Path(tempfile.mkdtemp())
    registry = write_registry(folder, dict.fromkeys(NAMES, "memory://"), "sqlite:///views.db")
    clock = FakeClock(START)
    with City.open(registry, clock=clock) as city:
        life = CityLife(city, clock)
        life.build()
        with CityViews(city, settings=private_memory(), k=1, batch_size=batch) as views:
            for op in operations:
                if op[0] == 5:  # count part of one district's log, between its writes
                    views.catch_up(1 + op[2] * 3, districts=[NAMES[op[1]]])
                else:
                    life.run(op)
            views.catch_up()
            event(f"commands accepted: {min(life.accepted // 10 * 10, 40)}+")
            assert all(lag.behind == 0 for lag in views.behind())
            quarters = quarters_of(views)
            assert figures(views, quarters) == each_district_alone(city, quarters)
            assert_city_totals_are_the_district_sums(views)
            again = figures(views, quarters)
            views.rebuild()
            assert figures(views, quarters) == again


def test_a_resident_moving_between_districts_counts_in_each_district_once(
    memory_city: tuple[City, FakeClock],
) -> None:
    city, clock = memory_city
    life = CityLife(city, clock)
    life.build()
    life.run((0, 0, 1, 2, 0))  # r-east-3 asks in east, at home in k-east-1
    assert life.accepted == 1
    clock.advance(days=1)
    city.move_resident("r-east-3", compound_id="k-west-1", actor="office")
    clock.advance(days=1)
    with CityViews(city, settings=private_memory(), k=1) as views:
        views.catch_up()
        quarters = quarters_of(views)
        assert figures(views, quarters) == each_district_alone(city, quarters)
        residents = {p.area_id: p.residents for p in views.participation(level="district")}
        assert residents["d-east"] == 5
        assert residents["d-west"] == 7


def test_a_city_registry_without_a_views_store_is_refused(tmp_path: Path) -> None:
    lines = 'name = "C"\n[districts.east]\narea = "d-east"\nstore = "memory://"\n'
    (tmp_path / "city.toml").write_text(lines, encoding="utf-8")
    with (
        City.open(tmp_path / "city.toml") as city,
        pytest.raises(ConfigurationError, match="views"),
    ):
        CityViews(city)


def test_an_encrypted_district_is_not_copied_into_city_views_in_clear(tmp_path: Path) -> None:
    from civicflow.views.sealing import sealing_of

    registry = write_registry(tmp_path, {"east": "memory://"}, "sqlite:///views.db")
    with City.open(
        registry, env={"CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": _key()}
    ) as city:
        flow = city.district("east")
        assert sealing_of(flow).stamp is not None
        with CityViews(city) as views, pytest.raises(ConfigurationError, match="encrypted"):
            views.catch_up()


def _key() -> str:
    from eventsourcing.cipher import AESCipher

    return AESCipher.create_key(16)


# --- on PostgreSQL: districts in databases of their own, one behind a proxy ---------------


@pytest.fixture
def three_databases(postgres_available: None) -> Iterator[list[str]]:
    with _Databases(3) as urls:
        yield urls


def test_an_unreachable_district_is_passed_over_reported_and_caught_up_exactly_once(
    three_databases: list[str], tmp_path: Path
) -> None:
    east, west, views_db = three_databases
    with proxy_to_postgres() as proxy:
        stores = {"east": east, "west": proxy.url(west)}
        registry = write_registry(tmp_path, stores, views_db)
        clock = FakeClock(START)
        with City.open(registry, clock=clock) as city:
            life = CityLife(city, clock)
            life.build()
            for n in range(6):
                life.run((0, n % 2, 1, n, 0))  # resident n asks at home
                life.run((2, n % 2, 0, n, n))
            with CityViews(city, k=1, batch_size=7) as views:
                views.catch_up(limit=9, districts=["west"])  # part of west's log
                views.catch_up(districts=["east"])
                proxy.pause()  # west's server is gone, mid-run
                for n in range(4):
                    life.run((0, 0, 1, n, 0))  # east keeps working
                counted = views.catch_up()
                assert counted["east"] == 4
                assert counted["west"] == 0
                lags = {lag.district: lag for lag in views.behind()}
                assert lags["east"].behind == 0
                assert lags["west"].log is None
                assert lags["west"].error
                seen = [f for f in views.participation(level="district") if f.area_id == "d-east"]
                assert sum(f.participants or 0 for f in seen) == 5  # counted while west was away
                proxy.resume()  # it returns, with what it recorded meanwhile
                life.run((2, 1, 1, 2, 1))
                views.catch_up()
                assert all(lag.behind == 0 for lag in views.behind())
                quarters = quarters_of(views)
                assert figures(views, quarters) == each_district_alone(city, quarters)
        # A fresh process reads the same figures back, and counts nothing twice.
        with City.open(registry, clock=clock) as city, CityViews(city, k=1) as again:
            assert again.catch_up() == {"east": 0, "west": 0}
            assert figures(again, quarters) == each_district_alone(city, quarters)
            assert_city_totals_are_the_district_sums(again)


# --- privacy: the city's totals against its districts ---------------------------------------


def test_a_district_figure_hidden_is_not_the_city_total_less_the_districts_shown(
    memory_city: tuple[City, FakeClock],
) -> None:
    city, clock = memory_city
    life = CityLife(city, clock)
    life.build()
    for name, raters in (("east", 6), ("west", 6), ("north", 2)):
        flow = city.district(name)
        life.run((0, NAMES.index(name), 1, 0, 0))
        pid = life.proposals[name][-1][0]
        for _ in range(4):  # to the rating step
            life.run((1, NAMES.index(name), len(life.proposals[name]) - 1, 0, 0))
        extra = [f"x-{name}-{r}" for r in range(raters)]
        flow.register_residents(extra, compound_id=f"k-{name}-2", actor="office")
        for resident in extra:
            flow.rate(pid, resident=resident, level="satisfied")
    with CityViews(city, settings=private_memory(), k=3) as views:
        views.catch_up()
        districts = views.satisfaction(level="district")
        totals = views.city_satisfaction()
        for total in totals:
            members = [total] + [d for d in districts if d.quarter == total.quarter]
            hidden = [m for m in members if m.suppressed]
            assert not total.suppressed  # 14 residents rated: the city's total is shown
            assert len(hidden) != 1, members  # one alone would be the total less the rest
            assert any(d.suppressed for d in members if d.area_id == "d-north")


# --- the documented procedures: a district added, a district's store moved ----------------


def test_a_district_added_to_a_running_city_is_routed_and_counted(tmp_path: Path) -> None:
    stores = {"east": f"sqlite:///{tmp_path / 'east.db'}"}
    registry = write_registry(tmp_path, stores, "sqlite:///views.db")
    clock = FakeClock(START)
    with City.open(registry, clock=clock) as city, CityViews(city, k=1) as views:
        life = CityLife(city, clock)
        life.build()
        life.run((0, 0, 1, 0, 0))
        views.catch_up()
    # The registry gains a line; every process that opens the city from now on has it.
    write_registry(
        tmp_path, {**stores, "west": f"sqlite:///{tmp_path / 'west.db'}"}, "sqlite:///views.db"
    )
    with City.open(registry, clock=clock) as city, CityViews(city, k=1) as views:
        populate(city.district("west"), "west", "Asia/Shanghai")
        CityLife(city, clock, proposals={"east": [], "west": []}).run((0, 1, 1, 0, 0))
        assert city.district_of("k-west-1") == "west"
        counted = views.catch_up()
        assert counted["east"] == 0  # east was counted before: nothing again
        assert counted["west"] > 0
        quarters = quarters_of(views)
        assert figures(views, quarters) == each_district_alone(city, quarters)


def test_a_district_store_moved_to_another_server_keeps_its_history_and_its_figures(
    postgres_available: None, tmp_path: Path
) -> None:
    from civicflow import CivicFlow
    from civicflow.audit.signing import Signer
    from civicflow.federation.cityhead import CityHead

    stores = {
        "east": f"sqlite:///{tmp_path / 'east.db'}",
        "west": f"sqlite:///{tmp_path / 'west.db'}",
    }
    registry = write_registry(tmp_path, stores, "sqlite:///views.db")
    clock, key = FakeClock(START), Signer.generate("test.city/head")
    with City.open(registry, clock=clock) as city, CityViews(city, k=1) as views:
        life = CityLife(city, clock)
        life.build()
        for n in range(4):
            life.run((0, n % 2, 1, n, 0))
        views.catch_up()
        before = figures(views, quarters_of(views))
        head = CityHead.open(city.head(key), key.verifier)
        # 1. export the district's log, 2. import it into the new server's store,
        with io.StringIO() as out:
            city.district("west").export_events(out)
            lines = out.getvalue().splitlines()
    with _Databases(1) as (new_server,):
        CivicFlow.import_into(new_server, lines)
        # 3. switch the registry's line,
        write_registry(tmp_path, {**stores, "west": new_server}, "sqlite:///views.db")
        with City.open(registry, clock=clock) as city, CityViews(city, k=1) as views:
            # 4. check the moved store against the published city head,
            assert city.check_district("west", head).ok
            CityHead.open(city.head(key, last=head), key.verifier)  # it extends what was listed
            # and the city views count again (the new store's notification ids need not be
            # the old ones, which were the positions counted), to the same figures.
            counted = views.catch_up()
            assert min(counted.values()) > 0
            assert figures(views, quarters_of(views)) == before
            assert all(lag.behind == 0 for lag in views.behind())


def test_a_district_taken_out_of_the_registry_leaves_the_city_figures(tmp_path: Path) -> None:
    stores = {n: f"sqlite:///{tmp_path / n}.db" for n in ("east", "west")}
    registry = write_registry(tmp_path, stores, "sqlite:///views.db")
    clock = FakeClock(START)
    with City.open(registry, clock=clock) as city, CityViews(city, k=1) as views:
        life = CityLife(city, clock)
        life.build()
        life.run((0, 0, 1, 0, 0))
        life.run((0, 1, 1, 0, 0))
        views.catch_up()
        assert [total.districts for total in views.city_participation()] == [2]
    write_registry(tmp_path, {"east": stores["east"]}, "sqlite:///views.db")
    with City.open(registry, clock=clock) as city, CityViews(city, k=1) as views:
        views.catch_up()
        shown = {f.area_id for f in views.participation(level="district")}
        assert shown == {"d-east"}
        assert [total.participants for total in views.city_participation()] == [1]
        found = views.tables.query("SELECT application_name, 1 FROM tracking")
        names = {str(name) for name, _ in found if str(name).startswith("civicflow-city")}
        assert names == {"civicflow-city:east"}  # west's position went with its figures
