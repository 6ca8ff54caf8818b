"""What a query asks, checked at the boundary, and how the review ranks figures."""

from __future__ import annotations

from typing import Any

from civicflow.domain.community.areas import AreaKind
from civicflow.errors import InvalidInputError


def level_asked(level: AreaKind | str) -> AreaKind:
    try:
        return AreaKind(level)
    except ValueError:
        kinds = ", ".join(k.value for k in AreaKind)
        raise InvalidInputError("level", [("level", f"{level!r} is not one of {kinds}")]) from None


def quarter_asked(quarter: str | None) -> str | None:
    if quarter is None:
        return None
    if (
        len(quarter) != 6
        or not quarter[:4].isdigit()
        or quarter[4] != "Q"
        or quarter[5] not in "1234"
    ):
        raise InvalidInputError("quarter", [("quarter", f"{quarter!r} is not like 2026Q3")])
    return quarter


def ranked(found: list[Any]) -> list[Any]:
    """Best first by rate, then by count; suppressed figures last (their rank would leak)."""
    return sorted(
        found,
        key=lambda f: (
            f.suppressed,
            -(f.rate or 0),
            -(getattr(f, "n", None) or getattr(f, "participants", 0) or 0),
            f.area_id,
        ),
    )
