"""How long ``civicflow demo`` takes and how much memory it holds, for a district and a city.

    python benchmarks/bench_demo.py [--quick] [--runs N]

Runs ``civicflow demo`` in a fresh subprocess (the console script, ``src/`` of this
checkout first on ``PYTHONPATH``) on a new SQLite file: the district of the seed
(304 compounds), then a city of districts like it (``--compounds 304 * D``: ten
districts, or two with ``--quick``). For each it prints the wall clock and the
child's peak resident memory (its own ``VmHWM``, read by the child as it ends:
``ru_maxrss`` from ``os.wait4`` also counts the copy of this process the child was
before ``exec``, and is used only where there is no ``/proc``), medians over
``--runs``; then the issue 13 targets: the district within 150 MB, the city within D
times the district's time and within the district's memory target.
Figures: docs/performance.md, "The demo".
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
# The console script, then the process's own peak (``VmHWM``) written where told: the
# ``ru_maxrss`` that ``wait4`` gives also counts what the child held before ``exec``, a
# copy of this process (100 MB and more when ``run.py`` runs this after other benchmarks).
CLI = (
    "import os, sys\n"
    "from civicflow.cli import main\n"
    "code = main()\n"
    "if os.path.exists('/proc/self/status'):\n"
    "    with open('/proc/self/status') as status:\n"
    "        peak = next(line.split()[1] for line in status if line.startswith('VmHWM'))\n"
    "    with open(os.environ['BENCH_DEMO_PEAK'], 'w') as out:\n"
    "        out.write(peak)\n"
    "sys.exit(code)"
)
DISTRICT = 304  # compounds
MEMORY_TARGET_MB = 150.0


def run_demo(compounds: int) -> tuple[float, float]:
    """Wall clock (s) and peak RSS (MB) of one ``civicflow demo`` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with tempfile.TemporaryDirectory(prefix="civicflow-bench-demo-") as folder:
        told = Path(folder) / "peak"
        env["BENCH_DEMO_PEAK"] = str(told)
        arguments = ["-c", CLI, "demo", "--db", f"sqlite:///{Path(folder) / 'demo.db'}"]
        arguments += ["--compounds", str(compounds), "--json"]
        started = time.perf_counter()
        child = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, *arguments],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        # Without /proc (not Linux), wait4's figure: on Linux, KiB.
        peak = int(told.read_text()) if told.exists() else usage.ru_maxrss
    if child.returncode:
        raise SystemExit(f"civicflow demo --compounds {compounds} failed ({child.returncode})")
    return wall, peak / 1024


def measure(compounds: int, runs: int) -> tuple[float, float]:
    found = [run_demo(compounds) for _ in range(runs)]
    return statistics.median(w for w, _ in found), statistics.median(m for _, m in found)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a city of two districts")
    parser.add_argument("--runs", type=int, default=1, help="runs of each, medians")
    args = parser.parse_args(argv)
    districts = 2 if args.quick else 10
    print(f"\n== civicflow demo: a district, then a city of {districts} districts (SQLite)")
    district_s, district_mb = measure(DISTRICT, args.runs)
    print(
        f"   district ({DISTRICT} compounds): {district_s:.1f} s, peak RSS {district_mb:.0f} MB;"
        f" target <= {MEMORY_TARGET_MB:.0f} MB ({verdict(district_mb <= MEMORY_TARGET_MB)})"
    )
    city_s, city_mb = measure(DISTRICT * districts, args.runs)
    ratio = city_s / district_s
    print(f"   city ({DISTRICT * districts} compounds): {city_s:.1f} s, peak RSS {city_mb:.0f} MB")
    print(
        f"   city / district time: {ratio:.1f}x; target <= {districts}x "
        f"({verdict(ratio <= districts)}); city memory target <= {MEMORY_TARGET_MB:.0f} MB "
        f"({verdict(city_mb <= MEMORY_TARGET_MB)})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
