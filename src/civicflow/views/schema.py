"""The view tables' definitions and the statements that write them, on both backends.

``SCHEMA_VERSION`` stamps the views: views of an older version are rebuilt, of a
newer one refused (``backend.py``).
"""

from __future__ import annotations

from dataclasses import fields

from civicflow.views.rows import ProposalRow

SCHEMA_VERSION = "4"  # bump when a table or a placement changes; views are then rebuilt
# Older views are rebuilt; newer ones (or a stamp this code cannot read) are refused,
# never dropped: in a rolling deploy, old and new processes would rebuild each
# other's views for ever.
TABLES: dict[str, str] = {
    "cf_view_state": "name TEXT PRIMARY KEY, value TEXT NOT NULL",
    # ``source``: the store whose log a row was counted from ('' for a store's own
    # views; a district's name in a city's, where one table set holds every district).
    "cf_view_structure": (
        "part TEXT, key TEXT, value TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', "
        "PRIMARY KEY (source, part, key)"
    ),
    "cf_view_homes": (
        "resident TEXT, home TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', "
        "PRIMARY KEY (source, resident)"
    ),
    "cf_view_proposals": (
        "proposal_id TEXT PRIMARY KEY, title TEXT, category TEXT, scope_id TEXT, "
        "compound TEXT, community TEXT, street TEXT, district TEXT, stage TEXT, "
        "asked_at TEXT, round INTEGER, decided_at TEXT, deadline TEXT, done_at TEXT, "
        "published_at TEXT, finished_at TEXT, source TEXT NOT NULL DEFAULT ''"
    ),
    "cf_view_ratings": (
        "proposal_id TEXT, round INTEGER, resident TEXT, level TEXT, occurred_at TEXT, "
        "quarter TEXT, compound TEXT, community TEXT, street TEXT, district TEXT, "
        "PRIMARY KEY (proposal_id, round, resident)"
    ),
    "cf_view_participation": (
        "resident TEXT, kind TEXT, quarter TEXT, compound TEXT, community TEXT, street TEXT, "
        "district TEXT, PRIMARY KEY (quarter, kind, resident, compound, community, street, "
        "district)"
    ),
}
# Named, not "*": a column someone added must not shift the row (writing then refuses it).
PROPOSAL_COLUMNS = ", ".join(field.name for field in fields(ProposalRow))
UPSERT_PROPOSAL = (
    "INSERT INTO cf_view_proposals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (proposal_id) DO UPDATE SET stage = excluded.stage, round = excluded.round, "
    "decided_at = excluded.decided_at, deadline = excluded.deadline, "
    "done_at = excluded.done_at, published_at = excluded.published_at, "
    "finished_at = excluded.finished_at"
)
UPSERT_RATING = (
    "INSERT INTO cf_view_ratings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (proposal_id, round, resident) DO UPDATE SET level = excluded.level, "
    "occurred_at = excluded.occurred_at, quarter = excluded.quarter, "
    "compound = excluded.compound, community = excluded.community, "
    "street = excluded.street, district = excluded.district"
)
INSERT_PARTICIPATION = (
    "INSERT INTO cf_view_participation VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
UPSERT_STRUCTURE = (
    "INSERT INTO cf_view_structure VALUES (?, ?, ?, ?) "
    "ON CONFLICT (source, part, key) DO UPDATE SET value = excluded.value"
)
UPSERT_HOME = (
    "INSERT INTO cf_view_homes VALUES (?, ?, ?) "
    "ON CONFLICT (source, resident) DO UPDATE SET home = excluded.home"
)


def newer(stamp: str) -> bool:
    """Whether a stamp is newer than this code's (one it cannot read counts as newer)."""
    try:
        return int(stamp) > int(SCHEMA_VERSION)
    except ValueError:
        return True
