"""The command as a person at a terminal meets it: readable steps, its languages, its errors.

Each test names the fault of issue 16 it guards against. The store is test_cli's: one
need asked to closed, each step a command.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicflow import InvalidInputError, ProposalNotFoundError, StepNotAllowedError
from civicflow.cli import catalog
from civicflow.cli.output import table
from civicflow.errors import CivicflowError, MissingRegistrationError, StoreNotFoundError
from tests.test_cli import (
    NOBODY,
    QUARTER,
    Store,
    _clean_environment,
    civicflow,
    copy_of,
    ok,
    refusal,
    six_step_store,
    stored_events,
)

CLOSED = "2025-04-04T10:00:00+08:00"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return six_step_store(tmp_path_factory)


# --- the time-zone hint -------------------------------------------------------------------


@pytest.mark.parametrize("given", ["2026-12-02", "2026-12-02+08:00"])
def test_the_time_zone_hint_is_a_moment_the_command_accepts(store: Store, given: str) -> None:
    said = refusal(civicflow(f"area list --as-of {given}", store.url))
    hint = said.rsplit("e.g. ", 1)[1]
    assert hint == "2026-12-02T00:00:00+08:00"
    ok(f"area list --as-of {hint}", store.url)


def test_a_date_and_time_without_a_zone_gets_the_zone_appended(store: Store) -> None:
    said = refusal(civicflow("area list --as-of 2026-12-02T10:00", store.url))
    assert said.endswith("e.g. 2026-12-02T10:00+08:00")


# --- step commands and show -----------------------------------------------------------------


def test_a_step_says_what_changed_and_what_is_next_without_event_internals(
    store: Store, tmp_path: Path
) -> None:
    db = copy_of(store, tmp_path)
    asked = ok(
        "ask --title 'Oil the gate' --details Squeaks --category repairs --area hongqi-7 "
        f"--resident r-3 --at {CLOSED}",
        db,
    )
    assert re.fullmatch(
        r"asked: Oil the gate \([0-9a-f-]{36}\) is now in stage asked, version 1", asked.lines[0]
    )
    assert asked.lines[1] == "next: back, discuss, withdraw"
    for internal in ("originator_id", "timestamp", "previous_digest", "originator_version"):
        assert internal not in asked.out


def test_the_ratings_and_sessions_of_a_proposal_do_not_run_into_one_line(store: Store) -> None:
    shown = ok(f"replay {store.id} --as-of 2999-01-01T00:00:00+00:00", store.url)
    assert max(len(line) for line in shown.lines) < 120
    assert "round 1    83.3% passed" in shown.lines


def test_a_councils_memberships_are_a_table_one_member_a_line(store: Store) -> None:
    shown = ok("council show hongqi-7", store.url).lines
    start = shown.index("memberships:")
    members = [line.split()[0] for line in shown[start + 3 :]]
    assert members == ["m-1", "m-2", "m-3"]


# --- Chinese ----------------------------------------------------------------------------------


def test_show_in_chinese_leaves_no_english_label(store: Store) -> None:
    shown = ok(f"show {store.id} --lang zh", store.url)
    for english in ("backers", "sessions", "percent", "spent", "passed", "rounds", "stage"):
        assert english not in shown.out, english
    assert "第 1 轮" in shown.out
    assert "通过" in shown.out


def test_the_history_in_chinese_has_a_chinese_header_and_stages(store: Store) -> None:
    rows = ok(f"history {store.id} --lang zh", store.url).lines
    assert rows[0].split()[-1] == "经过"
    assert "评价中 → 已结项" in rows[-1]
    assert "closed" not in rows[-1].split("  ")[3]


def test_booleans_read_as_words_of_the_language(store: Store) -> None:
    english = ok("area list --kind compound", store.url).rows
    assert " yes no " in f" {english[2]} "
    chinese = ok("area list --kind compound --lang zh", store.url).rows
    assert " 是 否 " in f" {chinese[2]} "
    assert "False" not in "".join(english + chinese)


def test_an_error_in_chinese(store: Store) -> None:
    said = refusal(civicflow(f"show {NOBODY} --lang zh", store.url))
    assert said == f"civicflow: 找不到事项 {NOBODY}"
    closed = refusal(
        civicflow(f"rate {store.id} --resident r-1 --level satisfied --lang zh", store.url)
    )
    assert "“已结项”" in closed  # the stage reads as its label
    assert closed.startswith(f"civicflow: 无法对事项 {store.id} 执行 评价")


def test_every_message_id_has_a_chinese_translation_and_the_mo_is_compiled() -> None:
    assert catalog.problems("zh_Hans") == []


def test_the_catalog_check_names_a_message_without_chinese(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = catalog.extract

    def more() -> object:
        template = real()
        template.add("a message nobody translated")
        return template

    monkeypatch.setattr(catalog, "extract", more)
    assert "zh_Hans: no translation of 'a message nobody translated'" in catalog.problems("zh_Hans")


ERRORS: list[CivicflowError] = [
    ProposalNotFoundError(NOBODY),  # type: ignore[arg-type]
    ProposalNotFoundError(NOBODY, 3),  # type: ignore[arg-type]
    StepNotAllowedError(NOBODY, "closed", "rate", []),  # type: ignore[arg-type]
    StepNotAllowedError(NOBODY, "asked", "decide", ["back", "discuss"]),  # type: ignore[arg-type]
    MissingRegistrationError("area", "hongqi-8", "register it with add_area()"),
    InvalidInputError("quarter", [("quarter", "'26' is not like 2026Q3")]),
    StoreNotFoundError("file typo.db"),
]


@pytest.mark.parametrize("error", ERRORS, ids=[type(e).__name__ for e in ERRORS])
def test_an_errors_template_filled_is_its_english_message(error: CivicflowError) -> None:
    template, parameters = error.filled
    assert template.format(**parameters) == str(error)


# --- errors: said once, in civicflow's words, with the right exit code ------------------------


def test_an_error_does_not_repeat_its_field(store: Store) -> None:
    said = refusal(civicflow("views satisfaction --quarter 26", store.url))
    assert said == "civicflow: invalid quarter: '26' is not like 2026Q3"
    assert str(InvalidInputError("as_of", [("as-of", "x")])) == "invalid as_of: x"


@pytest.mark.parametrize("port", ["port", "99999"])
def test_a_bad_port_is_a_configuration_error_not_a_python_one(port: str) -> None:
    said = refusal(civicflow(f"show {NOBODY} --db postgresql://civic:secret@db:{port}/civic"))
    assert "ValueError" not in said
    assert "secret" not in said  # the message names the port, never the password
    assert f"port '{port}'" in said


def test_a_malformed_published_digest_is_bad_input_not_tampering(store: Store) -> None:
    before = stored_events(store.path)
    said = refusal(civicflow("verify --published 1=abc", store.url))
    assert said.startswith("civicflow: invalid published: 'abc' is not a digest")
    assert stored_events(store.path) == before


def test_counts_of_one_are_singular(store: Store, tmp_path: Path) -> None:
    db = copy_of(store, tmp_path)
    sealed = ok("checkpoint --actor office", db).lines[0]
    assert re.fullmatch(r"checkpoint 1: \d+ records sealed", sealed)
    verified = ok("verify", db).lines[0]
    assert ", 1 checkpoint, " in verified
    written = ok(f"export --view satisfaction --out {tmp_path / 'v.csv'}", db).out
    assert written.startswith("1 row written to ")


# --- the review ---------------------------------------------------------------------------------


def test_the_review_tells_two_proposals_of_one_title_apart(store: Store) -> None:
    review = ok(f"views review --quarter {QUARTER} --k 1", store.url).out
    short = store.id.split("-")[0]
    assert f"Fix the stairwell lights ({short}, hongqi-7)" in review


# --- tables fit the terminal, whole when piped ----------------------------------------------------


def test_a_long_cell_is_whole_when_piped_and_fits_a_terminal() -> None:
    rows = [{"version": 1, "what": "x" * 150}]
    assert "x" * 150 in table(rows, "en")  # piped: stable, whole text
    narrow = table(rows, "en", columns=80)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert narrow.splitlines()[2].endswith("…")
    wide = table(rows, "en", columns=200)
    assert "x" * 150 in wide  # a wide terminal shows it all: no cut at 60


# --- dates and times ----------------------------------------------------------------------------


def test_dates_read_as_the_language_writes_them_in_text_only(store: Store) -> None:
    from civicflow.cli.i18n import dated

    assert dated("2026-07-01", "zh") == "2026年7月1日"
    assert dated("2026-07-01T10:05:00+08:00", "zh") == "2026年7月1日 10:05:00 +08:00"
    assert dated("2026Q3", "zh") == "2026Q3"  # not a date: as it is
    assert dated("2026-07-01", "en") == "2026-07-01"  # English text stays ISO 8601
    shown = ok(f"show {store.id} --lang zh", store.url).out
    assert re.search(r"于 20\d\d年\d{1,2}月\d{1,2}日", shown)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", shown)
    chinese = ok(f"history {store.id} --lang zh", store.url).lines
    assert re.search(r"20\d\d年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d [+-]\d\d:\d\d", chinese[2])
    english = ok(f"history {store.id}", store.url).lines
    assert re.search(r"\d{4}-\d{2}-\d{2}T\d\d:\d\d:\d\d[+-]\d\d:\d\d", english[2])
    data = ok(f"history {store.id} --lang zh --json", store.url).out
    assert "年" not in data  # JSON keeps ISO 8601, as the events do
    assert re.search(r'"occurred_at": "\d{4}-\d{2}-\d{2}T', data)


def test_the_historys_deadline_reads_as_the_language_writes_it(store: Store) -> None:
    chinese = ok(f"history {store.id} --lang zh", store.url).out
    assert re.search(r"期限 20\d\d年\d{1,2}月\d{1,2}日", chinese)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", chinese)
    assert re.search(r"due \d{4}-\d{2}-\d{2}", ok(f"history {store.id}", store.url).out)
    data = ok(f"history {store.id} --lang zh --json", store.url).json()
    assert any(re.search(r"期限 \d{4}-\d{2}-\d{2}$", e["zh"]) for e in data)  # as the library says
