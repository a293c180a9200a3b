"""Clips animated locally from the first frame: a slow zoom and pan, encoded as H.264."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import imageio_ffmpeg
import numpy as np
from PIL import Image

from pipeline.errors import ProviderError
from pipeline.models import Scene, VideoFormat
from pipeline.providers.base import ClipMaker

ZOOM = 0.14  # how far the camera pushes in over the clip
# BT.601 limited range, what ffmpeg assumes for untagged yuv420p (and what its own rgb24 conversion wrote before).
_RGB_TO_YCBCR = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])


def ken_burns_views(frames: int, seed: int) -> Iterator[tuple[float, float, float]]:
    """For each frame, the view as (scale, x0, y0): the share of the image in view and its top-left corner, in
    shares of the width and height, moving smoothly from a wide to a closer view."""
    rng = random.Random(seed)
    zoom_in = rng.random() < 0.7
    pan_x, pan_y = rng.uniform(-1, 1), rng.uniform(-1, 1)
    for i in range(frames):
        t = i / max(1, frames - 1)
        ease = t * t * (3 - 2 * t)
        scale = 1 - ZOOM * (ease if zoom_in else 1 - ease)
        slack = (1 - scale) / 2
        yield scale, slack + pan_x * slack * (ease - 0.5), slack + pan_y * slack * (ease - 0.5)


def ken_burns_frames(image: Image.Image, frames: int, seed: int) -> Iterator[np.ndarray]:
    """Yield `frames` RGB arrays of the slow zoom and pan (for callers that want pictures, not an encoded clip)."""
    w, h = image.size
    for scale, x0, y0 in ken_burns_views(frames, seed):
        # An affine map from output to source pixels keeps the motion sub-pixel smooth, unlike integer crops.
        yield np.asarray(image.transform((w, h), Image.Transform.AFFINE, (scale, 0, x0 * w, 0, scale, y0 * h),
                                         Image.Resampling.BILINEAR))


def yuv420_planes(image: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """The picture as its Y plane and its half-size Cb and Cr planes (each chroma sample the mean of four)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    ycc = np.clip(rgb @ _RGB_TO_YCBCR.T.astype(np.float32) + _YCBCR_OFFSET.astype(np.float32) + 0.5, 0, 255)
    y, cb, cr = (Image.fromarray(ycc[..., i].astype(np.uint8)) for i in range(3))
    return y, cb.reduce(2), cr.reduce(2)


def ken_burns_yuv_frames(image: Image.Image, frames: int, seed: int) -> Iterator[bytes]:
    """Yield `frames` raw yuv420p frames of the same zoom and pan. Each plane is moved at its own size (half the
    pixels of RGB, and no conversion left for ffmpeg) by a resize of a sub-pixel box, which Pillow does in two
    separable passes, about twice as fast as the general affine transform."""
    planes = yuv420_planes(image)
    for scale, x0, y0 in ken_burns_views(frames, seed):
        yield b"".join(
            plane.resize(plane.size, Image.Resampling.BILINEAR,
                         box=(x0 * plane.width, y0 * plane.height, (x0 + scale) * plane.width,
                              (y0 + scale) * plane.height)).tobytes()
            for plane in planes)


def encode_frames(frames, dest: Path, fmt: VideoFormat, preset: str = "veryfast", crf: int = 20,
                  pix_fmt_in: str = "rgb24") -> None:
    """Stream raw frames (RGB arrays, or `pix_fmt_in` bytes) into ffmpeg's H.264 encoder."""
    writer = imageio_ffmpeg.write_frames(
        str(dest), fmt.size, pix_fmt_in=pix_fmt_in, fps=fmt.fps, codec="libx264", pix_fmt_out="yuv420p",
        macro_block_size=2, output_params=["-preset", preset, "-crf", str(crf), "-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)
    try:
        for frame in frames:
            writer.send(frame if isinstance(frame, bytes) else np.ascontiguousarray(frame))
    finally:
        writer.close()


class OfflineClipMaker(ClipMaker):
    """Animates the first frame locally; no key, no network, no cost."""

    name: ClassVar[str] = "offline"
    model = "ken-burns-v1"

    def make_clip(self, scene: Scene, frame: Path, fmt: VideoFormat, seed: int, dest: Path) -> tuple[str | None, float]:
        with Image.open(frame) as img:
            image = img.convert("RGB").resize(fmt.size, Image.Resampling.LANCZOS) if img.size != fmt.size else img.convert("RGB")
        try:
            # ultrafast: the render decodes and encodes this clip again, so a slower preset's smaller file buys
            # nothing but CPU time (three times as much for veryfast); crf 20 keeps the card's grain through it.
            encode_frames(ken_burns_yuv_frames(image, round(scene.seconds * fmt.fps), seed), dest, fmt,
                          preset="ultrafast", crf=20, pix_fmt_in="yuv420p")
        except (OSError, RuntimeError) as exc:
            raise ProviderError(f"ffmpeg could not encode the offline clip ({exc}); check free disk space.") from exc
        return None, 0.0
