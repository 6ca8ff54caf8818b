"""``--help`` and argparse's errors in Chinese (issue 16): the catalog says every word."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from civicflow.cli import catalog
from civicflow.cli.helptext import EXAMPLES, commands
from civicflow.cli.i18n import _, use, width
from civicflow.cli.main import build_parser
from tests.test_cli import _clean_environment, civicflow

ENGLISH_SENTENCE = re.compile(r"\b[a-z]{2,}[,;:]? [a-z]{2,}[,;:]? [a-z]{2,}\b")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


@pytest.mark.parametrize(
    "line", ["--help", "rate --help", "decide --help", "area --help", "views --help"]
)
def test_help_in_chinese_has_no_english_sentence(line: str) -> None:
    ran = civicflow(f"--lang zh {line}")
    assert ran.code == 0, ran.err
    assert "用法：civicflow" in ran.out
    assert "显示此帮助信息并退出" in ran.out
    said = "\n".join(ln for ln in ran.out.splitlines() if not ln.startswith("  civicflow "))
    assert not ENGLISH_SENTENCE.findall(said), ENGLISH_SENTENCE.findall(said)


def test_a_chinese_locale_gives_chinese_help(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert "评：居民对本轮工作的满意度" in civicflow("rate --help").out


def test_a_missing_required_option_is_a_chinese_usage_error() -> None:
    ran = civicflow("--lang zh rate")
    assert ran.code == 2
    assert ran.err.startswith("用法：civicflow rate")
    assert ran.err.splitlines()[-1] == (
        "civicflow rate：错误：缺少必需的参数：事项编号, --resident, --level"
    )


def test_english_help_stays_english_after_a_chinese_command() -> None:
    civicflow("--lang zh rate --help")
    english = build_parser().format_help()
    assert english.startswith("usage: civicflow")
    assert "问议定办晒评" in english
    assert "在命令行" not in english


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_chinese_example_parses(name: str) -> None:
    use("zh")
    try:
        example = _(EXAMPLES[name])
    finally:
        use("en")
    parser = build_parser("zh")
    assert dict(commands(parser))[name].epilog is not None
    parser.parse_args(shlex.split(example.split(" > ")[0]))


# --- placeholders --------------------------------------------------------------------------

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("name", [name for name, _parser in commands(build_parser())])
def test_a_placeholder_in_chinese_help_is_one_chinese_word_and_choices_stay_as_typed(
    name: str,
) -> None:
    ran = civicflow(f"--lang zh {name} --help")
    assert ran.code == 0, ran.err
    usage = ran.out.split("\n\n")[0].removeprefix(f"用法：civicflow {name}")
    words = re.sub(r"[][|()]", " ", usage).split()
    placeholders = [w for w in words if not w.startswith(("-", "{", "..."))]
    assert all(CHINESE.search(word) for word in placeholders), placeholders
    english = civicflow(f"{name} --help").out
    for choice in re.findall(r"\{[a-z_,.-]+\}", english):  # what a user types, as typed
        assert choice in ran.out


def test_every_placeholder_translation_is_one_word() -> None:
    found = catalog.read("zh_Hans")
    words = [m for m in found if m.context == "metavar"]
    assert len(words) > 50
    assert all(m.string and not re.search(r"\s", m.string) for m in words)


def test_the_chinese_help_column_lines_up_in_terminal_columns() -> None:
    columns = set()
    for line in civicflow("--lang zh decide --help").out.splitlines():
        found = re.match(r"  -\S.*?  +(\S)", line)  # an option, then its help on its line
        if found:
            columns.add(width(line[: found.start(1)]))
    assert len(columns) == 1, columns


# argparse's words that only a program building a wrong parser meets (Pythons 3.11 to 3.13).
BUILDING = {
    *("%r is not callable", "'required' is an invalid argument for positionals"),
    *(".__call__() not defined", 'argument "-" with mode %r'),
    *("cannot have multiple subparser arguments", "cannot merge actions - two groups are named %r"),
    *("conflicting option string: %s", "conflicting subparser alias: %s"),
    *("conflicting subparser: %s", "dest= is required for options like %r"),
    *("invalid conflict_resolution value: %r", "unexpected option string: %s"),
    "invalid option string %(option)r: must start with a character %(prefix_chars)r",
    "mutually exclusive arguments must be optional",
}


def test_every_word_of_the_running_pythons_argparse_is_in_the_catalog() -> None:
    """argtext.WORDS holds the words of Pythons 3.11 to 3.13; each Python checks its own,
    so a newer argparse's new word fails here until it is translated (or is a builder's)."""
    from babel.messages.extract import extract_python

    with Path(argparse.__file__).open("rb") as source:
        found = extract_python(source, {"_": None, "ngettext": (1, 2)}, [], {})
        ids = {m if isinstance(m, str) else m[0] for *_, m, _ in found if m}
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog.read("zh_Hans")}
    assert ids - BUILDING <= translated, sorted(ids - BUILDING - translated)
