"""The field dictionary: each published table and column, in English and Chinese.

One definition feeds ``datapackage.json`` (Table Schemas), the CSV header and the
table of ``docs/opendata.md``, so the three cannot drift apart. Chinese titles and
descriptions travel as a custom property, ``x-zh``: the Data Package specification
lets a descriptor carry properties of its own, and validators ignore them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ZH = "x-zh"  # the custom property holding a descriptor's Chinese title and description
FORMULA_NOTE = (
    " A value starting with =, +, -, @, a tab or a carriage return is prefixed with an "
    "apostrophe ('), so that a spreadsheet never runs it as a formula."
)
FORMULA_NOTE_ZH = "以 =、+、-、@、制表符或回车开头的值前加撇号（'），以免电子表格将其当作公式执行。"


@dataclass(frozen=True)
class Column:
    """One column of a published table."""

    name: str
    type: str  # a Table Schema type: string, integer, number, boolean, date, datetime
    title: str
    description: str
    zh_title: str
    zh_description: str
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple[str, ...] = ()
    free_text: bool = False  # written by people: escaped against spreadsheet formulas

    def descriptor(self, *, unique: bool = False) -> dict[str, Any]:
        """The column as a Table Schema field."""
        found: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            ZH: {"title": self.zh_title, "description": self.zh_description},
        }
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if unique:
            constraints["unique"] = True
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        if self.maximum is not None:
            constraints["maximum"] = self.maximum
        if self.enum:
            constraints["enum"] = list(self.enum)
        if constraints:
            found["constraints"] = constraints
        return found


@dataclass(frozen=True)
class Reference:
    """A foreign key: ``columns`` of this table name a row of ``table`` by ``to``."""

    columns: tuple[str, ...]
    table: str  # "" for the table itself
    to: tuple[str, ...]

    def descriptor(self) -> dict[str, Any]:
        return {
            "fields": list(self.columns),
            "reference": {"resource": self.table, "fields": list(self.to)},
        }


@dataclass(frozen=True)
class Table:
    """One CSV table of the package."""

    name: str
    title: str
    description: str
    zh_title: str
    zh_description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = field(default=())

    @property
    def path(self) -> str:
        return f"{self.name}.csv"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def free_text(self) -> frozenset[str]:
        """The columns of free text, escaped against spreadsheet formulas."""
        return frozenset(column.name for column in self.columns if column.free_text)

    def descriptor(self) -> dict[str, Any]:
        """The table as a tabular data resource of the package."""
        single = self.key[0] if len(self.key) == 1 else None
        schema: dict[str, Any] = {
            "fields": [c.descriptor(unique=c.name == single) for c in self.columns],
            "primaryKey": list(self.key),
            "missingValues": [""],  # an empty cell: not applicable, or suppressed
        }
        if self.references:
            schema["foreignKeys"] = [r.descriptor() for r in self.references]
        return {
            "name": self.name,
            "path": self.path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "title": self.title,
            "description": self.description,
            ZH: {"title": self.zh_title, "description": self.zh_description},
            "schema": schema,
        }


def column(
    name: str,
    kind: str,
    en: tuple[str, str],
    zh: tuple[str, str],
    **constraints: Any,
) -> Column:
    """A column from its name, type, (title, description) in English and in Chinese.

    A column of free text (``free_text=True``) says in its description how a value a
    spreadsheet would take for a formula is escaped.
    """
    if constraints.get("free_text"):
        en = (en[0], en[1] + FORMULA_NOTE)
        zh = (zh[0], zh[1] + FORMULA_NOTE_ZH)
    return Column(name, kind, en[0], en[1], zh[0], zh[1], **constraints)


def markdown(tables: tuple[Table, ...]) -> str:
    """The field dictionary as Markdown, one section and table per CSV table."""
    parts: list[str] = []
    for table in tables:
        parts.append(f"### `{table.path}`: {table.title} ({table.zh_title})\n")
        parts.append(f"{table.description} {table.zh_description}\n")
        keys = ", ".join(f"`{name}`" for name in table.key)
        parts.append(f"Primary key: {keys}.\n")
        parts.append("| column | type | title | description | 标题 | 说明 |")
        parts.append("| --- | --- | --- | --- | --- | --- |")
        for c in table.columns:
            kind = c.type + (", required" if c.required else "")
            cells = (f"`{c.name}`", kind, c.title, c.description, c.zh_title, c.zh_description)
            parts.append("| " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)
