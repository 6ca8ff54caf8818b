"""A city of district stores: the registry, and commands routed to the store that holds them.

Each district is a complete store of its own: SQLite files here, and, with PostgreSQL,
two databases made for the test (each standing for a server) and dropped after it.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civicflow import CivicFlow
from civicflow.audit.errors import ForkRefusedError, MalformedNoteError, SignatureError
from civicflow.audit.signing import Signer
from civicflow.errors import (
    BackendUnavailableError,
    ConfigurationError,
    InvalidInputError,
    MissingRegistrationError,
    ProposalNotFoundError,
)
from civicflow.federation.city import City
from civicflow.federation.cityhead import CityHead
from civicflow.federation.registry import Registry, load_registry, parse_registry
from tests.conftest import POSTGRES_URL, FakeClock

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1


def registry_file(folder: Path, stores: dict[str, str], name: str = "Shanyang City") -> Path:
    lines = [f'name = "{name}"']
    for district, store in stores.items():
        lines += [f"[districts.{district}]", f'area = "d-{district}"', f'store = "{store}"']
    path = folder / "city.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the registry -------------------------------------------------------------------------


def test_a_registry_names_districts_their_areas_and_stores(tmp_path: Path) -> None:
    path = registry_file(tmp_path, {"east": "sqlite:///east.db", "west": "sqlite:////abs/w.db"})
    registry = load_registry(path)
    assert registry.name == "Shanyang City"
    assert [d.name for d in registry.districts] == ["east", "west"]
    assert registry.district("east").area == "d-east"
    # A relative SQLite path is read beside the registry, not where the caller stands.
    assert registry.district("east").url() == f"sqlite:///{tmp_path / 'east.db'}"
    assert registry.district("west").url() == "sqlite:////abs/w.db"


def test_a_password_comes_from_the_environment_never_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    placeholder = "postgresql://civic:${EAST_DB_PASSWORD}@db-1:5432/civic?schema=east"
    registry = load_registry(registry_file(tmp_path, {"east": placeholder}))
    monkeypatch.delenv("EAST_DB_PASSWORD", raising=False)
    with pytest.raises(ConfigurationError, match=r"EAST_DB_PASSWORD.*not set"):
        registry.district("east").url()
    monkeypatch.setenv("EAST_DB_PASSWORD", "s3cret")
    assert registry.district("east").url() == (
        "postgresql://civic:s3cret@db-1:5432/civic?schema=east"
    )
    assert "s3cret" not in repr(registry)  # the registry keeps the placeholder
    written = registry_file(tmp_path, {"east": "postgresql://civic:s3cret@db-1/civic"})
    with pytest.raises(ConfigurationError, match="holds a password") as refused:
        load_registry(written)
    assert "s3cret" not in str(refused.value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"districts": {"a": {"area": "d", "store": "memory://"}}}, "needs a name"),
        ({"name": "C"}, "at least one"),
        ({"name": "C", "districts": {"a": {"area": "d"}}}, "needs store"),
        ({"name": "C", "districts": {"a": {"area": "d", "store": "s", "x": 1}}}, "unknown key x"),
        ({"name": "C", "districts": {"A b": {"area": "d", "store": "s"}}}, "lower-case"),
        ({"name": "C", "extra": 1, "districts": {}}, "unknown key extra"),
        (
            {
                "name": "C",
                "districts": {
                    "a": {"area": "d-1", "store": "memory://"},
                    "b": {"area": "d-1", "store": "memory://"},
                },
            },
            "area 'd-1'",
        ),
    ],
)
def test_a_malformed_registry_is_refused_with_its_reason(
    data: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        parse_registry(data, base=Path())


def test_a_registry_that_is_not_toml_or_not_there_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_registry(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not TOML"):
        load_registry(broken)


# --- a city of two districts ---------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Two district stores: SQLite files, or two PostgreSQL databases of this test's own."""
    if request.param == "sqlite":
        yield {
            "east": f"sqlite:///{tmp_path / 'east.db'}",
            "west": f"sqlite:///{tmp_path / 'west.db'}",
        }
        return
    request.getfixturevalue("postgres_available")
    with _Databases(2) as (east, west):
        yield {"east": east, "west": west}


class _Databases:
    """``count`` fresh PostgreSQL databases on the test server, dropped on exit."""

    def __init__(self, count: int) -> None:
        stem = f"civicflow_city_{uuid.uuid4().hex[:10]}"
        self.names = [f"{stem}_{n}" for n in range(count)]

    def __enter__(self) -> list[str]:
        base = POSTGRES_URL.rsplit("/", 1)[0]
        for name in self.names:
            self._run(f'CREATE DATABASE "{name}"')
        return [f"{base}/{name}" for name in self.names]

    def __exit__(self, *exc: object) -> None:
        for name in self.names:
            self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @staticmethod
    def _run(statement: str) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(statement.encode())


