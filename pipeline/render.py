"""Step 5: stitch the clips, burn in captions, mix the audio, write H.264/AAC."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from moviepy import VideoClip
from moviepy.video.io.ffmpeg_writer import FFMPEG_VideoWriter
from proglog import ProgressBarLogger
from pydantic import Field

from pipeline.captions import (
    CaptionCue, CaptionGroup, CaptionLayers, CaptionStyle, cues, draw_caption, group_words, missing_glyphs, srt,
)
from pipeline.errors import RenderError
from pipeline.models import ClipAsset, Model, Narration, RenderedShort, Script, VideoFormat, WordTiming
from pipeline.mix import write_soundtrack
from pipeline.stitch import StitchedClip, widen
from pipeline.store import AssetStore, atomic_path, content_key

Progress = Callable[[int], None]  # receives the percentage done
log = logging.getLogger("shorts")


class RenderOptions(Model):
    """Encoder and mix settings that change the output file."""

    preset: str = "veryfast"
    crf: int = 23
    threads: int = Field(2, ge=1)
    music: Path | None = None
    music_volume: float = 0.18
    ducked_volume: float = 0.06
    captions: CaptionStyle = CaptionStyle()


def scene_durations(script: Script, narrations: list[Narration]) -> list[float]:
    """Each scene lasts its planned seconds, or longer if its narration needs it."""
    return [max(s.seconds, n.seconds) for s, n in zip(script.scenes, narrations)]


def caption_groups(narrations: list[Narration], durations: list[float], style: CaptionStyle) -> list[CaptionGroup]:
    """Word groups on the Short's clock; a group never spans two scenes."""
    groups, offset = [], 0.0
    for narration, seconds in zip(narrations, durations):
        shifted = [WordTiming(word=w.word, start=w.start + offset, end=w.end + offset) for w in narration.words]
        scene_groups = group_words(shifted, style)
        if scene_groups:  # the last group may linger, but not into the next scene
            last = scene_groups[-1]
            scene_groups[-1] = last.model_copy(update={"end": min(last.end, offset + seconds)})
        groups += scene_groups
        offset += seconds
    return groups


def render_short(
    script: Script, clips: list[ClipAsset], narrations: list[Narration], fmt: VideoFormat,
    options: RenderOptions, store: AssetStore, fresh: bool = False, progress: Progress | None = None,
) -> RenderedShort:
    """The finished Short in the store (video and SRT), rendered only if these inputs never were."""
    durations = scene_durations(script, narrations)
    groups = caption_groups(narrations, durations, options.captions)
    key = content_key("render", clips=[c.path for c in clips], voices=[n.path for n in narrations],
                      durations=durations, groups=groups, fmt=fmt, options=options)
    video, captions = store.path("renders", key, ".mp4"), store.path("renders", key, ".srt")
    if fresh or not (store.find("renders", key, ".mp4") and captions.is_file()):
        if lost := missing_glyphs([g.text for g in groups], options.captions.font):
            log.warning("  captions: the caption font has no glyph for %s, so the video leaves them out (the SRT "
                        "file keeps them)", " ".join(lost[:12]))
        with atomic_path(captions) as tmp:
            tmp.write_text(srt(groups), encoding="utf-8")
        with atomic_path(video) as tmp:
            _write_video(clips, narrations, durations, groups, fmt, options, tmp, progress)
    return RenderedShort(video=video, captions=captions, seconds=round(sum(durations), 3),
                         width=fmt.width, height=fmt.height)


def _write_video(clips: list[ClipAsset], narrations: list[Narration], durations: list[float],
                 groups: list[CaptionGroup], fmt: VideoFormat, options: RenderOptions, dest: Path,
                 progress: Progress | None) -> None:
    """Soundtrack first (a WAV beside `dest`), then the frames: stitched, captioned and encoded as they stream."""
    soundtrack = dest.with_suffix(".wav")
    stitched = None
    try:
        write_soundtrack(narrations, durations, soundtrack, options.music, options.music_volume, options.ducked_volume)
        stitched = StitchedClip([c.path for c in clips], durations, fmt)
        video = burn_captions(stitched, groups, fmt, options.captions)
        _encode(video, dest, fmt, options, soundtrack, progress)
    except (OSError, RuntimeError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]  # moviepy adds pages of ffmpeg's advice
        raise RenderError(f"Encoding the video failed ({detail}); check free disk space and rerun.",
                          step="render") from exc
    finally:
        if stitched:
            stitched.close()
        soundtrack.unlink(missing_ok=True)


