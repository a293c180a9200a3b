"""Fitting media files to a scene: videos cut and scaled with ffmpeg, images cropped to the frame."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
from PIL import Image, ImageOps

from pipeline.errors import ProviderError, last_line
from pipeline.models import VideoFormat

# A clip keeps this much more than its scene's planned length: the render lengthens a scene to its narration.
SLACK = 1.5


def probe_video(path: Path) -> tuple[int, int, float]:
    """A video's (width, height, seconds) from its header; OSError or RuntimeError when ffmpeg cannot read it."""
    frames = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(frames)
    finally:
        frames.close()
    width, height = meta.get("size") or (0, 0)
    return int(width), int(height), float(meta.get("duration") or 0.0)


def fit_video(source: Path, dest: Path, fmt: VideoFormat, seconds: float) -> None:
    """Write the first `seconds` (with slack) of `source` to `dest`: H.264 at `fmt`, centre-cropped, no audio."""
    fit = (
        f"scale={fmt.width}:{fmt.height}:force_original_aspect_ratio=increase,"
        f"crop={fmt.width}:{fmt.height},setsar=1,fps={fmt.fps}"
    )
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-i",
        str(source),
        "-t",
        f"{seconds * SLACK:.3f}",
        "-an",
        "-sn",
        "-dn",
        "-vf",
        fit,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(dest),
    ]
    done = subprocess.run(cmd, capture_output=True)
    if done.returncode or not dest.is_file() or not dest.stat().st_size:
        raise ProviderError(
            f"ffmpeg could not fit {source.name} to the scene "
            f"({last_line(done.stderr, 'no detail')}); replace the file or use --video offline."
        )


def cover_image(source: Path, fmt: VideoFormat) -> Image.Image:
    """The image scaled to cover the format and centre-cropped, turned upright as its camera meant."""
    with Image.open(source) as img:
        return ImageOps.fit(ImageOps.exif_transpose(img).convert("RGB"), fmt.size, Image.Resampling.LANCZOS)
