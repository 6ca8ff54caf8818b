"""``views``, ``rebuild`` and ``report`` with ``--city`` and no ``--district``: the city's views.

The city views (``federation/cityviews.py``) count every district of the registry
into the registry's views store; these commands catch them up, then read them. A
district that cannot be read is passed over and said on stderr, with how far its
figures stand behind; the figures printed are the others' and its last counted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from civicflow.cli.i18n import N_, _, number
from civicflow.cli.output import show
from civicflow.cli.viewtext import pipeline_row, review_text
from civicflow.errors import InvalidInputError

if TYPE_CHECKING:
    from uuid import UUID

    from civicflow.domain.proposal_state import ProposalState
    from civicflow.federation.city import City
    from civicflow.federation.cityviews import CityViews

CITY = "city"  # the level of the city's own totals
Run = Callable[[argparse.Namespace, TextIO], int]


def city_or_district(district: Run, city: Callable[[argparse.Namespace], Any]) -> Run:
    """``district`` for one store (``--db``, or ``--city`` with ``--district``), else ``city``."""

    def run(args: argparse.Namespace, out: TextIO) -> int:
        if getattr(args, "city", None) and not getattr(args, "district", None):
            result = city(args)
            if result is not None:
                show(result, args, out)
            return 0
        if getattr(args, "level", None) == CITY:
            raise InvalidInputError("level", [("level", _("--level city needs --city"))])
        return district(args, out)

    return run


@contextmanager
def counted(args: argparse.Namespace, *, k: int = 5) -> Iterator[CityViews]:
    """The city views of ``args.city``, caught up (districts passed over said on stderr)."""
    from civicflow.federation.city import City
    from civicflow.federation.cityviews import CityViews

    with City.open(args.city, create=False) as city, CityViews(city, k=k) as views:
        views.catch_up()
        _say_behind(views)
        yield views


def views(args: argparse.Namespace) -> Any:
    """``civicflow views VIEW --city city.toml``."""
    if args.as_of is not None and args.view != "pipeline":
        problem = _("--as-of reads one store's views as they stood; with --city add --district")
        raise InvalidInputError("as_of", [("as_of", problem)])
    if args.level == CITY and args.view not in ("satisfaction", "participation"):
        problem = _("--level city gives the city's satisfaction and participation")
        raise InvalidInputError("level", [("level", problem)])
    with counted(args, k=args.k) as found:
        if args.level == CITY:
            return _totals(found, args)
        if args.view == "satisfaction":
            return found.satisfaction(level=args.level, quarter=args.quarter)
        if args.view == "participation":
            return found.participation(level=args.level, quarter=args.quarter)
        if args.view == "pipeline":
            day = args.as_of.date() if args.as_of else None
            return [pipeline_row(p) for p in found.pipeline(level=args.level, as_of=day)]
        if args.quarter is None:
            problem = N_("the review is of one quarter")
            raise InvalidInputError("quarter", [("quarter", problem)])
        review = found.review(args.quarter, level=args.level)
        return review if args.json else review_text(review, args.lang)


def _totals(found: CityViews, args: argparse.Namespace) -> Any:
    if args.view == "satisfaction":
        return found.city_satisfaction(args.quarter)
    return found.city_participation(args.quarter)


def rebuild(args: argparse.Namespace) -> str:
    """``civicflow rebuild --city city.toml``: every district counted again."""
    from civicflow.cli.terminal import bar
    from civicflow.federation.city import City
    from civicflow.federation.cityviews import CityViews

    shown = bar(_("counting"), wanted=not getattr(args, "json", False))
    with City.open(args.city, create=False) as city, CityViews(city) as found:
        with shown as progress:
            counted = found.rebuild(progress=progress)
        _say_behind(found)
    each = ", ".join(f"{name} {number(n)}" for name, n in counted.items())
    said = _("{n} events counted ({each})")
    return said.format(n=number(sum(counted.values())), each=each)


def report(args: argparse.Namespace) -> str:
    """``civicflow report --city city.toml``: the review page of the whole city."""
    from civicflow.extras.report import write_report

    with counted(args, k=args.k) as found:
        source = _CityProposals(found.city_of)
        write_report(found, args.quarter, args.out, lang=args.lang, source=source)
    return _("report written to {file}").format(file=args.out)


class _CityProposals:
    """A proposal of the city read from the store of the district that holds it."""

    def __init__(self, city: City) -> None:
        self.city = city

    def proposal(self, proposal_id: UUID | str) -> ProposalState:
        return self.city.for_proposal(proposal_id).proposal(proposal_id)


def _say_behind(found: CityViews) -> None:
    for lag in found.behind():
        if lag.error is not None:
            said = _(
                "district {district} could not be read ({error}); "
                "its figures stand at notification {position}"
            )
            text = said.format(district=lag.district, error=lag.error, position=lag.position)
            sys.stderr.write(f"civicflow: {text}\n")
        elif lag.behind:
            said = _("district {district} is {n} behind")
            text = said.format(district=lag.district, n=number(lag.behind))
            sys.stderr.write(f"civicflow: {text}\n")
