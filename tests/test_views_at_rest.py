"""Views of an encrypted store: nothing they keep is readable, and they count the same.

Every byte of the database is searched for every name, id and text the story wrote:
the SQLite file and its write-ahead log as they lie on disk, and every row of every
table of the PostgreSQL schema as text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment
from hypothesis import given
from hypothesis import strategies as st

from civicflow import AreaKind, CivicFlow, ConfigurationError, Views, ViewsEncryptionError
from civicflow.views import backend
from civicflow.views.sealing import PLAIN, Plain, Sealed
from tests.conftest import FakeClock
from tests.test_views_properties import (
    SETUPS,
    Questions,
    Recount,
    Setup,
    answers,
    assert_agrees,
    expected,
    histories,
    history,
    logged,
    segments,
)

KEY = AESCipher.create_key(num_bytes=32)
SEALED = {"CIPHER_KEY": KEY}
START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
DISTRICT, STREET, COMMUNITY = "district-id-zqx", "street-id-zqx", "community-id-zqx"
COMPOUNDS = ("compound-id-zqx-north", "compound-id-zqx-south")
NAMES = ("District Name Qorvex", "Street Name Qorvex", "Community Name Qorvex")
COMPOUND_NAMES = ("Compound Name Qorvex North", "Compound Name Qorvex South")
MEMBERS = ("member-id-zqx-1", "member-id-zqx-2", "member-id-zqx-3")
RESIDENTS = tuple(f"resident-id-zqx-{n:02}" for n in range(24))
TITLES = ("Title Qorvex stairwell lights", "Title Qorvex bicycle shed")
FREE_TEXT = (
    "Details Qorvex dark at night",
    "Category Qorvex lighting",
    "Summary Qorvex session",
    "Opinion Qorvex said so",
    "Plan Qorvex fittings",
    "Responsible Qorvex contractor",
    "Evidence Qorvex photo",
    "Published Qorvex summary",
    "Comment Qorvex too dim",
    "Actor Qorvex office",
    "Sponsor Qorvex cadre",
)
PROPOSALS = (
    UUID("6d0c8f3e-8a56-4d0e-9d0b-6f3a0c1e2b01"),
    UUID("6d0c8f3e-8a56-4d0e-9d0b-6f3a0c1e2b02"),
)
# What the view tables held in clear before: the search must find these in plain views.
VIEWED = (*TITLES, RESIDENTS[0], MEMBERS[0], *NAMES, *COMPOUNDS, DISTRICT)
SECRETS = (*VIEWED, *RESIDENTS, *MEMBERS, *COMPOUND_NAMES, STREET, COMMUNITY, *FREE_TEXT)


def day(n: float) -> datetime:
    return START + timedelta(days=n)


def story(flow: CivicFlow) -> None:
    """Two compounds with councils and residents; two proposals asked, discussed,
    decided, done, published and rated, one across a quarter's end.
    """
    office = "Actor Qorvex office"
    parents = (None, DISTRICT, STREET)
    for kind, area, name, parent in zip(
        ("district", "street", "community"),
        (DISTRICT, STREET, COMMUNITY),
        NAMES,
        parents,
        strict=True,
    ):
        flow.add_area(
            area, kind=kind, name=name, parent_id=parent, actor=office, occurred_at=day(0)
        )
    for compound, name in zip(COMPOUNDS, COMPOUND_NAMES, strict=True):
        flow.add_area(
            compound,
            kind="compound",
            name=name,
            parent_id=COMMUNITY,
            is_old=True,
            has_property_management=False,
            households=60,
            actor=office,
            occurred_at=day(0),
        )
        flow.form_council(compound, actor=office, occurred_at=day(0))
        for member in MEMBERS:
            flow.join_council(
                compound, member=member, via="election", actor=office, occurred_at=day(0)
            )
    flow.assign_sponsor(COMMUNITY, sponsor="Sponsor Qorvex cadre", kind="cadre", actor=office)
    half = len(RESIDENTS) // 2
    for compound, people in zip(COMPOUNDS, (RESIDENTS[:half], RESIDENTS[half:]), strict=True):
        flow.register_residents(
            list(people), compound_id=compound, actor=office, occurred_at=day(0)
        )
    flow.move_resident(RESIDENTS[0], compound_id=COMPOUNDS[1], actor=office, occurred_at=day(50))
    for number, (proposal, title, compound) in enumerate(
        zip(PROPOSALS, TITLES, COMPOUNDS, strict=True)
    ):
        live(flow, proposal, title, compound, start=1 + 84 * number)


def live(flow: CivicFlow, proposal: UUID, title: str, compound: str, start: float) -> None:
    asker = RESIDENTS[0] if compound == COMPOUNDS[0] else RESIDENTS[-1]
    people = RESIDENTS[:12] if compound == COMPOUNDS[0] else RESIDENTS[12:]
    flow.ask(
        title=title,
        details="Details Qorvex dark at night",
        category="Category Qorvex lighting",
        area_id=compound,
        resident=asker,
        channel="visit",
        proposal_id=proposal,
        occurred_at=day(start),
    )
    flow.back(proposal, resident=people[1], occurred_at=day(start))
    flow.discuss(
        proposal,
        attendees=[*MEMBERS, *people[2:8]],
        summary="Summary Qorvex session",
        opinions=["Opinion Qorvex said so"],
        actor=MEMBERS[0],
        occurred_at=day(start + 1),
    )
    flow.decide(
        proposal,
        outcome="approved",
        vote={"in_favour": 2, "against": 0},
        plan="Plan Qorvex fittings",
        budget={"amount": "900", "funding_sources": ["district"]},
        responsible="Responsible Qorvex contractor",
        deadline=day(start + 30).date(),
        actor=MEMBERS[0],
        occurred_at=day(start + 1),
    )
    flow.complete(
        proposal,
        summary="Done",
        total_spent="850",
        evidence=["Evidence Qorvex photo"],
        actor=MEMBERS[1],
        occurred_at=day(start + 9),
    )
    flow.publish(
        proposal,
        channels=["notice_board"],
        summary="Published Qorvex summary",
        actor=MEMBERS[0],
        occurred_at=day(start + 10),
    )
    for n, resident in enumerate(people):
        level = ("satisfied", "basically_satisfied", "dissatisfied")[n % 3]
        flow.rate(
            proposal,
            resident=resident,
            level=level,
            comment="Comment Qorvex too dim",
            occurred_at=day(start + 11),
        )


@contextmanager
def told(url: str, env: dict[str, str] | None = None) -> Iterator[CivicFlow]:
    with CivicFlow.open(url, env=env, clock=FakeClock(day(200))) as flow:
        story(flow)
        yield flow


def figures(views: Views) -> list[Any]:
    """Every figure the views give, at every level and in every quarter."""
    found: list[Any] = []
    for level in AreaKind:
        found += views.satisfaction(level=level)
        found += views.participation(level=level)
        found += views.pipeline(level=level, as_of=date(2026, 8, 15))
        found += views.pipeline(level=level, as_of=date(2026, 12, 31))
        for quarter in ("2026Q3", "2026Q4"):
            found.append(views.review(quarter, level=level))
    for proposal in PROPOSALS:
        found += views.proposal_satisfaction(proposal)
    found += views.proposals()  # the rows the review page reads, ids and titles in clear
    return found


# --- reading every byte ----------------------------------------------------------------


def stored_bytes(url: str) -> bytes:
    """Everything the store holds, as the disk or the server has it."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    return "\n".join(text for _, text in postgres_rows(url)).encode()


