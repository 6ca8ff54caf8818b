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
