"""The open data package of a small demo district: valid, the views' figures, nobody named."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from frictionless import validate

from civicflow import CivicFlow
from civicflow.cli import main
from civicflow.domain.lifecycle import FINAL_STAGES
from civicflow.errors import InvalidInputError, OutputExistsError
from civicflow.extras.demo import NOW, build
from civicflow.extras.demo_district import Size
from civicflow.opendata import TABLES, export_open_data, writing
from civicflow.opendata.dictionary import ZH
from civicflow.views import Views
from tests.opendata import assert_figures_are_the_views, resident_ids_in, table

SIZE = Size.scaled(8)


def people(flow: CivicFlow, views: Views) -> set[str]:
    """Every registered resident, and everyone who asked, backed, attended or rated."""
    homes = views.tables.query("SELECT home FROM cf_view_homes")  # the views keep them in clear
    found = {str(json.loads(home)["resident_id"]) for (home,) in homes}
    for row in table_proposals(flow):
        state = flow.proposal(row)
        found |= {state.asked_by, *state.backers, *state.rating_residents}
        for session in state.discussions:
            found |= set(session.residents_present)
    return found


def table_proposals(flow: CivicFlow) -> list[str]:
    from civicflow.opendata.source import versions

    return [str(pid) for pid in versions(flow, flow.recorder.max_notification_id() or 0)]


@pytest.fixture(scope="module")
def demo() -> Iterator[CivicFlow]:
    with CivicFlow(clock=lambda: NOW) as flow:
        build(flow, size=SIZE)
        yield flow


@pytest.fixture(scope="module")
def package(demo: CivicFlow, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("open") / "package"
    export_open_data(demo, folder)
    return folder


def test_frictionless_validates_the_package(package: Path) -> None:
    report = validate(str(package / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "type", "note"])


def test_every_field_has_a_title_and_description_in_english_and_chinese(package: Path) -> None:
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["x-civicflow"]["k"] == 5
    assert descriptor["licenses"]
    assert descriptor["sources"]
    for resource in descriptor["resources"]:
        assert all((resource["title"], resource[ZH]["title"])), resource["name"]
        for field in resource.get("schema", {}).get("fields", []):
            described = (field["title"], field["description"], *field[ZH].values())
            assert len(described) == 4, field["name"]
            assert all(described), field["name"]
    names = [r["name"] for r in descriptor["resources"]]
    assert names == [t.name for t in TABLES] + ["popolo", "requests"]


def test_the_published_figures_are_exactly_the_views(demo: CivicFlow, package: Path) -> None:
    with Views(demo) as views:
        views.catch_up()
        assert_figures_are_the_views(package, views, None)


def test_no_resident_id_is_written_anywhere(demo: CivicFlow, package: Path) -> None:
    with Views(demo) as views:
        views.catch_up()
        residents = people(demo, views)
    assert len(residents) > 100
    assert resident_ids_in(package, residents) == []


def test_council_members_are_seats_not_ids(demo: CivicFlow, package: Path) -> None:
    members = {
        seat.member
        for terms in demo.structure().councils.values()
        for council in terms
        for seat in council.memberships
    }
    assert resident_ids_in(package, members) == []
    seats = {row["id"] for row in table(package, "council_members")}
    responsible = {r["responsible_seat"] for r in table(package, "proposals")} - {""}
    assert responsible
    assert responsible <= seats


def test_only_quarters_asked_for_are_in_the_figures(demo: CivicFlow, tmp_path: Path) -> None:
    export_open_data(demo, tmp_path / "q", quarters=("2026Q1",), k=3)
    for name in ("satisfaction", "participation"):
        assert {row["quarter"] for row in table(tmp_path / "q", name)} == {"2026Q1"}
    with Views(demo, k=3) as views:
        views.catch_up()
        assert_figures_are_the_views(tmp_path / "q", views, {"2026Q1"})
    with pytest.raises(InvalidInputError):
        export_open_data(demo, tmp_path / "bad", quarters=("2026Q5",))
    assert not (tmp_path / "bad").exists()


# --- Popolo and Open311 ------------------------------------------------------------------

POPOLO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["organizations", "persons", "memberships", "motions", "vote_events"],
    "properties": {
        "organizations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "classification", "area_id", "founding_date"],
                "properties": {"dissolution_date": {"type": "string", "format": "date"}},
            },
        },
        "persons": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "additionalProperties": False,
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
        },
        "memberships": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "person_id", "organization_id", "role", "start_date"],
                "properties": {"role": {"enum": ["chair", "secretary", "member"]}},
            },
        },
        "vote_events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "motion_id", "start_date", "result", "counts"],
                "properties": {
                    "result": {"enum": ["pass", "fail", "deferred"]},
                    "counts": {
                        "type": "array",
                        "minItems": 3,
                        "items": {
                            "type": "object",
                            "required": ["option", "value"],
                            "properties": {
                                "option": {"enum": ["yes", "no", "abstain"]},
                                "value": {"type": "integer", "minimum": 0},
                            },
                        },
                    },
                },
            },
        },
    },
}

OPEN311_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "service_request_id",
            "status",
            "service_name",
            "description",
            "requested_datetime",
            "updated_datetime",
            "address",
        ],
        "properties": {
            "service_request_id": {"type": "string"},
            "status": {"enum": ["open", "closed"]},
            "status_notes": {"type": "string"},
            "service_name": {"type": "string"},
            "service_code": {"type": "string"},
            "description": {"type": "string"},
            "agency_responsible": {"type": "string"},
            "requested_datetime": {"type": "string", "pattern": r"T.*[+-]\d\d:\d\d$"},
            "updated_datetime": {"type": "string", "pattern": r"T.*[+-]\d\d:\d\d$"},
            "expected_datetime": {"type": ["string", "null"]},
            "address": {"type": "string"},
            "address_id": {"type": "string"},
        },
    },
}


def test_popolo_and_open311_have_their_shapes(demo: CivicFlow, package: Path) -> None:
    import jsonschema  # type: ignore[import-untyped]

    people = json.loads((package / "popolo.json").read_text(encoding="utf-8"))
    jsonschema.validate(people, POPOLO_SCHEMA)
    seats = {row["id"] for row in table(package, "council_members")}
    assert {p["id"] for p in people["persons"]} == seats
    assert {m["organization_id"] for m in people["memberships"]} <= {
        o["id"] for o in people["organizations"]
    }
    decided = {r["id"]: r for r in table(package, "proposals") if r["outcome"]}
    for vote in people["vote_events"]:
        pid = vote["id"].split("/")[0]
        if vote["id"].endswith(f"decision-{len(demo.proposal(pid).decisions)}"):
            counts = {c["option"]: str(c["value"]) for c in vote["counts"]}
            row = decided[pid]
            assert counts == {
                "yes": row["votes_in_favour"],
                "no": row["votes_against"],
                "abstain": row["votes_abstain"],
            }
    requests = json.loads((package / "requests.json").read_text(encoding="utf-8"))
    jsonschema.validate(requests, OPEN311_SCHEMA)
    stages = {r["id"]: r["stage"] for r in table(package, "proposals")}
    assert {r["service_request_id"] for r in requests} == set(stages)
    for request in requests:
        final = stages[request["service_request_id"]] in {s.value for s in FINAL_STAGES}
        assert request["status"] == ("closed" if final else "open")


# --- writing: all or nothing -------------------------------------------------------------


def test_a_folder_with_files_is_refused_unless_overwritten(demo: CivicFlow, tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        export_open_data(demo, target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    with pytest.raises(OutputExistsError, match="not a civicflow open data package"):
        export_open_data(demo, target, overwrite=True)  # not a package: never replaced
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    (target / "keep.txt").unlink()
    export_open_data(demo, target)
    before = (target / "datapackage.json").stat().st_mtime_ns
    export_open_data(demo, target, overwrite=True)  # a package: replaced
    assert (target / "datapackage.json").stat().st_mtime_ns >= before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing set aside is left


def test_a_failed_export_leaves_nothing_behind(
    demo: CivicFlow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path, data: Any) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("civicflow.opendata.export.write_json", broken)
    with pytest.raises(OSError, match="No space"):
        export_open_data(demo, tmp_path / "new")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old"
    monkeypatch.undo()
    export_open_data(demo, old)
    kept = (old / "datapackage.json").read_text(encoding="utf-8")
    monkeypatch.setattr("civicflow.opendata.export.write_json", broken)
    with pytest.raises(OSError, match="No space"):
        export_open_data(demo, old, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["old"]
    assert (old / "datapackage.json").read_text(encoding="utf-8") == kept


def test_cells_are_plain_csv_values() -> None:
    from datetime import date
    from decimal import Decimal

    assert [writing.cell(v) for v in (None, True, False, Decimal("1.50"), date(2026, 1, 2))] == [
        "",
        "true",
        "false",
        "1.50",
        "2026-01-02",
    ]


# --- the command, and PostgreSQL ---------------------------------------------------------


def test_the_command_writes_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'civic.db'}"
    with CivicFlow.open(db, clock=lambda: NOW) as flow:
        build(flow, size=Size.scaled(4))
    out = tmp_path / "open"
    assert main(["export", "--open-data", str(out), "--k", "3", "--db", db]) == 0
    assert "open data written to" in capsys.readouterr().out
    assert validate(str(out / "datapackage.json")).valid
    assert main(["export", "--open-data", str(out), "--db", db]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert main(["export", "--open-data", str(out), "--overwrite", "--db", db]) == 0
    assert main(["export", "--open-data", str(out), "--view", "pipeline", "--db", db]) == 2
    shutil.rmtree(out)


@pytest.mark.postgres
def test_the_package_of_a_postgresql_store(postgres_url: str, tmp_path: Path) -> None:
    with CivicFlow.open(postgres_url, clock=lambda: NOW) as flow:
        build(flow, size=Size.scaled(4))
        done = export_open_data(flow, tmp_path / "pg")
        with Views(flow) as views:
            views.catch_up()
            assert_figures_are_the_views(tmp_path / "pg", views, None)
            assert resident_ids_in(tmp_path / "pg", people(flow, views)) == []
    assert done.position > 0
    report = validate(str(tmp_path / "pg" / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "type", "note"])


class MovingViews(Views):
    """Views another process keeps counting into: the position moves for the first reads."""

    moves = 0
    read = 0

    @property
    def position(self) -> int:
        self.read += 1
        return min(self.read, self.moves + 1)


def test_figures_are_read_again_while_the_views_move_on(demo: CivicFlow) -> None:
    from civicflow.errors import ConcurrencyError
    from civicflow.opendata.source import ATTEMPTS, read

    views = MovingViews(demo)
    try:
        views.catch_up()
        views.read, views.moves = 0, 2  # the first read spoilt, the second one holds
        assert read(demo, views).position == 3
        views.read, views.moves = 0, 2 * ATTEMPTS
        with pytest.raises(ConcurrencyError):
            read(demo, views)
    finally:
        views.close()
