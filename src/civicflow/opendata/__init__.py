"""Open data: a Frictionless Data Package of what the views publish, Popolo and Open311.

``export_open_data(flow, folder)`` writes CSV tables (proposals, rounds, satisfaction
and participation per area and quarter, councils, seats, areas) described by
``datapackage.json`` in English and Chinese, with ``popolo.json`` and ``requests.json``
beside them. Every figure is one of the views', under their suppression; no resident
id is written (docs/opendata.md).
"""

from __future__ import annotations

from civicflow.opendata.export import Exported, export_open_data
from civicflow.opendata.package import TABLES

__all__ = ["TABLES", "Exported", "export_open_data"]
