"""Captions blended straight into I420 frames (the decoder's and the encoder's own format), in integer arithmetic.

A frame is one uint8 array of shape (height * 3 // 2, width): the Y plane, then the U and V planes at
half width and half height, as ffmpeg's rawvideo yuv420p lays them out. Working in that format spares
two whole-frame colour conversions and halves what crosses the pipes; blending is linear, so blending
in YUV gives what blending in RGB and then converting would.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pipeline.models import VideoFormat

# RGB to limited-range BT.601, ffmpeg's default for untagged video, in 8-bit fixed point.
_RGB_TO_YUV = np.array([[66, 129, 25], [-38, -74, 112], [112, -94, -18]], np.int32)
_OFFSET = (16, 128, 128)


class Overlay(NamedTuple):
    """An RGBA image ready to blend: per plane, colour times alpha and 255 minus alpha (uint16), and its corner."""

    luma: tuple[np.ndarray, np.ndarray]
    chroma: tuple[np.ndarray, np.ndarray, np.ndarray]  # U and V colour times alpha, and their shared inverse alpha
    x: int
    y: int


def planes(frame: np.ndarray, fmt: VideoFormat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of a frame's Y, U and V planes."""
    w, h = fmt.width, fmt.height
    quarter = w * h // 4
    flat = frame.reshape(-1)
    return (
        flat[: w * h].reshape(h, w),
        flat[w * h : w * h + quarter].reshape(h // 2, w // 2),
        flat[w * h + quarter :].reshape(h // 2, w // 2),
    )


def prepare(rgba: np.ndarray, x: int, y: int, fmt: VideoFormat) -> Overlay:
    """An RGBA image whose top-left corner goes at (x, y), cropped to the frame and padded to even edges."""
    rgba = rgba[: fmt.height - y, : fmt.width - x]
    left, top = x % 2, y % 2
    h, w = rgba.shape[:2]
    padded = np.zeros((top + h + (top + h) % 2, left + w + (left + w) % 2, 4), np.uint8)
    padded[top : top + h, left : left + w] = rgba
    alpha = padded[..., 3].astype(np.int32)
    premultiplied = [_channel(padded, k) * alpha for k in range(3)]
    quarter_alpha = _halve(alpha)
    return Overlay(
        luma=(premultiplied[0].astype(np.uint16), (255 - alpha).astype(np.uint16)),
        chroma=(
            _halve(premultiplied[1]).astype(np.uint16),
            _halve(premultiplied[2]).astype(np.uint16),
            (255 - quarter_alpha).astype(np.uint16),
        ),
        x=x - left,
        y=y - top,
    )


def blend(frame: np.ndarray, overlay: Overlay, fmt: VideoFormat) -> np.ndarray:
    """A copy of `frame` with `overlay` blended over its box; pixels outside the box are untouched."""
    frame = frame.copy()
    y_plane, u_plane, v_plane = planes(frame, fmt)
    x, y = overlay.x, overlay.y
    _mix(y_plane, x, y, *overlay.luma)
    u, v, inverse = overlay.chroma
    _mix(u_plane, x // 2, y // 2, u, inverse)
    _mix(v_plane, x // 2, y // 2, v, inverse)
    return frame


def _mix(plane: np.ndarray, x: int, y: int, premultiplied: np.ndarray, inverse: np.ndarray) -> None:
    h, w = inverse.shape
    region = plane[y : y + h, x : x + w]
    mixed = region * inverse  # uint16: at most 255 * 255, so nothing below overflows
    mixed += premultiplied
    mixed += 128  # then (v + (v >> 8)) >> 8 is round(v / 255), without a division
    mixed += mixed >> 8
    mixed >>= 8
    region[:] = mixed


def _channel(rgb: np.ndarray, k: int) -> np.ndarray:
    """Plane k (Y, U or V) of an RGB(A) image, as int32."""
    r, g, b = (rgb[..., c].astype(np.int32) for c in range(3))
    m = _RGB_TO_YUV[k]
    return ((m[0] * r + m[1] * g + m[2] * b + 128) >> 8) + _OFFSET[k]


def _halve(plane: np.ndarray) -> np.ndarray:
    """The rounded mean of each 2x2 block of an int32 plane with even sides."""
    return (plane[0::2, 0::2] + plane[0::2, 1::2] + plane[1::2, 0::2] + plane[1::2, 1::2] + 2) >> 2
