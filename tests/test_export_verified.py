"""Verified export and import: the file proves itself whole, and a damaged one writes nothing.

The export of a small demo district (signed with the log's key) is damaged the ways a file
is damaged in transit or on purpose: cut, edited, reordered, repeated, re-signed. Each
import is refused with one line naming the first bad line, and the target store is left
as it was: not created, or (when it was there) exactly the bytes it had.
"""

from __future__ import annotations

import hashlib
import io
from base64 import b64encode
from collections.abc import Callable
from pathlib import Path

import orjson
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicflow import CivicFlow, ImportRefusedError, InvalidInputError
from civicflow.audit.feed import append_to_file
from civicflow.audit.keys import generate_keys, load_signer
from civicflow.audit.signing import Signer
from civicflow.extras.demo import Size, build
from tests import flows
from tests.conftest import POSTGRES_URL
from tests.storage import stored_rows

ORIGIN = "civicflow.example/district-1"
KEY = {"AUDIT_KEY": "export-test-key"}
SIGNER = Signer.generate(ORIGIN)
STRANGER = Signer.generate(ORIGIN)  # the same name, another key: a forger's


def demo_district() -> CivicFlow:
    flow = CivicFlow(env=KEY)
    build(flow, size=Size.scaled(8))
    return flow


def export_of(flow: CivicFlow, signer: Signer | None = SIGNER, heads: tuple[str, ...] = ()) -> str:
    out = io.StringIO()
    flow.export_events(out, signer=signer, heads=heads)
    return out.getvalue()


@pytest.fixture(scope="module")
def source() -> tuple[str, str, str]:
    """The demo district's signed export, a head published half-way, and the head now."""
    with CivicFlow(env=KEY) as flow:
        build(flow, size=Size.scaled(8))
        published = flow.tree_head(SIGNER)
        flow.checkpoint(actor="office")  # the log grows after the head was published
        return export_of(flow, heads=(published,)), published, flow.tree_head(SIGNER)


def lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def record_lines(lines: list[str], needle: str) -> int:
    """The index of the first record line holding ``needle``."""
    return next(i for i, line in enumerate(lines) if needle in line and '"position"' in line)


# --- what an untouched export gives ---------------------------------------------------------


def test_a_signed_export_imported_elsewhere_has_the_same_tree_root_and_verifies(
    durable_url: str, source: tuple[str, str, str]
) -> None:
    text, published, now = source
    header, *records, trailer = (orjson.loads(line) for line in lines_of(text))
    assert header == {"format": "civicflow-events/2", "origin": ORIGIN}
    assert trailer["count"] == len(records) > 1000
    assert trailer["heads"] == [published]
    count = CivicFlow.import_into(durable_url, lines_of(text), verifier=SIGNER.verifier, env=KEY)
    assert count == len(records)
    with CivicFlow.open(durable_url, create=False, env=KEY) as copy:
        assert copy.tree_head(SIGNER) == now  # the same records, the same Merkle root
        assert copy.verify().ok
        assert export_of(copy, heads=(published,)) == text  # not a byte changed


def test_the_trailers_root_is_the_stores_log_root_unsigned_too() -> None:
    with demo_district() as flow:
        text = export_of(flow, signer=None)
        now = flow.tree_head(SIGNER)
    trailer = orjson.loads(lines_of(text)[-1])
    assert trailer["checkpoint"] is None
    assert trailer["root"] == now.splitlines()[2]  # the checkpoint body's root line
    with CivicFlow(env=KEY) as copy:
        assert copy.import_events(lines_of(text)) == trailer["count"]


def test_an_export_refuses_a_head_that_is_not_of_its_log(source: tuple[str, str, str]) -> None:
    _, published, _ = source
    with demo_district() as other, pytest.raises(InvalidInputError, match="not a checkpoint"):
        export_of(other, heads=(published,))


# --- each damage, refused, naming the first bad line -----------------------------------------

Damage = Callable[[list[str]], tuple[list[str], int, str]]


