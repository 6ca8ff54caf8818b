"""The audit's reasons in Chinese: a malformed note, a bad key, a damaged feed, a refusal.

Issue 16: an audit error under ``--lang zh`` said its frame in Chinese and its reason in
English (``签名注记格式有误：the checkpoint body does not end in a newline``). Each error
here is raised for real by the command; its line holds no English sentence, and the
same error in English (``str(error)``) is unchanged.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from civicflow import load_signer
from civicflow.audit.errors import MalformedNoteError, Reason, because
from civicflow.audit.feed import feed_line
from civicflow.audit.notes import TreeHead, sign_checkpoint, sign_note
from tests.test_cli import Store, _clean_environment, civicflow, copy_of, refusal, six_step_store
from tests.test_cli_lang_commands import chinese

WITNESS = "inspection.civicflow.example/district-1"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return six_step_store(tmp_path_factory)


@pytest.fixture
def office(store: Store, tmp_path: Path) -> tuple[str, Path, Path]:
    """A witness, the command that co-signs with it, and the log's last head as a note file."""
    copy_of(store, tmp_path)
    keys, office = tmp_path / "copy.db.keys", tmp_path / "office"
    assert civicflow(f"witness init --dir {office} --name {WITNESS}").code == 0
    entry = json.loads((keys / "feed.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    head = tmp_path / "head.note"
    head.write_text(entry["note"], encoding="utf-8")
    return f"witness cosign --dir {office} --log-key {keys / 'signing.pub'}", head, office


def refused_in_both(line: str, english: str) -> str:
    """The refusal's line in Chinese (checked), once the English one says ``english``."""
    assert english in refusal(civicflow(line))
    return chinese(refusal(civicflow(f"{line} --lang zh")))


@pytest.mark.parametrize(
    ("change", "english", "said"),
    [
        (lambda note: note.replace("\n\n", "\n"), "no blank line", "没有空行"),
        (lambda note: note + "x\n", "not a signature line", "不是签名行"),
        (lambda note: note + note.splitlines()[-1] + "\n", "by the same key", "同一密钥"),
        (lambda note: note.replace("\n", "\x07\n", 1), "a control character", "控制字符"),
    ],
)
def test_a_malformed_note_says_why_in_chinese(
    office: tuple[str, Path, Path], change: object, english: str, said: str
) -> None:
    cosign, head, _ = office
    assert callable(change)
    head.write_text(change(head.read_text(encoding="utf-8")), encoding="utf-8")
    assert said in refused_in_both(f"{cosign} --head {head}", english)


@pytest.mark.parametrize(
    ("change", "english", "said"),
    [
        (lambda body: body.replace("\n", "", 1), "origin, size and root lines", "来源、规模和根"),
        (lambda body: body.replace("\n", "\n0", 1), "is not a decimal", "十进制数"),
        (lambda body: body.replace("\n", "\n1", 1)[:-2] + "\n", "canonical base64", "规范 base64"),
        (lambda body: body + "more\n", "extension lines", "扩展行"),
        (lambda body: "another.log" + body[body.index("\n") :], "is not the log", "不是日志"),
    ],
)
def test_a_malformed_checkpoint_signed_by_the_log_says_why_in_chinese(
    office: tuple[str, Path, Path], change: object, english: str, said: str
) -> None:
    cosign, head, _ = office
    assert callable(change)
    body = head.read_text(encoding="utf-8").split("\n\n")[0] + "\n"
    signer = load_signer(head.parent / "copy.db.keys" / "signing.key")
    head.write_text(sign_note(change(body), signer), encoding="utf-8")
    assert said in refused_in_both(f"{cosign} --head {head}", english)


def test_a_bad_key_says_why_in_chinese(office: tuple[str, Path, Path], tmp_path: Path) -> None:
    cosign, head, _ = office
    bad = tmp_path / "bad.pub"
    bad.write_text("not-a-key\n", encoding="utf-8")
    line = f"{cosign.split(' --log-key ')[0]} --log-key {bad} --head {head}"
    assert "<name>+<8 hex digits>" in refused_in_both(line, "expected <name>+<8 hex digits>")


def test_a_key_file_open_to_others_says_why_in_chinese(office: tuple[str, Path, Path]) -> None:
    cosign, head, folder = office
    (folder / "witness.key").chmod(0o644)
    assert "0644" in refused_in_both(f"{cosign} --head {head}", "has mode 0644, open to group")


def test_a_witness_that_refuses_says_why_in_chinese(office: tuple[str, Path, Path]) -> None:
    cosign, head, folder = office
    assert civicflow(f"{cosign} --head {head}").code == 0
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    (entry,) = state["logs"].values()
    entry["size"] += 1  # the witness remembers a bigger head: this one is a rollback
    (folder / "state.json").write_text(json.dumps(state), encoding="utf-8")
    said = refused_in_both(f"{cosign} --head {head}", "the last head co-signed: a rollback")
    assert "回滚" in said
    (folder / "state.json").write_text("{", encoding="utf-8")
    assert "不是 JSON" in refused_in_both(f"{cosign} --head {head}", "cannot be read (not JSON)")


def test_a_damaged_feed_says_why_in_chinese(store: Store, tmp_path: Path) -> None:
    db = copy_of(store, tmp_path)
    keys = tmp_path / "copy.db.keys"
    feed = keys / "feed.jsonl"
    lines = feed.read_text(encoding="utf-8").splitlines(keepends=True)
    signer = load_signer(keys / "signing.key")
    smaller = sign_checkpoint(TreeHead(signer.name, 1, bytes(32)), signer)
    feed.write_text("".join([*lines, feed_line(smaller)]), encoding="utf-8")
    line = f"verify --feed {feed} --log-key {keys / 'signing.pub'} --db {db}"
    assert "规模从" in refused_in_both(line, "the size went down from")
    lines[-1] = lines[-1].replace('"note"', '"note" ', 1)
    feed.write_text("".join(lines), encoding="utf-8")
    assert "字段被改动" in refused_in_both(line, "not the line written for its note")
    missing = f"verify --feed {tmp_path / 'none.jsonl'} --log-key {keys / 'signing.pub'} --db {db}"
    assert "没有那个文件或目录" in refused_in_both(missing, "cannot be read (No such file")


def test_a_reason_is_its_english_text_and_keeps_its_template() -> None:
    reason = because("the size {size!r} is not a decimal from 0 to 2^63-1", size="01")
    assert reason == "the size '01' is not a decimal from 0 to 2^63-1"
    error = MalformedNoteError(reason, 2)
    assert (
        str(error)
        == "malformed signed note (line 2): the size '01' is not a decimal from 0 to 2^63-1"
    )
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert isinstance(again.reason, Reason)
    assert again.reason.parameters == {"size": "01"}


@pytest.fixture(scope="module")
def export(store: Store, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The lines of the store's events export."""
    file = tmp_path_factory.mktemp("export") / "events.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        _clean_environment(patch)
        assert civicflow(f"export --out {file}", store.url).code == 0
    return file.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.mark.parametrize(
    ("change", "english", "said"),
    [
        (lambda lines: lines[:-1], "without its trailer: it was cut short", "被截断"),
        (lambda lines: [*lines[:3], "\n", *lines[3:]], "a blank line", "空行"),
        (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], "position 2 where", "位置 2"),
        (lambda lines: [*lines, lines[1]], "a line after the trailer", "结尾行之后"),
        (lambda lines: [lines[0], "{}\n", *lines[1:]], "not a record of the export: no", "缺少"),
    ],
)
def test_an_import_refused_says_why_in_chinese(
    export: list[str], tmp_path: Path, change: object, english: str, said: str
) -> None:
    assert callable(change)
    file = tmp_path / "changed.jsonl"
    file.write_text("".join(change(export)), encoding="utf-8")
    line = f"import {file} --db sqlite:///{tmp_path / 'new.db'}"
    assert said in refused_in_both(line, english)
    assert not (tmp_path / "new.db").exists()


def test_a_receipt_or_an_import_refused_says_why_in_chinese(
    store: Store, export: list[str], tmp_path: Path
) -> None:
    db = copy_of(store, tmp_path)
    file = tmp_path / "events.jsonl"
    file.write_text("".join(export), encoding="utf-8")
    assert "只能导入空的存储" in refused_in_both(
        f"import {file} --db {db}", "events are imported into an empty store only"
    )
    line = f"receipt {store.id} --version 999 --out {tmp_path / 'r.json'} --db {db}"
    assert "没有版本 999 的记录" in refused_in_both(line, "has no record at version 999")
    receipt = tmp_path / "receipt.json"
    assert civicflow(f"receipt {store.id} --out {receipt} --db {db}").code == 0
    given = json.loads(receipt.read_text(encoding="utf-8"))
    given["index"] = given["index"] - 1  # another record's place in the log
    receipt.write_text(json.dumps(given), encoding="utf-8")
    line = f"check-receipt {receipt} --log-key {tmp_path / 'copy.db.keys' / 'signing.pub'}"
    assert civicflow(line).out.endswith("proof: the record is not in the log under this head\n")
    unproven = civicflow(f"{line} --lang zh")
    assert unproven.code == 1  # a verdict, its code kept: NOT PROVEN
    assert "证明：在此树头下" in chinese(unproven.out.removeprefix("NOT PROVEN: "))