def build_district(flow: CivicFlow, name: str, residents: list[str]) -> str:
    """A district > street > community > compound with a council; returns the compound."""
    district, compound = f"d-{name}", f"k-{name}"
    for kind, area_id, parent in (
        ("district", district, None),
        ("street", f"s-{name}", district),
        ("community", f"c-{name}", f"s-{name}"),
    ):
        flow.add_area(area_id, kind=kind, name=area_id, parent_id=parent, actor="office")
    flow.add_area(
        compound,
        kind="compound",
        name=compound,
        parent_id=f"c-{name}",
        is_old=True,
        has_property_management=False,
        households=40,
        actor="office",
    )
    flow.form_council(compound, actor="office")
    for member in ("m-1", "m-2", "m-3"):
        flow.join_council(compound, member=f"{member}-{name}", via="election", actor="office")
    flow.register_residents(residents, compound_id=compound, actor="office")
    return compound


@pytest.fixture
def city(two_stores: dict[str, str], tmp_path: Path) -> Iterator[City]:
    with City.open(registry_file(tmp_path, two_stores), clock=FakeClock()) as opened:
        build_district(opened.district("east"), "east", [f"r-e{n}" for n in range(6)])
        build_district(opened.district("west"), "west", [f"r-w{n}" for n in range(6)])
        yield opened


def test_a_command_goes_to_the_district_that_holds_its_area(city: City) -> None:
    proposal = city.for_area("k-west").ask(
        title="Fix the gate",
        details="It sticks",
        category="safety",
        area_id="k-west",
        resident="r-w1",
        channel="visit",
    )
    assert city.district_of("k-west") == "west"
    assert city.district_of("c-east") == "east"
    # Found again by its id alone, in the store that holds it, and only there.
    assert city.for_proposal(proposal.id) is city.district("west")
    assert city.for_proposal(str(proposal.id)).proposal(proposal.id).title == "Fix the gate"
    with pytest.raises(ProposalNotFoundError):
        city.district("east").proposal(proposal.id)
    backed = city.for_proposal(proposal.id).back(proposal.id, resident="r-w2")
    assert backed.version == proposal.version + 1


def test_an_area_or_proposal_no_district_holds_is_refused(city: City) -> None:
    with pytest.raises(MissingRegistrationError, match="no district of Shanyang City"):
        city.for_area("k-nowhere")
    with pytest.raises(ProposalNotFoundError):
        city.for_proposal(uuid.uuid4())
    with pytest.raises(InvalidInputError, match="not a proposal id"):
        city.for_proposal("not-a-uuid")


def test_an_area_added_by_another_process_is_found_on_the_next_command(
    city: City, two_stores: dict[str, str]
) -> None:
    assert city.district_of("k-east") == "east"  # the areas are read now
    with CivicFlow.open(two_stores["east"]) as elsewhere:
        elsewhere.add_area(
            "k-east-2",
            kind="compound",
            name="k-east-2",
            parent_id="c-east",
            is_old=False,
            has_property_management=True,
            households=80,
            actor="office",
        )
    assert city.district_of("k-east-2") == "east"


def test_a_resident_moving_between_districts_leaves_one_and_joins_the_other(
    city: City,
) -> None:
    assert city.for_resident("r-e1") is city.district("east")
    key = uuid.uuid4()
    home = city.move_resident("r-e1", compound_id="k-west", actor="office", command_id=key)
    assert home.compound == "k-west"
    assert city.for_resident("r-e1") is city.district("west")
    east = city.district("east").resident("r-e1")
    assert [change.value for change in east.homes] == ["k-east", None]  # both histories kept
    # A retry with the same id repeats neither half.
    again = city.move_resident("r-e1", compound_id="k-west", actor="office", command_id=key)
    assert again == home
    assert [c.value for c in city.district("east").resident("r-e1").homes] == ["k-east", None]
    before = {name: _log(city.district(name)) for name in city.names}
    with pytest.raises(InvalidInputError, match="command_id"):
        city.move_resident("r-e1", compound_id="k-east", actor="office", command_id="x")
    assert {name: _log(city.district(name)) for name in city.names} == before  # nothing written
    # And back: moved back in where they were once registered.
    back = city.move_resident("r-e1", compound_id="k-east", actor="office")
    assert [change.value for change in back.homes] == ["k-east", None, "k-east"]
    assert [c.value for c in city.district("west").resident("r-e1").homes] == ["k-west", None]


