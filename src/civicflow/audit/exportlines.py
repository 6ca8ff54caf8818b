"""The shape of each line of an events export: the fields a header, a record or the
trailer must have, read and checked; a record out of place (``civicflow.audit.exportfile``
checks what they say). Each refusal is an ``ImportRefusedError`` naming the line.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from civicflow.audit.errors import because
from civicflow.audit.signing import b64decode
from civicflow.errors import ImportRefusedError


def exact(
    number: int,
    item: dict[str, Any],
    fields: frozenset[str],
    what: str,
    optional: frozenset[str] = frozenset(),
) -> None:
    """Refuse a line whose fields are not exactly ``fields`` (less ``optional``)."""
    unknown, missing = set(item) - fields, fields - optional - set(item)
    if unknown or missing:
        names = ", ".join(sorted(unknown or missing))
        unknown_fields = because("unknown fields {names}", names=names)
        problem = unknown_fields if unknown else because("no {names}", names=names)
        why = because("not {what} of the export: {problem}", what=what, problem=problem)
        raise ImportRefusedError(number, why)


def record_fields(number: int, item: dict[str, Any]) -> tuple[int, UUID, int, str, dict[str, Any]]:
    """A record's position, aggregate id, version, topic and state, each of its type."""
    position, version = item.get("position"), item.get("version")
    topic, state = item.get("topic"), item.get("state")
    try:
        aggregate_id: UUID | None = UUID(str(item["id"]))
    except (KeyError, ValueError):
        aggregate_id = None
    checks = (
        ("position", _count(position, 1)),
        ("id", aggregate_id is not None),
        ("version", _count(version, 1)),
        ("topic", isinstance(topic, str)),
        ("state", isinstance(state, dict)),
    )
    problem = next((name for name, good in checks if not good), None)
    if problem is not None or aggregate_id is None:
        why = because("not a record: its {field} is missing or malformed", field=problem)
        raise ImportRefusedError(number, why)
    return (
        cast(int, position),
        aggregate_id,
        cast(int, version),
        cast(str, topic),
        cast(dict[str, Any], state),
    )


def trailer_fields(number: int, item: dict[str, Any]) -> tuple[int, bytes, str | None, list[str]]:
    """The trailer's count, root, checkpoint and heads, each of its type."""
    count, root = item.get("count"), b64decode(str(item.get("root")))
    checkpoint, heads = item.get("checkpoint"), item.get("heads")
    if not _count(count, 0):
        raise ImportRefusedError(number, because("the trailer's count is missing or malformed"))
    if root is None or len(root) != 32:
        raise ImportRefusedError(number, because("the trailer's root is not base64 of 32 bytes"))
    if checkpoint is not None and not isinstance(checkpoint, str):
        raise ImportRefusedError(number, because("the trailer's checkpoint is not a note"))
    if not isinstance(heads, list) or not all(isinstance(h, str) for h in heads):
        raise ImportRefusedError(number, because("the trailer's heads are not a list of notes"))
    return int(str(count)), root, checkpoint, heads


def _count(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def misplaced(position: int, expected: int) -> str:
    """Why a record at ``position`` cannot be where ``expected`` was."""
    if position < expected:
        return because(
            "position {position} where position {expected} was expected: the line is "
            "repeated or out of order",
            position=position,
            expected=expected,
        )
    return because(
        "position {position} where position {expected} was expected: a line before it is "
        "missing or out of order",
        position=position,
        expected=expected,
    )


__all__ = ["exact", "misplaced", "record_fields", "trailer_fields"]
