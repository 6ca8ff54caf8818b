"""Writing the package into a folder, all or nothing.

Every file is written into a temporary folder beside the target, synced to disk,
and the folder then takes the target's place by rename: a failed export leaves
nothing half-written, and a reader of the target sees the old package or the new
one, never a mix. Only a folder holding a civicflow package is ever replaced: a
file, a symbolic link, or a folder of anything else is refused, overwrite or not.

Free text in the CSV tables (a title people wrote) that a spreadsheet would take
for a formula, a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return, is prefixed with an apostrophe, as OWASP recommends against CSV injection.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from civicflow.errors import OutputExistsError

MARKED = "datapackage.json"  # the descriptor, which carries civicflow's marker
MARKER = "x-civicflow"
PACKAGE_NAME = "civicflow-open-data"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Writer = Callable[[Path], None]


def cell(value: Any) -> str:
    """A value as a CSV cell: empty for None, ``true``/``false``, ISO days."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def text_cell(value: Any) -> str:
    """A cell of free text, which a spreadsheet must never run as a formula."""
    found = cell(value)
    return "'" + found if found.startswith(FORMULA_STARTS) else found


def write_table(
    path: Path,
    names: tuple[str, ...],
    rows: Iterable[dict[str, Any]],
    free_text: frozenset[str] = frozenset(),
) -> int:
    """One CSV table: a header row, then a row per record; returns how many rows.

    The columns in ``free_text`` are escaped against formulas (``text_cell``).
    """
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([(text_cell if n in free_text else cell)(row.get(n)) for n in names])
            count += 1
    return count


def write_json(path: Path, data: Any) -> None:
    """One JSON document, UTF-8, Chinese as it is."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=cell)
    path.write_text(text + "\n", encoding="utf-8")


def into_folder(target: Path, write: Writer, *, overwrite: bool = False) -> None:
    """Run ``write`` on a fresh temporary folder, then put it in ``target``'s place.

    Only a folder that holds a civicflow package (its ``datapackage.json`` with
    civicflow's marker, and no file the package does not list) is ever replaced; a
    file or a symbolic link at ``target`` is refused, overwrite or not.

    Raises:
        OutputExistsError: ``target`` holds files and ``overwrite`` is False, or it is
            not a folder holding a civicflow package (nothing is touched).
        OSError: the folder could not be written or renamed (nothing is left behind).
    """
    target = Path(target)
    check_target(target, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(fresh)
        fresh.chmod(0o755)  # mkdtemp makes it owner-only: the package is for everyone
        for path in fresh.iterdir():
            _fsync(path)
        _fsync(fresh)  # every file on disk before the folder takes the target's place
        check_target(target, overwrite=overwrite)  # again: it may have changed meanwhile
        _swap(fresh, target)
        _fsync(target.parent)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def check_target(target: Path, *, overwrite: bool) -> None:
    if target.is_symlink():
        raise OutputExistsError(str(target), "is a symbolic link")
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputExistsError(str(target), "is a file, not a folder")
    if not any(target.iterdir()):
        return
    if not overwrite:
        raise OutputExistsError(str(target))
    stray = _not_of_a_package(target)
    if stray is not None:
        raise OutputExistsError(str(target), f"is not a civicflow open data package ({stray})")


def _not_of_a_package(folder: Path) -> str | None:
    """Why ``folder`` is not a civicflow package and only that; None when it is."""
    descriptor = folder / MARKED
    try:
        found = json.loads(descriptor.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"no readable {MARKED}"
    if not (
        isinstance(found, dict)
        and found.get("name") == PACKAGE_NAME
        and isinstance(found.get(MARKER), dict)
        and isinstance(found.get("resources"), list)
    ):
        return f"{MARKED} is not civicflow's"
    listed = {MARKED} | {
        r.get("path") for r in found["resources"] if isinstance(r, dict) and r.get("path")
    }
    for entry in folder.iterdir():
        if entry.name not in listed or entry.is_symlink() or not entry.is_file():
            return f"{entry.name!r} is not one of its files"
    return None


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _swap(fresh: Path, target: Path) -> None:
    """``fresh`` in place of ``target``: the old one set aside first, removed after.

    Between the two renames (a moment) there is no folder at ``target``: a reader
    then finds nothing, never a mix of two packages. A failed second rename puts the
    old package back.
    """
    if not target.exists():
        os.rename(fresh, target)
        return
    if not any(target.iterdir()):
        os.rename(fresh, target)  # POSIX renames onto an empty folder in one step
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(fresh, target)
    except BaseException:
        with suppress(OSError):
            os.rename(old, target)  # put the old package back
        raise
    shutil.rmtree(old, ignore_errors=True)
