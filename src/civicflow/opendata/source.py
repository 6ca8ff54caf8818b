"""What the package is made of, read at one position of the log.

Every figure comes from the views' queries, under the protection decided for the
whole publication at their position; the proposals are read through the
application at the versions they had at that same position, and the structure as
the views counted it. Figures of two positions each protected on its own could
be combined by subtraction, so a read during which the views moved on is read
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.structure import Structure
from civicflow.domain.proposal_state import ProposalState
from civicflow.errors import ConcurrencyError
from civicflow.storage import rawlog
from civicflow.views.figures import Participation, Satisfaction
from civicflow.views.retry import VIEWS_ID

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.views import Views

ATTEMPTS = 5  # reads tried while other processes keep counting into the same views
PROPOSAL_TOPICS = "civicflow.proposal:"  # the prefix of every proposal event's topic


@dataclass(frozen=True)
class Source:
    """Everything one export publishes, of one position of the log."""

    position: int
    moment: datetime  # the application's "now" when read: areas and councils as they stand
    k: int
    quarters: tuple[str, ...]
    structure: Structure
    proposals: tuple[ProposalState, ...]
    rounds: dict[str, tuple[Satisfaction, ...]]  # per proposal id, round by round
    satisfaction: tuple[Satisfaction, ...]  # every level, the quarters asked for
    participation: tuple[Participation, ...]


def read(flow: CivicFlow, views: Views, quarters: tuple[str, ...] = ()) -> Source:
    """The figures, proposals and structure of the views' current position.

    ``quarters`` limits the figures per area and quarter (all quarters when empty).

    Raises:
        ConcurrencyError: the views kept moving on while they were read.
        BackendUnavailableError: the store or the views' database failed.
    """
    for _ in range(ATTEMPTS):
        position = views.position
        found = _read_at(flow, views, position, quarters)
        if views.position == position:
            return found
    raise ConcurrencyError(VIEWS_ID, ATTEMPTS, "views")


def _read_at(flow: CivicFlow, views: Views, position: int, quarters: tuple[str, ...]) -> Source:
    wanted = set(quarters)
    satisfaction: list[Satisfaction] = []
    participation: list[Participation] = []
    for level in AreaKind:
        satisfaction += views.satisfaction(level=level)
        participation += views.participation(level=level)
    proposals = tuple(
        flow.proposal(pid, version=version) for pid, version in versions(flow, position).items()
    )
    rounds = {str(p.id): tuple(views.proposal_satisfaction(p.id)) for p in proposals}
    shown_quarters = {f.quarter or "" for f in satisfaction} | {f.quarter for f in participation}
    return Source(
        position=position,
        moment=flow.clock(),
        k=views.k,
        quarters=tuple(sorted(wanted or shown_quarters)),
        structure=views.structure(),
        proposals=proposals,
        rounds=rounds,
        satisfaction=tuple(f for f in satisfaction if not wanted or f.quarter in wanted),
        participation=tuple(f for f in participation if not wanted or f.quarter in wanted),
    )


def versions(flow: CivicFlow, position: int) -> dict[UUID, int]:
    """Each proposal's version at ``position`` of the log, in the order they were asked.

    Read from the stored rows (their topics), not by decoding events.
    """
    found: dict[UUID, int] = {}
    for page in rawlog.rows(flow.recorder):
        for at, aggregate, version, topic, _ in page:
            if at > position:
                return found
            if topic.startswith(PROPOSAL_TOPICS):
                found[UUID(aggregate)] = version
    return found