def _encode(video: VideoClip, dest: Path, fmt: VideoFormat, options: RenderOptions, soundtrack: Path,
            progress: Progress | None) -> None:
    """H.264 through moviepy's own writer, with the soundtrack encoded to AAC in the same ffmpeg."""
    params = ["-crf", str(options.crf), "-pix_fmt", "yuv420p", "-movflags", "+faststart",
              # Box-averaged chroma from full-resolution RGB: closer to exact than the default, and
              # about twice as fast, on the step that costs the encoder most after x264 itself.
              "-sws_flags", "area+full_chroma_inp"]
    logger = _ProgressLogger(progress) if progress else None
    # write_videofile minus its extras, so that the pipe can be widened before the first frame.
    with _Writer(str(dest), video.size, fmt.fps, codec="libx264", audiofile=str(soundtrack), audio_codec="aac",
                 preset=options.preset, threads=options.threads, ffmpeg_params=params) as writer:
        encoder = writer.proc
        widen(encoder.stdin)
        for frame in video.iter_frames(fps=fmt.fps, dtype="uint8", logger=logger):
            writer.write_frame(frame)
    if encoder.returncode:  # moviepy's writer does not check how ffmpeg ended
        raise RenderError(f"ffmpeg failed finishing the video (exit {encoder.returncode}); check free disk space "
                          "and rerun.", step="render")


def burn_captions(video: VideoClip, groups: list[CaptionGroup], fmt: VideoFormat, style: CaptionStyle) -> VideoClip:
    """Blend pre-rendered caption images over their bounding box only, in integer arithmetic."""
    timeline: list[CaptionCue] = cues(groups)
    starts = [c.start for c in timeline]
    # Only the group and the cue on screen are kept: cues come in order, and all of a long Short's
    # images would not fit the memory budget.
    on_screen: dict = {"group": None, "cue": None}

    def image(i: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        cue = timeline[i]
        if on_screen["group"] != cue.group:
            on_screen.update(group=cue.group, layers=draw_caption(groups[cue.group], fmt, style))
        if on_screen["cue"] != i:
            on_screen.update(cue=i, image=_premultiplied(on_screen["layers"], cue.highlight, fmt, style))
        return on_screen["image"]

    def blend(get_frame, t):
        frame = get_frame(t)
        i = bisect.bisect_right(starts, t) - 1
        if i < 0 or t >= timeline[i].end:
            return frame
        premultiplied, inverse, x, y = image(i)
        h, w = inverse.shape[:2]
        frame = frame.copy()
        region = frame[y : y + h, x : x + w]
        mixed = region * inverse  # uint16: at most 255 * 255, so nothing below overflows
        mixed += premultiplied
        mixed += 128  # then (v + (v >> 8)) >> 8 is round(v / 255), without a division
        mixed += mixed >> 8
        mixed >>= 8
        region[:] = mixed
        return frame

    return video.transform(blend)


def _premultiplied(layers: CaptionLayers, highlight: int, fmt: VideoFormat, style: CaptionStyle):
    """A caption as premultiplied colour and inverse alpha (uint16, per channel), and its corner."""
    rgba = layers.rgba(highlight, style)[: fmt.height - layers.y, : fmt.width - layers.x]
    alpha = rgba[..., 3].astype(np.uint16)
    premultiplied, inverse = np.empty((*alpha.shape, 3), np.uint16), np.empty((*alpha.shape, 3), np.uint16)
    for c in range(3):  # plane by plane: numpy is slow broadcasting over a trailing axis of 3
        premultiplied[..., c] = rgba[..., c] * alpha
        inverse[..., c] = 255 - alpha
    return premultiplied, inverse, layers.x, layers.y


class _Writer(FFMPEG_VideoWriter):
    """moviepy's ffmpeg writer, minus a copy of every frame (2.7 MB at 720x1280) on its way to the pipe."""

    def write_frame(self, img_array: np.ndarray) -> None:
        try:
            self.proc.stdin.write(memoryview(np.ascontiguousarray(img_array)))
        except OSError:
            super().write_frame(img_array)  # fails the same way, and explains what ffmpeg said


class _ProgressLogger(ProgressBarLogger):
    """Turns moviepy's frame counter into a percentage every 10%."""

    def __init__(self, report: Progress) -> None:
        super().__init__()
        self.report, self.last = report, -1

    def bars_callback(self, bar, attr, value, old_value=None):
        if bar == "frame_index" and attr == "index" and self.bars[bar].get("total"):
            done = int(100 * (value + 1) / self.bars[bar]["total"]) // 10 * 10
            if done > self.last:
                self.last = done
                self.report(done)
