"""Step 5: stitch the clips, burn in captions, mix the audio, write H.264/AAC."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from pathlib import Path

import numpy as np
from moviepy import AudioClip, AudioFileClip, CompositeAudioClip, ImageClip, VideoFileClip, concatenate_videoclips
from moviepy.audio.fx import AudioLoop
from proglog import ProgressBarLogger
from pydantic import Field

from pipeline.captions import CaptionCue, CaptionGroup, CaptionStyle, cues, group_words, render_caption, srt
from pipeline.errors import RenderError
from pipeline.models import ClipAsset, Model, Narration, RenderedShort, Script, VideoFormat, WordTiming
from pipeline.store import AssetStore, atomic_path, content_key

AUDIO_FPS = 44100
Progress = Callable[[int], None]  # receives the percentage done


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
        with atomic_path(captions) as tmp:
            tmp.write_text(srt(groups), encoding="utf-8")
        with atomic_path(video) as tmp:
            _write_video(clips, narrations, durations, groups, fmt, options, tmp, progress)
    return RenderedShort(video=video, captions=captions, seconds=round(sum(durations), 3),
                         width=fmt.width, height=fmt.height)


def _write_video(clips, narrations, durations, groups, fmt, options, dest: Path, progress) -> None:
    sources = []
    try:
        parts = []
        for clip, seconds in zip(clips, durations):
            source = VideoFileClip(str(clip.path), audio=False)
            sources.append(source)
            parts.append(_fit(source, seconds, fmt))
        video = concatenate_videoclips(parts, method="chain")
        video = burn_captions(video, groups, fmt, options.captions)
        audio = mix_audio(narrations, durations, options, sources)
        video = video.with_audio(audio).with_duration(sum(durations))
        video.write_videofile(
            str(dest), fps=fmt.fps, codec="libx264", audio_codec="aac", audio_fps=AUDIO_FPS,
            preset=options.preset, threads=options.threads, temp_audiofile_path=str(dest.parent),
            ffmpeg_params=["-crf", str(options.crf), "-pix_fmt", "yuv420p", "-movflags", "+faststart"],
            logger=_ProgressLogger(progress) if progress else None,
        )
    except (OSError, RuntimeError) as exc:
        raise RenderError(f"Encoding the video failed ({exc}); check free disk space and rerun.", step="render") from exc
    finally:
        for source in sources:
            source.close()


def _fit(clip: VideoFileClip, seconds: float, fmt: VideoFormat):
    """Scale and crop to the frame, then trim, or hold the last frame: never a black gap."""
    if tuple(clip.size) != fmt.size:
        scale = max(fmt.width / clip.w, fmt.height / clip.h)
        clip = clip.resized(scale).cropped(x_center=clip.w * scale / 2, y_center=clip.h * scale / 2,
                                           width=fmt.width, height=fmt.height)
    if clip.duration >= seconds - 1e-3:
        return clip.subclipped(0, seconds)
    last = clip.get_frame(max(0.0, clip.duration - 1.5 / fmt.fps))
    hold = ImageClip(last).with_duration(seconds - clip.duration)
    return concatenate_videoclips([clip, hold], method="chain")


def burn_captions(video, groups: list[CaptionGroup], fmt: VideoFormat, style: CaptionStyle):
    """Blend pre-rendered caption images over their bounding box only, in integer arithmetic."""
    timeline: list[CaptionCue] = cues(groups)
    starts = [c.start for c in timeline]
    images: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, int, int]] = {}
    for cue in timeline:
        rgba, x, y = render_caption(groups[cue.group], cue.highlight, fmt, style)
        rgba = rgba[: fmt.height - y, : fmt.width - x]
        alpha = rgba[..., 3:4].astype(np.uint16)
        images[(cue.group, cue.highlight)] = (rgba[..., :3] * alpha, 255 - alpha, x, y)

    def blend(get_frame, t):
        frame = get_frame(t)
        i = bisect.bisect_right(starts, t) - 1
        if i < 0 or t >= timeline[i].end:
            return frame
        premultiplied, inverse, x, y = images[(timeline[i].group, timeline[i].highlight)]
        h, w = inverse.shape[:2]
        frame = frame.copy()
        region = frame[y : y + h, x : x + w]
        region[:] = ((premultiplied + region * inverse + 127) // 255).astype(np.uint8)
        return frame

    return video.transform(blend)


def mix_audio(narrations: list[Narration], durations: list[float], options: RenderOptions, opened: list):
    """Narration at each scene's start, over music ducked while the voice speaks (or silence)."""
    total = sum(durations)
    tracks, offset, speech = [], 0.0, []
    for narration, seconds in zip(narrations, durations):
        if narration.path:
            voice = AudioFileClip(str(narration.path))
            opened.append(voice)
            tracks.append(voice.with_start(offset))
            speech += [(offset + w.start, offset + w.end) for w in narration.words]
        offset += seconds
    if options.music:
        music = AudioFileClip(str(options.music))
        opened.append(music)
        music = music.with_effects([AudioLoop(duration=total)])
        gain = _duck_envelope(speech, total, options.music_volume, options.ducked_volume)
        tracks.append(music.transform(lambda get_frame, t: get_frame(t) * gain(t)))
    if not tracks:
        return AudioClip(lambda t: np.zeros((np.size(t), 2)), duration=total, fps=AUDIO_FPS)
    return CompositeAudioClip(tracks).with_duration(total)


def _duck_envelope(speech: list[tuple[float, float]], total: float, loud: float, quiet: float):
    """A gain curve: quiet under speech, fading over 0.25 s at each edge."""
    xs, ys = [0.0], [loud]
    for start, end in _merge(speech, gap=0.6):
        xs += [max(xs[-1], start - 0.25), max(xs[-1], start), end, end + 0.25]
        ys += [loud, quiet, quiet, loud]
    xs.append(max(total, xs[-1]))
    ys.append(loud)
    points_x, points_y = np.array(xs), np.array(ys)

    def gain(t):
        g = np.interp(t, points_x, points_y)
        return g[:, None] if np.ndim(g) else g

    return gain


def _merge(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


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
