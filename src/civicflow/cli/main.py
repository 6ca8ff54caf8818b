"""The ``civicflow`` command: a thin shell over the application, for offices and auditors.

Every command takes the store as ``--db URL`` (default ``sqlite:///civicflow.db``),
prints readable tables (``--lang en|zh``) or JSON (``--json``), and reports bad
input as one line on stderr with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import locale
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from eventsourcing.persistence import PersistenceError
from pydantic import BaseModel

from civicflow.application.flow import CivicFlow
from civicflow.errors import CivicflowError, ConfigurationError, InvalidInputError

DEFAULT_DB = "sqlite:///civicflow.db"
Handler = Callable[[CivicFlow, argparse.Namespace], Any]


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 verification failed, 2 bad input)."""
    out = out or sys.stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as leaving:
        return int(leaving.code or 0)
    try:
        return int(args.run(args, out) or 0)
    except CivicflowError as error:
        sys.stderr.write(f"civicflow: {error}\n")
        return 2
    except OSError as error:
        sys.stderr.write(f"civicflow: {error.strerror or error}: {error.filename or ''}\n")
        return 2
    except (ValueError, sqlite3.Error, PersistenceError) as error:
        # Bad input that reached a library below civicflow (a file that is not UTF-8 or
        # not a SQLite database, say): still one line, never a traceback.
        sys.stderr.write(f"civicflow: {type(error).__name__}: {error}\n")
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command (see ``docs/cli.md``)."""
    from civicflow.cli import commands as cli_commands

    parser = argparse.ArgumentParser(
        prog="civicflow",
        description=(
            "Community deliberation (问议定办晒评) from the shell: Ask, Discuss, Decide, Do, "
            "Publish, Rate; community structure; views; audit."
        ),
    )
    parser.add_argument("--version", action="version", version=_version())
    common(parser, top=True)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    cli_commands.register(commands)
    return parser


def common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """The options every command takes, before or after the command's name.

    The top-level parser holds the defaults; a command's parser suppresses its own
    defaults, so that ``civicflow --db X show ID`` and ``civicflow show ID --db X``
    both work (argparse would otherwise let the command's default win).
    """
    unset: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--db",
        **({"default": os.environ.get("CIVICFLOW_DB", DEFAULT_DB)} if top else unset),
        help="store URL: sqlite:///path.db, postgresql://user@host:port/db, memory:// "
        "(default: CIVICFLOW_DB, else sqlite:///civicflow.db)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts", **unset)
    parser.add_argument(
        "--lang",
        choices=("en", "zh"),
        **({"default": default_lang()} if top else unset),
        help="labels in English or Chinese (default from the locale)",
    )


def default_lang() -> str:
    """Chinese when the locale says so, English otherwise."""
    name = os.environ.get("LC_ALL") or os.environ.get("LANG") or (locale.getlocale()[0] or "")
    return "zh" if name.lower().startswith("zh") else "en"


def with_flow(handler: Handler) -> Callable[[argparse.Namespace, TextIO], int]:
    """Open the store, run ``handler``, print what it returns, close the store."""

    def run(args: argparse.Namespace, out: TextIO) -> int:
        with CivicFlow.open(args.db) as flow:
            result = handler(flow, args)
        if result is not None:
            show(result, args, out)
        return 0

    return run


# --- printing ---------------------------------------------------------------------------


def show(result: Any, args: argparse.Namespace, out: TextIO) -> None:
    """Print ``result`` as JSON (``--json``) or as a readable table or block."""
    if getattr(args, "json", False):
        out.write(json.dumps(plain(result), ensure_ascii=False, indent=2, default=str) + "\n")
    elif isinstance(result, str):
        out.write(result if result.endswith("\n") else result + "\n")
    elif isinstance(result, list):
        out.write(table([plain(r) for r in result], args.lang))
    else:
        out.write(block(plain(result), args.lang))


def plain(value: Any) -> Any:
    """JSON-ready data from models, lists and dicts."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


LABELS_ZH = {
    "area_id": "区域",
    "quarter": "季度",
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "n": "评价数",
    "rate": "满意率",
    "full_rate": "完全满意率",
    "suppressed": "隐去",
    "participants": "参与人数",
    "households": "登记户数",
    "asked_or_backed": "提出/附议",
    "discussed": "议事",
    "rated": "评价",
    "council_coverage": "议事会覆盖率",
    "stage": "阶段",
    "title": "事项",
    "id": "编号",
    "version": "版本",
    "actor": "操作人",
    "occurred_at": "发生时间",
    "recorded_at": "记录时间",
    "kind": "类型",
    "name": "名称",
    "parent_id": "上级",
    "detail": "说明",
    "count": "数量",
    "stages": "各阶段",
    "overdue": "逾期",
    "level": "层级",
    "round": "轮次",
    "ask_to_decide_days": "问→定（天，中位）",
    "decide_to_done_days": "定→办结（天，中位）",
    "done_to_publish_days": "办结→晒（天，中位）",
    "p90_decide_to_done": "定→办结（天，90%）",
    # levels and stages, shown as values
    "district": "区",
    "street": "街道",
    "community": "社区",
    "compound": "楼院",
    "asked": "已提出",
    "discussing": "议事中",
    "doing": "办理中",
    "done": "已办结",
    "rating": "评价中",
    "rejected": "未通过",
    "closed": "已结项",
    "withdrawn": "已撤回",
}


STAGE_AND_LEVEL_NAMES = frozenset(
    {
        *("district", "street", "community", "compound"),
        *("asked", "discussing", "doing", "done", "rating", "rejected", "closed", "withdrawn"),
    }
)


def label(key: str, lang: str) -> str:
    return LABELS_ZH.get(key, key) if lang == "zh" else key


def table(rows: list[Any], lang: str) -> str:
    """Rows of dicts as an aligned text table (nested values shown compactly)."""
    if not rows:
        return "(none)\n" if lang == "en" else "（无）\n"
    keys = [k for k in rows[0] if any(r.get(k) not in (None, "", [], {}) for r in rows)]
    cells = [[_cell(r.get(k), lang) for k in keys] for r in rows]
    head = [label(k, lang) for k in keys]
    widths = [max(_width(x) for x in col) for col in zip(head, *cells, strict=True)]
    lines = [
        "  ".join(_pad(h, w) for h, w in zip(head, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"


def block(data: Any, lang: str) -> str:
    """A mapping as ``key: value`` lines."""
    if not isinstance(data, dict):
        return f"{data}\n"
    width = max((_width(label(k, lang)) for k in data), default=0)
    return "".join(
        f"{_pad(label(k, lang), width)}  {_cell(v, lang)}\n"
        for k, v in data.items()
        if v not in (None, "", [], {})
    )


def _cell(value: Any, lang: str = "en") -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{label(k, lang)}={_cell(v, lang)}" for k, v in value.items())
    if isinstance(value, list):
        if len(value) > 6:
            return f"[{len(value)} items]" if lang == "en" else f"[{len(value)} 项]"
        return ", ".join(_cell(v, lang) for v in value)
    if isinstance(value, str) and value in STAGE_AND_LEVEL_NAMES:
        return label(value, lang)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


# --- parsing values -------------------------------------------------------------------------


def moment(text: str) -> datetime:
    """An ISO 8601 moment with a time zone, for ``--at`` and ``--as-of``."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. {text}+08:00")
    return value


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-09-30") from None


def output_path(text: str) -> Path:
    path = Path(text)
    if path.parent and not path.parent.exists():
        raise argparse.ArgumentTypeError(f"folder {path.parent} does not exist")
    return path


def require(condition: bool, what: str, message: str) -> None:
    """Refuse bad combinations of options with the usual typed error."""
    if not condition:
        raise InvalidInputError(what, [(what, message)])


def _version() -> str:
    from civicflow import __version__

    return f"civicflow {__version__}"


__all__ = ["ConfigurationError", "main"]
