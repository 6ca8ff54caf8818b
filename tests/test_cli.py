"""The ``civicflow`` command as a user runs it: structure, the six steps, audit, views, files.

Most commands run in this process through ``civicflow.cli.main(argv, out=...)``, exactly as
the console script calls it, each written as the line a user would type (split like a shell
does), on SQLite files in temporary folders. A few run as real processes
(``python -m civicflow``), to see exit codes and what reaches stdout and stderr. Every step
carries an explicit ``--at`` in 2025, so that the 30-day rating window has passed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib
import io
import json
import os
import pkgutil
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import pytest

from civicflow import CivicFlow, domain
from civicflow.cli.main import build_parser, main
from civicflow.domain import vocabulary
from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.councils import Role, Via
from civicflow.domain.community.policy import Majority
from civicflow.domain.community.sponsorship import SponsorKind
from civicflow.domain.lifecycle import Stage
from civicflow.domain.values import Channel, Level, Outcome, PublicationChannel

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
SHORT_ID = re.compile(r"\([0-9a-f]{8},")  # a proposal's short id, as the review shows it
NOBODY = "00000000-0000-0000-0000-000000000000"

REGISTERED = "2025-01-06T09:00:00+08:00"
ASKED = "2025-02-03T10:00:00+08:00"
BACKED = "2025-02-04T10:00:00+08:00"
DISCUSSED = "2025-02-07T19:00:00+08:00"
DECIDED = "2025-02-07T20:30:00+08:00"
PROGRESSED = "2025-02-21T10:00:00+08:00"
COMPLETED = "2025-03-03T10:00:00+08:00"
PUBLISHED = "2025-03-04T10:00:00+08:00"
RATED = "2025-03-05T10:00:00+08:00"
CLOSED = "2025-04-04T10:00:00+08:00"  # the window opened by PUBLISHED ended on 3 April
QUARTER = "2025Q1"
RESIDENTS = ["r-1", "r-2", "r-3", "r-4", "r-5", "r-6"]
# Settings a developer's shell may hold that would change what the commands do.
OUTSIDE = {"AUDIT_KEY", "LC_ALL", "LANG", "PERSISTENCE_MODULE", "SQLITE_DBNAME", "CIPHER_KEY"}


# --- running the command ------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """What one run of the command did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    @property
    def rows(self) -> list[str]:
        """The lines with each run of spaces squeezed to one (columns are padded to fit)."""
        return [" ".join(line.split()) for line in self.lines]


def civicflow(line: str, db: str | None = None) -> Ran:
    """Run ``civicflow LINE [--db DB]`` in this process, as the console script does."""
    argv = shlex.split(line) + ([f"--db={db}"] if db else [])
    out, err = io.StringIO(), io.StringIO()
    # argparse prints help and usage errors to sys.stdout and sys.stderr: capture both.
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv, out=out)
    return Ran(code, out.getvalue(), err.getvalue())


def ok(line: str, db: str | None = None, *, code: int = 0) -> Ran:
    ran = civicflow(line, db=db)
    assert (ran.code, ran.err) == (code, ""), ran.err
    return ran


def unproven(line: str, db: str | None = None) -> Ran:
    """``verify`` that finds nothing wrong but has no published head: exit 3."""
    ran = ok(line, db, code=3)
    assert ran.out.startswith("UNPROVEN: ")
    return ran


