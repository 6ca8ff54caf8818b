"""``civicflow demo --city``: the demo city, each district a complete store of its own."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from civicflow import CivicFlow
from civicflow.cli.citydemo import _district_count
from civicflow.errors import ConfigurationError
from civicflow.extras.demo import Size, build_into
from civicflow.extras.demo_city import Seat, build_city
from civicflow.federation.city import City
from civicflow.federation.registry import load_registry, parse_registry
from tests.test_cli import civicflow, ok, refusal
from tests.test_federation import _Databases, registry_file

KEY = {"AUDIT_KEY": "demo-city-test-key"}


def demo(line: str) -> dict[str, Any]:
    """The JSON summary (the progress bar and where new keys are go to stderr)."""
    ran = civicflow(f"demo {line} --json")
    assert ran.code == 0, ran.err
    summary: dict[str, Any] = json.loads(ran.out)
    return summary


def steps(flow: CivicFlow, proposal: UUID) -> list[tuple[int, str]]:
    return [(e.originator_version, e.topic) for e in flow.recorder.select_events(proposal)]


def test_a_new_registry_is_written_with_a_store_per_district(tmp_path: Path) -> None:
    registry = tmp_path / "city.toml"
    summary = demo(f"--city {registry} --compounds 6 --districts 2")
    assert summary["written"] is True
    assert [d["district"] for d in summary["districts"]] == ["district-1", "district-2"]
    assert [d["compounds"] for d in summary["districts"]] == [3, 3]
    assert summary["events"] == sum(d["events"] for d in summary["districts"]) > 0
    city = load_registry(registry)
    assert city.views_url() == f"sqlite:///{tmp_path / 'city-views.db'}"
    assert 'store = "sqlite:///district-1.db"' in registry.read_text(encoding="utf-8")
    for district in city.districts:  # each opens alone, its log proven by its own head
        assert ok(f"verify --db {district.url()}").out.startswith("OK:")
    with City.open(registry, create=False) as opened:
        assert opened.district_of("compound-001") == "district-1"
        assert opened.district_of("compound-004") == "district-2"
        assert opened.district_of("district-2-community-1-1") == "district-2"
        assert opened.district_of_resident("compound-006-r001") == "district-2"
        assert opened.for_area("compound-002") is opened.district("district-1")


def test_a_second_run_refuses_the_filled_stores_and_writes_nothing(tmp_path: Path) -> None:
    registry = tmp_path / "city.toml"
    demo(f"--city {registry} --compounds 2 --districts 2")
    written = registry.read_text(encoding="utf-8")
    refused = refusal(civicflow(f"demo --city {registry} --compounds 2"))
    assert "district district-1: sqlite:///" in refused
    assert "is not empty" in refused
    assert registry.read_text(encoding="utf-8") == written


def test_a_new_city_has_a_district_per_304_compounds_or_two() -> None:
    def districts(**given: int | None) -> int:
        return _district_count(
            argparse.Namespace(**({"districts": None, "compounds": None} | given))
        )

    assert districts() == 2  # civicflow demo --city city.toml: 608 compounds
    assert districts(compounds=3040) == 10
    assert districts(compounds=305) == 2
    assert districts(compounds=20) == 1
    assert districts(compounds=20, districts=4) == 4


def test_the_text_summary_names_each_district_and_totals_them(tmp_path: Path) -> None:
    ran = civicflow(f"demo --city {tmp_path / 'city.toml'} --compounds 3 --districts 3")
    assert ran.code == 0, ran.err
    shown = ran.out
    assert shown.startswith(f"City registry written: {tmp_path / 'city.toml'}")
    lines = shown.splitlines()
    assert [line.split()[:2] for line in lines[3:7]] == [
        ["district-1", "1"],
        ["district-2", "1"],
        ["district-3", "1"],
        ["total", "3"],
    ]
    assert "--city" in lines[-1]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("--districts 2", "--districts needs --city"),
        ("--city {dir}/c.toml --compounds 1 --districts 2", "at least 2 compounds"),
        ("--city {dir}/c.toml --districts 0", "at least one district"),
        ("--city {dir}/c.toml --keys {dir}/k", "keys of its own"),
        ("--city {dir}/none/c.toml --compounds 1", "no folder"),
    ],
)
def test_bad_numbers_are_refused_before_anything_is_written(
    tmp_path: Path, line: str, problem: str
) -> None:
    refused = refusal(civicflow(f"demo {line.format(dir=tmp_path)} --db sqlite:///{tmp_path}/x"))
    assert problem in refused
    assert not (tmp_path / "c.toml").exists()


@pytest.fixture
def postgres_city(postgres_available: None, tmp_path: Path) -> Iterator[Path]:
    """A registry of two districts, each a PostgreSQL database of this test's own."""
    with _Databases(2) as (east, west):
        yield registry_file(tmp_path, {"east": east, "west": west}, name="Demo City")


def test_an_existing_registry_of_postgresql_districts_is_built_into(postgres_city: Path) -> None:
    summary = demo(f"--city {postgres_city} --compounds 4")
    assert summary["written"] is False
    assert [(d["district"], d["compounds"]) for d in summary["districts"]] == [
        ("east", 2),
        ("west", 2),
    ]
    with City.open(postgres_city, create=False) as city:
        assert city.district_of("compound-002") == "east"
        assert city.district_of("compound-003") == "west"
        assert city.district_of("d-west-street-1") == "west"
        assert city.district("west").verify().ok
    refused = refusal(civicflow(f"demo --city {postgres_city} --compounds 4"))
    assert "district east" in refused
    assert "is not empty" in refused
    assert "leave out --districts" in refusal(
        civicflow(f"demo --city {postgres_city} --districts 3")
    )


def test_district_i_holds_what_the_one_store_demo_builds_in_its_part_i() -> None:
    size = Size.scaled(8)
    with (
        CivicFlow(env=KEY) as one,
        CivicFlow(env=KEY) as east,
        CivicFlow(env=KEY) as west,
    ):
        whole = build_into(one, size=size, part=4, batch=7)
        seats = [(east, Seat("d-east", "East", "d-east-")), (west, Seat("d-west", "West", "w-"))]
        parts = build_city(seats, size=size, part=4, batch=7)
        assert sorted(parts[0].proposals + parts[1].proposals) == sorted(whole.proposals)
        for (flow, _), part in zip(seats, parts, strict=True):
            assert flow.verify().ok
            for proposal in part.proposals:  # the same steps (only recording times differ)
                assert steps(flow, proposal) == steps(one, proposal)
                assert flow.proposal(proposal).stage == one.proposal(proposal).stage
        assert {a for a in east.structure().areas if a.startswith("compound-")} == {
            f"compound-00{n}" for n in range(1, 5)
        }


def test_a_registry_may_name_the_city_views_store() -> None:
    data = {"name": "C", "districts": {"a": {"area": "d", "store": "memory://"}}}
    assert parse_registry(data, base=Path("/srv")).views is None
    views = parse_registry({**data, "views": "sqlite:///views.db"}, base=Path("/srv"))
    assert views.views_url() == "sqlite:////srv/views.db"
    with pytest.raises(ConfigurationError, match="the city views: the store URL holds"):
        parse_registry({**data, "views": "postgresql://u:secret@h/db"}, base=Path())
    with pytest.raises(ConfigurationError, match="city views need a store URL"):
        parse_registry({**data, "views": 3}, base=Path())
