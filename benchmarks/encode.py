"""Real H.264 files of a motion, for the benchmarks and the tests (tests/video_files.py); the product never encodes
a clip of its own (an offline clip is a moving still, pipeline.media.motion)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import imageio_ffmpeg
import numpy as np

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
