"""From view tables to figures: one function per view, by level and quarter."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import median_low
from zoneinfo import ZoneInfo

from civicflow.domain.community.areas import DEFAULT_TIME_ZONE, AreaKind
from civicflow.domain.community.structure import Structure
from civicflow.views import figures
from civicflow.views.figures import Durations, Participation, Pipeline, Satisfaction
from civicflow.views.participants import ANY
from civicflow.views.publication import Protection
from civicflow.views.registered import Registered
from civicflow.views.rows import ProposalRow
from civicflow.views.schema import PROPOSAL_COLUMNS
from civicflow.views.tables import ViewTables


def satisfaction(
    tables: ViewTables, level: AreaKind, quarter: str | None, protection: Protection
) -> list[Satisfaction]:
    """Satisfaction per area of ``level`` and quarter, from each resident's latest rating."""
    column = level.value
    rows = tables.query(
        f"SELECT {column}, quarter, level, COUNT(*) FROM cf_view_ratings "  # noqa: S608
        f"WHERE {column} != ''{_and_quarter(quarter)} GROUP BY {column}, quarter, level",
        _params(quarter),
    )
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    clear = tables.area_in_clear  # the stored area may be a pseudonym (see sealing.py)
    for area, when, grade, count in rows:
        counts[(clear(area), when)][grade] = int(count)
    return [
        figures.satisfaction(
            area,
            c,
            protection.hides(("sat", column, area, when), sum(c.values())),
            level=level,
            quarter=when,
        )
        for (area, when), c in sorted(counts.items())
    ]


def proposal_satisfaction(
    tables: ViewTables,
    protection: Protection,
    quarter: str | None = None,
    proposal_id: str | None = None,
) -> list[Satisfaction]:
    """Satisfaction per proposal and round (in one quarter, or for one proposal)."""
    where, params = ["1 = 1"], []
    if quarter is not None:
        where.append("r.quarter = ?")
        params.append(quarter)
    if proposal_id is not None:
        where.append("r.proposal_id = ?")
        params.append(proposal_id)
    rows = tables.query(
        "SELECT r.proposal_id, p.title, p.scope_id, r.round, r.level, COUNT(*) "  # noqa: S608
        "FROM cf_view_ratings r JOIN cf_view_proposals p ON p.proposal_id = r.proposal_id "
        f"WHERE {' AND '.join(where)} GROUP BY r.proposal_id, p.title, p.scope_id, r.round, "
        "r.level",
        params,
    )
    counts: dict[tuple[str, str, str, int], dict[str, int]] = defaultdict(dict)
    opened = tables.sealing.open  # title and scope may be encrypted (see sealing.py)
    for pid, title, scope, round_, grade, count in rows:
        counts[(pid, opened(title) or "", opened(scope) or "", int(round_))][grade] = int(count)
    return [
        figures.satisfaction(
            scope,
            c,
            protection.hides(("prop", pid, round_, quarter), sum(c.values())),
            proposal_id=pid,
            title=title,
            round=round_,
            quarter=quarter,
        )
        for (pid, title, scope, round_), c in sorted(counts.items())
    ]


def participation(
    tables: ViewTables,
    structure: Structure,
    level: AreaKind,
    quarter: str | None,
    protection: Protection,
) -> list[Participation]:
    """Distinct participants per area and quarter, against households at the quarter's end."""
    column = level.value
    rows = tables.query(
        f"SELECT {column}, quarter, kind, COUNT(DISTINCT resident) "  # noqa: S608
        f"FROM cf_view_participation WHERE {column} != ''{_and_quarter(quarter)} "
        f"GROUP BY {column}, quarter, kind",
        _params(quarter),
    )
    anyone = tables.query(
        f"SELECT {column}, quarter, COUNT(DISTINCT resident) "  # noqa: S608
        f"FROM cf_view_participation WHERE {column} != ''{_and_quarter(quarter)} "
        f"GROUP BY {column}, quarter",
        _params(quarter),
    )
    kinds: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    clear = tables.area_in_clear
    for area, when, kind, count in rows:
        kinds[(clear(area), when)][kind] = int(count)
    quarters = sorted({when for _, when, _ in anyone} | ({quarter} if quarter else set()))
    totals = {(clear(area), when): int(count) for area, when, count in anyone}
    registered = Registered(tables.load_homes())
    within: dict[datetime, dict[str, tuple[str, ...]]] = {}  # by a quarter's end
    return [
        _participation(
            structure,
            area,
            level,
            when,
            kinds=kinds.get((area, when), {}) | {ANY: totals.get((area, when), 0)},
            protection=protection,
            registered=registered,
            within=within,
        )
        for when in quarters
        for area in areas_at(structure, level, when, placed=totals)
    ]


def pipeline(
    tables: ViewTables, structure: Structure, level: AreaKind, as_of: date
) -> list[Pipeline]:
    """Proposals per stage, step durations and overdue work per area of ``level``."""
    column = level.value
    rows = tables.query(
        f"SELECT {column}, proposal_id, stage, asked_at, decided_at, deadline, done_at, "  # noqa: S608
        f"published_at, finished_at FROM cf_view_proposals WHERE {column} IS NOT NULL "
        f"AND {column} != ''"
    )
    by_area: dict[str, list[tuple[str | None, ...]]] = defaultdict(list)
    for row in rows:
        by_area[tables.area_in_clear(row[0])].append(row[1:])
    # Days are those of the district's time zone, as quarters are.
    return [
        _pipeline(area, level, items, as_of, ZoneInfo(_zone_of(structure, area)))
        for area, items in sorted(by_area.items())
    ]


