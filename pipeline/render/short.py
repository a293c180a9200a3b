"""Step 5: stitch the clips, burn in captions, mix the audio, write H.264/AAC."""

from __future__ import annotations

import bisect
import logging
import subprocess
import tempfile
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from moviepy import VideoClip
from proglog import ProgressBarLogger
from pydantic import Field

from pipeline.errors import RenderError, last_line
from pipeline.media.fonts import missing
from pipeline.models import (
    BREATH,
    MAX_SHORT_SECONDS,
    ClipAsset,
    Model,
    Narration,
    RenderedShort,
    Script,
    VideoFormat,
    WordTiming,
)
from pipeline.render.captions import (
    CaptionCue,
    CaptionGroup,
    CaptionStyle,
    cues,
    draw_caption,
    group_words,
    srt,
)
from pipeline.render.mix import MIX, write_soundtrack
from pipeline.render.overlay import Overlay, blend, prepare
from pipeline.render.stitch import StitchedClip, widen
from pipeline.settings import RenderSettings, default
from pipeline.state.store import AssetStore, atomic_path, content_key
from pipeline.timing import read_wav, speech_bounds

Progress = Callable[[int], None]  # receives the percentage done
OVERRUN = 1.15  # past this much over the script's seconds, the breaths are trimmed
log = logging.getLogger("shorts")


# ffmpeg's default AAC coder (twoloop) peaked up to 1.2 dB over its input, and once 3.4 dB on a transient at 192 kb/s;
# the fast coder stays within 0.5 dB, under the -1 dBTP a Short may reach. Part of the render's key.
AUDIO_CODEC = ("-c:a", "aac", "-aac_coder", "fast")


class RenderOptions(Model):
    """Encoder and mix settings that change the output file; their defaults are the render settings'."""

    preset: str = default("render_preset")
    crf: int = default("render_crf")
    audio_bitrate: str = "192k"
    threads: int = Field(default("render_threads"), ge=1)
    music: Path | None = None
    music_volume: float = default("music_volume")
    ducked_volume: float = default("music_ducked_volume")
    loudness: float = default("loudness")  # what the soundtrack is mastered to, in LUFS
    captions: CaptionStyle = CaptionStyle()
    breath: float = Field(default("scene_breath"), ge=0)  # seconds of pause after each scene's last word

    @classmethod
    def from_settings(cls, settings: RenderSettings, music: Path | None) -> RenderOptions:
        """The options the render section sets, with the Short's music track."""
        return cls(
            preset=settings.render_preset,
            crf=settings.render_crf,
            threads=settings.render_threads,
            music=music,
            music_volume=settings.music_volume,
            ducked_volume=settings.music_ducked_volume,
            loudness=settings.loudness,
            breath=settings.scene_breath,
        )


def scene_durations(script: Script, narrations: list[Narration], breath: float = BREATH) -> list[float]:
    """Each voiced scene lasts until its last word, then a breath, less the silence its next scene's audio starts with
    (so the pause between them is the breath, and the Short ends a breath after its last word); a scene with no voice
    lasts its planned seconds. Past OVERRUN times the script's seconds, or past MAX_SHORT_SECONDS, the breaths are
    trimmed (see `within_limit` for the rest)."""
    spans = [_voiced_span(n) for n in narrations]
    ends: list[float] = []
    pauses: list[float] = []
    for i, (scene, span) in enumerate(zip(script.scenes, spans, strict=True)):
        following = spans[i + 1] if i + 1 < len(spans) else None
        ends.append(span[1] if span else scene.seconds)
        pauses.append(max(0.0, breath - (following[0] if following else 0.0)) if span else 0.0)
    over = sum(ends) + sum(pauses) - min(MAX_SHORT_SECONDS, script.seconds * OVERRUN)
    if over > 0 and any(pauses):  # pauses are never negative
        keep = max(0.0, 1 - over / sum(pauses))
        log.info(
            "  the narration runs %.1f s over the planned %g s, so the pauses after scenes are %s",
            over,
            script.seconds,
            f"cut to {keep:.0%}" if keep else "left out",
        )
        pauses = [p * keep for p in pauses]
    return [round(end + pause, 3) for end, pause in zip(ends, pauses, strict=False)]


