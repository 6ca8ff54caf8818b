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

from civicflow.cli.i18n import N_, _, catalog, dated, pad, width
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
        fed = _("appended to {feed}").format(feed=protection.feed)
        out.write(f"{head_line(head, args.lang)}; {fed}\n")


def show(result: Any, args: argparse.Namespace, out: TextIO) -> None:
    """Print ``result`` as JSON (``--json``) or as a readable table or block.

    A proposal reads as a person reads it (``proposaltext``): after a step, with what
    changed and what may follow.
    """
    if getattr(args, "json", False):
        out.write(json.dumps(plain(result), ensure_ascii=False, indent=2, default=str) + "\n")
    elif isinstance(result, str):
        out.write(result if result.endswith("\n") else result + "\n")
    elif type(result).__name__ == "ProposalState":
        from civicflow.cli.proposaltext import proposal_text, step_summary

        step = getattr(args, "command", "")
        text = step_summary(step, result) if step in STEPS else proposal_text(result)
        if is_terminal(out):
            from civicflow.cli.terminal import print_lines

            print_lines(out, text, first="bold green" if step in STEPS else "bold")
        else:
            out.write(text)
    elif isinstance(result, list) and result and is_terminal(out):
        from civicflow.cli.terminal import print_table

        print_table(out, *table_parts([plain(r) for r in result], args.lang))
    elif isinstance(result, list):
        out.write(table([plain(r) for r in result], args.lang))
    else:
        out.write(block(plain(result), args.lang))


# The commands that record a step of a proposal (and print a summary of it).
STEPS = frozenset(
    {"ask", "back", "discuss", "decide", "progress", "complete", "publish", "rate"}
    | {"close-rating", "withdraw"}
)


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


def label(key: str, lang: str) -> str:
    """A field's name, or a stage, level or area kind, in the language asked for.

    Field names are the catalog's message ids (English shows them as they are);
    enum values read as their vocabulary label.
    """
    if lang == "en":
        return key
    value = VALUES_ZH.get(key)
    return value if value is not None else catalog(lang).gettext(key)


# Values shown in Chinese wherever they appear: stages, area kinds and levels.
VALUES_ZH: dict[str, str] = {
    **{kind.value: zh for kind, zh in vocabulary.AREA_KIND.items()},
    **{stage.value: zh for stage, zh in vocabulary.STAGE.items()},
    **{level.value: zh for level, zh in vocabulary.LEVEL.items()},
}

# The field names tables and blocks show, marked for the catalog (English shows them as is).
FIELDS = (
    *(N_("area_id"), N_("quarter"), N_("n"), N_("rate"), N_("full_rate"), N_("suppressed")),
    *(N_("participants"), N_("households"), N_("residents"), N_("household_rate")),
    *(N_("asked_or_backed"), N_("discussed"), N_("rated"), N_("council_coverage")),
    *(N_("stage"), N_("title"), N_("id"), N_("version"), N_("actor"), N_("occurred_at")),
    *(N_("recorded_at"), N_("kind"), N_("name"), N_("parent_id"), N_("detail"), N_("count")),
    *(N_("stages"), N_("overdue"), N_("level"), N_("round"), N_("ask_to_decide_days")),
    *(N_("decide_to_done_days"), N_("done_to_publish_days"), N_("p90_decide_to_done")),
    *(N_("what"), N_("as_of"), N_("is_old"), N_("has_property_management")),
    *(N_("has_council"), N_("time_zone"), N_("compound_id"), N_("formed"), N_("dissolved")),
    *(N_("memberships"), N_("member"), N_("via"), N_("role"), N_("joined"), N_("left")),
    *(N_("resident_id"), N_("moved_in"), N_("moved_out"), N_("proposal_id")),
    *(N_("district"), N_("compounds"), N_("proposals"), N_("events"), N_("store")),
)


def is_terminal(out: TextIO) -> bool:
    """Whether ``out`` is a terminal (see ``terminal``, which draws for it)."""
    from civicflow.cli.terminal import is_terminal as drawn

    return drawn(out)


def table_parts(rows: list[Any], lang: str) -> tuple[list[str], list[list[str]]]:
    """A table's header and cells: the columns that hold something, labelled in ``lang``."""
    keys = [k for k in rows[0] if any(r.get(k) not in (None, "", [], {}) for r in rows)]
    return [label(k, lang) for k in keys], [[_cell(r.get(k), lang) for k in keys] for r in rows]


def table(rows: list[Any], lang: str, columns: int | None = None) -> str:
    """Rows of dicts as an aligned text table (nested values shown compactly).

    With ``columns`` (a terminal's width) the widest cells are shortened until the table
    fits; without (piped), every cell is whole, so that scripts read stable text.
    """
    if not rows:
        return label(N_("(none)"), lang) + "\n"
    head, cells = table_parts(rows, lang)
    widths = [max(width(x) for x in col) for col in zip(head, *cells, strict=True)]
    if columns is not None:
        from civicflow.cli.terminal import fit

        widths = fit(widths, [width(h) for h in head], columns - 2 * (len(widths) - 1))
        cells = [[_cut(c, w) for c, w in zip(row, widths, strict=True)] for row in cells]
    lines = [
        "  ".join(pad(h, w) for h, w in zip(head, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines) + "\n"


def block(data: Any, lang: str) -> str:
    """A mapping as ``key  value`` lines; a list of records under its key, as a table."""
    if not isinstance(data, dict):
        return f"{data}\n"
    shown = {k: v for k, v in data.items() if v not in (None, "", [], {})}
    nested = {k for k, v in shown.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    size = max((width(label(k, lang)) for k in shown if k not in nested), default=0)
    lines = [
        f"{pad(label(k, lang), size)}  {_cell(v, lang)}\n"
        for k, v in shown.items()
        if k not in nested
    ]
    for key in nested:
        rows = table(shown[key], lang).splitlines()
        lines.append(f"{label(key, lang)}:\n" + "".join(f"  {row}\n" for row in rows))
    return "".join(lines)


def _cut(text: str, size: int) -> str:
    if width(text) <= size:
        return text
    kept = ""
    for ch in text:
        if width(kept + ch) > size - 1:
            break
        kept += ch
    return kept + "…"


def _cell(value: Any, lang: str = "en", limit: int | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return label(N_("yes") if value else N_("no"), lang)
    if isinstance(value, dict):
        return ", ".join(f"{label(k, lang)}={_cell(v, lang)}" for k, v in value.items())
    if isinstance(value, list):
        if len(value) > 6:
            many = catalog(lang).ngettext("[{n} item]", "[{n} items]", len(value))
            return many.format(n=len(value))
        return ", ".join(_cell(v, lang) for v in value)
    if isinstance(value, str) and value in VALUES_ZH:
        text = label(value, lang)
    else:
        text = dated(value, lang) if isinstance(value, str) and lang != "en" else str(value)
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def reading(handler: Handler) -> Callable[[argparse.Namespace, TextIO], int]:
    """``with_flow`` for a command that only reads: it never makes a store."""
    return with_flow(handler, create=False)


__all__ = [
    "FIELDS",
    "STEPS",
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
