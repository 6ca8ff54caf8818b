"""The ``civicflow`` commands for the community: areas, councils, residents, policies."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from civicflow.cli.i18n import _
from civicflow.cli.options import Sub, actions, choices, command, finish, moment, require, when
from civicflow.cli.output import reading, with_flow
from civicflow.domain.kinds import AreaKind, Majority, Role, SponsorKind, Via

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow


def register(commands: Sub) -> None:
    """Add the commands that register and read the community's structure."""
    _areas(commands)
    _councils(commands)
    _residents(commands)
    _policies(commands)


def _areas(commands: Sub) -> None:
    p = command(commands, "area", "districts, streets, communities and compounds", leaf=False)
    group = actions(p)
    a = group.add_parser("add", help="add an area")
    a.add_argument("area")
    a.add_argument("--kind", required=True, choices=choices(AreaKind))
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
    a = group.add_parser("rename", help="rename an area from a moment on")
    a.add_argument("area")
    a.add_argument("--name", required=True)
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.rename_area(x.area, name=x.name, actor=x.actor, occurred_at=x.at)
        )
    )
    a = group.add_parser("move", help="reassign a compound to another community")
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
    a = group.add_parser("households", help="record a compound's registered households")
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
    a = group.add_parser("list", help="areas as they stand (or stood --as-of)")
    a.add_argument("--kind", choices=choices(AreaKind))
    a.add_argument("--within")
    a.add_argument("--as-of", type=moment)
    a.set_defaults(run=reading(lambda f, x: f.areas(kind=x.kind, within=x.within, as_of=x.as_of)))
    finish(group)


def _councils(commands: Sub) -> None:
    p = command(commands, "council", "党群议事会: form, dissolve, join, leave, show", leaf=False)
    group = actions(p)
    for name, method in (("form", "form_council"), ("dissolve", "dissolve_council")):
        a = group.add_parser(name, help=f"{name} a compound's council")
        a.add_argument("compound")
        when(a)
        a.set_defaults(run=with_flow(_council_action(method)))
    a = group.add_parser("join", help="seat a member")
    a.add_argument("compound")
    a.add_argument("--member", required=True)
    a.add_argument("--via", required=True, choices=choices(Via))
    a.add_argument("--role", choices=choices(Role))
    when(a)
    a.set_defaults(
        run=with_flow(
            lambda f, x: f.join_council(
                x.compound, member=x.member, via=x.via, role=x.role, actor=x.actor, occurred_at=x.at
            )
        )
    )
    a = group.add_parser("leave", help="end a member's seat")
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
    a = group.add_parser("show", help="the council as it stands (or stood --as-of)")
    a.add_argument("compound")
    a.add_argument("--as-of", type=moment)
    a.set_defaults(run=reading(lambda f, x: f.council(x.compound, as_of=x.as_of) or "no council"))
    finish(group)


def _council_action(method: str) -> Any:
    def run(flow: CivicFlow, x: argparse.Namespace) -> Any:
        return getattr(flow, method)(x.compound, actor=x.actor, occurred_at=x.at)

    return run


def _residents(commands: Sub) -> None:
    p = command(
        commands, "resident", "residents (opaque ids): register, move, move-out, show", leaf=False
    )
    group = actions(p)
    a = group.add_parser("register", help="register residents to a compound")
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
    a = group.add_parser("move", help="register a resident to another compound")
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
    a = group.add_parser("move-out", help="end a resident's registration")
    a.add_argument("resident")
    when(a)
    a.set_defaults(
        run=with_flow(lambda f, x: f.move_out(x.resident, actor=x.actor, occurred_at=x.at))
    )
    a = group.add_parser("show", help="where a resident lived when")
    a.add_argument("resident")
    a.set_defaults(run=reading(lambda f, x: f.resident(x.resident)))
    finish(group)


def _policies(commands: Sub) -> None:
    p = command(commands, "policy", "rules per district or community: set, show", leaf=False)
    group = actions(p)
    a = group.add_parser("set", help="set some rules from a moment on")
    a.add_argument("area")
    a.add_argument("--threshold", help="rectification threshold, e.g. 0.8")
    a.add_argument("--window-days", type=int, help="rating window in days")
    a.add_argument("--quorum", help="share of members that must be exceeded, e.g. 0.5")
    a.add_argument("--majority", choices=choices(Majority))
    a.add_argument(
        "--recorder",
        dest="recorders",
        action="append",
        help="who besides council members may record sessions and decisions; repeat",
    )
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
                recorders=x.recorders,
                effective_from=x.effective_from,
                actor=x.actor,
                occurred_at=x.at,
            )
        )
    )
    a = group.add_parser("show", help="the rules in force for an area")
    a.add_argument("area")
    a.add_argument("--as-of", type=moment)
    a.set_defaults(run=reading(lambda f, x: f.policy(x.area, as_of=x.as_of)))
    a = group.add_parser("sponsor", help="a cadre or department sponsors an area (分包)")
    a.add_argument("area")
    a.add_argument("--sponsor", required=True)
    a.add_argument("--kind", choices=choices(SponsorKind), help="needed to assign")
    a.add_argument("--end", action="store_true", help="end the sponsorship instead")
    when(a)
    a.set_defaults(run=with_flow(_sponsor))
    finish(group)


def _sponsor(flow: CivicFlow, x: argparse.Namespace) -> Any:
    if x.end:
        return flow.end_sponsorship(x.area, sponsor=x.sponsor, actor=x.actor, occurred_at=x.at)
    require(x.kind is not None, "kind", _("a sponsor is a cadre or a department: --kind"))
    return flow.assign_sponsor(
        x.area, sponsor=x.sponsor, kind=x.kind, actor=x.actor, occurred_at=x.at
    )


__all__ = ["register"]
