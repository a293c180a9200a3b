"""Benchmark: how long an offline first frame (a title card) takes to plan and draw, and to save as PNG.

    python benchmarks/title_cards.py [--repeat 20] [--size 720x1280]

Cards for varied scenes, drawn one after another in this process (fonts loaded once, as in a run); prints the
median and the slowest, in milliseconds."""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time

from pipeline.models import Scene, VideoFormat
from pipeline.providers.title_card import draw_title_card, plan_title_card

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
    draws, saves = [], []
    for i in range(args.repeat):
        started = time.perf_counter()
        image = draw_title_card(plan_title_card(_scene(i), "", i), fmt)
        drawn = time.perf_counter()
        image.save(io.BytesIO(), format="PNG")
        draws.append(drawn - started)
        saves.append(time.perf_counter() - drawn)
    print(f"{args.size}: draw median {1000 * statistics.median(draws):.0f} ms (slowest {1000 * max(draws):.0f}), "
          f"PNG {1000 * statistics.median(saves):.0f} ms; {args.repeat} cards, load average "
          f"{os.getloadavg()[0]:.1f}")


def _scene(i: int) -> Scene:
    narration, prompt = LINES[i % len(LINES)]
    return Scene(index=1 + i % 3, narration=narration, first_frame_prompt=prompt, motion_prompt="slow push in",
                 seconds=5)


if __name__ == "__main__":
    main()
