"""Benchmark: what a person waits for in `shorts make`, split by step: cold and warm start, first run and rerun.

    python benchmarks/startup.py [--topic "How octopuses change colour"] [--seconds 30] [--reruns 5]

In a new SHORTS_HOME (no keys, offline providers), runs the README's Short four times:
  cold first run   no background Prefect server yet, nothing cached
  warm rerun       the same Short again: everything reused
  warm first run   --fresh (make everything again) with the server up
  warm rerun       again
and prints, for each, the wall time, the steps' own time (the sum of the "✓ step (N s)" lines) and the rest
(start-up: imports, the Prefect server, the flow run), the machine's 1-minute load average when it started (other
work on the machine slows every run), then the rerun's share of the first run. Then, as one run swings by a second
on a busy machine, it reruns the Short --reruns more times and prints the median of each figure. The server is
stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHORTS = str(Path(sys.executable).parent / "shorts")
STEP = re.compile(r"✓ (.+?) \(([\d.]+) s\)")
KEYS = ("OPENAI_", "RUNWAY", "RUNWARE_", "PEXELS_", "PIXABAY_", "SHORTS_", "PREFECT_API")


def run(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, float]]:
    started = time.perf_counter()
    done = subprocess.run([SHORTS, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"`shorts {' '.join(args)}` failed:\n{done.stderr[-3000:]}")
    return wall, {m[1]: float(m[2]) for m in STEP.finditer(done.stderr)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="How octopuses change colour")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--reruns", type=int, default=5, help="more warm reruns, for their median")
    opts = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="shorts-startup-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(KEYS)}
    env.update(SHORTS_HOME=str(home / "home"), SHORTS_OUTPUT_DIR=str(home / "out"), OLLAMA_HOST="127.0.0.1:9")
    make = ["make", opts.topic, "--seconds", str(opts.seconds)]
    rows = []
    try:
        for name, extra in (
            ("cold first run", []),
            ("warm rerun", []),
            ("warm first run", ["--fresh"]),
            ("warm rerun", []),
        ):
            load = os.getloadavg()[0]
            wall, steps = run(make + extra, env)
            rows.append((name, wall, steps))
            print(
                f"{name:15s} {wall:6.1f} s wall, steps {sum(steps.values()):5.1f} s, start-up and the rest "
                f"{wall - sum(steps.values()):4.1f} s, load {load:.1f} | "
                + ", ".join(f"{k} {v:.1f}" for k, v in steps.items()),
                flush=True,
            )
        more = []
        for _ in range(opts.reruns):
            load = os.getloadavg()[0]
            wall, steps = run(make, env)
            more.append((wall, sum(steps.values()), wall - sum(steps.values()), load))
        if more:
            walls, sums, rests, loads = (sorted(column) for column in zip(*more, strict=False))
            print(
                f"{opts.reruns} more warm reruns, median: {statistics.median(walls):.1f} s wall, steps "
                f"{statistics.median(sums):.1f} s, start-up and the rest {statistics.median(rests):.1f} s "
                f"({rests[0]:.1f}-{rests[-1]:.1f}), load {loads[0]:.1f}-{loads[-1]:.1f}",
                flush=True,
            )
    finally:
        subprocess.run([SHORTS, "server", "stop"], env=env, capture_output=True)
    first, rerun = rows[2][1], rows[3][1]
    print(
        f"rerun / first run: {rows[1][1]:.1f} / {rows[0][1]:.1f} s = {rows[1][1] / rows[0][1]:.0%} (cold), "
        f"{rerun:.1f} / {first:.1f} s = {rerun / first:.0%} (warm)"
    )


if __name__ == "__main__":
    main()