def within_limit(
    durations: list[float], narrations: list[Narration], breath: float = BREATH, limit: float = MAX_SHORT_SECONDS
) -> tuple[list[float], list[Narration]]:
    """The scenes cut to end within `limit` seconds: the Short ends a breath after the last whole sentence that fits
    (else the last word), before the next word starts; the words and scenes after it are left out."""
    if sum(durations) <= limit:
        return durations, narrations
    offsets = [0.0, *accumulate(durations)]
    words = [(i, k, w) for i, n in enumerate(narrations) for k, w in enumerate(n.words) if offsets[i] + w.end <= limit]
    sentence_ends = [x for x in words if x[2].word.endswith((".", "!", "?"))]
    scene, index, last = (sentence_ends or words)[-1]
    kept = narrations[scene].words[: index + 1]
    rest = narrations[scene].words[index + 1 :]
    cut = min(last.end + breath, rest[0].start if rest else durations[scene], limit - offsets[scene])
    log.warning(
        "  the narration runs %.1f s past the %g s a Short may last, so the Short ends at %.1f s, after "
        "%r (scene %d); %d word(s) left out",
        sum(durations) - limit,
        limit,
        offsets[scene] + cut,
        last.word,
        scene + 1,
        len(rest) + sum(len(n.words) for n in narrations[scene + 1 :]),
    )
    cut_scene = narrations[scene].model_copy(update={"words": kept})
    return [*durations[:scene], round(cut, 3)], [*narrations[:scene], cut_scene]


def _voiced_span(narration: Narration) -> tuple[float, float] | None:
    """Where the voice speaks in a scene's audio (its leading and trailing silence left out); None with no voice."""
    if narration.path is None:
        return None
    return speech_bounds(*read_wav(narration.path))


def caption_groups(
    narrations: list[Narration], durations: list[float], style: CaptionStyle, fmt: VideoFormat = VideoFormat()
) -> list[CaptionGroup]:
    """One-line word groups on the Short's clock; a group never spans two scenes."""
    groups, offset = [], 0.0
    for narration, seconds in zip(narrations, durations, strict=True):
        shifted = [WordTiming(word=w.word, start=w.start + offset, end=w.end + offset) for w in narration.words]
        scene_groups = group_words(shifted, style, fmt)
        if scene_groups:  # the last group may linger, but not into the next scene
            last = scene_groups[-1]
            scene_groups[-1] = last.model_copy(update={"end": min(last.end, offset + seconds)})
        groups += scene_groups
        offset += seconds
    return groups


def render_short(
    script: Script,
    clips: list[ClipAsset],
    narrations: list[Narration],
    fmt: VideoFormat,
    options: RenderOptions,
    store: AssetStore,
    fresh: bool = False,
    progress: Progress | None = None,
) -> RenderedShort:
    """The finished Short in the store (video and SRT), rendered only if these inputs never were."""
    durations, narrations = within_limit(
        scene_durations(script, narrations, options.breath), narrations, options.breath
    )
    clips = clips[: len(durations)]
    groups = caption_groups(narrations, durations, options.captions, fmt)
    key = content_key(
        "render",
        clips=[c.path for c in clips],
        voices=[n.path for n in narrations],
        durations=durations,
        groups=groups,
        fmt=fmt,
        options=options,
        mix=MIX,
        audio=AUDIO_CODEC,
    )
    video, captions = store.path("renders", key, ".mp4"), store.path("renders", key, ".srt")
    if fresh or not (store.find("renders", key, ".mp4") and store.find("renders", key, ".srt")):
        if lost := missing([g.text for g in groups], options.captions.font):
            log.warning(
                "  captions: the caption font has no glyph for %s, so the video leaves them out (the SRT "
                "file keeps them)",
                " ".join(lost[:12]),
            )
        with atomic_path(captions) as tmp:
            tmp.write_text(srt(groups), encoding="utf-8")
        with atomic_path(video) as tmp:
            _write_video(clips, narrations, durations, groups, fmt, options, tmp, progress)
        store.saved(captions)
        store.saved(video)
    return RenderedShort(
        video=video, captions=captions, seconds=round(sum(durations), 3), width=fmt.width, height=fmt.height
    )


