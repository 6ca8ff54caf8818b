"""Progress of the long commands: a callback per page from the library, a bar on a terminal.

``Views.rebuild``/``catch_up`` and ``CivicFlow.verify`` take ``progress(done, total)``,
called once per page (never per record); the command draws it only when stdout and
stderr are terminals and not with ``--json``, so piped output is as it always was.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from civicflow import CivicFlow
from civicflow.audit.keys import load_seal_key
from civicflow.cli import terminal
from civicflow.cli.protection import open_flow
from civicflow.storage import bulk, rawlog
from civicflow.views import Views
from tests.test_cli import _clean_environment, civicflow, ok


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('progress') / 'd.db'}"
    with pytest.MonkeyPatch.context() as patch:
        _clean_environment(patch)
        assert civicflow(f"demo --compounds 1 --db {url}").code == 0
    return url


def steps(calls: list[tuple[int, int]]) -> None:
    """Several pages, each further on, the last at the end."""
    assert len(calls) > 2, calls
    dones = [done for done, _ in calls]
    assert dones == sorted(set(dones))
    assert calls[-1][0] == calls[-1][1]
    assert all(0 < done <= total for done, total in calls)


def test_rebuild_calls_progress_once_a_page_further_each_time(db: str) -> None:
    calls: list[tuple[int, int]] = []
    flow, _keys = open_flow(argparse.Namespace(db=db, keys=None), create=False)
    with flow, Views(flow, batch_size=40) as views:
        counted = views.rebuild(progress=lambda done, total: calls.append((done, total)))
        assert views.catch_up(progress=lambda *_: pytest.fail("nothing new")) == 0
    steps(calls)
    assert len(calls) == -(-counted // 40)


def test_verify_calls_progress_once_a_page(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rawlog.rows, "__defaults__", (0, 50))  # pages of 50 records
    calls: list[tuple[int, int]] = []
    flow, _keys = open_flow(argparse.Namespace(db=db, keys=None), create=False)
    with flow:
        report = flow.verify(progress=lambda done, total: calls.append((done, total)))
        assert flow.verify().events == report.events  # no callback: the same verification
    steps(calls)
    assert report.ok


def test_export_and_import_call_progress_once_a_page(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rawlog.rows, "__defaults__", (0, 50))
    monkeypatch.setattr(bulk, "CHUNK", 30)
    monkeypatch.setattr(bulk.insert_all, "__defaults__", (30, None))
    exported: list[tuple[int, int]] = []
    file = tmp_path / "events.jsonl"
    flow, _keys = open_flow(argparse.Namespace(db=db, keys=None), create=False)
    with flow, file.open("w", encoding="utf-8") as out:
        count = flow.export_events(out, progress=lambda done, total: exported.append((done, total)))
    steps(exported)
    imported: list[tuple[int, int]] = []
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    env = {"AUDIT_KEY": load_seal_key(Path(f"{db.removeprefix('sqlite:///')}.keys/seal.key"))}
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    assert CivicFlow.import_into(target, lines, progress=lambda *c: imported.append(c), env=env)
    assert imported[0] == (0, count)  # checked, none written yet
    steps(imported[1:])
    assert imported[-1] == (count, count)


def test_piped_output_has_no_bar(db: str) -> None:
    rebuilt = ok("rebuild", db)
    assert re.fullmatch(r"\d+ events counted\n", rebuilt.out)
    verified = civicflow("verify", db)
    assert "\r" not in verified.out + verified.err
    assert verified.err == ""


def test_a_bar_only_on_a_terminal_and_never_with_json(monkeypatch: pytest.MonkeyPatch) -> None:
    with terminal.bar("counting") as progress:
        assert progress is None  # tests write to no terminal
    monkeypatch.setattr(terminal, "is_terminal", lambda out: True)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    with terminal.bar("counting", wanted=False) as progress:
        assert progress is None
    with terminal.bar("counting") as progress:
        assert progress is not None
        progress(1, 2)
        progress(2, 2)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    registry = tmp_path_factory.mktemp("city") / "city.toml"
    with pytest.MonkeyPatch.context() as patch:
        _clean_environment(patch)
        assert civicflow(f"demo --city {registry} --compounds 2 --districts 2").code == 0
    return registry


def test_the_city_rebuild_calls_progress_summed_over_the_districts(city: Path) -> None:
    from civicflow.federation.city import City
    from civicflow.federation.cityviews import CityViews

    calls: list[tuple[int, int]] = []
    with City.open(city, create=False) as town, CityViews(town, batch_size=40) as views:
        behind = sum(lag.log or 0 for lag in views.behind())
        counted = views.rebuild(progress=lambda done, total: calls.append((done, total)))
        figures = views.satisfaction(level="compound"), views.participation(level="compound")
        assert views.rebuild() == counted  # without a callback: the same count
        assert (views.satisfaction(level="compound"), views.participation(level="compound")) == (
            figures
        )
    steps(calls)
    assert calls[-1] == (behind, behind)
    assert len(calls) >= sum(-(-n // 40) for n in counted.values())


def test_the_city_rebuild_draws_its_bar(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[int, int]] = []

    @contextlib.contextmanager
    def bar(what: str, *, wanted: bool = True) -> Iterator[Callable[[int, int], None]]:
        assert wanted
        yield lambda done, total: drawn.append((done, total))

    monkeypatch.setattr(terminal, "bar", bar)
    assert ok(f"rebuild --city {city}").out.endswith(")\n")
    assert len(drawn) >= 2  # a page of each district, at least
    assert [done for done, _ in drawn] == sorted({done for done, _ in drawn})
    assert drawn[-1][0] == drawn[-1][1] > 0
