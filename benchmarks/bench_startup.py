"""How long the ``civicflow`` command takes to start, against Python importing its libraries.

    python benchmarks/bench_startup.py [--runs 21]

Runs each of these in a fresh subprocess, alternating, ``--runs`` times, with
``src/`` of this checkout first on ``PYTHONPATH``:

(a) the baseline: ``python -c "import eventsourcing.application, pydantic"``;
(b) ``civicflow --version``, (c) ``civicflow --help``, (d) ``civicflow verify --help``,
    each as the console script runs it (``from civicflow.cli import main``);
(e) what a real command pays before its work: ``import civicflow; civicflow.CivicFlow``.

It prints the median wall clock and CPU time (user + system, of the child) of
each, and each one's ratio to the baseline; the target is (b), (c) and (d) at
most 2x the baseline (issue 13). (e) has no target: it shows what the
application costs to import. Figures: docs/performance.md, "CLI start-up".
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
TARGET = 2.0
CLI = "import sys; from civicflow.cli import main; sys.exit(main())"  # the console script
COMMANDS: dict[str, list[str]] = {
    "(a) import eventsourcing.application, pydantic": [
        "-c",
        "import eventsourcing.application, pydantic",
    ],
    "(b) civicflow --version": ["-c", CLI, "--version"],
    "(c) civicflow --help": ["-c", CLI, "--help"],
    "(d) civicflow verify --help": ["-c", CLI, "verify", "--help"],
    "(e) import civicflow; civicflow.CivicFlow": ["-c", "import civicflow; civicflow.CivicFlow"],
}
TARGETED = ("(b)", "(c)", "(d)")


def timed(arguments: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall clock and the child's CPU time (user + system) of one run, in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, *arguments], env=env, check=True, stdout=subprocess.DEVNULL
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(runs: int) -> dict[str, tuple[float, float]]:
    """Median wall clock and CPU time per command, the commands alternating run by run."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), _path()]))}
    for arguments in COMMANDS.values():  # warm the file cache and the bytecode
        timed(arguments, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, arguments in COMMANDS.items():
            samples[name].append(timed(arguments, env))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in samples.items()
    }


def report(medians: dict[str, tuple[float, float]], runs: int) -> int:
    """Print the table; 1 when a targeted command is over the target (by wall clock), else 0."""
    base_wall, base_cpu = next(iter(medians.values()))
    print(f"\nCLI start-up: {runs} runs each, alternating, fresh processes; medians")
    print(f"{'':<48} {'wall ms':>8} {'ratio':>6} {'CPU ms':>8} {'ratio':>6}")
    over = False
    for name, (wall, cpu) in medians.items():
        ratio = wall / base_wall
        targeted = name.startswith(TARGETED)
        over |= targeted and ratio > TARGET
        mark = f"  target <= {TARGET:.0f}x" if targeted else ""
        print(
            f"{name:<48} {wall * 1000:>8.0f} {ratio:>5.2f}x "
            f"{cpu * 1000:>8.0f} {cpu / base_cpu:>5.2f}x{mark}"
        )
    print("start-up within target" if not over else "start-up OVER TARGET")
    return int(over)


def _path() -> str:
    return os.environ.get("PYTHONPATH", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--quick", action="store_true", help="fewer runs (9)")
    args = parser.parse_args(argv)
    runs = 9 if args.quick else args.runs
    return report(measure(runs), runs)


if __name__ == "__main__":
    raise SystemExit(main())
