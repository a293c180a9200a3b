"""Benchmark: the ledger's calls a paid task makes (open, reserve, update, latest), on the SQLite file and, when a
URL is given, on Postgres.

    python benchmarks/ledger.py [--tasks 200] [--postgres postgresql://...]

Reports milliseconds per call (median over `--tasks`), for opening a ledger (which checks its migrations) and for
each call. Every call opens its own connection, as the pipeline does.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pipeline.state.ledger import DONE, Ledger


def measure(path: Path, url: str | None, tasks: int) -> dict[str, float]:
    """Median milliseconds per call."""
    times: dict[str, list[float]] = {"open": [], "reserve": [], "update": [], "latest": []}

    def timed(name: str, call):
        started = time.perf_counter()
        result = call()
        times[name].append((time.perf_counter() - started) * 1000)
        return result

    for i in range(tasks):
        ledger = timed("open", lambda: Ledger(path, url=url))
        row = timed(
            "reserve",
            lambda: ledger.reserve(key=f"k{i}", provider="runway", kind="clip", model="m", estimate=1, daily_cap=10**9),
        )
        timed("update", lambda: ledger.update(row, task_id=f"t{i}-{time.time_ns()}", status=DONE))
        timed("latest", lambda: ledger.latest("runway", f"k{i}"))
    return {name: round(statistics.median(values), 2) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--postgres", help="a postgresql:// URL of an empty database to write to")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print("sqlite  ", measure(Path(folder) / "ledger.sqlite", None, args.tasks))
    if args.postgres:
        print("postgres", measure(Path("unused.sqlite"), args.postgres, args.tasks))


if __name__ == "__main__":
    main()
