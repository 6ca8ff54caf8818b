"""``datapackage.json``: the Frictionless Data Package describing every file exported.

The CSV tables are tabular data resources with their Table Schemas (``catalogue*.py``);
``popolo.json`` and ``requests.json`` are plain data resources beside them. The
package says which position of the log it was read at and which ``k`` hid the
small figures, so that a reader can tell two exports apart and how they were
protected.
"""

from __future__ import annotations

from typing import Any

from civicflow.opendata.catalogue import AREAS, COUNCILS, SEATS
from civicflow.opendata.catalogue_figures import PARTICIPATION, SATISFACTION
from civicflow.opendata.catalogue_work import PROPOSALS, ROUNDS
from civicflow.opendata.dictionary import ZH, Table
from civicflow.opendata.source import Source
from civicflow.opendata.writing import MARKED, MARKER, PACKAGE_NAME

TABLES: tuple[Table, ...] = (
    AREAS,
    COUNCILS,
    SEATS,
    PROPOSALS,
    ROUNDS,
    SATISFACTION,
    PARTICIPATION,
)
POPOLO = "popolo.json"
OPEN311 = "requests.json"
DESCRIPTOR = MARKED
LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
DOCUMENTS = (
    {
        "name": "popolo",
        "path": POPOLO,
        "title": "Councils, seats and decisions (Popolo)",
        "description": "Popolo JSON: organizations (councils), persons (seats, not people), "
        "memberships, motions and vote events with their counts.",
        ZH: {
            "title": "议事会、席位与决定（Popolo）",
            "description": "Popolo 格式的议事会、席位、任职、议题与表决。",
        },
    },
    {
        "name": "requests",
        "path": OPEN311,
        "title": "Needs raised (Open311 GeoReport v2)",
        "description": "GeoReport v2 service requests, read only: one per proposal, without "
        "geometry and without who raised it.",
        ZH: {
            "title": "居民需求（Open311 GeoReport v2）",
            "description": "每项议题一条服务请求，只读；不含坐标与提出人。",
        },
    },
)


def descriptor(source: Source) -> dict[str, Any]:
    """The package's descriptor for an export of ``source``."""
    documents = [
        {**d, "profile": "data-resource", "format": "json", "mediatype": "application/json"}
        for d in DOCUMENTS
    ]
    return {
        "profile": "data-package",
        "name": PACKAGE_NAME,
        "title": "Community deliberation: proposals, satisfaction and participation",
        "description": "Needs raised by residents and carried through Ask, Discuss, Decide, "
        "Do, Publish and Rate (问议定办晒评), with residents' satisfaction and participation "
        f"per area and quarter. Every figure behind fewer than {source.k} residents, or that "
        "would give one away, is left empty and flagged suppressed; no resident id is "
        "published.",
        ZH: {
            "title": "社区议事：议题、满意度与参与度",
            "description": "居民提出的需求及其问、议、定、办、晒、评全过程，"
            "各区域各季度的满意度与参与度。"
            f"少于 {source.k} 位居民的数字及可推算出此类数字的数字均留空并标为已隐去；"
            "不公布任何居民编号。",
        },
        "licenses": [LICENSE],
        "sources": [{"title": f"civicflow event log, read at position {source.position}"}],
        "created": source.moment.isoformat(timespec="seconds"),
        MARKER: {
            "log_position": source.position,
            "k": source.k,
            "quarters": list(source.quarters),
        },
        "resources": [table.descriptor() for table in TABLES] + documents,
    }