def cut_at_a_line_boundary(lines: list[str]) -> tuple[list[str], int, str]:
    kept = lines[: len(lines) // 2]
    return kept, len(kept), f"the file ends at line {len(kept)} without its trailer"


def cut_mid_line(lines: list[str]) -> tuple[list[str], int, str]:
    half = len(lines) // 2
    return [*lines[:half], lines[half][:40]], half + 1, "cut short"


def one_byte_altered_in_a_state(lines: list[str]) -> tuple[list[str], int, str]:
    i = record_lines(lines, '"actor":"office"')
    at = lines[i].index('"actor":"office"') + len('"actor":"')
    altered = lines[i][:at] + "O" + lines[i][at + 1 :]
    return [*lines[:i], altered, *lines[i + 1 :]], i + 1, "seal does not match"


def satisfied_made_dissatisfied(lines: list[str]) -> tuple[list[str], int, str]:
    i = record_lines(lines, '"level":"satisfied"')
    altered = lines[i].replace('"level":"satisfied"', '"level":"dissatisfied"')
    assert orjson.loads(altered)  # still valid JSON
    return [*lines[:i], altered, *lines[i + 1 :]], i + 1, "seal does not match"


def two_lines_swapped(lines: list[str]) -> tuple[list[str], int, str]:
    i = len(lines) // 3
    return [*lines[:i], lines[i + 1], lines[i], *lines[i + 2 :]], i + 1, "out of order"


def a_line_duplicated(lines: list[str]) -> tuple[list[str], int, str]:
    i = len(lines) // 3
    return [*lines[: i + 1], lines[i], *lines[i + 1 :]], i + 2, "repeated"


def a_line_deleted(lines: list[str]) -> tuple[list[str], int, str]:
    i = len(lines) // 3
    return [*lines[:i], *lines[i + 1 :]], i + 1, "missing"


def a_trailer_with_a_wrong_root(lines: list[str]) -> tuple[list[str], int, str]:
    trailer = orjson.loads(lines[-1])
    trailer["root"] = b64encode(hashlib.sha256(b"another log").digest()).decode()
    wrong = orjson.dumps(trailer).decode() + "\n"
    return [*lines[:-1], wrong], len(lines), "not the Merkle root of the records"


def a_trailer_signed_by_another_key(lines: list[str]) -> tuple[list[str], int, str]:
    forged = orjson.loads(lines[-1])
    body = forged["checkpoint"].split("\n\n")[0] + "\n"
    forged["checkpoint"] = f"{body}\n{STRANGER.sign(body)}"
    return [*lines[:-1], orjson.dumps(forged).decode() + "\n"], len(lines), "does not hold"


DAMAGES: list[Damage] = [
    cut_at_a_line_boundary,
    cut_mid_line,
    one_byte_altered_in_a_state,
    satisfied_made_dissatisfied,
    two_lines_swapped,
    a_line_duplicated,
    a_line_deleted,
    a_trailer_with_a_wrong_root,
    a_trailer_signed_by_another_key,
]


def store_is_absent(url: str) -> bool:
    if url.startswith("sqlite:///"):
        return not Path(url.removeprefix("sqlite:///")).exists()
    with psycopg.connect(POSTGRES_URL) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (url.rsplit("schema=", 1)[1],)
        )
        return found.fetchone() is None


