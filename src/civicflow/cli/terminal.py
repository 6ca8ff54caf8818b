"""Output for a person at a terminal: rich tables, colour, progress bars with rate and ETA.

Used only when the stream written to is a terminal (``isatty``) and ``TERM`` is not
``dumb``; piped output stays the plain, stable text of ``output`` (and ``--json`` is
JSON). ``NO_COLOR`` keeps the tables and bars and drops the colour, as rich does.
rich is imported here, inside the functions, only once something is drawn, so that
``--help`` and ``--version`` never load it (tests/test_startup.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

STAGE_STYLES = {
    "asked": "cyan",
    "discussing": "blue",
    "doing": "yellow",
    "done": "magenta",
    "rating": "bright_magenta",
    "rejected": "red",
    "closed": "green",
    "withdrawn": "dim",
}


def is_terminal(out: TextIO) -> bool:
    """Whether ``out`` is a terminal a person reads (not a pipe, a file, a dumb terminal)."""
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def console(out: TextIO) -> Any:
    from rich.console import Console

    return Console(file=out, highlight=False, soft_wrap=False)


def print_table(out: TextIO, head: list[str], rows: list[list[str]]) -> None:
    """Rows as a rich table that fits the terminal (cells folded or shortened to fit)."""
    from rich.table import Table

    from civicflow.cli.i18n import width

    writer = console(out)
    table = Table(header_style="bold", show_edge=False, pad_edge=False)
    content = [max([width(name)] + [width(row[i]) for row in rows]) for i, name in enumerate(head)]
    least = [min(width(name), 12) for name in head]
    sizes = fit(content, least, writer.size.width - 3 * (len(head) - 1))
    widest = max(range(len(head)), key=lambda i: content[i])
    for index, name in enumerate(head):  # the widest column wraps; the others keep one line
        wraps = index == widest
        table.add_column(
            name,
            no_wrap=not wraps,
            overflow="fold" if wraps else "ellipsis",
            max_width=sizes[index],
        )
    for row in rows:
        table.add_row(*(_styled(cell) for cell in row))
    writer.print(table)


def print_lines(out: TextIO, text: str, *, first: str = "bold") -> None:
    """Text whose first line is a heading (a step's summary, a verdict), in its style."""
    head, _, rest = text.partition("\n")
    writer = console(out)
    writer.print(head, style=first, markup=False)
    if rest:
        writer.print(rest, markup=False, end="")


def fit(widths: list[int], least: list[int], room: int) -> list[int]:
    """Column widths narrowed, the widest first, until they add up to ``room`` or less."""
    widths = list(widths)
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= max(least[widest], 8):
            break  # as narrow as it reads: the terminal wraps the rest
        widths[widest] -= 1
    return widths


def _styled(cell: str) -> Any:
    from rich.text import Text

    return Text(cell, style=STAGE_STYLES.get(cell, ""))


def progress_bar(stream: TextIO, what: str) -> Callable[[int, int], None]:
    """A progress callback ``(done, total)`` drawing a bar with count, rate and ETA."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console(stream),
        transient=False,
    )
    task: list[Any] = []

    def advance(done: int, total: int) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task(what, total=total, rate=""))
        speed = bar.tasks[0].speed
        bar.update(task[0], completed=done, rate=f"{speed:,.0f}/s" if speed else "")
        if done >= total:
            bar.stop()

    return advance


@contextmanager
def bar(what: str, *, wanted: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback ``(done, total)`` drawing a bar on stderr while a command runs.

    Only when both stdout and stderr are terminals and ``wanted`` (not ``--json``): a
    command piped or writing JSON gets None, and its output is exactly as without.
    The bar is gone when the command has finished (what it prints stays alone).
    """
    if not (wanted and is_terminal(sys.stdout) and is_terminal(sys.stderr)):
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn())
    drawn = Progress(*columns, TimeRemainingColumn(), console=console(sys.stderr), transient=True)
    with drawn:
        task = drawn.add_task(what, total=None)
        yield lambda done, total: drawn.update(task, completed=done, total=total)


__all__ = ["bar", "fit", "is_terminal", "print_lines", "print_table", "progress_bar"]
