"""``--city city.toml``: each command runs on the district store that holds what it names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civicflow import CivicFlow
from tests.test_cli import civicflow, refusal

DISTRICTS = ("east", "west")


@pytest.fixture
def city(tmp_path: Path) -> str:
    lines = ['name = "Twin City"']
    for name in DISTRICTS:
        lines += [f"[districts.{name}]", f'area = "d-{name}"', f'store = "sqlite:///{name}.db"']
    registry = tmp_path / "city.toml"
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(registry)


def run(line: str, city: str) -> str:
    ran = civicflow(f"{line} --city {city}")
    assert ran.code == 0, ran.err
    return ran.out


def build(name: str, city: str) -> None:
    """A district's areas, council and residents, every command routed by what it names."""
    run(f"area add d-{name} --kind district --name {name} --actor office", city)
    run(f"area add s-{name} --kind street --name s --parent d-{name} --actor office", city)
    run(f"area add c-{name} --kind community --name c --parent s-{name} --actor office", city)
    run(
        f"area add k-{name} --kind compound --name k --parent c-{name} --old --no-managed "
        "--households 40 --actor office",
        city,
    )
    run(f"council form k-{name} --actor office", city)
    for member in ("m1", "m2", "m3"):
        run(f"council join k-{name} --member {member}-{name} --via election --actor office", city)
    run(f"resident register r1-{name} r2-{name} --compound k-{name} --actor office", city)


def test_commands_go_to_the_district_that_holds_what_they_name(city: str, tmp_path: Path) -> None:
    for name in DISTRICTS:
        build(name, city)
    asked = run(
        "ask --title Gate --details Sticks --category safety --area k-west --resident r1-west "
        "--json",
        city,
    )
    proposal = json.loads(asked)["id"]
    run(f"back {proposal} --resident r2-west", city)  # found by its id alone
    shown = json.loads(run(f"show {proposal} --json", city))
    assert shown["version"] == 2
    with CivicFlow.open(f"sqlite:///{tmp_path / 'east.db'}") as east:
        assert list(east.structure().areas) == ["d-east", "s-east", "c-east", "k-east"]
    with CivicFlow.open(f"sqlite:///{tmp_path / 'west.db'}") as west:
        assert west.proposal(proposal).title == "Gate"
    # Each district's store has its own keys and feed, beside it.
    assert (tmp_path / "east.db.keys" / "signing.pub").exists()
    assert (tmp_path / "west.db.keys" / "signing.pub").exists()


def test_a_command_that_names_nothing_to_route_by_needs_a_district(city: str) -> None:
    build("east", city)
    refused = refusal(civicflow(f"verify --city {city}"))
    assert "add --district (one of east, west)" in refused
    ran = civicflow(f"verify --city {city} --district east")
    assert ran.code in (0, 3), ran.err  # proven, or clean but not yet proven by a head


def test_a_move_between_districts_from_the_command_line_says_how(city: str) -> None:
    for name in DISTRICTS:
        build(name, city)
    refused = refusal(civicflow(f"resident move r1-east --compound k-west --actor o --city {city}"))
    assert "move them out there" in refused
    run("resident move-out r1-east --actor office", city)
    run("resident register r1-east --compound k-west --actor office", city)
    shown = json.loads(run("resident show r1-east --json", city))
    assert shown["homes"][-1]["value"] == "k-west"


def test_an_unknown_district_or_area_is_refused_clearly(city: str) -> None:
    build("east", city)
    assert "no district 'north'" in refusal(civicflow(f"verify --city {city} --district north"))
    renamed = civicflow(f"area rename k-nowhere --name X --actor o --city {city}")
    assert "no district of Twin City" in refusal(renamed)


def test_a_malformed_proposal_id_is_refused_clearly(city: str) -> None:
    build("east", city)
    assert "not a proposal id" in refusal(civicflow(f"back not-a-uuid --resident r --city {city}"))


# --- the city's views ----------------------------------------------------------------------


def with_views(city: str, *extra: str) -> str:
    """The registry with a views store (and ``extra`` districts' lines) added."""
    path = Path(city)
    text = path.read_text(encoding="utf-8").replace(
        'name = "Twin City"', 'name = "Twin City"\nviews = "sqlite:///city-views.db"'
    )
    path.write_text(text + "".join(extra), encoding="utf-8")
    return city


def asked_in_each(city: str) -> None:
    for name in DISTRICTS:
        build(name, city)
        run(
            f"ask --title Gate --details Sticks --category safety --area k-{name} "
            f"--resident r1-{name}",
            city,
        )


def test_views_with_a_city_and_no_district_read_the_city_views(city: str) -> None:
    with_views(city)
    asked_in_each(city)
    found = json.loads(run("views participation --level district --k 1 --json", city))
    assert sorted(f["area_id"] for f in found) == ["d-east", "d-west"]
    [total] = json.loads(run("views participation --level city --k 1 --json", city))
    assert total["participants"] == 2
    assert total["city"] == "Twin City"
    review = run(f"views review --quarter {found[0]['quarter']} --level district --k 1", city)
    assert "d-east" in review
    assert "d-west" in review
    assert run("rebuild", city).startswith(f"{2 * len(stored_events(city))} events counted")
    # One district's own views, as before, with --district.
    own = json.loads(run("views participation --level district --k 1 --json --district east", city))
    assert [f["area_id"] for f in own] == ["d-east"]


def stored_events(city: str) -> list[int]:
    with CivicFlow.open(f"sqlite:///{Path(city).parent / 'east.db'}") as east:
        return [n.id for n in east.recorder.select_notifications(start=None, limit=10**6)]


def test_a_district_that_cannot_be_read_is_said_and_the_others_are_counted(city: str) -> None:
    asked_in_each(city)
    north = 'store = "postgresql://postgres@127.0.0.1:9/none"\n'  # a port nothing listens on
    with_views(city, '[districts.north]\narea = "d-north"\n', north)
    ran = civicflow(f"views participation --level district --k 1 --json --city {city}")
    assert ran.code == 0, ran.err
    assert "district north could not be read" in ran.err
    assert sorted(f["area_id"] for f in json.loads(ran.out)) == ["d-east", "d-west"]


def test_city_views_refuse_what_they_cannot_answer(city: str) -> None:
    with_views(city)
    build("east", city)
    assert "--level city needs --city" in refusal(civicflow("views satisfaction --level city"))
    as_of = civicflow(f"views satisfaction --as-of 2026-07-01T00:00+08:00 --city {city}")
    assert "with --city add --district" in refusal(as_of)
    pipeline = civicflow(f"views pipeline --level city --city {city}")
    assert "city's satisfaction and participation" in refusal(pipeline)
    without = (
        Path(city).read_text(encoding="utf-8").replace('views = "sqlite:///city-views.db"\n', "")
    )
    Path(city).write_text(without, encoding="utf-8")
    assert "names no views store" in refusal(civicflow(f"views satisfaction --city {city}"))
