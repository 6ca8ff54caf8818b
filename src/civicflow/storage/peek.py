"""A cheap, read-only look at a SQLite store's ids, for shell completion.

No application, no event model, no mapper: one query on ``stored_events``, the file
opened read-only (never created). A record that is compressed or encrypted is skipped;
anything that is not a store gives nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
from uuid import UUID

ASKED = "civicflow.proposal:Proposal.Asked"
AREA_ADDED = "civicflow.directory:Directory.AreaAdded"


def _rows(path: str, topic: str, column: str) -> list[object]:
    if not os.path.isfile(path):
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            query = f"SELECT {column} FROM stored_events WHERE topic = ?"  # noqa: S608 - fixed names
            return [row[0] for row in connection.execute(query, (topic,))]
    except sqlite3.Error:  # not a store, or not one yet
        return []


def proposal_ids(path: str) -> list[str]:
    """The ids of the proposals in the SQLite store at ``path``."""
    return [str(UUID(str(value))) for value in _rows(path, ASKED, "originator_id")]


def area_ids(path: str) -> list[str]:
    """The ids of the areas in the SQLite store at ``path`` (those stored in clear)."""
    found = []
    for state in _rows(path, AREA_ADDED, "state"):
        try:
            found.append(str(json.loads(state)["area_id"]))  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError):
            continue
    return found
