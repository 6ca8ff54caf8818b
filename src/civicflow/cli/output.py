"""What every command shares on the way out: running on the store, printing, labels.

Imports no other ``civicflow.cli`` module but ``protection``, so that every command module
can use it.
Stage and area-kind values read in Chinese with ``--lang zh``; their labels, like every
enum value's, come from ``civicflow.domain.vocabulary``.
The store, the audit code and pydantic are imported when a command runs, never
when the parser is built: ``--help`` and ``--version`` stay quick (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from civicflow.domain import vocabulary

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.audit.notes import TreeHead
    from civicflow.cli.protection import Protection

Handler = Callable[["CivicFlow", argparse.Namespace], Any]


def with_flow(
    handler: Handler, *, create: bool = True
) -> Callable[[argparse.Namespace, TextIO], int]:
    """Open the store, run ``handler``, print what it returns, close the store.

    A command that only reads passes ``create=False``: a store that is not there is
    refused (``StoreNotFoundError``, exit 2), never made. The store is opened with
    its keys (``protection``); a head the command published is printed after its
    result, with the feed it went to.
    """

    def run(args: argparse.Namespace, out: TextIO) -> int:
        from civicflow.cli.protection import open_flow  # the store, only when a command runs

        flow, protection = open_flow(args, create=create)
        with flow:
            before = flow.last_head
            result = handler(flow, args)
            head = flow.last_head
        if result is not None:
            show(result, args, out)
        if protection is not None:
            published = head if head is not None and head is not before else None
            say_protection(protection, args, out, published)
        return 0

    return run


def say_protection(
    protection: Protection, args: argparse.Namespace, out: TextIO, head: TreeHead | None = None
) -> None:
    """Where new keys are (on stderr with ``--json``), and the head a command published."""
    from civicflow.audit.publishing import head_line

    text = not getattr(args, "json", False)
    if protection.created:
        (out if text else sys.stderr).write(protection.where(args.lang))
    if head is not None and text:
        fed = "已记入" if args.lang == "zh" else "appended to"
        out.write(f"{head_line(head, args.lang)}; {fed} {protection.feed}\n")


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
    from pydantic import BaseModel  # built models exist only once a command has run

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# Values shown in Chinese wherever they appear: stages and area kinds (levels).
VALUES_ZH: dict[str, str] = {
    **{kind.value: zh for kind, zh in vocabulary.AREA_KIND.items()},
    **{stage.value: zh for stage, zh in vocabulary.STAGE.items()},
}

LABELS_ZH: dict[str, str] = {
    "area_id": "区域",
    "quarter": "季度",
    **{level.value: zh for level, zh in vocabulary.LEVEL.items()},
    "n": "评价数",
    "rate": "满意率",
    "full_rate": "完全满意率",
    "suppressed": "隐去",
    "participants": "参与人数",
    "households": "登记户数",
    "residents": "登记居民数",
    "household_rate": "户均参与率",
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
    **VALUES_ZH,
}


def label(key: str, lang: str) -> str:
    """A field name or a stage or level, in the language asked for."""
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
    if isinstance(value, str) and value in VALUES_ZH:
        return label(value, lang)
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def reading(handler: Handler) -> Callable[[argparse.Namespace, TextIO], int]:
    """``with_flow`` for a command that only reads: it never makes a store."""
    return with_flow(handler, create=False)


__all__ = [
    "LABELS_ZH",
    "VALUES_ZH",
    "block",
    "label",
    "plain",
    "reading",
    "say_protection",
    "show",
    "table",
    "with_flow",
]
