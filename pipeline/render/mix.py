"""The soundtrack: narration placed at each scene's start, over optional music ducked under speech."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from moviepy import AudioArrayClip

from pipeline.errors import RenderError, last_line
from pipeline.models import Narration

AUDIO_FPS = 44100


def write_soundtrack(narrations: list[Narration], durations: list[float], dest: Path, music: Path | None = None,
                     music_volume: float = 0.18, ducked_volume: float = 0.06) -> None:
    """A WAV of narration at each scene's start, over music ducked while the voice speaks (or silence)."""
    total = sum(durations)
    # One stereo track in memory (64 MB for 180 s): each file is decoded once, by a short-lived
    # ffmpeg, where a moviepy reader per file would keep an ffmpeg alive per scene all render long.
    track, speech = np.zeros((round(total * AUDIO_FPS), 2), np.float32), []
    voiced = [(n, offset) for n, offset in zip(narrations, [0.0, *accumulate(durations)]) if n.path]
    # Four ffmpegs at a time: each spends most of its time starting up, not decoding.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for (narration, offset), samples in zip(voiced, pool.map(read_audio, [n.path for n, _ in voiced])):
            at = round(offset * AUDIO_FPS)
            samples = samples[: len(track) - at]
            track[at : at + len(samples)] += samples
            speech += [(offset + w.start, offset + w.end) for w in narration.words]
    if music:
        loop = read_audio(music, seconds=total)
        gain = _duck_envelope(speech, total, music_volume, ducked_volume)
        for at in range(0, len(track), 10 * AUDIO_FPS):  # in 10 s steps, to keep the temporaries small
            index = np.arange(at, min(at + 10 * AUDIO_FPS, len(track)))
            track[index] += loop[index % len(loop)] * gain(index / AUDIO_FPS).astype(np.float32)
    # PCM, not AAC: the video encoder encodes it alongside the frames rather than before them.
    AudioArrayClip(track, fps=AUDIO_FPS).write_audiofile(str(dest), fps=AUDIO_FPS, codec="pcm_s16le",
                                                        buffersize=AUDIO_FPS, logger=None)


def read_audio(path: Path, seconds: float | None = None) -> np.ndarray:
    """A sound file (or its first `seconds`) as float32 stereo samples at AUDIO_FPS, resampled by ffmpeg."""
    limit = ["-t", f"{seconds:.3f}"] if seconds else []
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path), *limit, "-vn",
           "-f", "f32le", "-ac", "2", "-ar", str(AUDIO_FPS), "-"]
    result = subprocess.run(cmd, capture_output=True)
    samples = np.frombuffer(result.stdout, np.float32).reshape(-1, 2)
    if result.returncode or not len(samples):
        detail = last_line(result.stderr, "no audio in it")
        raise RenderError(f"ffmpeg could not read the audio {path.name} ({detail}); check or replace that file.",
                          step="render")
    return samples


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