def test_a_move_interrupted_between_its_halves_completes_on_retry(city: City) -> None:
    key = uuid.uuid4()
    # The first half went through, then the caller lost the answer (the city process died).
    leave = city.district("east").move_out(
        "r-e2", actor="office", command_id=_half_of(key, "leave")
    )
    assert leave.compound is None
    home = city.move_resident("r-e2", compound_id="k-west", actor="office", command_id=key)
    assert home.compound == "k-west"
    assert [c.value for c in city.district("east").resident("r-e2").homes] == ["k-east", None]


def _log(flow: CivicFlow) -> list[tuple[Any, ...]]:
    """Every stored record of a store, as stored: what a refused command must not change."""
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
        for n in flow.recorder.select_notifications(0, 1_000_000)
    ]


def _half_of(key: uuid.UUID, part: str) -> uuid.UUID:
    from civicflow.federation.city import _half

    return _half(key, part)


def test_an_unreachable_district_does_not_stop_the_others(
    two_stores: dict[str, str], tmp_path: Path
) -> None:
    stores = {**two_stores, "north": UNREACHABLE}
    with City.open(registry_file(tmp_path, stores), clock=FakeClock()) as city:
        build_district(city.district("east"), "east", ["r-e1"])
        assert city.for_area("k-east") is city.district("east")
        # What could be in the unreachable district is not called missing: it is unknown.
        with pytest.raises(BackendUnavailableError, match="north"):
            city.for_area("k-north")
        with pytest.raises(BackendUnavailableError, match="north"):
            city.for_proposal(uuid.uuid4())


def test_a_city_of_one_registry_reads_as_it_was_written(tmp_path: Path) -> None:
    registry = Registry(name="C", districts=())
    assert registry.districts == ()
    with pytest.raises(ConfigurationError, match="no district 'x'"):
        registry.district("x")


# --- the city head --------------------------------------------------------------------------


def test_a_city_head_fixes_every_district_and_anyone_can_check_one(
    city: City, two_stores: dict[str, str]
) -> None:
    signer = Signer.generate("shanyang.example/city")
    note = city.head(signer)
    head = CityHead.open(note, signer.verifier)  # the public key alone
    assert [d.name for d in head.districts] == ["east", "west"]
    for name in city.names:
        found = city.check_district(name, head)
        assert found.ok, found.problems
        assert found.proven == head.districts[city.names.index(name)].size
    # A district goes on; the next city head extends the last one.
    city.district("east").register_resident("r-e9", compound_id="k-east", actor="office")
    later = CityHead.open(city.head(signer, last=head), signer.verifier)
    assert later.districts[0].size > head.districts[0].size
    assert later.districts[1] == head.districts[1]


def test_a_district_record_edited_in_the_database_breaks_its_line_of_the_city_head(
    tmp_path: Path,
) -> None:
    stores = {name: f"sqlite:///{tmp_path / name}.db" for name in ("east", "west")}
    signer = Signer.generate("shanyang.example/city")
    with City.open(registry_file(tmp_path, stores), clock=FakeClock()) as city:
        build_district(city.district("east"), "east", ["r-e1", "r-e2"])
        build_district(city.district("west"), "west", ["r-w1"])
        head = CityHead.open(city.head(signer), signer.verifier)
    # Someone with write access to east's database rewords one stored event.
    db = sqlite3.connect(tmp_path / "east.db")
    (rowid, state) = db.execute(
        "SELECT rowid, state FROM stored_events WHERE CAST(state AS TEXT) LIKE '%r-e2%' LIMIT 1"
    ).fetchone()
    db.execute(
        "UPDATE stored_events SET state = ? WHERE rowid = ?",
        (bytes(state).replace(b"r-e2", b"r-e3"), rowid),
    )
    db.commit()
    db.close()
    with City.open(registry_file(tmp_path, stores), clock=FakeClock()) as city:
        assert city.check_district("west", head).ok
        east = city.check_district("east", head)
        assert not east.ok
        assert any(p.kind == "published" for p in east.problems)
        # And the city refuses to sign a head over the rewritten history.
        with pytest.raises(ForkRefusedError, match="district east"):
            city.head(signer, last=head)


def test_a_forged_or_malformed_city_head_is_refused(city: City) -> None:
    signer, other = Signer.generate("city.example/a"), Signer.generate("city.example/a")
    note = city.head(signer)
    with pytest.raises(SignatureError):
        CityHead.open(note, other.verifier)  # same name, another key
    text, _, signature = note.partition("\n\n")
    tampered = text.replace(" 1", " 2", 1) + "\n\n" + signature
    with pytest.raises((SignatureError, MalformedNoteError)):
        CityHead.open(tampered, signer.verifier)
    with pytest.raises(MalformedNoteError):
        CityHead.parse("city.example/a\ncivicflow city head\neast 01 AAAA\n", "city.example/a")
    with pytest.raises(MalformedNoteError):
        CityHead.parse("city.example/a\nsomething else\n", "city.example/a")
