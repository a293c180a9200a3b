"""Benchmark: what an offline clip costs, from its first frame to the frames the render streams.

    python benchmarks/offline_clips.py [--seconds 5] [--clips 6] [--repeat 3]

For title-card first frames at 720x1280, 24 fps, three ways of making a `--seconds` clip, each timed as the
clip step (making the clip file) plus the render's share (turning that file into the I420 frames it streams):
  h264, RGB affine, veryfast   the offline clip before issue 18 (an encoded clip, decoded again by the render)
  h264, YUV planes, ultrafast  the first speed-up (the same shots on the Y, U and V planes, a cheaper encode)
  moving still                 now: a PNG and its motion, moved by the render itself; no encode, no decode
It prints, per way, the medians over `--repeat` rounds of the CPU time per clip (this process and its ffmpeg
children; it holds steadier than wall time on a shared machine), and the wall time of the clip step for `--clips`
clips made at once, as a run's clip tasks are, then each way's CPU ratio to the first.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from encode import encode_frames, still_frames
from PIL import Image

from pipeline.media.motion import (
    moving_still_frames,
    save_moving_still,
    still_yuv_frames,
)
from pipeline.models import Scene, VideoFormat
from pipeline.providers.offline.title_card import draw_title_card, plan_title_card
from pipeline.render.stitch import decode

FORMAT = VideoFormat()


def h264_rgb(image: Image.Image, frames: int, seed: int, dest: Path) -> Path:
    path = dest.with_suffix(".mp4")
    encode_frames(still_frames(image, frames, FORMAT.fps, seed), path, FORMAT, preset="veryfast", crf=20)
    return path


def h264_yuv(image: Image.Image, frames: int, seed: int, dest: Path) -> Path:
    path = dest.with_suffix(".mp4")
    encode_frames(
        still_yuv_frames(image, frames, FORMAT.fps, seed),
        path,
        FORMAT,
        preset="ultrafast",
        crf=20,
        pix_fmt_in="yuv420p",
    )
    return path


def moving_still(image: Image.Image, frames: int, seed: int, dest: Path) -> Path:
    path = dest.with_suffix(".png")
    save_moving_still(image, FORMAT, frames / FORMAT.fps, seed, path)
    return path


def stream(path: Path, frames: int) -> int:
    """The frames the render would pull from this clip (its decoder's work), counted."""
    source = moving_still_frames(path, FORMAT, frames) if path.suffix == ".png" else decode(path, FORMAT, frames)
    return sum(1 for _ in source)


WAYS: dict[str, Callable[[Image.Image, int, int, Path], Path]] = {
    "h264, RGB affine, veryfast": h264_rgb,
    "h264, YUV planes, ultrafast": h264_yuv,
    "moving still": moving_still,
}


def cpu() -> float:
    """CPU seconds of this process and its finished children (the ffmpeg encoders and decoders)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frames = round(args.seconds * FORMAT.fps)
    scene = Scene(
        index=1,
        narration="An octopus can change its colour in less than a second.",
        first_frame_prompt="Close-up of an octopus on a coral reef",
        motion_prompt="slow push in",
        seconds=args.seconds,
    )
    cards = [
        draw_title_card(plan_title_card(scene.model_copy(update={"index": i + 1}), "", i), FORMAT)
        for i in range(args.clips)
    ]
    made: dict[str, list[float]] = {w: [] for w in WAYS}
    rendered: dict[str, list[float]] = {w: [] for w in WAYS}
    walls: dict[str, list[float]] = {w: [] for w in WAYS}
    with tempfile.TemporaryDirectory(prefix="shorts-clips-") as tmp:
        for round_ in range(args.repeat):
            for number, (name, way) in enumerate(WAYS.items()):
                folder = Path(tmp) / f"{round_}-{number}"
                folder.mkdir()
                before = cpu()
                path = way(cards[0], frames, 1, folder / "one")
                middle = cpu()
                assert stream(path, frames) == frames
                made[name].append(middle - before)
                rendered[name].append(cpu() - middle)
                started = time.perf_counter()
                with ThreadPoolExecutor(args.clips) as pool:
                    list(pool.map(lambda i: way(cards[i], frames, i, folder / f"clip{i}"), range(args.clips)))
                walls[name].append(time.perf_counter() - started)
    first = None
    print(
        f"{args.seconds:g} s clips at {FORMAT.width}x{FORMAT.height}, {FORMAT.fps} fps; medians of {args.repeat}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for name in WAYS:
        step, render = statistics.median(made[name]), statistics.median(rendered[name])
        first = first or step + render
        print(
            f"  {name:28s} CPU per clip {step + render:5.2f} s (clip step {step:4.2f} s, render's share "
            f"{render:4.2f} s) = {first / (step + render):4.1f}x less; {args.clips} clips at once "
            f"{statistics.median(walls[name]):5.2f} s wall"
        )


if __name__ == "__main__":
    main()
