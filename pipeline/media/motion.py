"""Moving stills: a picture and the shots that animate it (wide and close framings cut every few seconds, each
with a slow zoom and pan), kept as one PNG and moved frame by frame while the render streams. An offline clip was
once encoded to H.264 only for the render to decode it again; a moving still skips both, and the render gets the
frames without the codec's loss."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, PngImagePlugin

from pipeline.errors import RenderError
from pipeline.models import Model, VideoFormat

MOTION_KEY = "shorts-motion"  # the PNG text chunk that holds the motion
# The camera's speed is set per second, never per clip, so a long scene moves as much each second as a short one.
ZOOM_PER_SECOND = 0.03  # the view grows or shrinks by this share of itself each second
PAN_PER_SECOND = 0.03  # and slides by this share of its own size each second
SHOT_SECONDS, MAX_SHOT_SECONDS = 2.5, 2.8  # a scene is cut into shots of about this length, never longer
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# BT.601 limited range, what ffmpeg assumes for untagged yuv420p (and what its own rgb24 conversion writes).
_RGB_TO_YCBCR = np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]) / 255
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0])

View = tuple[float, float, float]  # (scale, x0, y0): the share of the picture in view and its top-left corner
Framing = Literal["card", "picture"]


class Motion(Model):
    """How a moving still moves: its shots (chosen by `seed`, framed for a title card or any picture) at `fps`.

    `frames` is the scene's planned length; the render asks for as many frames as the scene lasts and gets them.
    A "ken-burns-v1" still (one slow zoom over the whole scene) is played as shots of a card too, so it never holds.
    """

    kind: Literal["ken-burns-v1", "shots-v1"] = "shots-v1"
    frames: int
    fps: int
    seed: int
    framing: Framing = "card"


@dataclass(frozen=True)
class Shot:
    """One framing of the picture: the widest view (`scale` at centre `cx`, `cy`), how it pans (in its own widths
    per second) and the lowest edge the view may reach (a card's pictogram shot stays above its headline)."""

    scale: float
    cx: float
    cy: float
    pan: tuple[float, float] = (0.0, 0.0)
    bottom: float = 1.0

    def view(self, t: float, zoom_in: bool) -> View:
        """The view `t` seconds into the shot; zooming out starts as close as zooming in ends at the longest shot."""
        start = self.scale if zoom_in else self.scale * math.exp(-ZOOM_PER_SECOND * MAX_SHOT_SECONDS)
        scale = min(start * math.exp((-1 if zoom_in else 1) * ZOOM_PER_SECOND * t), self.bottom)
        cx, cy = self.cx + self.pan[0] * start * t, self.cy + self.pan[1] * start * t
        return (scale, min(max(cx - scale / 2, 0.0), 1 - scale), min(max(cy - scale / 2, 0.0), self.bottom - scale))

    def mirrored(self) -> Shot:
        """The same shot seen in a mirror: on the other side, panning the other way (up instead of down)."""
        return replace(self, cx=1 - self.cx, pan=(-self.pan[0], -self.pan[1]))


# Shots that look good on a title card (see pipeline.providers.offline.title_card): the whole card, a punch-in on
# the pictogram that stops short of the headline (which starts at 0.295 of the height), and the pictogram with
# the headline, never narrower than the headline's widest line (0.74 of the width). Any other picture gets the
# whole of it, a detail of its middle, and a drift across one side.
WIDE = {
    "card": (Shot(1.0, 0.5, 0.47, pan=(PAN_PER_SECOND / 3, 0.0)), Shot(0.86, 0.5, 0.43, pan=(0.0, PAN_PER_SECOND / 2))),
    "picture": (Shot(1.0, 0.5, 0.5, pan=(PAN_PER_SECOND / 3, 0.0)), Shot(0.72, 0.36, 0.48, pan=(PAN_PER_SECOND, 0.0))),
}
CLOSE = {
    "card": Shot(0.29, 0.5, 0.19, pan=(PAN_PER_SECOND, 0.0), bottom=0.29),
    "picture": Shot(0.55, 0.5, 0.42, pan=(PAN_PER_SECOND, 0.0)),
}


def shot_lengths(frames: int, fps: int) -> list[int]:
    """`frames` cut into near-equal shots of about SHOT_SECONDS, none over MAX_SHOT_SECONDS."""
    count = max(1, round(frames / (SHOT_SECONDS * fps)), math.ceil(frames / (MAX_SHOT_SECONDS * fps)))
    return [frames * (i + 1) // count - frames * i // count for i in range(count)]


def shot_views(frames: int, fps: int, seed: int, framing: Framing = "card") -> Iterator[View]:
    """For each of `frames` frames, the view: wide shots and close ones in turn (so every cut is a clear change of
    size), each moving at the same speed whatever the scene's length, the direction of each chosen by `seed`."""
    rng = random.Random(seed)
    for number, length in enumerate(shot_lengths(frames, fps)):
        shot = CLOSE[framing] if number % 2 else WIDE[framing][number // 2 % 2]
        if rng.random() < 0.5:
            shot = shot.mirrored()
        zoom_in = rng.random() < 0.6
        for i in range(length):
            yield shot.view(i / fps, zoom_in)


def yuv420_planes(image: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """The picture as its Y plane and its half-size Cb and Cr planes (each chroma sample the mean of four)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    ycc = np.clip(rgb @ _RGB_TO_YCBCR.T.astype(np.float32) + _YCBCR_OFFSET.astype(np.float32) + 0.5, 0, 255)
    y, cb, cr = (Image.fromarray(ycc[..., i].astype(np.uint8)) for i in range(3))
    return y, cb.reduce(2), cr.reduce(2)


def still_yuv_frames(
    image: Image.Image, frames: int, fps: int, seed: int, framing: Framing = "card"
) -> Iterator[np.ndarray]:
    """Yield `frames` I420 frames (see pipeline.render.overlay) of the same shots. Each plane is moved at its
    own size (half the pixels of RGB, and no conversion after) by a resize of a sub-pixel box, which Pillow does
    in two separable passes, about twice as fast as the general affine transform."""
    planes = yuv420_planes(image)
    width, height = image.size
    for scale, x0, y0 in shot_views(frames, fps, seed, framing):
        data = b"".join(
            plane.resize(
                plane.size,
                Image.Resampling.BILINEAR,
                box=(x0 * plane.width, y0 * plane.height, (x0 + scale) * plane.width, (y0 + scale) * plane.height),
            ).tobytes()
            for plane in planes
        )
        yield np.frombuffer(data, np.uint8).reshape(height * 3 // 2, width)


def save_moving_still(
    image: Image.Image, fmt: VideoFormat, seconds: float, seed: int, dest: Path, framing: Framing = "card"
) -> None:
    """Write the picture, fitted to `fmt`, and its motion (planned for `seconds`) as one PNG (fast compression:
    the store keeps it, nobody downloads it)."""
    if image.size != fmt.size:
        image = image.resize(fmt.size, Image.Resampling.LANCZOS)
    info = PngImagePlugin.PngInfo()
    info.add_text(
        MOTION_KEY, Motion(frames=round(seconds * fmt.fps), fps=fmt.fps, seed=seed, framing=framing).model_dump_json()
    )
    image.convert("RGB").save(dest, format="PNG", pnginfo=info, compress_level=1)


def is_moving_still(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(_PNG_SIGNATURE)) == _PNG_SIGNATURE


def moving_still_frames(path: Path, fmt: VideoFormat, count: int) -> Generator[np.ndarray, None, None]:
    """`count` I420 frames of a moving still, as the render's decoder gives a clip's: its shots are cut to the
    length the render asks for, whatever length was planned, so it never runs out and never holds."""
    try:
        with Image.open(path) as img:
            motion = Motion.model_validate(json.loads(img.text[MOTION_KEY]))
            image = img.convert("RGB")
    except (OSError, KeyError, ValueError) as exc:  # ValueError: pydantic's and json's errors
        raise RenderError(
            f"{path.name} is not a moving still this version can read ({exc}); remake this clip."
        ) from exc
    if image.size != fmt.size or motion.fps != fmt.fps:
        raise RenderError(
            f"{path.name} was made for {image.width}x{image.height} at {motion.fps} fps, not "
            f"{fmt.width}x{fmt.height} at {fmt.fps}; remake this clip."
        )
    yield from still_yuv_frames(image, count, fmt.fps, motion.seed, motion.framing)
