"""Whether a video file is a Short as YouTube decides it: square or taller, and at most three minutes long."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg

from pipeline.errors import ConfigError
from pipeline.limits import SHORT_MAX_SECONDS

DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
# A video stream's frame size: " 720x1280," or " 720x1280 [SAR ...", never a codec tag such as "0x31637661)".
VIDEO_SIZE = re.compile(r"Stream #.*: Video: .*?[ ,](\d+)x(\d+)[ ,]")


def probe(video: Path) -> tuple[int, int, float]:
    """The video's (width, height, seconds) as a player shows it: the size is read after ffmpeg's rotation, from
    the one frame it decodes."""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-i",
        str(video),
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-f",
        "null",
        "-",
    ]
    try:
        header = subprocess.run(cmd, capture_output=True, timeout=60).stderr.decode("utf-8", "replace")
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        raise _unreadable(video) from exc
    duration, sizes = DURATION.search(header), VIDEO_SIZE.findall(header)
    if not duration or not sizes:
        raise _unreadable(video)
    hours, minutes, seconds = duration.groups()
    width, height = sizes[-1]  # the decoded stream's, after any rotation
    return int(width), int(height), int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def check_is_short(video: Path) -> None:
    """Refuse, before any request, a video YouTube would not show as a Short; the file is left where it is."""
    width, height, seconds = probe(video)
    where = f"the package stays in {video.parent}"
    if seconds > SHORT_MAX_SECONDS:
        raise ConfigError(
            f"Not uploaded as a Short: {video.name} is {seconds:g} s long and a Short may be at most "
            f"{SHORT_MAX_SECONDS:g} s; {where}, so make it again with a lower --seconds or fewer "
            "scenes and rerun.",
            step="publish",
        )
    if width > height:
        raise ConfigError(
            f"Not uploaded as a Short: {video.name} is {width}x{height}, wider than tall, and a Short "
            f"must be square or taller; {where}, so make it again vertical (SHORTS_WIDTH below "
            "SHORTS_HEIGHT, 720x1280 by default) and rerun.",
            step="publish",
        )


def _unreadable(video: Path) -> ConfigError:
    return ConfigError(
        f"Not uploaded: {video} cannot be read as a video to check that it is a Short; the package "
        "stays in its folder, so make the Short again and rerun.",
        step="publish",
    )
