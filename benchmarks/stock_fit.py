"""Benchmark: fitting a downloaded stock clip to a scene (cut, scale and crop to 720x1280, re-encode).

    python benchmarks/stock_fit.py [--source 1080x1920] [--seconds 5] [--repeat 3]

Makes a moving test clip the size stock sites serve (Pexels' "hd" portrait files are 720x1280 or 1080x1920, 25-30
fps), then times `fit_video` for a scene of `--seconds`, as each scene's clip task runs it after the download.
Prints the median and the machine's load average, since it shares its cores."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from encode import encode_frames

from pipeline.models import VideoFormat
from pipeline.providers.folder.files import fit_video


def source_clip(path: Path, width: int, height: int, seconds: float, fps: int = 30) -> None:
    """A clip with texture and motion (a drifting gradient and a moving bar), so the encoders have work to do."""
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(int(seconds * fps)):
        frame = np.stack([(x + 4 * i) % 256, (y + 2 * i) % 256, (x + y) // 8 % 256], axis=-1).astype(np.uint8)
        frame[:, (i * 24) % width : (i * 24) % width + 24] = 240
        frames.append(frame)
    encode_frames(frames, path, VideoFormat(width=width, height=height, fps=fps))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default="1080x1920")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(n) for n in args.source.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "stock.mp4"
        source_clip(source, width, height, args.seconds * 1.6)
        times = []
        for run in range(args.repeat):
            started = time.perf_counter()
            fit_video(source, Path(tmp) / f"fitted-{run}.mp4", VideoFormat(), args.seconds)
            times.append(time.perf_counter() - started)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"fit {args.source} -> 720x1280, {args.seconds:g} s scene (+50% slack): median {statistics.median(times):.2f} s "
        f"over {args.repeat} runs (min {min(times):.2f}, max {max(times):.2f}); load average {load}"
    )


if __name__ == "__main__":
    main()
