"""Stitching: the scene clips as one moviepy clip, each decoded once, in order, by one ffmpeg at a time (a moving
still is moved instead, see pipeline.media.motion). A clip shorter than its scene is slowed, then looped: a
scene never shows a frozen frame."""

from __future__ import annotations

import bisect
import queue
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Generator
from contextlib import closing, suppress
from itertools import accumulate
from pathlib import Path
from typing import IO

import imageio_ffmpeg
import numpy as np
from moviepy import VideoClip

from pipeline.errors import RenderError, last_line
from pipeline.media.motion import is_moving_still, moving_still_frames
from pipeline.models import VideoFormat

if sys.platform != "win32":  # Windows has no fcntl: pipes keep their default size
    import fcntl

AHEAD = 4  # frames decoded ahead of the encoder (about 5.5 MB at 720x1280)
MAX_SLOWDOWN = 1.2  # a clip short of its scene plays up to 20 % slower, which reads as natural motion
_Item = tuple[int, int, np.ndarray | None]  # (scene, index, frame) as the decoding thread hands it over
_END: _Item = (1 << 30, 0, None)  # after every real (scene, index, frame)


class StitchedClip(VideoClip):
    """The clips back to back, each fitted to the frame and to its scene: trimmed, or slowed and looped."""

    def __init__(self, clips: list[Path], durations: list[float], fmt: VideoFormat) -> None:
        self.timeline = _Timeline(clips, durations, fmt)
        super().__init__(frame_function=self.timeline.frame_at, duration=sum(durations))

    def close(self) -> None:
        self.timeline.close()
        super().close()


class _Timeline:
    """Maps a time to a frame of the right clip, while a thread decodes the clips ahead, in order."""

    def __init__(self, clips: list[Path], durations: list[float], fmt: VideoFormat) -> None:
        self.clips, self.fmt = clips, fmt
        self.starts = [0.0, *accumulate(durations)][:-1]
        self.counts = [int(fmt.fps * d + 1e-5) + 1 for d in durations]  # frames each scene can show
        self.feed: _Feed | None = None
        self.at: tuple[int, int] = (-1, -1)  # the (scene, index) of `frame`
        self.frame: np.ndarray | None = None

    def frame_at(self, t: float) -> np.ndarray:
        scene = max(0, bisect.bisect_right(self.starts, t) - 1)
        # The frame-number rule of moviepy's own reader, so timing matches a VideoFileClip's.
        wanted = (scene, int(self.fmt.fps * (t - self.starts[scene]) + 1e-5))
        feed = self.feed
        if feed is None or wanted < self.at:
            feed = self._restart(scene)  # only a backward seek decodes a clip twice; a render never does
        while self.at < wanted:
            item = feed.peek()
            if item[0] > scene:
                break  # the clip gave fewer frames than its header promised: show its last one
            self.at, self.frame = item[:2], feed.pop()[2]
        if self.frame is None or self.at[0] != scene:
            raise RenderError(
                f"ffmpeg decoded no frames from {self.clips[scene].name}; remake this clip.",
                step="render",
                scene=scene + 1,
            )
        return self.frame

    def _restart(self, scene: int) -> _Feed:
        self.close()
        self.feed = _Feed(self.clips[scene:], self.counts[scene:], self.fmt, first=scene)
        self.at, self.frame = (scene - 1, -1), None
        return self.feed

    def close(self) -> None:
        if self.feed:
            self.feed.close()
            self.feed = None


class _Feed:
    """A thread that decodes clip after clip into a short queue of (scene, index, frame)."""

    def __init__(self, clips: list[Path], counts: list[int], fmt: VideoFormat, first: int) -> None:
        self.queue: queue.Queue[_Item | Exception] = queue.Queue(maxsize=AHEAD)
        self.stop = threading.Event()
        self.head: _Item | Exception | None = None
        self.thread = threading.Thread(target=self._run, args=(clips, counts, fmt, first), daemon=True)
        self.thread.start()

    def _run(self, clips: list[Path], counts: list[int], fmt: VideoFormat, first: int) -> None:
        try:
            for scene, (clip, count) in enumerate(zip(clips, counts, strict=False), start=first):
                try:
                    moved = is_moving_still(clip)
                    frames = moving_still_frames(clip, fmt, count) if moved else decode(clip, fmt, count)
                    with closing(frames):
                        for index, frame in enumerate(frames):
                            if self.stop.is_set():
                                return
                            self.queue.put((scene, index, frame))
                except RenderError as exc:
                    raise exc.at("render", scene + 1)
            self.queue.put(_END)
        except Exception as exc:  # handed to the render thread, which raises it
            self.queue.put(exc)

    def peek(self) -> _Item:
        """The next item, left in place; _END once every clip is done."""
        if self.head is None:
            self.head = self.queue.get()
        if isinstance(self.head, Exception):
            raise self.head
        return self.head

    def pop(self) -> _Item:
        item = self.peek()
        self.head = None
        return item

    def close(self) -> None:
        self.stop.set()
        while self.thread.is_alive():  # unblock a pending put so the thread can see `stop`
            with suppress(queue.Empty):
                self.queue.get(timeout=0.05)
        self.thread.join()


