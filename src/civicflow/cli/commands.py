"""The ``civicflow`` subcommands: the six steps, the structure, views, audit, demo, report."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from civicflow.application.flow import CivicFlow
from civicflow.cli.main import common, day, moment, output_path, require, with_flow

Sub = Any  # argparse's private _SubParsersAction


def register(commands: Sub) -> None:
    """Add every subcommand to the parser."""
    _steps(commands)
    _structure(commands)
    from civicflow.cli import reports as cli_reports

    cli_reports.register(commands)


def command(
    commands: Sub, name: str, help_text: str, *, leaf: bool = True
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=help_text
    )
    if leaf:  # a group's options go on its actions, where argparse keeps them
        common(parser)
    return parser


def when(parser: argparse.ArgumentParser, actor: bool = True) -> None:
    parser.add_argument(
        "--at", type=moment, help="when it happened (ISO 8601 with zone); default now"
    )
    if actor:
        parser.add_argument("--actor", required=True, help="who did it (an opaque id)")


# --- the six steps ----------------------------------------------------------------------


def _steps(commands: Sub) -> None:
    _ask_and_discuss(commands)
    _do_and_publish(commands)
    _rate_and_close(commands)


def _ask_and_discuss(commands: Sub) -> None:
    p = command(commands, "ask", "问 Ask: collect a resident's need as a new proposal")
    p.add_argument("--title", required=True)
    p.add_argument("--details", required=True)
    p.add_argument("--category", required=True)
    p.add_argument("--area", required=True, help="the compound (or wider area) it concerns")
    p.add_argument("--resident", required=True, help="who asked")
    p.add_argument(
        "--channel", default="visit", choices=("visit", "meeting", "hotline", "online", "other")
    )
    p.add_argument("--actor", help="who recorded it (default: the resident)")
    p.add_argument("--at", type=moment)
    p.set_defaults(
        run=with_flow(
            lambda f, a: f.ask(
                title=a.title,
                details=a.details,
                category=a.category,
                area_id=a.area,
                resident=a.resident,
                channel=a.channel,
                actor=a.actor,
                occurred_at=a.at,
            )
        )
    )

    p = command(commands, "back", "another resident backs a need")
    p.add_argument("proposal")
    p.add_argument("--resident", required=True)
    p.add_argument("--at", type=moment)
    p.set_defaults(
        run=with_flow(lambda f, a: f.back(a.proposal, resident=a.resident, occurred_at=a.at))
    )

    p = command(commands, "discuss", "议 Discuss: record one council session")
    p.add_argument("proposal")
    p.add_argument("--attendee", action="append", required=True, help="repeat for each")
    p.add_argument("--summary", required=True)
    p.add_argument("--opinion", action="append", default=[], help="repeat for each")
    when(p)
    p.set_defaults(
        run=with_flow(
            lambda f, a: f.discuss(
                a.proposal,
                attendees=a.attendee,
                summary=a.summary,
                opinions=a.opinion,
                actor=a.actor,
                occurred_at=a.at,
            )
        )
    )

    p = command(commands, "decide", "定 Decide: approve (plan, budget...), reject or defer")
    p.add_argument("proposal")
    p.add_argument("--outcome", required=True, choices=("approved", "rejected", "deferred"))
    p.add_argument("--for", dest="in_favour", type=int, required=True)
    p.add_argument("--against", type=int, default=0)
    p.add_argument("--abstain", type=int, default=0)
    p.add_argument("--plan")
    p.add_argument("--budget", type=Decimal)
    p.add_argument("--currency", default="CNY")
    p.add_argument("--funding", action="append", default=[], help="a funding source; repeat")
    p.add_argument("--responsible")
    p.add_argument("--deadline", type=day)
    p.add_argument("--reasons")
    when(p)
    p.set_defaults(run=with_flow(_decide))


def _do_and_publish(commands: Sub) -> None:
    p = command(commands, "progress", "办 Do: report progress and money spent so far")
    p.add_argument("proposal")
    p.add_argument("--percent", type=int, required=True)
    p.add_argument("--note", required=True)
    p.add_argument("--spent", type=Decimal, required=True)
    when(p)
    p.set_defaults(
        run=with_flow(
            lambda f, a: f.report_progress(
                a.proposal,
                percent=a.percent,
                note=a.note,
                spent=a.spent,
                actor=a.actor,
                occurred_at=a.at,
            )
        )
    )

    p = command(commands, "complete", "办 Do: the work of this round is done")
    p.add_argument("proposal")
    p.add_argument("--summary", required=True)
    p.add_argument("--total-spent", type=Decimal, required=True)
    p.add_argument("--evidence", action="append", required=True, help="a reference; repeat")
    when(p)
    p.set_defaults(
        run=with_flow(
            lambda f, a: f.complete(
                a.proposal,
                summary=a.summary,
                total_spent=a.total_spent,
                evidence=a.evidence,
                actor=a.actor,
                occurred_at=a.at,
            )
        )
    )

    p = command(commands, "publish", "晒 Publish: show the result (or the rejection) in public")
    p.add_argument("proposal")
    p.add_argument(
        "--channel",
        action="append",
        required=True,
        choices=("notice_board", "group_chat", "app", "meeting", "other"),
    )
    p.add_argument("--summary", required=True)
    when(p)
    p.set_defaults(
        run=with_flow(
            lambda f, a: f.publish(
                a.proposal, channels=a.channel, summary=a.summary, actor=a.actor, occurred_at=a.at
            )
        )
    )


def _rate_and_close(commands: Sub) -> None:
    p = command(commands, "rate", "评 Rate: a resident's satisfaction with this round")
    p.add_argument("proposal")
    p.add_argument("--resident", required=True)
    p.add_argument(
        "--level", required=True, choices=("satisfied", "basically_satisfied", "dissatisfied")
    )
    p.add_argument("--comment")
    p.add_argument("--at", type=moment)
    p.set_defaults(
        run=with_flow(
            lambda f, a: f.rate(
                a.proposal, resident=a.resident, level=a.level, comment=a.comment, occurred_at=a.at
            )
        )
    )

    p = command(commands, "close-rating", "end the rating round (closed, or rectification)")
    p.add_argument("proposal")
    when(p)
    p.set_defaults(
        run=with_flow(lambda f, a: f.close_rating(a.proposal, actor=a.actor, occurred_at=a.at))
    )

    p = command(commands, "withdraw", "abandon a proposal before it is done")
    p.add_argument("proposal")
    p.add_argument("--reason", required=True)
    when(p)
    p.set_defaults(
        run=with_flow(
            lambda f, a: f.withdraw(a.proposal, reason=a.reason, actor=a.actor, occurred_at=a.at)
        )
    )

    p = command(commands, "show", "a proposal's current state (or at --version)")
    p.add_argument("proposal")
    p.add_argument("--version", type=int)
    p.set_defaults(run=with_flow(lambda f, a: _summary(f.proposal(a.proposal, version=a.version))))


def _decide(flow: CivicFlow, a: argparse.Namespace) -> Any:
    budget = None
    if a.budget is not None:
        require(bool(a.funding), "funding", "an approval's budget needs at least one --funding")
        budget = {"amount": a.budget, "currency": a.currency, "funding_sources": a.funding}
    return flow.decide(
        a.proposal,
        outcome=a.outcome,
        vote={"in_favour": a.in_favour, "against": a.against, "abstain": a.abstain},
        plan=a.plan,
        budget=budget,
        responsible=a.responsible,
        deadline=a.deadline,
        reasons=a.reasons,
        actor=a.actor,
        occurred_at=a.at,
    )


def _summary(state: Any) -> dict[str, Any]:
    """The fields of a proposal worth a glance; ``--json`` on ``history`` gives everything."""
    return {
        "id": str(state.id),
        "title": state.title,
        "stage": state.stage.value,
        "area_id": state.area_id,
        "version": state.version,
        "round": state.round,
        "backers": len(state.backers),
        "sessions": len(state.discussions),
        "percent": state.percent,
        "spent": str(state.spent),
        "ratings_this_round": len(state.ratings),
        "rounds": [
            f"{r.satisfaction_rate:.0%} {'passed' if r.passed else 'rectify'}" for r in state.rounds
        ],
    }


# --- structure --------------------------------------------------------------------------------


def _structure(commands: Sub) -> None:
    _areas(commands)
    _councils(commands)
    _residents(commands)
    _policies(commands)


def _areas(commands: Sub) -> None:
    p = command(commands, "area", "districts, streets, communities and compounds", leaf=False)
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("add", help="add an area")
    a.add_argument("area")
    a.add_argument("--kind", required=True, choices=("district", "street", "community", "compound"))
    a.add_argument("--name", required=True)
    a.add_argument("--parent")
    a.add_argument("--old", action=argparse.BooleanOptionalAction, default=None)
    a.add_argument(
        "--managed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="has property management",
    )
    a.add_argument("--households", type=int)
    a.add_argument("--time-zone")
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.add_area(
                x.area,
                kind=x.kind,
                name=x.name,
                parent_id=x.parent,
                is_old=x.old,
                has_property_management=x.managed,
                households=x.households,
                time_zone=x.time_zone,
                actor=x.actor,
                occurred_at=x.at,
            )
        )
    )
    a = actions.add_parser("rename", help="rename an area from a moment on")
    a.add_argument("area")
    a.add_argument("--name", required=True)
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.rename_area(x.area, name=x.name, actor=x.actor, occurred_at=x.at)
        )
    )
    a = actions.add_parser("move", help="reassign a compound to another community")
    a.add_argument("area")
    a.add_argument("--community", required=True)
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.reassign_compound(
                x.area, community_id=x.community, actor=x.actor, occurred_at=x.at
            )
        )
    )
    a = actions.add_parser("households", help="record a compound's registered households")
    a.add_argument("area")
    a.add_argument("--count", type=int, required=True)
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.count_households(
                x.area, households=x.count, actor=x.actor, occurred_at=x.at
            )
        )
    )
    a = actions.add_parser("list", help="areas as they stand (or stood --as-of)")
    a.add_argument("--kind", choices=("district", "street", "community", "compound"))
    a.add_argument("--within")
    a.add_argument("--as-of", type=moment)
    a.set_defaults(run=with_flow(lambda f, x: f.areas(kind=x.kind, within=x.within, as_of=x.as_of)))
    for sub in actions.choices.values():
        common(sub)


def _councils(commands: Sub) -> None:
    p = command(commands, "council", "党群议事会: form, dissolve, join, leave, show", leaf=False)
    actions = p.add_subparsers(dest="action", required=True)
    for name, method in (("form", "form_council"), ("dissolve", "dissolve_council")):
        a = actions.add_parser(name, help=f"{name} a compound's council")
        a.add_argument("compound")
        when(a)
        a.set_defaults(run=with_flow(_council_action(method)))
    a = actions.add_parser("join", help="seat a member")
    a.add_argument("compound")
    a.add_argument("--member", required=True)
    a.add_argument(
        "--via", required=True, choices=("self_nomination", "recommendation", "election")
    )
    a.add_argument("--role", choices=("chair", "secretary"))
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.join_council(
                x.compound, member=x.member, via=x.via, role=x.role, actor=x.actor, occurred_at=x.at
            )
        )
    )
    a = actions.add_parser("leave", help="end a member's seat")
    a.add_argument("compound")
    a.add_argument("--member", required=True)
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.leave_council(
                x.compound, member=x.member, actor=x.actor, occurred_at=x.at
            )
        )
    )
    a = actions.add_parser("show", help="the council as it stands (or stood --as-of)")
    a.add_argument("compound")
    a.add_argument("--as-of", type=moment)
    a.set_defaults(run=with_flow(lambda f, x: f.council(x.compound, as_of=x.as_of) or "no council"))
    for sub in actions.choices.values():
        common(sub)


def _council_action(method: str) -> Any:
    def run(flow: CivicFlow, x: argparse.Namespace) -> Any:
        return getattr(flow, method)(x.compound, actor=x.actor, occurred_at=x.at)

    return run


def _residents(commands: Sub) -> None:
    p = command(
        commands, "resident", "residents (opaque ids): register, move, move-out, show", leaf=False
    )
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("register", help="register residents to a compound")
    a.add_argument("residents", nargs="+")
    a.add_argument("--compound", required=True)
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.register_residents(
                x.residents, compound_id=x.compound, actor=x.actor, occurred_at=x.at
            )
        )
    )
    a = actions.add_parser("move", help="register a resident to another compound")
    a.add_argument("resident")
    a.add_argument("--compound", required=True)
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.move_resident(
                x.resident, compound_id=x.compound, actor=x.actor, occurred_at=x.at
            )
        )
    )
    a = actions.add_parser("move-out", help="end a resident's registration")
    a.add_argument("resident")
    when(a)
    a.set_defaults(
        run=with_flow(lambda f, x: f.move_out(x.resident, actor=x.actor, occurred_at=x.at))
    )
    a = actions.add_parser("show", help="where a resident lived when")
    a.add_argument("resident")
    a.set_defaults(run=with_flow(lambda f, x: f.resident(x.resident)))
    for sub in actions.choices.values():
        common(sub)


def _policies(commands: Sub) -> None:
    p = command(commands, "policy", "rules per district or community: set, show", leaf=False)
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("set", help="set some rules from a moment on")
    a.add_argument("area")
    a.add_argument("--threshold", help="rectification threshold, e.g. 0.8")
    a.add_argument("--window-days", type=int, help="rating window in days")
    a.add_argument("--quorum", help="share of members that must be exceeded, e.g. 0.5")
    a.add_argument("--majority", choices=("simple", "absolute", "two_thirds"))
    a.add_argument("--from", dest="effective_from", type=moment, help="effective from")
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.set_policy(
                x.area,
                rectification_threshold=x.threshold,
                rating_window_days=x.window_days,
                quorum=x.quorum,
                majority=x.majority,
                effective_from=x.effective_from,
                actor=x.actor,
                occurred_at=x.at,
            )
        )
    )
    a = actions.add_parser("show", help="the rules in force for an area")
    a.add_argument("area")
    a.add_argument("--as-of", type=moment)
    a.set_defaults(run=with_flow(lambda f, x: f.policy(x.area, as_of=x.as_of)))
    a = actions.add_parser("sponsor", help="a cadre or department sponsors an area (分包)")
    a.add_argument("area")
    a.add_argument("--sponsor", required=True)
    a.add_argument("--kind", choices=("cadre", "department"), help="needed to assign")
    a.add_argument("--end", action="store_true", help="end the sponsorship instead")
    when(a)
    a.set_defaults(run=with_flow(_sponsor))
    for sub in actions.choices.values():
        common(sub)


def _sponsor(flow: CivicFlow, x: argparse.Namespace) -> Any:
    if x.end:
        return flow.end_sponsorship(x.area, sponsor=x.sponsor, actor=x.actor, occurred_at=x.at)
    require(x.kind is not None, "kind", "a sponsor is a cadre or a department: --kind")
    return flow.assign_sponsor(
        x.area, sponsor=x.sponsor, kind=x.kind, actor=x.actor, occurred_at=x.at
    )


__all__ = ["command", "output_path", "register", "when"]