def store_bytes(url: str) -> object:
    """Everything of a store an import could change: the file's bytes, or the schema's rows."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return {p.name: p.read_bytes() for p in sorted(path.parent.glob(f"{path.name}*"))}
    schema = url.rsplit("schema=", 1)[1]
    with psycopg.connect(POSTGRES_URL) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            (schema,),
        ).fetchall()
    with CivicFlow.open(url, create=False) as flow:
        return tables, stored_rows(flow)


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__)
def test_a_damaged_export_is_refused_naming_its_first_bad_line_and_no_store_is_made(
    durable_url: str, source: tuple[str, str, str], damage: Damage
) -> None:
    damaged, line, reason = damage(lines_of(source[0]))
    with pytest.raises(ImportRefusedError) as refused:
        CivicFlow.import_into(durable_url, damaged, verifier=SIGNER.verifier, env=KEY)
    assert (refused.value.line, str(refused.value).count("\n")) == (line, 0)
    assert reason in refused.value.reason
    assert str(refused.value).startswith(f"invalid events export: line {line}: ")
    assert store_is_absent(durable_url)


@pytest.mark.parametrize(
    "damage", [satisfied_made_dissatisfied, a_line_duplicated], ids=lambda d: d.__name__
)
def test_a_refused_import_leaves_an_existing_empty_store_as_it_was(
    durable_url: str, source: tuple[str, str, str], damage: Damage
) -> None:
    CivicFlow.open(durable_url, env=KEY).close()
    before = store_bytes(durable_url)
    damaged, line, _ = damage(lines_of(source[0]))
    with pytest.raises(ImportRefusedError, match=f"line {line}: "):
        CivicFlow.import_into(durable_url, damaged, verifier=SIGNER.verifier, env=KEY)
    assert store_bytes(durable_url) == before


def test_without_an_audit_key_the_chain_names_an_altered_record() -> None:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["satisfied", "basically_satisfied", "dissatisfied"])
        lines = lines_of(export_of(flow, signer=None))
    damaged, line, _ = satisfied_made_dissatisfied(lines)
    with CivicFlow(), pytest.raises(ImportRefusedError) as refused:
        CivicFlow().import_events(damaged)
    assert refused.value.line == line
    assert "does not match the digest" in refused.value.reason


def test_a_v1_file_is_read_but_a_verifier_key_refuses_it() -> None:
    with flows.open_flow(env=KEY) as flow:
        flows.rating(flow)
        records = lines_of(export_of(flow))[1:-1]  # what civicflow-events/1 wrote
    with CivicFlow(env=KEY) as copy:
        assert copy.import_events(records) == len(records)
    with CivicFlow(env=KEY) as copy, pytest.raises(ImportRefusedError, match="no proof"):
        copy.import_events(records, verifier=SIGNER.verifier)
    with CivicFlow(env=KEY) as copy, pytest.raises(ImportRefusedError, match=r"line 3: .*missing"):
        copy.import_events([*records[:2], *records[3:]])


# --- any single-line damage of a small export is refused ---------------------------------


def small_export(env: dict[str, str], signer: Signer | None) -> list[str]:
    with flows.open_flow(env=env) as flow:
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["satisfied", "dissatisfied"])
        return export_of(flow, signer=signer).splitlines()


SMALL = small_export(KEY, SIGNER)  # sealed and signed: imported with the key and the verifier
BARE = small_export({}, None)  # neither: only the chains, the count and the root prove it


@st.composite
def damaged(draw: st.DrawFn, export: list[str]) -> list[str]:
    lines = export.copy()
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["edit", "delete", "duplicate", "swap"]))
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(draw(st.integers(0, len(lines))), lines[i])
    elif kind == "swap":
        j = draw(st.integers(0, len(lines) - 1).filter(lambda j: j != i))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        at = draw(st.integers(0, len(lines[i]) - 1))
        char = draw(st.characters(codec="utf-8").filter(lambda c: c != lines[i][at]))
        lines[i] = lines[i][:at] + char + lines[i][at + 1 :]
    return lines


@given(damaged(SMALL))
def test_any_single_line_edit_deletion_duplication_or_swap_is_refused(lines: list[str]) -> None:
    with CivicFlow(env=KEY) as target:
        with pytest.raises(ImportRefusedError):
            target.import_events(lines, verifier=SIGNER.verifier)
        assert stored_rows(target) == []


@given(damaged(BARE))
def test_without_key_or_signature_any_single_line_damage_is_still_refused(
    lines: list[str],
) -> None:
    with CivicFlow() as target:
        with pytest.raises(ImportRefusedError):
            target.import_events(lines)
        assert stored_rows(target) == []


def test_the_small_exports_themselves_are_accepted() -> None:
    with CivicFlow(env=KEY) as target:
        assert target.import_events(SMALL, verifier=SIGNER.verifier) == len(SMALL) - 2
    with CivicFlow() as target:
        assert target.import_events(BARE) == len(BARE) - 2


def with_field(line: str, **changes: object) -> str:
    return orjson.dumps({**orjson.loads(line), **changes}).decode()


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    [
        (lambda ls: ["", *ls], 1, "a blank line"),
        (lambda ls: [with_field(ls[0], format="civicflow-events/9"), *ls[1:]], 1, "not one"),
        (lambda ls: [ls[0], with_field(ls[1], note="x"), *ls[2:]], 2, "unknown fields note"),
        (lambda ls: [ls[0], with_field(ls[1], aggregate="Proposal"), *ls[2:]], 2, "aggregate"),
        (lambda ls: [*ls[:-1], with_field(ls[-1], count=1)], len(SMALL), "counts 1 records"),
        (lambda ls: [*ls, ls[-1]], len(SMALL) + 1, "a line after the trailer"),
        (lambda ls: [*ls[:-1], with_field(ls[-1], checkpoint=None)], len(SMALL), "no signed"),
    ],
    ids=["blank", "format", "field", "aggregate", "count", "after", "unsigned"],
)
def test_a_file_not_in_the_exports_form_is_refused_where_it_departs_from_it(
    change: Callable[[list[str]], list[str]], line: int, reason: str
) -> None:
    with CivicFlow(env=KEY) as target:
        with pytest.raises(ImportRefusedError) as refused:
            target.import_events(change(SMALL), verifier=SIGNER.verifier)
        assert refused.value.line == line
        assert reason in refused.value.reason
        assert stored_rows(target) == []


def test_an_empty_log_exports_a_signed_head_of_size_zero_and_imports_as_nothing() -> None:
    with CivicFlow(env=KEY) as empty:
        lines = export_of(empty).splitlines()
    assert len(lines) == 2
    with CivicFlow(env=KEY) as target:
        assert target.import_events(lines, verifier=SIGNER.verifier) == 0
        assert target.recorder.max_notification_id() is None


# --- the command ---------------------------------------------------------------------------


def test_the_command_signs_an_export_and_checks_it_on_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_cli import civicflow, ok, refusal

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUDIT_KEY", KEY["AUDIT_KEY"])
    keys = generate_keys(tmp_path / "keys", ORIGIN, seal=False)
    feed = tmp_path / "feed.jsonl"
    with flows.open_flow("sqlite:///source.db", env=KEY) as flow:
        p = flows.rating(flow)
        append_to_file(feed)(flow.tree_head(load_signer(keys.signing_key)))  # published
        flows.rate_all(flow, p, ["satisfied", "dissatisfied"])
        count = flow.recorder.max_notification_id()
    said = ok(f"export --out events.jsonl --signing-key {keys.signing_key}", "sqlite:///source.db")
    assert said.out == f"{count} events written to events.jsonl, signed by {ORIGIN}\n"

    verifier = f"--verifier-key {keys.verifier_key}"
    imported = ok(f"import events.jsonl {verifier}", "sqlite:///copy.db")
    assert imported.lines[0] == f"{count} events imported, signed by {ORIGIN}"
    assert imported.lines[1].startswith("New keys made in copy.db.keys: ")  # as any new store

    lines = Path("events.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    Path("cut.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")
    said_cut = refusal(civicflow(f"import cut.jsonl {verifier}", "sqlite:///cut.db"))
    assert said_cut == (
        f"civicflow: invalid events export: line {len(lines) - 1}: the file ends at line "
        f"{len(lines) - 1} without its trailer: it was cut short; nothing was imported"
    )
    assert not Path("cut.db").exists()

    other = generate_keys(tmp_path / "other", ORIGIN, seal=False)
    wrong = refusal(
        civicflow(f"import events.jsonl --verifier-key {other.verifier_key}", "sqlite:///w.db")
    )
    assert wrong.startswith(f"civicflow: invalid events export: line {len(lines)}: ")
    assert not Path("w.db").exists()

    with_heads = f"export --out heads.jsonl --signing-key {keys.signing_key} --feed {feed}"
    ok(with_heads, "sqlite:///source.db")
    trailer = orjson.loads(Path("heads.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert trailer["heads"] == [orjson.loads(feed.read_text(encoding="utf-8"))["note"]]
    ok(f"import heads.jsonl {verifier}", "sqlite:///with-heads.db")
    unsigned = refusal(civicflow(f"export --out x.jsonl --feed {feed}", "sqlite:///source.db"))
    assert unsigned.endswith("--feed needs the log's signing key")

    Path("v1.jsonl").write_text("".join(lines[1:-1]), encoding="utf-8")
    old = ok("import v1.jsonl", "sqlite:///old.db").out
    no_proof = "(civicflow-events/1: the file carries no proof, no trailer)"
    assert old.splitlines()[0] == f"{count} events imported {no_proof}"


def test_the_command_signs_with_the_key_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_cli import civicflow, ok, refusal

    monkeypatch.chdir(tmp_path)
    CivicFlow.open("sqlite:///s.db").close()
    monkeypatch.setenv("CIVICFLOW_SIGNING_KEY", SIGNER.key_string())
    assert ok("export --out e.jsonl", "sqlite:///s.db").out.endswith(f"signed by {ORIGIN}\n")
    trailer = orjson.loads(Path("e.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert trailer["checkpoint"].startswith(f"{ORIGIN}\n0\n")
    view = "export --out v.csv --view satisfaction --signing-key x"
    said = refusal(civicflow(view, "sqlite:///s.db"))
    assert said.endswith("--signing-key signs the events export, not a view")