def proposal_rows(tables: ViewTables) -> list[ProposalRow]:
    """Every proposal as the pipeline counts it, with its ids and title in clear."""
    tables.load_structure()  # teaches sealed views the pseudonyms of the areas
    rows = tables.query(
        f"SELECT {PROPOSAL_COLUMNS} FROM cf_view_proposals ORDER BY proposal_id"  # noqa: S608
    )
    return [ProposalRow(*tables.sealing.proposal(row)) for row in rows]


# --- helpers ---------------------------------------------------------------------


def _and_quarter(quarter: str | None) -> str:
    return " AND quarter = ?" if quarter is not None else ""


def _params(quarter: str | None) -> tuple[str, ...]:
    return (quarter,) if quarter is not None else ()


def areas_at(
    structure: Structure, level: AreaKind, quarter: str, placed: Iterable[tuple[str, str]]
) -> list[str]:
    """The areas of ``level`` at the quarter's end, and any area facts were placed in
    that quarter (one the structure did not know then stands for itself at every level)."""
    known = {
        a.id
        for a in structure.areas.values()
        if a.kind is level and a.exists_at(_quarter_end(structure, a.id, quarter))
    }
    return sorted(known | {area for area, when in placed if when == quarter})


def _participation(
    structure: Structure,
    area: str,
    level: AreaKind,
    quarter: str,
    *,
    kinds: dict[str, int],
    protection: Protection,
    registered: Registered,
    within: dict[datetime, dict[str, tuple[str, ...]]],
) -> Participation:
    end = _quarter_end(structure, area, quarter)
    if end not in within:
        within[end] = structure.compounds_within(end)
    compounds = within[end].get(area, ())
    households = sum(structure.areas[c].households_at(end) or 0 for c in compounds)
    residents = registered.within(compounds, end)
    councils = sum(1 for c in compounds if structure.council_at(c, end) is not None)
    total = kinds[ANY]
    hidden = protection.hides(("part", ANY, level.value, area, quarter), total)

    def shown(kind: str) -> int | None:
        count = kinds.get(kind, 0)
        node = ("part", kind, level.value, area, quarter)
        return None if hidden or protection.hides(node, count) else count

    return Participation(
        area_id=area,
        level=level,
        quarter=quarter,
        suppressed=hidden,
        asked_or_backed=shown("ask"),
        discussed=shown("discuss"),
        rated=shown("rate"),
        participants=None if hidden else total,
        households=households,
        residents=residents,
        rate=None if hidden else figures.ratio(total, residents),
        household_rate=None if hidden else figures.ratio(total, households),
        compounds=len(compounds),
        compounds_with_council=councils,
        council_coverage=figures.ratio(councils, len(compounds)),
    )


def _quarter_end(structure: Structure, area: str, quarter: str) -> datetime:
    """The last moment of ``quarter`` in the time zone of the area's district."""
    year, number = int(quarter[:4]), int(quarter[-1])
    start_next = date(year + number // 4, number % 4 * 3 + 1, 1)
    zone = ZoneInfo(_zone_of(structure, area))
    local = datetime(start_next.year, start_next.month, 1, tzinfo=zone)
    return (local - timedelta(microseconds=1)).astimezone(UTC)


def _zone_of(structure: Structure, area: str) -> str:
    known = structure.areas.get(area)
    if known is None:  # an area the embedding application keeps: the default zone
        return DEFAULT_TIME_ZONE
    for candidate in reversed(known.parents or ()):
        if candidate.value:
            return _zone_of(structure, candidate.value)
    return known.time_zone or DEFAULT_TIME_ZONE


def _pipeline(
    area: str, level: AreaKind, items: list[tuple[str | None, ...]], as_of: date, zone: ZoneInfo
) -> Pipeline:
    stages: dict[str, int] = defaultdict(int)
    for item in items:
        stages[str(item[1])] += 1
    overdue = tuple(
        sorted(
            str(pid)
            for pid, _, _, decided, deadline, done, _, finished in items
            if decided
            and deadline
            and date.fromisoformat(deadline) < as_of
            and _day(decided, zone) <= as_of
            and _open_on(done, as_of, zone)
            and _open_on(finished, as_of, zone)
        )
    )
    return Pipeline(
        area_id=area,
        level=level,
        stages=dict(sorted(stages.items())),
        ask_to_decide=_durations([(i[2], i[3]) for i in items]),
        decide_to_done=_durations([(i[3], i[5]) for i in items]),
        done_to_publish=_durations([(i[5], i[6]) for i in items]),
        overdue=overdue,
    )


def _day(moment: str, zone: ZoneInfo) -> date:
    return datetime.fromisoformat(moment).astimezone(zone).date()


def _open_on(moment: str | None, day: date, zone: ZoneInfo) -> bool:
    # Work done (or ended) any time on ``day`` is not late on that day: the
    # district asks about a day, and its work counts as of the day's end.
    return moment is None or _day(moment, zone) > day


def _durations(pairs: list[tuple[str | None, str | None]]) -> Durations:
    days = sorted(
        Decimal((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
        / 86400
        for start, end in pairs
        if start and end
    )
    if not days:
        return Durations(count=0, median_days=None, p90_days=None)
    p90 = days[max(0, -(-9 * len(days) // 10) - 1)]  # nearest rank
    return Durations(count=len(days), median_days=_days(median_low(days)), p90_days=_days(p90))


def _days(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))
