"""A city's views: one views store that counts every district's log.

Every district is counted into the same tables (each row marked with its district,
``views/tables.py``) under a tracking position of its own, so each district's events
count exactly once and a crash resumes each where its last batch committed. A
district whose store cannot be reached is passed over, named in ``behind()`` with
how far it is behind, and catches up when it returns; the others keep counting.
Figures are read from all districts at once, under one protection that also covers
the city's totals (each the sum of its districts'), so that no difference between
a city figure and the districts shown gives a hidden one away.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from civicflow.domain.community.areas import AreaKind
from civicflow.errors import BackendUnavailableError, ConfigurationError, StoreNotFoundError
from civicflow.federation.city import City
from civicflow.storage.errors import storage_errors
from civicflow.storage.settings import env_from_url
from civicflow.views import Views
from civicflow.views import figures as made
from civicflow.views.backend import open_view_tables
from civicflow.views.figures import CityParticipation, Satisfaction
from civicflow.views.participants import ANY
from civicflow.views.questions import quarter_asked
from civicflow.views.reading import READING, Figures
from civicflow.views.schema import TABLES
from civicflow.views.sealing import sealing_of

TRACKING = "civicflow-city"  # a district's position is kept as "civicflow-city:NAME"
STORE = "store:"  # the views' state notes each district's store as "store:NAME"
NOTE_STORE = (  # a district's store, as last counted from
    "INSERT INTO cf_view_state VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


@dataclass(frozen=True)
class DistrictLag:
    """How far the city's views are behind one district's log.

    ``log`` and ``behind`` are None when the district's store could not be read
    (``error`` says why): its figures stand as they were at ``position``.
    """

    district: str
    position: int  # the last notification of the district counted
    log: int | None  # the district log's last notification, as just read
    behind: int | None
    error: str | None = None


class CityViews(Figures):
    """The views of every district of ``city``, kept in the registry's views store.

    Args:
        city: the city whose districts to count (its stores are opened on use).
        settings: eventsourcing settings of the views' database, in place of the
            registry's ``views`` URL.
        k: the smallest number of residents a shown figure may come from.
        batch_size: notifications counted per transaction while catching up.

    Raises:
        ConfigurationError: the registry names no views store and no settings are
            given, or ``k`` or ``batch_size`` is below 1.
        ViewsSchemaError, ViewsEncryptionError, BackendUnavailableError: as ``Views``.
    """

    def __init__(
        self,
        city: City,
        *,
        settings: dict[str, str] | None = None,
        k: int = 5,
        batch_size: int = 2000,
    ) -> None:
        if batch_size < 1:
            raise ConfigurationError("batch_size must be at least 1")
        url = city.registry.views_url()
        if settings is None and url is None:
            raise ConfigurationError(
                'the city registry names no views store: add views = "URL" to it'
            )
        names = tuple(f"{TRACKING}:{name}" for name in city.names)
        where = settings or env_from_url(str(url))
        tables = open_view_tables(where, TRACKING, tracking_names=names)
        super().__init__(tables, k=k, clock=city.clock, city=city.registry.name)
        self.city_of = city
        self.batch_size = batch_size
        self._districts: dict[str, Views] = {}
        self._errors: dict[str, str] = {}  # why a district was passed over, last time
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the views' connections (the districts' stores stay with the city)."""
        with storage_errors("closing the city views"):
            self.tables.close()

    def __enter__(self) -> CityViews:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- counting -------------------------------------------------------------------

    def catch_up(
        self,
        limit: int | None = None,
        *,
        districts: Sequence[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, int]:
        """Count what every reachable district (or those named) recorded since, at
        most ``limit`` notifications of each; returns how many each.

        ``progress(done, total)``, if given, is called after each page counted, summed
        over the districts: how far they are (in notification ids), of how far they
        were behind when the catch-up began (``behind()``).

        A district whose store cannot be reached (or fails while read) is passed
        over: what it had committed stays counted, ``behind()`` names it, and the
        next catch-up resumes it where it stopped.

        Raises:
            ConfigurationError: a district named is not in the city, or its store is
                encrypted (its figures are not copied into the city's views in clear).
            ConcurrencyError, ViewsSchemaError, SchemaMismatchError, NewerRecordError:
                as ``Views.catch_up``, for the first district that raised it.
            BackendUnavailableError: the views' own database failed.
        """
        counted: dict[str, int] = {}
        with self._lock:
            self._follow_moved_stores()
            names = self.city_of.names if districts is None else districts
            tally = _Tally(self.behind(), progress) if progress is not None else None
            for name in names:
                try:
                    said = tally.of(name) if tally is not None else None
                    counted[name] = self._district(name).catch_up(limit, progress=said)
                except StoreNotFoundError:  # opened with create=False: nothing there yet
                    counted[name] = 0
                except BackendUnavailableError as error:
                    self._require_views()  # the city views' own store: not passed over
                    self._errors[name] = str(error)
                    counted[name] = 0
                else:
                    self._errors.pop(name, None)
                if tally is not None:
                    tally.finished(name)
        return counted

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
        """Forget every figure and count every district's log again.

        ``progress(done, total)`` is called after each page counted (``catch_up``).

        Raises:
            as ``catch_up``.
        """
        with self._lock, storage_errors("emptying the city views"):
            self._districts.clear()  # their projectors stood at the old positions
            self._retried(self.tables.empty, "emptying the city views")
        return self.catch_up(progress=progress)

    def _follow_moved_stores(self) -> None:
        """Count everything again when a district's store is not the one counted from
        (or a district left the registry: its figures must leave the city's).

        A district moved to another server (export, import, the registry switched)
        keeps its records, but not necessarily their notification ids, which are the
        positions counted: its figures cannot be carried over, and a city's views are
        rebuilt in seconds. Each district's store is kept as the registry writes it
        (secrets are ``${VARIABLE}``s there).
        """
        tables = self.tables
        rows = tables.query(
            "SELECT name, value FROM cf_view_state WHERE name >= ? AND name < ?",
            (STORE, STORE[:-1] + ";"),
        )
        counted = {str(name).removeprefix(STORE): str(value) for name, value in rows}
        now = {d.name: d.store for d in self.city_of.registry.districts}
        if counted == now:
            return
        # A district added is counted from its start; one moved, renamed or gone, with
        # every other (the rows of a district are not all marked with its name).
        moved = any(now.get(name) != store for name, store in counted.items())
        with tables.transaction(commit=True) as c:
            tables.lock_position(c)
            if moved:
                self._districts.clear()  # their projectors stood at the old positions
                every = (f"{TRACKING}:", f"{TRACKING};")  # a district gone had one too
                c.execute(
                    tables.sql(
                        "DELETE FROM {tracking} WHERE application_name >= ? "
                        "AND application_name < ?"
                    ),
                    every,
                )
                for table in TABLES:
                    if table != "cf_view_state":
                        c.execute(tables.sql(f"DELETE FROM {table}"))  # noqa: S608 - ours
            c.execute(
                tables.sql("DELETE FROM cf_view_state WHERE name >= ? AND name < ?"),
                (STORE, STORE[:-1] + ";"),
            )
            for name, store in now.items():
                c.execute(tables.sql(NOTE_STORE), (STORE + name, store))

    def behind(self) -> tuple[DistrictLag, ...]:
        """Each district: the position counted, its log's last notification, the gap.

        Raises:
            BackendUnavailableError: the views' own database failed.
        """
        positions = dict(self._positions())
        found = []
        for name in self.city_of.names:
            position = positions.get(f"{TRACKING}:{name}", 0)
            try:
                with storage_errors(f"reading district {name}"):
                    log = self.city_of.probe(name).recorder.max_notification_id() or 0
            except StoreNotFoundError:
                log = 0  # a district whose store is not made yet has recorded nothing
            except BackendUnavailableError as error:
                found.append(DistrictLag(name, position, None, None, str(error)))
                continue
            found.append(DistrictLag(name, position, log, max(log - position, 0)))
        return tuple(found)

    # --- the city's totals ------------------------------------------------------------

    def city_satisfaction(self, quarter: str | None = None) -> list[Satisfaction]:
        """The city's satisfaction per quarter: the sum of its districts'.

        Raises:
            InvalidInputError: ``quarter`` is not like 2026Q3.
            BackendUnavailableError: the views' database failed.
        """
        when = quarter_asked(quarter)
        return self._protected(lambda p: self._city_satisfaction(when, p))

    def city_participation(self, quarter: str | None = None) -> list[CityParticipation]:
        """The city's participation per quarter: the sum of its districts'.

        Raises:
            InvalidInputError: ``quarter`` is not like 2026Q3.
            BackendUnavailableError: the views' database failed.
        """
        when = quarter_asked(quarter)
        districts = self.participation(level=AreaKind.DISTRICT, quarter=when)
        return self._protected(lambda p: self._city_participation(when, districts, p))

    # --- the parts --------------------------------------------------------------------

    def _district(self, name: str) -> Views:
        flow = self.city_of.probe(name)
        views = self._districts.get(name)
        if views is None:
            if sealing_of(flow).stamp is not None:
                raise ConfigurationError(
                    f"district {name}'s store is encrypted: the city views would keep its "
                    "figures in clear in another database; count it in its own views"
                )
            tables = self.tables.sourced(name, f"{TRACKING}:{name}")
            views = Views(flow, k=self.k, batch_size=self.batch_size, tables=tables)
            self._districts[name] = views
        return views

    def _positions(self) -> list[tuple[str, int]]:
        def read() -> list[tuple[str, int]]:
            rows = self.tables.query(
                "SELECT application_name, MAX(notification_id) FROM {tracking} "
                "GROUP BY application_name"
            )
            return [(str(name), int(position)) for name, position in rows]

        with storage_errors(READING):
            return self._retried(read, READING)

    def _require_views(self) -> None:
        """Raise if the city views' own database is what failed."""
        self._positions()

    def _city_satisfaction(self, quarter: str | None, protection: object) -> list[Satisfaction]:
        where, params = ("AND quarter = ?", (quarter,)) if quarter else ("", ())
        rows = self.tables.query(
            "SELECT quarter, level, COUNT(*) FROM cf_view_ratings "  # noqa: S608 - ours
            f"WHERE district != '' {where} GROUP BY quarter, level",
            params,
        )
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        for when, grade, n in rows:
            counts[str(when)][str(grade)] = int(n)
        name, hides = self.city, getattr(protection, "hides")  # noqa: B009
        return [
            made.satisfaction(
                str(name),
                c,
                hides(("sat", "city", name, when), sum(c.values())),
                quarter=when,
            )
            for when, c in sorted(counts.items())
        ]

    def _city_participation(
        self, quarter: str | None, districts: list[made.Participation], protection: object
    ) -> list[CityParticipation]:
        where, params = ("AND quarter = ?", (quarter,)) if quarter else ("", ())
        kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for _, when, kind, n in self.tables.query(
            "SELECT district, quarter, kind, COUNT(DISTINCT resident) "  # noqa: S608 - ours
            f"FROM cf_view_participation WHERE district != '' {where} "
            "GROUP BY district, quarter, kind",
            params,
        ):
            kinds[str(when)][str(kind)] += int(n)
        for _, when, n in self.tables.query(
            "SELECT district, quarter, COUNT(DISTINCT resident) "  # noqa: S608 - ours
            f"FROM cf_view_participation WHERE district != '' {where} GROUP BY district, quarter",
            params,
        ):
            kinds[str(when)][ANY] += int(n)
        by_quarter: dict[str, list[made.Participation]] = defaultdict(list)
        for figure in districts:
            by_quarter[figure.quarter].append(figure)
        quarters = sorted(set(kinds) | set(by_quarter))
        return [
            _participation(str(self.city), when, kinds[when], by_quarter[when], protection)
            for when in quarters
        ]


def _participation(
    city: str,
    quarter: str,
    kinds: dict[str, int],
    districts: list[made.Participation],
    protection: object,
) -> CityParticipation:
    hides = getattr(protection, "hides")  # noqa: B009
    total = kinds.get(ANY, 0)
    hidden = hides(("part", ANY, "city", city, quarter), total)

    def shown(kind: str) -> int | None:
        count = kinds.get(kind, 0)
        return None if hidden or hides(("part", kind, "city", city, quarter), count) else count

    residents = sum(d.residents for d in districts)
    households = sum(d.households for d in districts)
    compounds = sum(d.compounds for d in districts)
    councils = sum(d.compounds_with_council for d in districts)
    return CityParticipation(
        city=city,
        quarter=quarter,
        suppressed=hidden,
        asked_or_backed=shown("ask"),
        discussed=shown("discuss"),
        rated=shown("rate"),
        participants=None if hidden else total,
        households=households,
        residents=residents,
        rate=None if hidden else made.ratio(total, residents),
        household_rate=None if hidden else made.ratio(total, households),
        districts=len(districts),
        compounds=compounds,
        compounds_with_council=councils,
        council_coverage=made.ratio(councils, compounds),
    )


class _Tally:
    """The districts' progress summed: each district's ``(done, total)`` as it counts."""

    def __init__(self, lags: Sequence[DistrictLag], progress: Callable[[int, int], None]) -> None:
        self.done = {lag.district: 0 for lag in lags}
        self.total = {lag.district: lag.behind or 0 for lag in lags}
        self.progress = progress

    def of(self, name: str) -> Callable[[int, int], None]:
        def said(done: int, total: int) -> None:
            self.done[name], self.total[name] = done, max(total, done)
            self.progress(sum(self.done.values()), sum(self.total.values()))

        return said

    def finished(self, name: str) -> None:
        """The district is as far as it goes this time (or passed over): its total is done."""
        if self.total.get(name, 0) != self.done.get(name, 0):
            self.total[name] = self.done.get(name, 0)
            self.progress(sum(self.done.values()), sum(self.total.values()))