def _write_video(
    clips: list[ClipAsset],
    narrations: list[Narration],
    durations: list[float],
    groups: list[CaptionGroup],
    fmt: VideoFormat,
    options: RenderOptions,
    dest: Path,
    progress: Progress | None,
) -> None:
    """Soundtrack first (a WAV beside `dest`), then the frames: stitched, captioned and encoded as they stream."""
    soundtrack = dest.with_suffix(".wav")
    stitched = None
    try:
        write_soundtrack(
            narrations,
            durations,
            soundtrack,
            options.music,
            options.music_volume,
            options.ducked_volume,
            options.loudness,
        )
        stitched = StitchedClip([c.path for c in clips], durations, fmt)
        video = burn_captions(stitched, groups, fmt, options.captions)
        _encode(video, dest, fmt, options, soundtrack, progress)
    except (OSError, RuntimeError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]  # moviepy adds pages of ffmpeg's advice
        raise RenderError(
            f"Encoding the video failed ({detail}); check free disk space and rerun.", step="render"
        ) from exc
    finally:
        if stitched:
            stitched.close()
        soundtrack.unlink(missing_ok=True)


def _encode(
    video: VideoClip, dest: Path, fmt: VideoFormat, options: RenderOptions, soundtrack: Path, progress: Progress | None
) -> None:
    """One ffmpeg encodes the I420 frames as they stream to H.264, and the soundtrack to AAC beside them."""
    # Not moviepy's writer: it only takes RGB, and converting every frame there and back cost a third
    # of the render.
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-y",
        "-v",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{fmt.width}x{fmt.height}",
        "-r",
        str(fmt.fps),
        "-i",
        "-",
        "-i",
        str(soundtrack),
        "-c:v",
        "libx264",
        "-preset",
        options.preset,
        "-crf",
        str(options.crf),
        "-threads",
        str(options.threads),
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        *AUDIO_CODEC,
        "-b:a",
        options.audio_bitrate,
        str(dest),
    ]
    logger = _ProgressLogger(progress) if progress else None
    with tempfile.TemporaryFile() as errors:
        encoder = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        stdin = encoder.stdin
        assert stdin is not None  # stdin=PIPE
        try:
            widen(stdin)
            for frame in video.iter_frames(fps=fmt.fps, dtype="uint8", logger=logger):
                stdin.write(memoryview(frame))
            stdin.close()
        except BrokenPipeError:  # ffmpeg stopped reading: what it printed says why
            pass
        except BaseException:
            encoder.kill()  # the render failed on our side, or was interrupted
            raise
        finally:
            encoder.wait()
        if encoder.returncode:
            errors.seek(0)
            detail = last_line(errors.read(), f"exit {encoder.returncode}")
            raise RenderError(
                f"ffmpeg failed writing the video ({detail}); check free disk space and rerun.", step="render"
            )


def burn_captions(video: VideoClip, groups: list[CaptionGroup], fmt: VideoFormat, style: CaptionStyle) -> VideoClip:
    """Blend pre-rendered caption images into the I420 frames, over their bounding box only."""
    timeline: list[CaptionCue] = cues(groups)
    starts = [c.start for c in timeline]
    # A cue shows from the frame nearest its start, not the first frame after it: that would show every word
    # half a frame late on average.
    half_frame = 0.5 / fmt.fps
    # Only the group and the cue on screen are kept: cues come in order, and all of a long Short's
    # images would not fit the memory budget.
    on_screen: dict = {"group": None, "cue": None}

    def overlay(i: int) -> Overlay:
        cue = timeline[i]
        if on_screen["group"] != cue.group:
            on_screen.update(group=cue.group, layers=draw_caption(groups[cue.group], fmt, style))
        if on_screen["cue"] != i:
            layers = on_screen["layers"]
            on_screen.update(cue=i, overlay=prepare(layers.rgba(cue.highlight, style), layers.x, layers.y, fmt))
        return on_screen["overlay"]

    def captioned(get_frame: Callable[[float], np.ndarray], t: float) -> np.ndarray:
        frame = get_frame(t)
        i = bisect.bisect_right(starts, t + half_frame) - 1
        if i < 0 or t + half_frame >= timeline[i].end:
            return frame
        return blend(frame, overlay(i), fmt)

    return video.transform(captioned)


class _ProgressLogger(ProgressBarLogger):
    """Turns moviepy's frame counter into a percentage every 10%."""

    def __init__(self, report: Progress) -> None:
        super().__init__()
        self.report, self.last = report, -1

    def bars_callback(self, bar: str, attr: str, value: int, old_value: int | None = None) -> None:
        if bar == "frame_index" and attr == "index" and self.bars[bar].get("total"):
            done = int(100 * (value + 1) / self.bars[bar]["total"]) // 10 * 10
            if done > self.last:
                self.last = done
                self.report(done)
