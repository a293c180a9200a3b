"""Benchmark: how long an offline first frame (a title card) takes to plan and draw, and to save as PNG.

    python benchmarks/title_cards.py [--repeat 20] [--size 720x1280]

Cards for varied scenes, drawn one after another in this process (fonts loaded once, as in a run), saved as the
offline image maker saves them; prints the median wall and CPU times (CPU holds steadier on a loaded machine)."""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

from pipeline.models import Scene, VideoFormat
from pipeline.providers.offline.title_card import draw_title_card, plan_title_card

LINES = [
    ("An octopus can change its colour in less than a second.", "Close-up of an octopus on a coral reef"),
    ("The Roman Empire built roads that still carry traffic today.", "An ancient Roman road at sunset"),
    ("Your brain uses about twenty percent of your body's energy.", "A glowing human brain"),
    ("Scientists still argue about black holes, and every answer opens two more questions.", "A black hole"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--size", default="720x1280")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    fmt = VideoFormat(width=width, height=height, fps=24)
    draw_title_card(plan_title_card(_scene(0), "", 0), fmt)  # warm up: fonts, numpy
    draws, saves, cpu_draws, cpu_saves = [], [], [], []
    for i in range(args.repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        image = draw_title_card(plan_title_card(_scene(i), "", i), fmt)
        drawn, cpu_drawn = time.perf_counter(), time.process_time()
        image.save(io.BytesIO(), format="PNG", compress_level=1)
        draws.append(drawn - started)
        cpu_draws.append(cpu_drawn - cpu_started)
        saves.append(time.perf_counter() - drawn)
        cpu_saves.append(time.process_time() - cpu_drawn)
    ms = lambda values: f"{1000 * statistics.median(values):.0f} ms"  # noqa: E731
    print(
        f"{args.size}: draw {ms(draws)} wall, {ms(cpu_draws)} CPU; PNG {ms(saves)} wall, {ms(cpu_saves)} CPU; "
        f"medians of {args.repeat} cards, load average {os.getloadavg()[0]:.1f}"
    )


def _scene(i: int) -> Scene:
    narration, prompt = LINES[i % len(LINES)]
    return Scene(
        index=1 + i % 3, narration=narration, first_frame_prompt=prompt, motion_prompt="slow push in", seconds=5
    )


if __name__ == "__main__":
    main()
