"""``civicflow`` commands that read: views, history and replay, verify, export, demo, report."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from civicflow.cli import cityviews
from civicflow.cli.cityviews import CITY, city_or_district
from civicflow.cli.i18n import _, dates_within, ngettext
from civicflow.cli.options import (
    DEFAULT_DB,
    LEVELS,
    Sub,
    choices,
    command,
    moment,
    output_path,
    require,
    when,
)
from civicflow.cli.output import reading, say_protection, show, with_flow
from civicflow.cli.viewtext import pipeline_row, review_text
from civicflow.domain.kinds import AreaKind
from civicflow.errors import RuleViolationError

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.audit.notes import TreeHead
    from civicflow.cli.protection import Protection
    from civicflow.extras.demo import Outcome, Size
    from civicflow.views.figures import Review

VIEWS = ("satisfaction", "participation", "pipeline")  # the views a table or a CSV can show
DEMO_DB = "sqlite:///civicflow-demo.db"


def register(commands: Sub) -> None:
    """Add the reading commands."""
    p = command(commands, "views", "satisfaction, participation, pipeline or the review")
    p.add_argument("view", choices=(*VIEWS, "review"))
    p.add_argument(
        "--level",
        choices=(*choices(LEVELS), CITY),
        default=AreaKind.COMMUNITY.value,
        help="the areas the figures are of (city: the city's totals, with --city)",
    )
    p.add_argument("--quarter", help="like 2026Q3 (the review needs one)")
    p.add_argument(
        "--as-of", type=moment, help="the pipeline's overdue date, or the views as they stood then"
    )
    p.add_argument("--k", type=int, default=5, help="hide figures from fewer residents")
    p.set_defaults(run=city_or_district(reading(_views), cityviews.views))

    p = command(commands, "history", "a proposal's audit trail (as of a moment)")
    p.add_argument("proposal")
    p.add_argument("--as-of", type=moment, help="only what was recorded by then")
    p.add_argument("--markdown", action="store_true", help="as a Markdown document")
    p.set_defaults(run=reading(_history))

    p = command(commands, "replay", "a proposal as the store knew it at a moment")
    p.add_argument("proposal")
    p.add_argument("--as-of", type=moment, required=True)
    p.set_defaults(run=reading(lambda f, a: f.proposal_as_of(a.proposal, a.as_of)))

    p = command(commands, "checkpoint", "seal the log so far; publish the digest it prints")
    when(p)
    p.set_defaults(run=with_flow(_checkpoint))

    p = command(commands, "rebuild", "recount every view from the whole log")
    p.set_defaults(run=city_or_district(reading(_rebuild), cityviews.rebuild))

    p = command(commands, "demo", "build a realistic district and print its quarterly review")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--compounds", type=int, help="default 304 (with --city: 304 a district)")
    p.add_argument(
        "--districts",
        type=int,
        help="with --city and no registry yet: how many districts it names "
        "(default: one per 304 compounds, else 2)",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep an existing civicflow-demo.db (the demo then refuses a non-empty store)",
    )
    p.set_defaults(run=_demo)

    p = command(commands, "report", "the quarterly review as a self-contained HTML page")
    p.add_argument("--quarter", required=True, help="like 2026Q3")
    p.add_argument("--out", type=output_path, required=True)
    p.add_argument("--k", type=int, default=5)
    p.set_defaults(run=city_or_district(reading(_report), cityviews.report))


# --- handlers -------------------------------------------------------------------------------


def _views(flow: CivicFlow, a: argparse.Namespace) -> Any:
    from civicflow.views import Views

    as_of = a.as_of is not None and a.view != "pipeline"
    views = Views.as_of(flow, a.as_of, k=a.k) if as_of else Views(flow, k=a.k)
    with views:
        if not as_of:  # as-of views are counted up to their moment already
            views.catch_up()
        if a.view == "satisfaction":
            return views.satisfaction(level=a.level, quarter=a.quarter)
        if a.view == "participation":
            return views.participation(level=a.level, quarter=a.quarter)
        if a.view == "pipeline":
            day = a.as_of.date() if a.as_of else None
            return [pipeline_row(p) for p in views.pipeline(level=a.level, as_of=day)]
        require(a.quarter is not None, "quarter", _("the review is of one quarter: --quarter"))
        return (
            review_text(views.review(a.quarter, level=a.level), a.lang)
            if not a.json
            else views.review(a.quarter, level=a.level)
        )


def _history(flow: CivicFlow, a: argparse.Namespace) -> Any:
    if a.markdown:
        return flow.audit_document(a.proposal, lang=a.lang)
    from civicflow.cli.proposaltext import code

    entries = flow.audit_trail(a.proposal, as_of=a.as_of)
    if a.json:
        return entries
    return [
        {
            "version": e.version,
            "occurred_at": e.occurred_at,
            "actor": e.actor,
            "stage": f"{code(e.stage_before) if e.stage_before else '—'} → {code(e.stage_after)}",
            "what": dates_within(e.zh) if a.lang == "zh" else e.en,
        }
        for e in entries
    ]


def _checkpoint(flow: CivicFlow, a: argparse.Namespace) -> Any:
    checkpoint = flow.checkpoint(actor=a.actor, occurred_at=a.at)
    if a.json:
        return checkpoint
    sealed = ngettext(
        "checkpoint {number}: {n} record sealed",
        "checkpoint {number}: {n} records sealed",
        checkpoint.sealed,
    ).format(number=checkpoint.number, n=checkpoint.sealed)
    publish = _("publish with the results: {published}").format(
        published=f"{checkpoint.number}={checkpoint.digest}"
    )
    return f"{sealed}\n{publish}"


def _rebuild(flow: CivicFlow, a: argparse.Namespace) -> str:
    from civicflow.cli.terminal import bar
    from civicflow.views import Views

    shown = bar(_("counting"), wanted=not getattr(a, "json", False))
    with Views(flow) as views, shown as progress:
        counted = views.rebuild(progress=progress)
        return ngettext("{n} event counted", "{n} events counted", counted).format(n=counted)


def _report(flow: CivicFlow, a: argparse.Namespace) -> str:
    from civicflow.extras.report import write_report
    from civicflow.views import Views

    with Views(flow, k=a.k) as views:
        views.catch_up()
        write_report(views, a.quarter, a.out, a.lang, source=flow, head=_published(flow, a))
    return _("report written to {file}").format(file=a.out)


def _published(flow: CivicFlow, a: argparse.Namespace) -> TreeHead | None:
    """The log's last published head: this command's, else the last in the store's feed
    (checked with the public key), so the printed page carries what the board shows."""
    from civicflow.audit.keys import load_verifier
    from civicflow.audit.publishing import last_in_feed
    from civicflow.cli.protection import FEED, key_directory

    if flow.last_head is not None:
        return flow.last_head
    folder = key_directory(a.db, getattr(a, "keys", None))
    if folder is None or not (folder / "signing.pub").exists():
        return None
    return last_in_feed(folder / FEED, load_verifier(folder / "signing.pub"))()


def _demo(a: argparse.Namespace, out: TextIO) -> int:
    from civicflow.cli.protection import Protection
    from civicflow.extras import demo

    if a.city:  # a store per district, none deleted first
        from civicflow.cli.citydemo import demo_city

        return demo_city(a, out, _bar(out))
    require(a.districts is None, "districts", _("--districts needs --city"))
    target = a.db if a.db != DEFAULT_DB else DEMO_DB
    if target == DEMO_DB and not a.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"civicflow-demo.db{suffix}").unlink(missing_ok=True)
    compounds = 304 if a.compounds is None else a.compounds
    require(compounds >= 1, "compounds", _("the demo needs at least one compound"))
    size = demo.Size.scaled(compounds)
    started = time.perf_counter()
    stored = argparse.Namespace(**{**vars(a), "db": target})
    built, protection, head, reviews = _built_and_reviewed(stored, size, _bar(out))
    quarter = demo.quarter_labels(size)[-1]
    seconds = time.perf_counter() - started
    if a.json:
        summary = {
            "store": target,
            "events": built.events,
            "proposals": len(built.proposals),
            "seconds": round(seconds, 2),
            "events_per_second": round(built.events / seconds),
            "quarter": quarter,
            "review": reviews,
        }
        if protection is not None:
            summary |= {"public_key": str(protection.public_key), "feed": str(protection.feed)}
            say_protection(protection, a, out)  # new keys said on stderr
        show(summary, a, out)
        return 0
    out.write(review_text(reviews[AreaKind.STREET], a.lang, proposals=False))
    out.write(review_text(reviews[AreaKind.COMMUNITY], a.lang, top=5))
    said = _("{events} events written to {store} in {seconds} s ({rate} events/s); {n} proposals.")
    out.write(
        "\n"
        + said.format(
            events=built.events,
            store=target,
            seconds=f"{seconds:.1f}",
            rate=f"{built.events / seconds:,.0f}",
            n=len(built.proposals),
        )
        + "\n"
    )
    if protection is not None:
        out.write(protection.where(a.lang))
        say_protection(Protection(protection.directory, False), a, out, head)
    command = f"civicflow views review --quarter {quarter} --db {target}"
    out.write(_("Next: {command}").format(command=command) + "\n")
    return 0


def _built_and_reviewed(
    stored: argparse.Namespace, size: Size, progress: Any
) -> tuple[Outcome, Protection | None, TreeHead | None, dict[AreaKind, Review]]:
    """Build the demo into the new store ``stored.db``, sign one head for it, and count
    its views and read its reviews of the last quarter.

    The views count in the store opened afresh, as `civicflow views` would: what the
    build kept (its caches, the log's Merkle tree for the head: 30 MB for a city) goes
    before the views' peak. A store in memory ends with its application: its views
    count there.
    """
    from civicflow.cli.protection import open_flow
    from civicflow.extras import demo
    from civicflow.storage.opening import kept_in_memory

    flow, protection = open_flow(stored)
    with flow:
        if flow.recorder.max_notification_id():
            raise RuleViolationError(
                None, "demo", f"{stored.db} is not empty; give --db a new store for the demo"
            )
        built = demo.build_into(flow, seed=stored.seed, size=size, progress=progress)
        if protection is not None:  # the district went in as one import: one head for it
            flow.publish_head()
        head = flow.last_head
        if kept_in_memory(flow.env):
            return built, protection, head, _reviews(flow, size)
    del flow
    gc.collect()  # the building application refers to itself: gone before the views count
    with open_flow(stored, create=False)[0] as reader:
        return built, protection, head, _reviews(reader, size)


def _reviews(flow: CivicFlow, size: Size) -> dict[AreaKind, Review]:
    """The views of ``flow`` counted, and their reviews of the demo's last quarter."""
    from civicflow.extras import demo
    from civicflow.views import Views

    with Views(flow) as views:
        views.catch_up()
        quarter = demo.quarter_labels(size)[-1]
        return {
            level: views.review(quarter, level=level)
            for level in (AreaKind.STREET, AreaKind.COMMUNITY)
        }


def _bar(out: TextIO) -> Any:
    """The demo's progress: a rich bar (count, rate, ETA) on a terminal, else plain text."""
    from civicflow.cli.terminal import is_terminal, progress_bar

    stream = sys.stderr if out is sys.stdout else out
    if is_terminal(stream):
        return progress_bar(stream, _("proposals"))

    def progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 50) == 0:
            filled = 30 * done // total
            bar = f"[{'#' * filled}{'.' * (30 - filled)}]"
            stream.write(f"\r{bar} {done}/{total} {_('proposals')}")
            if done == total:
                stream.write("\n")
            stream.flush()

    return progress


__all__ = ["register"]
