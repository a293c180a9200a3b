"""Clips animated locally from the first frame: a slow zoom and pan, encoded as H.264."""

from __future__ import annotations

import random
from pathlib import Path
from typing import ClassVar

import imageio_ffmpeg
import numpy as np
from PIL import Image

from pipeline.errors import ProviderError
from pipeline.models import Scene, VideoFormat

ZOOM = 0.14  # how far the camera pushes in over the clip


def ken_burns_frames(image: Image.Image, frames: int, seed: int):
    """Yield `frames` RGB arrays moving smoothly (sub-pixel) from a wide to a closer view."""
    rng = random.Random(seed)
    w, h = image.size
    zoom_in = rng.random() < 0.7
    pan_x, pan_y = rng.uniform(-1, 1), rng.uniform(-1, 1)
    for i in range(frames):
        t = i / max(1, frames - 1)
        ease = t * t * (3 - 2 * t)
        scale = 1 - ZOOM * (ease if zoom_in else 1 - ease)  # share of the image in view
        slack_x, slack_y = w * (1 - scale) / 2, h * (1 - scale) / 2
        x0 = slack_x + pan_x * slack_x * (ease - 0.5)
        y0 = slack_y + pan_y * slack_y * (ease - 0.5)
        # Affine map from output pixels to source pixels keeps motion smooth, unlike integer crops.
        view = image.transform((w, h), Image.Transform.AFFINE, (scale, 0, x0, 0, scale, y0), Image.Resampling.BILINEAR)
        yield np.asarray(view)


def encode_frames(frames, dest: Path, fmt: VideoFormat, preset: str = "veryfast", crf: int = 20) -> None:
    """Stream RGB frames into ffmpeg's H.264 encoder."""
    writer = imageio_ffmpeg.write_frames(
        str(dest), fmt.size, fps=fmt.fps, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=2,
        output_params=["-preset", preset, "-crf", str(crf), "-movflags", "+faststart"], ffmpeg_log_level="error",
    )
    writer.send(None)
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
    finally:
        writer.close()


class OfflineClipMaker:
    """Animates the first frame locally; no key, no network, no cost."""

    name: ClassVar[str] = "offline"
    model = "ken-burns-v1"

    def make_clip(self, scene: Scene, frame: Path, fmt: VideoFormat, seed: int, dest: Path) -> tuple[str | None, float]:
        with Image.open(frame) as img:
            image = img.convert("RGB").resize(fmt.size, Image.Resampling.LANCZOS) if img.size != fmt.size else img.convert("RGB")
        try:
            encode_frames(ken_burns_frames(image, round(scene.seconds * fmt.fps), seed), dest, fmt)
        except (OSError, RuntimeError) as exc:
            raise ProviderError(f"ffmpeg could not encode the offline clip ({exc}); check free disk space.") from exc
        return None, 0.0
