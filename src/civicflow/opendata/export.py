"""``export_open_data``: the open data package of a store, written into a folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from civicflow.opendata import records
from civicflow.opendata.catalogue import AREAS, COUNCILS, SEATS
from civicflow.opendata.catalogue_figures import PARTICIPATION, SATISFACTION
from civicflow.opendata.catalogue_work import PROPOSALS, ROUNDS
from civicflow.opendata.dictionary import Table
from civicflow.opendata.open311 import requests
from civicflow.opendata.package import DESCRIPTOR, OPEN311, POPOLO, TABLES, descriptor
from civicflow.opendata.popolo import popolo
from civicflow.opendata.source import Source, read
from civicflow.opendata.writing import check_target, into_folder, write_json, write_table

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.views import Views


@dataclass(frozen=True)
class Exported:
    """What an export wrote: rows per CSV table, and the log position it was read at."""

    directory: Path
    position: int
    rows: dict[str, int]


def export_open_data(
    flow: CivicFlow,
    directory: Path | str,
    *,
    quarters: tuple[str, ...] = (),
    k: int = 5,
    overwrite: bool = False,
    views: Views | None = None,
) -> Exported:
    """Write the open data package of ``flow``'s store into ``directory``.

    The views are brought up to date first (``views``, else the store's own with
    ``k``), and every figure is theirs, under their protection. ``quarters`` limits
    the figures per area and quarter (default: every quarter).

    Raises:
        OutputExistsError: ``directory`` holds files and ``overwrite`` is False, or is
            a file, a symbolic link or a folder that does not hold a civicflow package
            (which is never replaced).
        InvalidInputError: a quarter is not like 2026Q3.
        ConcurrencyError: other processes kept counting into the views while they were read.
        BackendUnavailableError: the store or the views' database failed.
        OSError: the folder could not be written (nothing is left half-written).
    """
    from civicflow.views import Views
    from civicflow.views.questions import quarter_asked

    for quarter in quarters:
        quarter_asked(quarter)  # refused before anything is read
    target = Path(directory)
    check_target(target, overwrite=overwrite)  # refused before anything is read or counted
    if views is None:
        with Views(flow, k=k) as own:
            own.catch_up()
            source = read(flow, own, quarters)
    else:
        views.catch_up()
        source = read(flow, views, quarters)
    counted: dict[str, int] = {}
    into_folder(target, lambda folder: counted.update(write(source, folder)), overwrite=overwrite)
    return Exported(target, source.position, counted)


def write(source: Source, folder: Path) -> dict[str, int]:
    """Every file of the package into ``folder``; returns the rows of each table."""
    counted = {
        table.name: write_table(folder / table.path, table.names, rows, table.free_text)
        for table, rows in tables(source)
    }
    write_json(folder / POPOLO, popolo(source))
    write_json(folder / OPEN311, requests(source))
    write_json(folder / DESCRIPTOR, descriptor(source))
    return counted


def tables(source: Source) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Each table with its rows, in the package's order."""
    found = {
        AREAS.name: records.areas(source),
        COUNCILS.name: records.councils(source),
        SEATS.name: records.council_members(source),
        PROPOSALS.name: records.proposals(source),
        ROUNDS.name: records.rounds(source, ROUNDS.names),
        SATISFACTION.name: records.figures(source.satisfaction, SATISFACTION.names),
        PARTICIPATION.name: records.figures(source.participation, PARTICIPATION.names),
    }
    return [(table, found[table.name]) for table in TABLES]
