"""What a vendor's output is: a readable video of some size, an image of 9:16 shape."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg


class Unreadable(Exception):
    """A download that is not a readable file of its kind (worth fetching again)."""


def is_portrait_9_16(width: int, height: int) -> bool:
    """Whether a frame is 9:16 to within 1% (vendors round sizes to their encoders' blocks)."""
    return abs(width * 16 - height * 9) <= 0.01 * height * 9


def video_size(path: Path) -> tuple[int, int]:
    """The frame size of a video with at least one frame; raises Unreadable otherwise."""
    frames = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(frames)
        next(frames)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise Unreadable("not a readable video") from exc
    finally:
        frames.close()
    width, height = meta["size"]
    return int(width), int(height)
