"""The options' own refusals in Chinese: a moment, a day, a folder, a bad combination.

Issue 16: under ``--lang zh`` argparse's frame (``参数 --as-of：``) was Chinese but what
the option's parser said of the value (``needs a time zone, e.g. ...``) stayed English.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import Ran, _clean_environment, civicflow, refusal
from tests.test_cli_lang_commands import chinese

ID = "00000000-0000-4000-8000-000000000001"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


@pytest.mark.parametrize(
    ("line", "english", "said"),
    [
        ("area list --as-of 2026-12-02", "needs a time zone, e.g.", "需要带时区，例如"),
        ("area list --as-of someday", "is not an ISO 8601 date-time", "不是 ISO 8601 日期时间"),
        (
            f"decide {ID} --outcome approved --actor c --deadline 30/09",
            "is not a date like 2026-09-30",
            "不是形如 2026-09-30 的日期",
        ),
        ("report --quarter 2026Q3 --out {tmp}/none/r.html", "does not exist", "不存在"),
        ("verify --published 1=abc", "is not a digest", "不是摘要"),
        ("verify --published one", "is not N=DIGEST", "不是 N=DIGEST 形式"),
        ("export --view satisfaction", "--out FILE is required", "需要 --out 文件"),
        ("demo --compounds 0", "needs at least one compound", "至少需要一个楼院"),
    ],
)
def test_an_options_refusal_is_in_the_language(
    line: str, english: str, said: str, tmp_path: Path
) -> None:
    line = line.format(tmp=tmp_path) + " --db memory://"
    assert english in refusal(civicflow(line))
    assert said in chinese(last_line(civicflow(f"{line} --lang zh")))


def last_line(ran: Ran) -> str:
    """A refusal's error line (argparse prints its usage, in Chinese ``用法：``, before it)."""
    assert (ran.code, ran.out) == (2, ""), ran
    return ran.err.splitlines()[-1]