def view_bytes(url: str) -> bytes:
    """What the view tables hold (every column of every row), as text."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            tables = [
                r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            rows = [
                repr(row)
                for table in tables
                if table.startswith("cf_view")
                for row in db.execute(f"SELECT * FROM {table}")  # noqa: S608 - the catalogue's
            ]
        return "\n".join(rows).encode()
    return "\n".join(
        text for table, text in postgres_rows(url) if table.startswith("cf_view")
    ).encode()


def postgres_rows(url: str) -> list[tuple[str, str]]:
    """(table, row as text) for every row of every table in the store's schema."""
    import psycopg
    from psycopg import sql

    base, schema = url.split("?schema=")
    with psycopg.connect(base) as db:
        tables = [
            r[0]
            for r in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        assert tables
        # Sorted: PostgreSQL promises no order of tables or rows, and two reads of the
        # same contents must compare equal.
        return sorted(
            (table, str(row[0]))
            for table in tables
            for row in db.execute(
                sql.SQL("SELECT t::text FROM {}.{} t").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
        )


def readable(secrets: tuple[str, ...], data: bytes) -> list[str]:
    """The secrets found in ``data``: as UTF-8, or hex-encoded (PostgreSQL shows bytea so)."""
    lowered = data.lower()
    return [s for s in secrets if s.encode() in data or s.encode().hex().encode() in lowered]


# --- the tests -------------------------------------------------------------------------


def test_views_of_an_encrypted_store_hold_no_name_id_or_text_and_count_the_same(
    durable_url: str, tmp_path: Path
) -> None:
    with told(durable_url, SEALED) as sealed, Views(sealed, k=3) as views:
        assert views.catch_up() == sealed.recorder.max_notification_id()
        assert readable(SECRETS, stored_bytes(durable_url)) == []  # the -wal file included
        counted = figures(views)
        assert views.rebuild() == views.position
        assert figures(views) == counted
    assert readable(SECRETS, stored_bytes(durable_url)) == []  # checkpointed into the file
    plain_url = f"sqlite:///{tmp_path / 'plain.db'}"
    with told(plain_url) as plain, Views(plain, k=3) as clear:
        clear.catch_up()
        assert figures(clear) == counted
        assert counted  # and not for want of figures
        assert readable(VIEWED, view_bytes(plain_url)) == list(VIEWED)  # the search finds them


def test_views_kept_in_clear_are_made_anew_once_the_store_is_encrypted(
    durable_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Views counted by a civicflow that kept them in clear (as before this version)."""
    with told(durable_url, SEALED) as flow:
        with monkeypatch.context() as before:
            before.setattr(backend, "sealing_of", lambda flow: PLAIN)
            with Views(flow, k=3) as old:
                old.catch_up()
                counted = figures(old)
        assert readable(VIEWED, stored_bytes(durable_url)) == list(VIEWED)
        with Views(flow, k=3) as views:
            assert views.position == 0  # emptied
            # Not left behind in SQLite's free pages, nor in its write-ahead log.
            assert readable(SECRETS, stored_bytes(durable_url)) == []
            views.catch_up()
            assert figures(views) == counted
            assert readable(SECRETS, stored_bytes(durable_url)) == []


def test_encrypted_views_are_refused_without_their_key_and_left_untouched(durable_url: str) -> None:
    with told(durable_url, SEALED) as flow, Views(flow, k=3) as views:
        views.catch_up()
    before = view_bytes(durable_url)
    other = {"CIPHER_KEY": AESCipher.create_key(num_bytes=32)}
    for env in (None, other):
        with (
            CivicFlow.open(durable_url, env=env) as stranger,
            pytest.raises(ViewsEncryptionError) as refused,
        ):
            Views(stranger)
        assert isinstance(refused.value, ConfigurationError)
    assert view_bytes(durable_url) == before
    assert refused.value.found.startswith("sealed:")
    assert refused.value.found != refused.value.expected


def test_views_opened_before_another_key_took_them_over_stop_writing(durable_url: str) -> None:
    with told(durable_url, SEALED) as flow, Views(flow, k=3) as views:
        views.catch_up(limit=10)
        with views.tables.transaction(commit=True) as cursor:
            cursor.execute(
                views.tables.sql("UPDATE cf_view_state SET value = ? WHERE name = 'sealing'"),
                ("sealed:0",),
            )
        before = view_bytes(durable_url)
        with pytest.raises(ViewsEncryptionError):
            views.catch_up()
        assert view_bytes(durable_url) == before


def test_pseudonyms_are_keyed_and_labelled_and_text_comes_back() -> None:
    env = Environment("x", SEALED)
    one, two = Sealed(AESCipher(env), b"k" * 32), Sealed(AESCipher(env), b"l" * 32)
    assert one.pseudonym("resident-1") == one.pseudonym("resident-1") != two.pseudonym("resident-1")
    assert len(one.pseudonym("resident-1")) == 22  # 128 bits
    assert one.stamp != two.stamp
    assert one.place("") == ""  # above the scope: nothing to hide, and queries skip it
    sealed = one.seal("Title Qorvex")
    assert "Qorvex" not in sealed
    assert sealed != one.seal("Title Qorvex")  # a fresh nonce each time
    assert one.open(sealed) == "Title Qorvex"
    assert one.area_of(one.place("compound-7")) == "compound-7"
    with pytest.raises(ViewsEncryptionError):
        one.area_of(two.place("compound-7"))


class Reversing(Cipher):
    """A cipher that needs no CIPHER_KEY (and hides nothing): for the test below."""

    def __init__(self, environment: Environment) -> None:
        pass

    def encrypt(self, plaintext: bytes) -> bytes:
        return plaintext[::-1]

    def decrypt(self, ciphertext: bytes) -> bytes:
        return ciphertext[::-1]


def test_a_cipher_without_a_cipher_key_leaves_the_views_no_key_to_derive() -> None:
    env = {"CIPHER_TOPIC": f"{__name__}:Reversing"}
    with (
        CivicFlow.open("sqlite:///:memory:", env=env) as flow,
        pytest.raises(ConfigurationError) as refused,
    ):
        Views(flow)
    assert "CIPHER_KEY" in str(refused.value)


def test_unencrypted_stores_keep_their_views_as_before() -> None:
    with CivicFlow.open("sqlite:///:memory:") as flow, Views(flow) as views:
        assert views.tables.sealing is PLAIN
        assert isinstance(views.tables.sealing, Plain)


@histories(max_examples=8)
@given(
    setup=SETUPS,
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(150, 240),
    cuts=st.lists(st.integers(0, 10_000), max_size=3),
    k=st.integers(2, 6),
    batch_size=st.integers(1, 90),
)
def test_encrypted_views_caught_up_in_random_batches_equal_a_naive_recount_of_the_log(
    *, setup: Setup, seed: int, size: int, cuts: list[int], k: int, batch_size: int
) -> None:
    life, genes = history(setup, seed, size, env=SEALED)
    with Views(life.flow, k=k, batch_size=batch_size) as views:
        assert isinstance(views.tables.sealing, Sealed)
        for part in segments(genes, cuts):  # the log grows between catch-ups
            life.run(part)
            views.catch_up()
        recount = Recount(e for _, e in logged(life.flow))
        questions = Questions.about(recount, life.clock.now.date())
        caught_up = answers(views, questions)
        assert_agrees(caught_up, expected(recount, questions, k))
        views.rebuild()
        assert_agrees(answers(views, questions.brief()), expected(recount, questions.brief(), k))
