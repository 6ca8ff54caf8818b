"""Reading the views: every figure under the protection of the state it is read in.

``Figures`` answers the queries of ``docs/views.md`` from view tables; ``Views``
adds counting a store's log into them, and a city's views (``federation``) read
the tables every district is counted into.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.structure import Structure
from civicflow.errors import ConfigurationError
from civicflow.storage.errors import storage_errors
from civicflow.views import publication, queries
from civicflow.views.citytotals import city_totals
from civicflow.views.collecting import collector_paused
from civicflow.views.figures import Participation, Pipeline, Review, Satisfaction
from civicflow.views.publication import Protection
from civicflow.views.questions import level_asked as _level
from civicflow.views.questions import quarter_asked as _quarter
from civicflow.views.questions import ranked as _ranked
from civicflow.views.retry import retried
from civicflow.views.rows import ProposalRow
from civicflow.views.tables import ViewTables

READING = "reading the views"
T = TypeVar("T")


class Figures:
    """The figures of view tables, each hidden below ``k`` residents as decided once
    for the whole state they are read in (``publication.py``).

    Args:
        tables: the view tables to read.
        k: the smallest number of residents a shown figure may come from.
        clock: what "today" is for the pipeline's overdue work.
        city: the name of the city whose districts the tables hold (its totals are
            then part of what the protection covers), or None for one store's views.

    Raises:
        ConfigurationError: ``k`` is below 1.
    """

    def __init__(
        self,
        tables: ViewTables,
        *,
        k: int = 5,
        clock: Callable[[], datetime],
        city: str | None = None,
    ) -> None:
        if k < 1:
            raise ConfigurationError("k must be at least 1")
        self.tables = tables
        self.k = k
        self.clock = clock
        self.city = city
        self._kept_protection: tuple[object, Protection] | None = None

    # --- queries ------------------------------------------------------------------

    def satisfaction(
        self, *, level: AreaKind | str = AreaKind.COMMUNITY, quarter: str | None = None
    ) -> list[Satisfaction]:
        """Satisfaction per area of ``level`` and quarter (all quarters by default).

        Raises:
            InvalidInputError: ``level`` is not an area kind, or ``quarter`` is not like 2026Q3.
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        wanted, when = _level(level), _quarter(quarter)
        return self._protected(lambda p: queries.satisfaction(self.tables, wanted, when, p))

    def proposal_satisfaction(self, proposal_id: object) -> list[Satisfaction]:
        """Satisfaction of one proposal, round by round.

        Raises:
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        return self._protected(
            lambda p: queries.proposal_satisfaction(self.tables, p, proposal_id=str(proposal_id))
        )

    def participation(
        self, *, level: AreaKind | str = AreaKind.COMMUNITY, quarter: str | None = None
    ) -> list[Participation]:
        """Distinct participants per area of ``level`` and quarter, with council coverage.

        Raises:
            InvalidInputError: ``level`` is not an area kind, or ``quarter`` is not like 2026Q3.
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        wanted, when, tables = _level(level), _quarter(quarter), self.tables
        return self._protected(
            lambda p: queries.participation(tables, self._structure_now(), wanted, when, p)
        )

    def pipeline(
        self, *, level: AreaKind | str = AreaKind.COMMUNITY, as_of: date | None = None
    ) -> list[Pipeline]:
        """Proposals per stage, step durations and overdue work per area of ``level``.

        Raises:
            InvalidInputError: ``level`` is not an area kind.
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        wanted, day = _level(level), as_of or self.clock().date()
        structure = self.structure()
        with storage_errors(READING):
            return self._retried(
                lambda: queries.pipeline(self.tables, structure, wanted, day), READING
            )

    def review(self, quarter: str, *, level: AreaKind | str = AreaKind.COMMUNITY) -> Review:
        """The quarterly review: areas and proposals ranked by satisfaction and participation.

        Raises:
            InvalidInputError: ``level`` is not an area kind, or ``quarter`` is not like 2026Q3.
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        wanted, when = _level(level), _quarter(quarter) or ""
        with collector_paused():  # every home and figure read at once: see collecting.py
            by_satisfaction = _ranked(self.satisfaction(level=wanted, quarter=when))
            by_participation = _ranked(self.participation(level=wanted, quarter=when))
            found = self._protected(
                lambda p: queries.proposal_satisfaction(self.tables, p, quarter=when)
            )
        proposals = _ranked(found)
        return Review(
            quarter=when,
            level=wanted,
            by_satisfaction=tuple(by_satisfaction),
            by_participation=tuple(by_participation),
            proposals=tuple(proposals),
        )

    def proposals(self) -> list[ProposalRow]:
        """Every proposal as the pipeline counts it: where it was asked (at each level),
        its stage now and when it first reached each step. Not about residents: never
        hidden (the pipeline is not either).

        Raises:
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        with storage_errors(READING):
            return self._retried(lambda: queries.proposal_rows(self.tables), READING)

    def structure(self) -> Structure:
        """The structure as the views have counted it (up to ``position``).

        Raises:
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        with storage_errors(READING):
            return self._retried(self.tables.load_structure, READING)

    def protection(self) -> Protection:
        """What is hidden, decided once for every figure of the views' current state.

        Raises:
            BackendUnavailableError: the views' database failed or cannot be reached.
        """
        return self._protected(lambda found: found)

    # --- mechanics ----------------------------------------------------------------

    def _protection(self, position: object) -> Protection:
        """The protection of the views at ``position`` (kept until the views move on:
        deciding it reads every count, where a query reads one level).
        """
        kept = self._kept_protection
        if kept is not None and kept[0] == position:
            return kept[1]
        more = None if self.city is None else city_totals(self.city, self.k)
        structure = lambda: self._structure_at(position)  # noqa: E731 - read once it is needed
        found = publication.protect(self.tables, structure, self.k, queries.areas_at, more)
        self._kept_protection = (position, found)
        return found

    def _structure_at(self, position: object) -> Structure:
        """The structure at ``position`` (``Views``: the one its last catch-up left, when
        the views are still there; a city's is 30 MB, and reading it takes twice that).
        """
        del position  # read from the tables: the state of this read transaction
        return self.tables.load_structure()

    def _structure_now(self) -> Structure:
        """The structure of the state this read transaction reads."""
        return self._structure_at(self.tables.state_key())

    def _protected(self, read: Callable[[Protection], T]) -> T:
        """``read`` under the protection of the state it reads: both in one read
        transaction, so that the figures and what hides them are of one position.
        """

        def attempt() -> T:
            with self.tables.reading():
                return read(self._protection(self.tables.state_key()))

        with storage_errors(READING):
            return self._retried(attempt, READING)

    def _retried(self, action: Callable[[], T], doing: str, races: bool = False) -> T:
        """``action()``, tried again after a fault that passes (see ``views/retry.py``)."""
        tables = self.tables
        return retried(
            action,
            doing,
            races=races,
            recover=tables.recover,
            progress=lambda: tables.batches_written,
        )