def process(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m civicflow LINE`` (the ``civicflow`` command) as a process, in ``cwd``."""
    env = {k: v for k, v in os.environ.items() if k not in OUTSIDE and "CIVICFLOW_" not in k}
    env |= {"PYTHONPATH": str(SRC), "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(  # noqa: S603 - our own command, with arguments from this file
        [sys.executable, "-m", "civicflow", *shlex.split(line)],
        cwd=cwd,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def refusal(ran: Ran | subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command prints: ``civicflow: ...`` or argparse's error line."""
    if isinstance(ran, subprocess.CompletedProcess):
        ran = Ran(ran.returncode, ran.stdout, ran.stderr)
    assert ran.code == 2, (ran.code, ran.err)
    assert "Traceback" not in ran.err
    assert ran.out == ""
    lines = ran.err.splitlines()
    if lines and lines[0].startswith("usage: civicflow"):  # argparse: usage, then one error
        assert re.match(r"civicflow( [\w-]+)*: error: ", lines[-1]), lines[-1]
        return lines[-1]
    assert len(lines) == 1, ran.err
    assert lines[0].startswith("civicflow: "), ran.err
    return lines[0]


def _clean_environment(patch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name in OUTSIDE or name.startswith("CIVICFLOW_"):
            patch.delenv(name)
    patch.setenv("LANG", "C.UTF-8")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No store, key, language or backend leaks in from the shell running the tests."""
    _clean_environment(monkeypatch)


# --- one store with one proposal through all six steps, shared by the module ---------------


@dataclass
class Store:
    path: Path
    url: str
    id: str = ""
    decided_recorded_at: str = ""  # when the store recorded the decision (not when it happened)
    steps: list[tuple[str, str, int]] = field(default_factory=list)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return six_step_store(tmp_path_factory)


def six_step_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Hongqi Building 7 with a council and six residents; one need, asked to closed."""
    path = tmp_path_factory.mktemp("store") / "civic.db"
    built = Store(path=path, url=f"sqlite:///{path}")
    with pytest.MonkeyPatch.context() as patch:
        _clean_environment(patch)
        _register(built.url)
        _six_steps(built)
    return built


def _register(db: str) -> None:
    by = f"--actor office --at {REGISTERED}"
    ok(f"area add shanyang --kind district --name 'Shanyang District' {by}", db)
    ok(f"area add baizhuang --kind street --name 'Baizhuang Street' --parent shanyang {by}", db)
    ok(f"area add hongqi --kind community --name 'Hongqi Community' --parent baizhuang {by}", db)
    compound = ok(
        "area add hongqi-7 --kind compound --name 'Hongqi Building 7' --parent hongqi "
        f"--old --no-managed --households 96 {by} --json",
        db,
    ).json()
    assert (compound["kind"], compound["parent_id"], compound["households"]) == (
        "compound",
        "hongqi",
        96,
    )
    ok(f"council form hongqi-7 {by}", db)
    ok(f"council join hongqi-7 --member m-1 --via election --role chair {by}", db)
    ok(f"council join hongqi-7 --member m-2 --via election --role secretary {by}", db)
    ok(f"council join hongqi-7 --member m-3 --via recommendation {by}", db)
    homes = ok(f"resident register {' '.join(RESIDENTS)} --compound hongqi-7 {by} --json", db)
    assert [home["resident_id"] for home in homes.json()] == RESIDENTS
    policy = ok(
        f"policy set shanyang --threshold 0.8 --window-days 30 --recorder minutes-office {by} "
        "--json",
        db,
    ).json()
    assert (policy["rectification_threshold"], policy["rating_window_days"]) == ("0.8", 30)
    assert policy["recorders"] == ["minutes-office"]


def _six_steps(built: Store) -> None:
    def step(line: str) -> dict[str, Any]:
        state: dict[str, Any] = ok(f"{line} --json", built.url).json()
        built.steps.append((line.split(maxsplit=1)[0], state["stage"], state["version"]))
        return state

    asked = step(
        "ask --title 'Fix the stairwell lights' --details 'Dark at night' --category lighting "
        f"--area hongqi-7 --resident r-1 --channel visit --at {ASKED}"
    )
    built.id = need = asked["id"]
    step(f"back {need} --resident r-2 --at {BACKED}")
    step(
        f"discuss {need} --attendee m-1 --attendee m-2 --attendee r-1 --summary 'LEDs preferred'"
        f" --opinion 'motion sensors' --actor m-1 --at {DISCUSSED}"
    )
    decided = step(
        f"decide {need} --outcome approved --for 2 --against 0 --plan '12 LED fittings' "
        "--budget 3600 --funding 'district fund' --responsible m-2 --deadline 2025-03-31 "
        f"--actor m-1 --at {DECIDED}"
    )
    built.decided_recorded_at = decided["recorded_at"]
    step(
        f"progress {need} --percent 50 --note 'half the floors' --spent 1800 --actor m-2 "
        f"--at {PROGRESSED}"
    )
    step(
        f"complete {need} --summary Installed --total-spent 3450 --evidence photo:after.jpg "
        f"--actor m-2 --at {COMPLETED}"
    )
    step(
        f"publish {need} --channel notice_board --summary 'Lights are on' --actor m-1 "
        f"--at {PUBLISHED}"
    )
    for resident in RESIDENTS[:5]:
        step(f"rate {need} --resident {resident} --level satisfied --at {RATED}")
    step(f"rate {need} --resident r-6 --level dissatisfied --comment 'too bright' --at {RATED}")
    step(f"close-rating {need} --actor m-1 --at {CLOSED}")


def copy_of(store: Store, folder: Path) -> str:
    """A copy of the shared store and its keys, to change, as a store URL."""
    target = folder / "copy.db"
    with (
        contextlib.closing(sqlite3.connect(store.path)) as source,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
    shutil.copytree(f"{store.path}.keys", f"{target}.keys")  # a store goes with its keys
    return f"sqlite:///{target}"


def stored_events(path: Path | str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM stored_events").fetchone()[0])


def tamper(path: Path | str, old: bytes, new: bytes) -> None:
    """Change bytes of the one stored event that holds ``old``, behind civicflow's back."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        [(rowid, state)] = [
            row for row in db.execute("SELECT rowid, state FROM stored_events") if old in row[1]
        ]
        db.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (state.replace(old, new), rowid)
        )
        db.commit()


# --- the six steps ------------------------------------------------------------------------


def test_the_six_steps_take_the_proposal_from_asked_to_closed(store: Store) -> None:
    assert [(command, stage) for command, stage, _ in store.steps] == [
        ("ask", "asked"),
        ("back", "asked"),
        ("discuss", "discussing"),
        ("decide", "doing"),
        ("progress", "doing"),
        ("complete", "done"),
        ("publish", "rating"),
        *[("rate", "rating")] * 6,
        ("close-rating", "closed"),
    ]
    assert [version for _, _, version in store.steps] == list(range(1, 15))


def test_show_prints_a_summary_and_json_for_scripts(store: Store) -> None:
    text = ok(f"show {store.id}", store.url).rows
    assert f"id {store.id}" in text
    assert "stage closed" in text
    assert "round 1 83.3% passed" in text

    summary = ok(f"show {store.id} --json", store.url).json()
    assert (summary["stage"], summary["version"], summary["backers"]) == ("closed", 14, 1)
    assert summary["rounds"] == ["83% passed"]
    then = ok(f"show {store.id} --version 4 --json", store.url).json()
    assert (then["stage"], then["version"], then["spent"]) == ("doing", 4, "0")


def test_a_step_prints_the_proposal_just_after_it(store: Store, tmp_path: Path) -> None:
    db = copy_of(store, tmp_path)
    asked = ok(
        "ask --title 'Oil the gate' --details 'It squeaks' --category repairs --area hongqi-7 "
        f"--resident r-3 --at {CLOSED}",
        db,
    )
    assert "stage asked" in asked.rows
    assert "asked by r-3 via visit on 2025-04-04" in asked.rows
    assert "next: back, discuss, withdraw" in asked.rows  # what may follow
    assert not {"originator_id", "timestamp", "previous_digest"} & set(asked.out.split("="))
    [gate] = UUID.findall(asked.lines[0])
    gone = ok(f"withdraw {gate} --reason 'fixed by the owner' --actor m-1 --at {CLOSED} --json", db)
    assert gone.json()["stage"] == "withdrawn"
    assert gone.json()["withdrawal"]["reason"] == "fixed by the owner"


# --- the community ------------------------------------------------------------------------


def test_the_structure_reads_back_as_registered(store: Store) -> None:
    areas = ok("area list --json", store.url).json()
    assert [(a["id"], a["kind"]) for a in areas] == [
        ("shanyang", "district"),
        ("baizhuang", "street"),
        ("hongqi", "community"),
        ("hongqi-7", "compound"),
    ]
    assert [a["id"] for a in ok("area list --kind compound --json", store.url).json()] == [
        "hongqi-7"
    ]
    assert ok("area list --as-of 2025-01-01T00:00:00+08:00", store.url).out == "(none)\n"
    council = ok("council show hongqi-7 --json", store.url).json()
    assert [(m["member"], m["via"], m["role"]) for m in council["memberships"]] == [
        ("m-1", "election", "chair"),
        ("m-2", "election", "secretary"),
        ("m-3", "recommendation", None),
    ]
    home = ok("resident show r-6 --json", store.url).json()
    assert home["homes"] == [{"effective": REGISTERED, "value": "hongqi-7"}]
    assert "rating_window_days 30" in ok("policy show hongqi-7", store.url).rows


def test_a_sponsorship_ends_without_repeating_its_kind(store: Store, tmp_path: Path) -> None:
    db = copy_of(store, tmp_path)
    at = f"--actor office --at {CLOSED}"
    assigned = ok(f"policy sponsor hongqi --sponsor cadre-9 --kind cadre {at} --json", db).json()
    assert (assigned["sponsor"], assigned["kind"], assigned["end"]) == ("cadre-9", "cadre", None)
    ended = ok(f"policy sponsor hongqi --sponsor cadre-9 --end {at} --json", db).json()
    assert ended["end"] is not None
    refused = civicflow(f"policy sponsor hongqi --sponsor cadre-8 {at}", db)
    assert refusal(refused).endswith("a sponsor is a cadre or a department: --kind")


# --- audit: history, replay, checkpoint, verify -------------------------------------------


def test_history_as_a_table_as_json_as_markdown_and_in_chinese(store: Store) -> None:
    table = ok(f"history {store.id}", store.url).lines
    assert table[0].split() == ["version", "occurred_at", "actor", "stage", "what"]
    assert len(table) == 2 + 14
    assert table[2].split()[:5] == ["1", ASKED, "r-1", "—", "→"]
    assert "rating → closed" in table[-1]
    assert "round 1 closed: 83.33% satisfied of 6, closed" in table[-1]

    entries = ok(f"history {store.id} --json", store.url).json()
    assert [e["event"] for e in entries] == [
        *("Asked", "Backed", "Discussed", "Decided", "ProgressReported", "Done", "Published"),
        *["Rated"] * 6,
        "RatingClosed",
    ]
    assert (entries[3]["occurred_at"], entries[3]["actor"]) == (DECIDED, "m-1")
    assert (entries[3]["stage_before"], entries[3]["stage_after"]) == ("discussing", "doing")

    markdown = ok(f"history {store.id} --markdown", store.url).out
    assert markdown.startswith("# Audit trail: Fix the stairwell lights\n")
    assert f"| 14 | {CLOSED} |" in markdown

    chinese = ok(f"history {store.id} --lang zh", store.url).lines
    assert chinese[0].split()[:3] == ["版本", "发生时间", "操作人"]
    assert "居民 r-2 附议" in chinese[3]
    zh_markdown = ok(f"history {store.id} --markdown --lang zh", store.url).out
    assert zh_markdown.startswith("# 审计记录: Fix the stairwell lights\n")


def test_history_and_replay_as_of_a_recording_moment(store: Store) -> None:
    moment = f"--as-of {store.decided_recorded_at}"
    entries = ok(f"history {store.id} {moment} --json", store.url).json()
    assert [e["event"] for e in entries] == ["Asked", "Backed", "Discussed", "Decided"]
    then = ok(f"replay {store.id} {moment} --json", store.url).json()
    assert (then["version"], then["stage"]) == (4, "doing")
    assert then["decisions"][0]["plan"] == "12 LED fittings"
    before = civicflow(f"replay {store.id} --as-of 2000-01-01T00:00:00+08:00", store.url)
    assert refusal(before) == f"civicflow: proposal {store.id} not found"


def test_checkpoint_verify_and_a_tampered_byte(store: Store, tmp_path: Path) -> None:
    db = copy_of(store, tmp_path)
    sealed = ok(f"checkpoint --actor office --at {CLOSED} --json", db).json()
    assert sealed["number"] == 1
    assert re.fullmatch(r"[0-9a-f]{64}", sealed["digest"])

    # keyed by default, and checked against the feed in the store's key directory
    assert "every record is proven against a published head" in ok("verify", db).out
    assert ok(f"verify --published 1={sealed['digest']}", db).out.startswith("OK: ")
    wrong = civicflow(f"verify --published 1={'0' * 64}", db)
    assert (wrong.code, wrong.lines[0].split(":")[0]) == (1, "PROBLEMS FOUND")

    tamper(tmp_path / "copy.db", b"LEDs preferred", b"LEDs preferrEd")  # one byte
    found = civicflow("verify", db)
    assert found.code == 1
    assert found.lines[0].startswith("PROBLEMS FOUND: ")
    assert "Proposal" in found.out
    report = civicflow("verify --json", db)
    assert report.code == 1
    assert report.json()["ok"] is False
    assert "checkpoint" in {problem["kind"] for problem in report.json()["problems"]}


def test_verify_against_a_published_head_proves_the_store_and_finds_an_edit(
    store: Store, tmp_path: Path
) -> None:
    from civicflow.audit.keys import write_verifier_key
    from civicflow.audit.signing import Signer

    db = copy_of(store, tmp_path)
    signer = Signer.generate("civicflow.example/district-1")
    write_verifier_key(tmp_path / "signing.pub", signer.verifier)
    with CivicFlow.open(db) as flow:
        (tmp_path / "head.note").write_text(flow.tree_head(signer), encoding="utf-8")
    keys = f"--log-key {tmp_path / 'signing.pub'} --head {tmp_path / 'head.note'}"
    proven = ok(f"verify {keys}", db)
    assert proven.out.startswith("OK: ")
    assert "every record is proven against a published head" in proven.out
    missing = civicflow(f"verify --keys {tmp_path / 'none'} --head {tmp_path / 'head.note'}", db)
    assert (missing.code, "--log-key" in missing.err) == (2, True)
    tamper(tmp_path / "copy.db", b'"too bright"', b'"too brighT"')
    found = civicflow(f"verify {keys}", db)
    assert found.code == 1
    assert "published" in found.out


def test_verify_runs_as_a_process_and_exits_1_on_a_tampered_store(
    store: Store, tmp_path: Path
) -> None:
    db = copy_of(store, tmp_path)
    tamper(tmp_path / "copy.db", b'"too bright"', b'"too brighT"')
    ran = process(f"verify --db {db}", cwd=tmp_path)
    assert ran.returncode == 1, ran.stderr
    assert ran.stdout.startswith("PROBLEMS FOUND: ")
    assert ran.stderr == ""


def test_a_keyed_store_names_the_altered_record(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AUDIT_KEY", "a key kept by the district office")
    db = f"sqlite:///{tmp_path / 'keyed.db'}"
    ok(f"area add d-1 --kind district --name District --actor office --at {REGISTERED}", db)
    ok(
        f"area add s-1 --kind street --name Street --parent d-1 --actor office --at {REGISTERED}",
        db,
    )
    assert "no published head" in unproven("verify", db).out
    tamper(tmp_path / "keyed.db", b'"District"', b'"Distric!"')  # not the last event
    report = civicflow("verify --json", db)
    assert report.code == 1
    problems = report.json()["problems"]
    assert [(p["kind"], p["aggregate"], p["version"]) for p in problems] == [
        ("altered", "Directory", 2)
    ]


# --- views ---------------------------------------------------------------------------------


def test_the_four_views_with_k_1(store: Store) -> None:
    figures = f"--quarter {QUARTER} --k 1"
    [satisfaction] = ok(f"views satisfaction {figures} --json", store.url).json()
    assert (satisfaction["area_id"], satisfaction["level"]) == ("hongqi", "community")
    assert (satisfaction["satisfied"], satisfaction["dissatisfied"], satisfaction["n"]) == (5, 1, 6)
    assert satisfaction["rate"] == "0.8333"
    table = ok(f"views satisfaction {figures}", store.url).rows
    assert table[2] == f"no hongqi community {QUARTER} 5 0 1 6 0.8333 0.8333"  # a word, not False

    [people] = ok(f"views participation {figures} --json", store.url).json()
    assert (people["asked_or_backed"], people["discussed"], people["rated"]) == (2, 1, 6)
    assert (people["participants"], people["residents"], people["households"]) == (6, 6, 96)
    assert (people["rate"], people["household_rate"]) == ("1.0000", "0.0625")

    [pipe] = ok("views pipeline --level compound --json", store.url).json()
    assert (pipe["area_id"], pipe["stages"], pipe["overdue"]) == ("hongqi-7", {"closed": 1}, 0)

    review = ok(f"views review {figures}", store.url).out
    assert review.startswith(f"Quarterly review {QUARTER}, by community\n")
    assert re.search(r"\n  hongqi +83\.3%  \(n=6\)\n", review)
    # A proposal reads with its short id and area: two of one title can be told apart.
    short = store.id.split("-")[0]
    assert re.search(
        rf"\n  Fix the stairwell lights \({short}, hongqi-7\) +83\.3%  \(n=6\)\n", review
    )
    ranked = ok(f"views review {figures} --level compound --json", store.url).json()
    assert (ranked["quarter"], ranked["level"]) == (QUARTER, "compound")
    assert ranked["by_satisfaction"][0]["area_id"] == "hongqi-7"


def test_figures_from_fewer_than_k_residents_are_hidden(store: Store) -> None:
    [hidden] = ok(f"views satisfaction --quarter {QUARTER} --k 7 --json", store.url).json()
    assert hidden["suppressed"] is True
    assert (hidden["n"], hidden["rate"]) == (None, None)
    review = ok(f"views review --quarter {QUARTER} --k 7", store.url).out
    assert "+ 1 suppressed (fewer than k residents)" in review


def test_chinese_labels_with_lang_zh_or_a_chinese_locale(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = ok("views satisfaction --k 1 --lang zh", store.url).rows
    assert table[0] == "隐去 区域 层级 季度 满意 基本满意 不满意 评价数 满意率 完全满意率"
    review = ok(f"views review --quarter {QUARTER} --k 1 --lang zh", store.url)
    assert review.lines[0].startswith(f"{QUARTER} 季度观摩评比")
    assert "满意率:" in review.lines
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert ok(f"history {store.id}", store.url).lines[0].startswith("版本")


def test_chinese_covers_the_pipeline_its_stages_and_the_level(store: Store) -> None:
    pipeline = ok("views pipeline --level compound --lang zh", store.url)
    assert pipeline.rows[0].startswith("区域 各阶段 问→定（天，中位）")
    assert "已结项=1" in pipeline.out
    assert not re.search(r"[a-z]+_[a-z]+", pipeline.lines[0])  # no field name left
    review = ok(f"views review --quarter {QUARTER} --level compound --lang zh --k 1", store.url)
    assert review.lines[0] == f"{QUARTER} 季度观摩评比（按楼院）"
    hidden = ok(f"views review --quarter {QUARTER} --level compound --lang zh --k 10", store.url)
    assert "隐去" in hidden.out


# --- files: export, import, CSV, rebuild, report -----------------------------------------


def test_export_and_import_into_a_fresh_store(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    count = stored_events(store.path)
    assert ok("export --out events.jsonl", store.url).out == (
        f"{count} events written to events.jsonl\n"
    )
    lines = Path("events.jsonl").read_text(encoding="utf-8").splitlines()[1:-1]
    assert [json.loads(line)["position"] for line in lines] == list(range(1, count + 1))

    fresh = "sqlite:///fresh.db"
    imported = ok("import events.jsonl", fresh).lines
    assert imported[0] == f"{count} events imported"
    assert imported[1].startswith("New keys made in fresh.db.keys: ")  # as any new store
    # The copy is sealed with the original key, and the original's published heads prove it.
    assert "proven against a published head" in ok(f"verify --keys {store.path}.keys", fresh).out
    for line in (f"show {store.id} --json", f"history {store.id}", "views satisfaction --k 1"):
        assert ok(line, fresh).out == ok(line, store.url).out

    again = civicflow("import events.jsonl", fresh)
    assert refusal(again) == "civicflow: events are imported into an empty store only"


def test_a_view_exported_as_csv(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    written = ok(f"export --view satisfaction --out {target}", store.url)
    assert written.out == f"1 row written to {target}\n"
    with target.open(encoding="utf-8", newline="") as rows:
        [row] = list(csv.DictReader(rows))
    assert [row["area_id"], row["quarter"], row["n"], row["rate"]] == [
        "hongqi",
        QUARTER,
        "6",
        "0.8333",
    ]


def test_a_view_exported_for_one_quarter_and_k(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "q.csv"
    ok(f"export --view satisfaction --quarter {QUARTER} --k 1 --out {target}", store.url)
    with target.open(encoding="utf-8", newline="") as rows:
        [row] = list(csv.DictReader(rows))
    assert row["quarter"] == QUARTER
    ok(f"export --view satisfaction --quarter 2020Q1 --out {target}", store.url)
    assert target.read_text(encoding="utf-8") == ""  # nothing counted then
    hidden = ok(f"export --view participation --k 50 --out {target}", store.url)
    with target.open(encoding="utf-8", newline="") as rows:
        assert all(row["suppressed"] == "True" for row in csv.DictReader(rows)), hidden.out
    refused = civicflow(f"export --quarter {QUARTER} --out {target}", store.url)
    assert refusal(refused).endswith("use it with --view")


def test_rebuild_recounts_the_whole_log(store: Store, tmp_path: Path) -> None:
    db = copy_of(store, tmp_path)
    before = ok("views satisfaction --k 1 --json", db).out
    assert ok("rebuild", db).out == f"{stored_events(store.path)} events counted\n"
    assert ok("views satisfaction --k 1 --json", db).out == before


def test_the_report_is_one_self_contained_html_page(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "review.html"
    ran = ok(f"report --quarter {QUARTER} --out {target} --k 1", store.url)
    assert ran.out == f"report written to {target}\n"
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" in page
    assert f"Quarterly review {QUARTER}" in page
    assert "hongqi-7" in page  # among the best compounds
    assert not re.search(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", page, re.IGNORECASE)


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_builds_a_district_and_prints_its_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = process("demo --compounds 12", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr
    assert "48/48 proposals" in ran.stderr  # the progress bar goes to stderr
    assert ran.stdout.startswith("Quarterly review 2026Q3, by street\n")
    assert "\nQuarterly review 2026Q3, by community\n" in ran.stdout
    assert re.search(
        r"\n[\d,]+ events written to sqlite:///civicflow-demo\.db in [\d.]+ s "
        r"\([\d,]+ events/s\); 48 proposals\.\n",
        ran.stdout,
    ), ran.stdout
    suggested = "views review --quarter 2026Q3 --db sqlite:///civicflow-demo.db"
    assert ran.stdout.endswith(f"Next: civicflow {suggested}\n")
    assert (tmp_path / "civicflow-demo.db").exists()

    monkeypatch.chdir(tmp_path)  # the command it suggests works, with the same figures
    street = ran.stdout.split("\nQuarterly review 2026Q3, by community\n")[0]
    assert ok(f"{suggested} --level street").out.startswith(street.rstrip("\n"))
    assert ran.stdout.count("proposals by satisfaction") == 1  # the list is printed once
    again = civicflow("demo --compounds 1 --keep --db sqlite:///civicflow-demo.db")
    assert "is not empty" in refusal(again)


def test_the_demo_in_json_for_scripts(tmp_path: Path) -> None:
    ran = process(f"demo --compounds 4 --json --db sqlite:///{tmp_path / 'd.db'}", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    summary = json.loads(ran.stdout)
    assert summary["proposals"] >= 16  # four quarters, one need per compound, and more
    assert summary["events"] == stored_events(tmp_path / "d.db")
    assert summary["quarter"] == "2026Q3"
    assert set(summary["review"]) == {"street", "community"}
    assert summary["review"]["street"]["quarter"] == "2026Q3"


@pytest.mark.parametrize("url", ["memory://", "sqlite:///:memory:"])
def test_a_demo_kept_in_memory_reviews_what_it_built(tmp_path: Path, url: str) -> None:
    """A store on disk is opened afresh for the views (the build's memory let go); one in
    memory ends with its application, so its views count before it closes: the same
    reviews either way."""
    on_disk = civicflow(f"demo --compounds 12 --json --db sqlite:///{tmp_path / 'd.db'}")
    in_memory = civicflow(f"demo --compounds 12 --json --db {url}")
    assert (on_disk.code, in_memory.code) == (0, 0), in_memory.err
    kept, lost = json.loads(on_disk.out), json.loads(in_memory.out)
    assert lost["review"]["street"]["by_satisfaction"]
    assert lost["review"] == kept["review"]
    assert lost["events"] == kept["events"]


# --- errors --------------------------------------------------------------------------------

AT = f"--at {CLOSED}"
ASK = "ask --title Gate --details Squeaks --category repairs"
REFUSED = {
    "unknown proposal": (f"show {NOBODY}", f"civicflow: proposal {NOBODY} not found"),
    "not a proposal id": ("history lights", "civicflow: invalid proposal id: "),
    "step in the wrong stage": (
        f"rate {{id}} --resident r-1 --level satisfied {AT}",
        "civicflow: cannot rate proposal {id}: it is in stage 'closed', where the allowed "
        "steps are: none (the proposal is final)",
    ),
    "another step in the wrong stage": (
        f"discuss {{id}} --attendee m-1 --summary again --actor m-1 {AT}",
        "civicflow: cannot discuss proposal {id}: it is in stage 'closed'",
    ),
    "missing required options": (
        "decide {id} --outcome approved",
        "civicflow decide: error: the following arguments are required: --for, --actor",
    ),
    "no command": ("", "civicflow: error: the following arguments are required: COMMAND"),
    "unknown command": ("vote", "civicflow: error: argument COMMAND: invalid choice: 'vote'"),
    "a choice not offered": (
        "decide {id} --outcome maybe --for 2 --actor m-1",
        "civicflow decide: error: argument --outcome: invalid choice: 'maybe'",
    ),
    "a malformed --at": (
        "back {id} --resident r-3 --at yesterday",
        "civicflow back: error: argument --at: 'yesterday' is not an ISO 8601 date-time",
    ),
    "an --at without a time zone": (
        "back {id} --resident r-3 --at 2025-02-04T10:00",
        "civicflow back: error: argument --at: '2025-02-04T10:00' needs a time zone",
    ),
    "an --at in the future": (
        "back {id} --resident r-3 --at 2999-01-01T00:00:00+08:00",
        "civicflow: invalid occurred_at: 2999-01-01T00:00:00+08:00 is in the future",
    ),
    "an unsupported --db URL": (
        "show {id} --db mysql://localhost/civic",
        "civicflow: unsupported store URL 'mysql://localhost/civic'",
    ),
    "a SQLite URL without a path": (
        "show {id} --db sqlite:///",
        "civicflow: sqlite URL needs a file path",
    ),
    "a resident nobody registered": (
        f"{ASK} --area hongqi-7 --resident visitor {AT}",
        "civicflow: visitor may not ask about: never registered as a resident",
    ),
    "an area nobody registered": (
        f"{ASK} --area hongqi-8 --resident r-1 {AT}",
        "civicflow: no area 'hongqi-8' is registered at that time",
    ),
    "an approval without funding": (
        f"decide {{id}} --outcome approved --for 2 --budget 100 --actor m-1 {AT}",
        "civicflow: invalid funding: an approval's budget needs at least one --funding",
    ),
    "the review without a quarter": (
        "views review",
        "civicflow: invalid quarter: the review is of one quarter: --quarter",
    ),
    "a malformed quarter": (
        "views satisfaction --quarter 2025-1",
        "civicflow: invalid quarter: '2025-1' is not like 2026Q3",
    ),
    "a malformed published digest": (
        "verify --published one",
        "civicflow: invalid published: 'one' is not N=DIGEST",
    ),
    "export into a missing folder": (
        "export --out /no/such/folder/events.jsonl",
        "civicflow export: error: argument --out: folder /no/such/folder does not exist",
    ),
    "import a missing file": (
        "import /no/such/events.jsonl",
        "civicflow: No such file or directory: /no/such/events.jsonl",
    ),
    "import into a store with events": (
        f"import {Path(__file__)}",
        "civicflow: events are imported into an empty store only",
    ),
    "the demo into a store with events": ("demo --compounds 1", "is not empty; give --db"),
}


@pytest.mark.parametrize(("line", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_bad_input_is_one_line_on_stderr_and_writes_nothing(
    store: Store, line: str, message: str
) -> None:
    before = stored_events(store.path)
    line = line.replace("{id}", store.id)
    db = store.url if line and "--db" not in line else None
    assert message.replace("{id}", store.id) in refusal(civicflow(line, db))
    assert stored_events(store.path) == before


def test_a_refusal_from_a_real_process(store: Store, tmp_path: Path) -> None:
    ran = process(f"close-rating {NOBODY} --actor m-1 --db {store.url}", cwd=tmp_path)
    assert refusal(ran) == f"civicflow: proposal {NOBODY} not found"


def test_the_store_comes_from_civicflow_db(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICFLOW_DB", store.url)
    assert ok(f"show {store.id} --json").json()["title"] == "Fix the stairwell lights"


def test_help_and_version() -> None:
    ran = civicflow("--help")
    assert ran.code == 0
    for name in commands():
        assert re.search(rf"\n    {name.split()[0]}\s", ran.out), name
    assert civicflow("--version").out.startswith("civicflow ")


# --- faults found while writing these tests, fixed since ---------------------------------


def test_views_as_of_a_moment_before_any_record_shows_nothing(store: Store) -> None:
    early = "--as-of 2000-01-01T00:00:00+08:00"
    assert ok(f"views satisfaction --k 1 {early} --json", store.url).json() == []


def test_checkpoint_prints_the_whole_digest_to_publish(store: Store, tmp_path: Path) -> None:
    printed = ok("checkpoint --actor office", copy_of(store, tmp_path)).rows
    [line] = [line for line in printed if line.startswith("publish with the results: ")]
    assert re.fullmatch(r"publish with the results: \d+=[0-9a-f]{64}", line)


def test_importing_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "events.jsonl"
    binary.write_bytes(b'{"position": 1, "state": "\xd0\xff"}\n')
    refusal(civicflow(f"import {binary}", f"sqlite:///{tmp_path / 'fresh.db'}"))


def test_a_text_file_given_as_the_store_is_refused_in_civicflows_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("minutes of the March meeting\n", encoding="utf-8")
    line = refusal(civicflow(f"show {NOBODY} --db sqlite:///notes.txt"))
    driver_errors = {name for name in dir(sqlite3) if name.endswith(("Error", "Warning"))}
    assert "sqlite3" not in line
    assert not set(re.findall(r"\w+", line)) & driver_errors, line
    assert notes.read_text(encoding="utf-8") == "minutes of the March meeting\n"


def test_a_negative_demo_size_is_refused(tmp_path: Path) -> None:
    refusal(civicflow("demo --compounds -1", f"sqlite:///{tmp_path / 'demo.db'}"))


# --- one vocabulary: choices from the enums, a Chinese label for every value ---------------

CHOICES: dict[tuple[str, str], type[StrEnum]] = {
    ("ask", "--channel"): Channel,
    ("decide", "--outcome"): Outcome,
    ("publish", "--channel"): PublicationChannel,
    ("rate", "--level"): Level,
    ("area add", "--kind"): AreaKind,
    ("area list", "--kind"): AreaKind,
    ("council join", "--via"): Via,
    ("council join", "--role"): Role,
    ("policy set", "--majority"): Majority,
    ("policy sponsor", "--kind"): SponsorKind,
    ("views", "--level"): AreaKind,
    ("export", "--level"): AreaKind,
}
NOT_ENUMS = {"--lang", "view", "--view", "shell"}  # languages, views' names, shells
BEYOND = {("views", "--level"): ("city",)}  # the city's totals, above every area kind


def test_every_choice_a_command_offers_is_an_enums_values() -> None:
    offered = {
        (name, action.option_strings[-1] if action.option_strings else action.dest): action.choices
        for name, parser in commands().items()
        for action in parser._actions
        if action.choices and not isinstance(action, argparse._SubParsersAction)
    }
    enums = {where: choices for where, choices in offered.items() if where[1] not in NOT_ENUMS}
    assert enums.keys() == CHOICES.keys()
    for where, enum in CHOICES.items():
        values = [member.value for member in enum]
        assert sorted(enums[where]) == sorted([*values, *BEYOND.get(where, ())]), where


def test_every_value_of_every_domain_enum_has_a_chinese_label() -> None:
    modules = [
        importlib.import_module(module.name)
        for module in pkgutil.walk_packages(domain.__path__, "civicflow.domain.")
    ]
    enums = {
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
    }
    assert enums == set(vocabulary.ZH)
    for enum in enums:
        assert all(vocabulary.ZH[enum][member].strip() for member in enum), enum
    assert vocabulary.unlabelled() == []


def test_a_value_without_a_chinese_label_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(cast("dict[Role, str]", vocabulary.ROLE), Role.SECRETARY)
    assert vocabulary.unlabelled() == ["Role.SECRETARY"]


def test_stages_and_levels_read_in_chinese_from_the_vocabulary(store: Store) -> None:
    shown = ok(f"show {store.id} --lang zh", store.url).rows
    assert f"阶段 {vocabulary.STAGE[Stage.CLOSED]}" in shown
    areas = ok("area list --kind compound --lang zh", store.url).rows
    assert vocabulary.AREA_KIND[AreaKind.COMPOUND] in areas[2].split()


# --- the documentation matches the command -------------------------------------------------


def commands() -> dict[str, argparse.ArgumentParser]:
    """Every command, with its action for the grouped ones: ``ask``, ``area add``..."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not groups:
            found[path] = parser
            return
        for name, sub in groups[0].choices.items():
            walk(sub, f"{path} {name}".strip())

    walk(build_parser(), "")
    return found


def _section(text: str, command: str) -> str:
    heading = re.search(rf"^(#+) `civicflow {re.escape(command)}`$", text, re.MULTILINE)
    assert heading, f"docs/cli.md has no heading for `civicflow {command}`"
    end = re.compile(rf"^#{{1,{len(heading[1])}}} ", re.MULTILINE).search(text, heading.end())
    return text[heading.end() : end.start() if end else len(text)]


# Described once, up front.
COMMON_OPTIONS = {"--help", "--db", "--keys", "--city", "--district", "--json", "--lang"}


@pytest.mark.parametrize("command", list(commands()))
def test_docs_cli_md_describes_every_command_and_option(command: str) -> None:
    section = _section((ROOT / "docs" / "cli.md").read_text(encoding="utf-8"), command)
    for action in commands()[command]._actions:
        for option in action.option_strings:
            if option.startswith("--") and option not in COMMON_OPTIONS:
                assert f"`{option}" in section, (command, option)


def _transcript(text: str) -> Iterator[tuple[str, list[str]]]:
    """The ``$ command`` lines of every ``sh`` block, each with the output shown after it."""
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        command: str | None = None
        shown: list[str] = []
        lines = iter(block.splitlines())
        for line in lines:
            if line.startswith("$ "):
                if command is not None:
                    yield command, shown
                command, shown = line[2:], []
                while command.endswith("\\"):
                    command = command[:-1] + next(lines).strip()
            elif command is not None:
                shown.append(line)
        if command is not None:
            yield command, shown


def _words(line: str) -> str:
    """A line compared loosely: runs of spaces squeezed, every id the same."""
    return " ".join(SHORT_ID.sub("(<id>,", UUID.sub("<id>", line)).split())


def test_the_tutorials_shell_transcript_runs_as_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ``$ civicflow ...`` of docs/tutorial.md succeeds (or fails with the line shown),
    and prints every line shown after it (``...`` stands for lines left out)."""
    monkeypatch.chdir(tmp_path)
    variables: dict[str, str] = {}
    steps = list(_transcript((ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")))
    assert len(steps) > 30
    for command, shown in steps:
        if match := re.fullmatch(r"export (\w+)=(\S+)", command):
            monkeypatch.setenv(match[1], match[2])
            continue
        capture = re.fullmatch(r"(\w+)=\$\(civicflow (.+?) \| python3 -c .+\)", command)
        assert capture or command.startswith("civicflow "), f"not a civicflow command: {command}"
        line = capture[2] if capture else command.removeprefix("civicflow ")
        for name, value in variables.items():
            line = line.replace(f"${name}", value)
        ran = civicflow(line)
        if capture:
            assert ran.code == 0, ran.err
            variables[capture[1]] = ran.json()["id"]
            continue
        expected = [_words(s) for s in shown if s.strip() not in ("", "...")]
        if expected and expected[0].startswith("civicflow:"):
            assert _words(refusal(ran)) == expected[0]
            continue
        unproven = bool(expected) and expected[0].startswith("UNPROVEN")  # verify's exit 3
        assert ran.code == (3 if unproven else 0), (command, ran.err)
        printed = {_words(a) for a in ran.lines}
        assert [s for s in expected if s not in printed] == [], (command, ran.out)