def decode(path: Path, fmt: VideoFormat, count: int) -> Generator[np.ndarray, None, None]:
    """`count` I420 frames (see pipeline.render.overlay) of a clip, scaled to cover the format, centre-cropped and
    at its frame rate; a clip too short is slowed by up to MAX_SLOWDOWN and, if still short, looped."""
    fit = (
        f"scale={fmt.width}:{fmt.height}:force_original_aspect_ratio=increase,"
        f"crop={fmt.width}:{fmt.height},setsar=1,fps={fmt.fps}"
    )
    seconds, wanted = clip_seconds(path), count / fmt.fps
    slowdown = min(MAX_SLOWDOWN, wanted / seconds) if 0 < seconds < wanted else 1.0
    # Looping jumps back to the clip's start, which reads as a new shot; playing it backwards (ping-pong) would show
    # people walking and water flowing backwards.
    loop = ["-stream_loop", "-1"] if 0 < seconds * slowdown < wanted else []
    slow = f"setpts={slowdown:.6f}*PTS," if slowdown > 1 else ""
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        *loop,
        "-i",
        str(path),
        "-an",
        "-sn",
        "-dn",
        "-vf",
        slow + fit,
        "-frames:v",
        str(count),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-",
    ]
    size, shape = fmt.width * fmt.height * 3 // 2, (fmt.height * 3 // 2, fmt.width)
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        stdout = proc.stdout
        assert stdout is not None  # stdout=PIPE
        widen(stdout)
        try:
            while len(data := stdout.read(size)) == size:
                yield np.frombuffer(data, np.uint8).reshape(shape)
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()  # the render stopped early (a trimmed clip, or an error)
            stdout.close()
            proc.wait()
        if proc.returncode:
            errors.seek(0)
            detail = last_line(errors.read(), "no detail")
            raise RenderError(f"ffmpeg could not decode {path.name} ({detail}); remake this clip.")


def clip_seconds(path: Path) -> float:
    """A clip's length, from an MP4's header read in place (asking ffmpeg costs about 0.1 s of CPU a clip, a few
    per cent of a render), else from ffmpeg; 0 when neither can read it (decoding it then says why)."""
    return _mp4_seconds(path) or _ffmpeg_seconds(path)


def _mp4_seconds(path: Path) -> float:
    """The duration in an MP4's movie header (moov/mvhd), or 0 for another format."""
    try:
        with path.open("rb") as f:
            moov = _find_box(f, 0, path.stat().st_size, b"moov")
            mvhd = moov and _find_box(f, *moov, b"mvhd")
            if not mvhd:
                return 0.0
            f.seek(mvhd[0])
            data = f.read(32)
        # version 1 has 64-bit times: creation and modification, then the timescale and the duration
        timescale, duration = struct.unpack(">IQ", data[20:32]) if data[0] == 1 else struct.unpack(">II", data[12:20])
    except (OSError, struct.error, IndexError):
        return 0.0
    return duration / timescale if timescale else 0.0


def _find_box(f: IO[bytes], start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """The (content start, end) of the first box of `kind` between `start` and `end` of an ISO media file."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        size, name = struct.unpack(">I4s", f.read(8))
        header = 8
        if size == 1:  # a 64-bit size follows
            size, header = struct.unpack(">Q", f.read(8))[0], 16
        elif size == 0:  # to the end
            size = end - pos
        if size < header:
            return None
        if name == kind:
            return pos + header, pos + size
        pos += size
    return None


def _ffmpeg_seconds(path: Path) -> float:
    try:
        frames = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = next(frames)
        finally:
            frames.close()
    except (OSError, RuntimeError, StopIteration):
        return 0.0
    return float(meta.get("duration") or 0.0)


def widen(pipe: IO[bytes]) -> None:
    """Let a pipe hold most of a 720x1280 frame, so that a frame crosses in a few wake-ups, not twenty."""
    if sys.platform != "win32" and hasattr(fcntl, "F_SETPIPE_SZ"):
        with suppress(OSError):  # over the user's pipe-size limit: the default size still works
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
