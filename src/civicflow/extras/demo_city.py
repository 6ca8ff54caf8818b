"""The demo city: the demo's compounds and proposals, each district in a store of its own.

The draws are those of ``demo.build_into`` with the same seed and size, taken in the
same order, so a city of ``D`` districts and ``304 * D`` compounds holds in district
``i`` the compounds the one-store demo registers in its ``i``-th part of 304, with
the same councils, residents, proposals, ids and outcomes. Only the places above
the compounds differ: a city's area ids are unique across its stores, so every
district registers its own district area, streets and communities (its ``Seat``).

Every step runs in an in-memory store sealing with the district's key, as in
``demo.build_into``; a stretch of proposals that spans districts has one such store
per district, and each district store gets its own records in one transaction.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from civicflow.application.flow import CivicFlow
from civicflow.errors import InvalidInputError
from civicflow.extras.demo import (
    BATCH,
    PART,
    START,
    Outcome,
    Progress,
    _plan,
    _proposal,
    _residents,
    demo_clock,
)
from civicflow.extras.demo_district import Compound, Registration, Seat, Size, shares
from civicflow.extras.demo_scratch import Handover, let_go, long_lived, scratch, seed_residents

District = tuple[CivicFlow, Seat]  # a district's store, and its places


def build_city(
    districts: Sequence[District],
    *,
    seed: int = 7,
    size: Size | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
    part: int = PART,
) -> list[Outcome]:
    """Build the demo city into ``districts``: what each one's store received.

    ``size.compounds`` are shared out in order (``shares``); each district needs one.
    Memory is bounded as in ``demo.build_into``: the community is registered ``part``
    compounds at a time, the proposals ``batch`` at a time.
    """
    size = size or Size()
    if size.compounds < len(districts):
        problem = f"{len(districts)} districts need at least as many compounds"
        raise InvalidInputError("compounds", [("compounds", problem)])
    build = _CityBuild(list(districts), shares(size.compounds, len(districts)), progress)
    rng = random.Random(seed)  # noqa: S311 - a seeded simulation, not cryptography
    with long_lived():
        compounds = build.community(rng, size, part)
    plan = _plan(rng, size, compounds)
    with long_lived():
        for first in range(0, len(plan), batch):
            build.stretch(rng, plan[first : first + batch], len(plan))
            let_go()
    return build.outcomes


@dataclass
class _CityBuild:
    """The city being built: its districts, where each one's compounds are, what each got."""

    districts: list[District]
    bounds: list[int]
    progress: Progress | None
    handovers: list[Handover] = field(default_factory=list)  # each district's directory
    home: dict[str, int] = field(default_factory=dict)  # compound id -> its district
    outcomes: list[Outcome] = field(default_factory=list)

    def community(self, rng: random.Random, size: Size, part: int) -> list[Compound]:
        """Register every district's places and compounds, in the one-store demo's order."""
        compounds: list[Compound] = []
        registration: Registration | None = None
        for d, (target, seat) in enumerate(self.districts):
            outcome, handover = Outcome(), None
            for first in range(self.bounds[d], self.bounds[d + 1], part):
                with scratch(target, demo_clock) as flow:
                    if handover is not None:  # a later part of the same district
                        handover.seed(flow)
                    seeded = flow.recorder.max_notification_id() or 0
                    if registration is None:
                        registration = Registration.begin(flow, rng, size, START, seat)
                    elif handover is None:  # the district's first part: its own places
                        registration = registration.seated(flow, seat)
                    last = min(first + part, self.bounds[d + 1])
                    compounds += [registration.compound(flow, n) for n in range(first, last)]
                    outcome.events += target.copy_log_from(flow, after=seeded)
                    handover = Handover.of(flow)
                del flow  # let_go collects it
                let_go()
            assert handover is not None  # noqa: S101 - every district has a compound
            self.handovers.append(handover)
            self.outcomes.append(outcome)
        self.home = {c.id: d for d, _ in enumerate(self.districts) for c in self._of(compounds, d)}
        return compounds

    def stretch(self, rng: random.Random, stretch: list[tuple[Compound, int]], total: int) -> None:
        """Build a stretch of the plan, in order, each proposal in its district's store."""
        with ExitStack() as stack:
            flows: dict[int, tuple[CivicFlow, int]] = {}  # district -> its store, seeded up to
            for d in sorted({self.home[c.id] for c, _ in stretch}):
                target = self.districts[d][0]
                flow = stack.enter_context(scratch(target, demo_clock))
                self.handovers[d].seed(flow)
                mine = [(c, q) for c, q in stretch if self.home[c.id] == d]
                seed_residents(flow, target, _residents(mine))
                flows[d] = flow, flow.recorder.max_notification_id() or 0
            for compound, quarter in stretch:
                d = self.home[compound.id]
                self.outcomes[d].proposals.append(_proposal(flows[d][0], rng, compound, quarter))
                self._report(total)
            for d, (flow, seeded) in flows.items():
                self.outcomes[d].events += self.districts[d][0].copy_log_from(flow, after=seeded)

    def _of(self, compounds: list[Compound], d: int) -> list[Compound]:
        return compounds[self.bounds[d] : self.bounds[d + 1]]

    def _report(self, total: int) -> None:
        if self.progress is not None:
            self.progress(sum(len(o.proposals) for o in self.outcomes), total)


__all__ = ["District", "Seat", "build_city", "shares"]
