"""Writing the package into a folder, all or nothing.

Every file is written into a temporary folder beside the target, which then takes
the target's place in one rename: a failed export leaves nothing half-written, and
a reader of the target sees the old package or the new one, never a mix.
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


def write_table(path: Path, names: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> int:
    """One CSV table: a header row, then a row per record; returns how many rows."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([cell(row.get(name)) for name in names])
            count += 1
    return count


def write_json(path: Path, data: Any) -> None:
    """One JSON document, UTF-8, Chinese as it is."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=cell)
    path.write_text(text + "\n", encoding="utf-8")


def into_folder(target: Path, write: Writer, *, overwrite: bool = False) -> None:
    """Run ``write`` on a fresh temporary folder, then put it in ``target``'s place.

    Raises:
        OutputExistsError: ``target`` holds files and ``overwrite`` is False.
        OSError: the folder could not be written or renamed (nothing is left behind).
    """
    target = Path(target)
    if _holds_files(target) and not overwrite:
        raise OutputExistsError(str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(fresh)
        fresh.chmod(0o755)  # mkdtemp makes it owner-only: the package is for everyone
        _swap(fresh, target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def _holds_files(target: Path) -> bool:
    if not target.exists():
        return False
    if not target.is_dir():
        return True  # a file in the way: refused as a folder that is not empty
    return any(target.iterdir())


def _swap(fresh: Path, target: Path) -> None:
    """``fresh`` in place of ``target``: the old one set aside first, removed after."""
    if not target.exists():
        os.rename(fresh, target)
        return
    if target.is_dir() and not any(target.iterdir()):
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
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink()
