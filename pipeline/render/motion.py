"""Moving stills: a picture and the slow zoom and pan that animates it, kept as one PNG and moved frame by frame
while the render streams. An offline clip was once encoded to H.264 only for the render to decode it again; a
moving still skips both, and the render gets the frames without the codec's loss."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Literal

import imageio_ffmpeg
import numpy as np
from PIL import Image, PngImagePlugin

from pipeline.errors import RenderError
from pipeline.models import Model, VideoFormat

ZOOM = 0.14  # how far the camera pushes in over the clip
MOTION_KEY = "shorts-motion"  # the PNG text chunk that holds the motion
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# BT.601 limited range, what ffmpeg assumes for untagged yuv420p (and what its own rgb24 conversion writes).
_RGB_TO_YCBCR = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])


class Motion(Model):
    """How a moving still moves: the camera path (chosen by `seed`) over `frames` frames at `fps`."""

    kind: Literal["ken-burns-v1"] = "ken-burns-v1"
    frames: int
    fps: int
    seed: int


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
    """Yield `frames` RGB arrays of the slow zoom and pan (the reference picture, and clips for benchmarks)."""
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


def ken_burns_yuv_frames(image: Image.Image, frames: int, seed: int) -> Iterator[np.ndarray]:
    """Yield `frames` I420 frames (see pipeline.render.overlay) of the same zoom and pan. Each plane is moved at its
    own size (half the pixels of RGB, and no conversion after) by a resize of a sub-pixel box, which Pillow does
    in two separable passes, about twice as fast as the general affine transform."""
    planes = yuv420_planes(image)
    width, height = image.size
    for scale, x0, y0 in ken_burns_views(frames, seed):
        data = b"".join(
            plane.resize(plane.size, Image.Resampling.BILINEAR,
                         box=(x0 * plane.width, y0 * plane.height, (x0 + scale) * plane.width,
                              (y0 + scale) * plane.height)).tobytes()
            for plane in planes)
        yield np.frombuffer(data, np.uint8).reshape(height * 3 // 2, width)


def save_moving_still(image: Image.Image, fmt: VideoFormat, seconds: float, seed: int, dest: Path) -> None:
    """Write the picture, fitted to `fmt`, and a zoom and pan of `seconds` as one PNG (fast compression: the
    store keeps it, nobody downloads it)."""
    if image.size != fmt.size:
        image = image.resize(fmt.size, Image.Resampling.LANCZOS)
    info = PngImagePlugin.PngInfo()
    info.add_text(MOTION_KEY, Motion(frames=round(seconds * fmt.fps), fps=fmt.fps, seed=seed).model_dump_json())
    image.convert("RGB").save(dest, format="PNG", pnginfo=info, compress_level=1)


def is_moving_still(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(_PNG_SIGNATURE)) == _PNG_SIGNATURE


def moving_still_frames(path: Path, fmt: VideoFormat, count: int) -> Iterator[np.ndarray]:
    """Up to `count` I420 frames of a moving still, as the render's decoder gives a clip's."""
    try:
        with Image.open(path) as img:
            motion = Motion.model_validate(json.loads(img.text[MOTION_KEY]))
            image = img.convert("RGB")
    except (OSError, KeyError, ValueError) as exc:  # ValueError: pydantic's and json's errors
        raise RenderError(f"{path.name} is not a moving still this version can read ({exc}); remake this clip.") \
            from exc
    if image.size != fmt.size or motion.fps != fmt.fps:
        raise RenderError(f"{path.name} was made for {image.width}x{image.height} at {motion.fps} fps, not "
                          f"{fmt.width}x{fmt.height} at {fmt.fps}; remake this clip.")
    yield from islice(ken_burns_yuv_frames(image, motion.frames, motion.seed), count)


def encode_frames(frames: Iterable[np.ndarray | bytes], dest: Path, fmt: VideoFormat, preset: str = "veryfast",
                  crf: int = 20, pix_fmt_in: str = "rgb24") -> None:
    """Stream raw frames (RGB arrays, or `pix_fmt_in` arrays or bytes) into an H.264 clip, for what needs a real
    video file of a motion (benchmarks, test clips)."""
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
