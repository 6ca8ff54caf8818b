"""The ``civicflow`` commands for one proposal: the six steps, ``back``, ``withdraw``, ``show``."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from civicflow.cli.i18n import _
from civicflow.cli.options import Sub, choices, command, day, moment, require, when
from civicflow.cli.output import reading, with_flow
from civicflow.domain.kinds import Channel, Level, Outcome, PublicationChannel

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow


def register(commands: Sub) -> None:
    """Add the commands of the six steps, and ``show``."""
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
    p.add_argument("--channel", default=Channel.VISIT.value, choices=choices(Channel))
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
    p.add_argument("--outcome", required=True, choices=choices(Outcome))
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
        choices=choices(PublicationChannel),
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
    p.add_argument("--level", required=True, choices=choices(Level))
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
    p.set_defaults(run=reading(_show))


def _decide(flow: CivicFlow, a: argparse.Namespace) -> Any:
    budget = None
    if a.budget is not None:
        require(bool(a.funding), "funding", _("an approval's budget needs at least one --funding"))
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


def _show(flow: CivicFlow, a: argparse.Namespace) -> Any:
    state = flow.proposal(a.proposal, version=a.version)
    return _summary(state) if a.json else state


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
        "ratings_this_round": len(state.rating_rows),
        "rounds": [
            f"{r.satisfaction_rate:.0%} {'passed' if r.passed else 'rectify'}" for r in state.rounds
        ],
    }


__all__ = ["register"]
