"""The demo district's shape and structure: streets, communities, compounds, councils, residents.

In the article's proportions (304 compounds, 251 old, 99 without property
management, councils in about 98% of them), scaled to any size: a district per 304
compounds, a larger demo being a city of such districts in one store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from uuid import UUID

from civicflow.application.flow import CivicFlow
from civicflow.domain.community.residents import resident_uuid

DISTRICT = 304  # compounds: the article's district, and each district of a larger demo


@dataclass
class Size:
    """How big a demo to build: ``districts`` districts sharing ``compounds`` in order."""

    compounds: int = 304
    old: int = 251
    without_management: int = 99
    council_share: float = 0.974  # 296 councils of 304 compounds, as the article reports
    streets: int = 6  # a district's
    communities_per_street: int = 5
    quarters: int = 4
    districts: int = 1

    @classmethod
    def scaled(cls, compounds: int) -> Size:
        """A demo of ``compounds`` in the article's proportions: a district per 304
        compounds (``3040``: a city of ten), about ten compounds a community, five
        communities a street (at most the article's 6 streets of 5 in each district).
        """
        districts = max(1, -(-compounds // DISTRICT))
        communities = max(1, min(30, compounds // districts // 10))
        streets = min(6, -(-communities // 5))
        return cls(
            compounds=compounds,
            old=round(compounds * 251 / 304),
            without_management=round(compounds * 99 / 304),
            streets=streets,
            communities_per_street=-(-communities // streets),
            districts=districts,
        )


def shares(compounds: int, districts: int) -> list[int]:
    """Where each district's compounds begin, and where the last one's end: as even as
    can be, in order (``3040`` over ``10``: 0, 304, 608, ..., 3040).
    """
    return [d * compounds // districts for d in range(districts + 1)]


@dataclass(frozen=True)
class Seat:
    """A district's own places: its area, and the prefix of its streets' and communities'
    ids (and its cadres'), which a city needs unique across its district stores.
    """

    area: str = "shanyang"
    name: str = "Shanyang District 山阳区"
    prefix: str = ""


def seat_of(number: int) -> Seat:
    """The places of district ``number`` of a demo in one store (the first is the
    article's; the others' ids are made unique by a prefix, as a city's are)."""
    if number == 0:
        return Seat()
    n = number + 1
    return Seat(area=f"district-{n}", name=f"District {n} 第{n}区", prefix=f"district-{n}-")


@dataclass
class Compound:
    id: str
    community: str
    residents: list[str]
    members: list[str]
    quality: float  # how likely residents are satisfied with work done here

    @cached_property
    def resident_aggregates(self) -> list[UUID]:
        """Its residents' aggregate ids, derived once: a city's stretches seed 240,000
        residents, most of them several times."""
        return [resident_uuid(r) for r in self.residents]


def district(flow: CivicFlow, rng: random.Random, size: Size, start: datetime) -> list[Compound]:
    """Register the district's places, councils, sponsors and residents a month before ``start``."""
    registration = Registration.begin(flow, rng, size, start)
    bounds, compounds = shares(size.compounds, size.districts), []
    for d in range(size.districts):
        if d:
            registration = registration.seated(flow, seat_of(d))
        compounds += [registration.compound(flow, n) for n in range(bounds[d], bounds[d + 1])]
    return compounds


@dataclass
class Registration:
    """A district being registered: its places and draws first, then compound by compound.

    The compounds may go into different stores (``demo.build_into`` registers a
    city a district's worth at a time, ``demo_city`` one district store each); the
    draws are the same either way.
    """

    rng: random.Random
    at: datetime
    communities: list[str]
    old: set[int]
    unmanaged: set[int]
    with_council: set[int]
    size: Size  # for another district's streets and communities (``seated``)

    @classmethod
    def begin(
        cls,
        flow: CivicFlow,
        rng: random.Random,
        size: Size,
        start: datetime,
        seat: Seat | None = None,
    ) -> Registration:
        """Register the district, its policy, streets and communities; draw the compounds."""
        at = start - timedelta(days=30)
        communities = _places(flow, size, at, seat or Seat())
        old = set(rng.sample(range(size.compounds), size.old))
        unmanaged = set(rng.sample(sorted(old), size.without_management))
        with_council = set(
            rng.sample(range(size.compounds), round(size.compounds * size.council_share))
        )
        return cls(rng, at, communities, old, unmanaged, with_council, size)

    def seated(self, flow: CivicFlow, seat: Seat) -> Registration:
        """The same draws, its next compounds under the places of another district
        (registered now in ``flow``, that district's store).
        """
        return replace(self, communities=_places(flow, self.size, self.at, seat))

    def compound(self, flow: CivicFlow, n: int) -> Compound:
        """Register compound ``n`` (in order: the draws follow one another)."""
        return _compound(
            flow,
            self.rng,
            n,
            self.communities[n % len(self.communities)],
            self.at,
            old=n in self.old,
            managed=n not in self.unmanaged,
            council=n in self.with_council,
        )


def _places(flow: CivicFlow, size: Size, at: datetime, seat: Seat) -> list[str]:
    """Register the district, its policy, streets and communities; returns the communities."""
    flow.add_area(seat.area, kind="district", name=seat.name, actor="office", occurred_at=at)
    flow.set_policy(
        seat.area,
        rectification_threshold="0.8",
        rating_window_days=30,
        actor="office",
        occurred_at=at,
    )
    return _streets_and_communities(flow, size, at, seat)


def _streets_and_communities(flow: CivicFlow, size: Size, at: datetime, seat: Seat) -> list[str]:
    communities = []
    for s in range(1, size.streets + 1):
        street = f"{seat.prefix}street-{s}"
        flow.add_area(
            street,
            kind="street",
            name=f"Street {s} 街道",
            parent_id=seat.area,
            actor="office",
            occurred_at=at,
        )
        for c in range(1, size.communities_per_street + 1):
            community = f"{seat.prefix}community-{s}-{c}"
            flow.add_area(
                community,
                kind="community",
                name=f"Community {s}-{c} 社区",
                parent_id=street,
                actor="office",
                occurred_at=at,
            )
            flow.assign_sponsor(
                community,
                sponsor=f"{seat.prefix}cadre-{s}-{c}",
                kind="cadre",
                actor="office",
                occurred_at=at,
            )
            communities.append(community)
    return communities


def _compound(
    flow: CivicFlow,
    rng: random.Random,
    n: int,
    community: str,
    at: datetime,
    *,
    old: bool,
    managed: bool,
    council: bool,
) -> Compound:
    compound = f"compound-{n + 1:03d}"
    households = rng.randint(40, 260)
    flow.add_area(
        compound,
        kind="compound",
        name=f"Compound {n + 1} 楼院",
        parent_id=community,
        is_old=old,
        has_property_management=managed,
        households=households,
        actor="office",
        occurred_at=at,
    )
    members: list[str] = []
    if council:
        flow.form_council(compound, actor="office", occurred_at=at)
        for m in range(rng.randint(5, 9)):
            member = f"{compound}-member-{m + 1}"
            via = ("self_nomination", "recommendation", "election")[m % 3]
            role = "chair" if m == 0 else "secretary" if m == 1 else None
            flow.join_council(
                compound, member=member, via=via, role=role, actor="office", occurred_at=at
            )
            members.append(member)
    residents = [f"{compound}-r{r + 1:03d}" for r in range(max(8, households // 6))]
    flow.register_residents(residents, compound_id=compound, actor="office", occurred_at=at)
    return Compound(compound, community, residents, members, quality=rng.uniform(0.6, 0.98))


# --- one proposal through the six steps --------------------------------------------------
