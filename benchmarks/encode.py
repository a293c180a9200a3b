"""Real H.264 files of a motion, for the benchmarks and the tests (tests/video_files.py); the product never encodes
a clip of its own (an offline clip is a moving still, pipeline.media.motion)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from pipeline.media.motion import Framing, shot_views
from pipeline.models import VideoFormat


def encode_frames(
    frames: Iterable[np.ndarray | bytes],
    dest: Path,
    fmt: VideoFormat,
    preset: str = "veryfast",
    crf: int = 20,
    pix_fmt_in: str = "rgb24",
) -> None:
    """Stream raw frames (RGB arrays, or `pix_fmt_in` arrays or bytes) into an H.264 clip, for what needs a real
    video file of a motion (benchmarks, test clips)."""
    writer = imageio_ffmpeg.write_frames(
        str(dest),
        fmt.size,
        pix_fmt_in=pix_fmt_in,
        fps=fmt.fps,
        codec="libx264",
        pix_fmt_out="yuv420p",
        macro_block_size=2,
        output_params=["-preset", preset, "-crf", str(crf), "-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    try:
        for frame in frames:
            writer.send(frame if isinstance(frame, bytes) else np.ascontiguousarray(frame))
    finally:
        writer.close()


def still_frames(
    image: Image.Image, frames: int, fps: int, seed: int, framing: Framing = "card"
) -> Iterator[np.ndarray]:
    """Yield `frames` RGB arrays of the shots a moving still shows: the reference the tests compare the product's
    moving stills with, and clips for the benchmarks."""
    w, h = image.size
    for scale, x0, y0 in shot_views(frames, fps, seed, framing):
        # An affine map from output to source pixels keeps the motion sub-pixel smooth, unlike integer crops.
        yield np.asarray(
            image.transform(
                (w, h), Image.Transform.AFFINE, (scale, 0, x0 * w, 0, scale, y0 * h), Image.Resampling.BILINEAR
            )
        )
