"""Every command speaks the language of ``--lang``: webhooks, witness, receipts, the city, serve.

Issue 16: with ``--lang zh`` no English sentence is left in what these commands print
(ids, paths, URLs and codes stay as they are; the verdict ``OK`` of a receipt stays a code).
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from civicflow import CivicFlow
from tests.test_cli import _clean_environment, civicflow, ok

# Three English words in a row: a sentence (or a label) left untranslated.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")
COMMAND = re.compile(r"civicflow [a-z-]+ .*$", re.MULTILINE)
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


def demo_run(line: str) -> str:
    """A demo's output (its progress goes to stderr)."""
    ran = civicflow(line)
    assert ran.code == 0, ran.err
    return ran.out


def chinese(text: str) -> str:
    """``text``, checked: it says something in Chinese and no English sentence."""
    assert CHINESE.search(text), text
    said = COMMAND.sub("", text)  # a command to run next is a command
    assert not ENGLISH.search(said), ENGLISH.search(said)
    return text


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-compound demo store, with its keys beside it."""
    db = tmp_path_factory.mktemp("demo") / "d.db"
    with pytest.MonkeyPatch.context() as patch:
        _clean_environment(patch)
        demo_run(f"demo --compounds 1 --db sqlite:///{db}")
    return db


def test_webhooks_in_chinese(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'h.db'}"
    demo_run(f"demo --compounds 1 --db {db}")
    made = chinese(ok("webhooks add https://example.org/hook --lang zh", db).out)
    assert "状态  启用" in re.sub(r" +", "  ", made)
    assert "居民编号  化名" in re.sub(r" +", "  ", made)
    listed = chinese(ok("webhooks list --lang zh", db).out)
    assert listed.splitlines()[0].split()[:3] == ["编号", "地址", "事件类型"]
    assert ok("webhooks list --json --lang zh", db).json()[0]["state"] == "active"  # codes
    hook = ok("webhooks list --json", db).json()[0]["id"]
    chinese(ok(f"webhooks pause {hook} --lang zh", db).out)
    chinese(ok(f"webhooks remove {hook} --lang zh", db).out)
    refused = civicflow("webhooks relay --once --poll 0 --lang zh", db)
    assert refused.err == "civicflow: poll 无效：必须大于 0 秒\n"


def test_witness_init_in_chinese(tmp_path: Path) -> None:
    said = chinese(ok(f"witness init --dir {tmp_path} --name w.example/d1 --lang zh").out)
    assert said.startswith("见证方 w.example/d1+")


def test_a_receipt_given_and_checked_in_chinese(demo: Path, tmp_path: Path) -> None:
    with CivicFlow.open(f"sqlite:///{demo}", create=False) as flow:
        proposal = next(
            n.originator_id
            for n in flow.recorder.select_notifications(0, 10**6)
            if "Rated" in n.topic
        )
    receipt = tmp_path / "receipt.json"
    made = chinese(ok(f"receipt {proposal} --out {receipt} --lang zh --db sqlite:///{demo}").out)
    assert made.startswith(f"{proposal} 第 ")
    key = Path(f"{demo}.keys") / "signing.pub"
    checked = chinese(ok(f"check-receipt {receipt} --log-key {key} --lang zh").out)
    assert checked.startswith(f"OK: {proposal} 第 ")  # the verdict stays a code
    assert checked.rstrip().endswith("，未被改动")


def test_the_city_views_in_chinese(tmp_path: Path) -> None:
    city = tmp_path / "city.toml"
    built = chinese(demo_run(f"demo --city {city} --compounds 2 --districts 2 --lang zh"))
    assert "城市视图" in built
    counted = chinese(ok(f"rebuild --city {city} --lang zh").out)
    assert counted.startswith("已统计 ")
    chinese(ok(f"views satisfaction --city {city} --level city --lang zh").out)
    chinese(ok(f"views pipeline --city {city} --lang zh").out)
    refused = civicflow(f"views review --city {city} --lang zh")
    assert refused.err == "civicflow: 季度 无效：评比针对一个季度\n"
    refused = civicflow(f"demo --city {tmp_path / 'none' / 'c.toml'} --compounds 1 --lang zh")
    chinese(refused.err)


def test_serve_says_what_it_serves_in_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("fastapi")
    served: list[object] = []
    fake = types.ModuleType("uvicorn")
    fake.run = lambda app, **_: served.append(app)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "uvicorn", fake)
    db = f"sqlite:///{tmp_path / 's.db'}"
    said = chinese(ok("serve --actor-header X-User --port 8123 --lang zh", db).out)
    mode = "命令的操作者取自 X-User"
    assert (
        said
        == f"civicflow 在 http://127.0.0.1:8123/ 提供 {db} 的服务（{mode}）；API 说明见 /docs\n"
    )
    assert served
    refused = civicflow("serve --office o-1 --lang zh", db)
    assert refused.err == "civicflow: office 无效：需要 --actor-header\n"
