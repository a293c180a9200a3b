"""The soundtrack: narration placed at each scene's start, over a music bed ducked under speech, then mastered."""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from pipeline.errors import RenderError, last_line
from pipeline.loudness import (
    DUCKED_VOLUME,
    MASTER_CEILING_DBTP,
    MASTER_LUFS,
    MUSIC_VOLUME,
    TARGET_LUFS,
    loudest,
    loudness,
    master,
)
from pipeline.models import Narration

AUDIO_FPS = 44100
# How the soundtrack is mixed and mastered: part of the render's cache key, so a change here renders again.
MIX = f"mix-v2 {MASTER_CEILING_DBTP:g} dBTP"
BLOCK = 10 * AUDIO_FPS  # the music is laid in 10 s blocks, to keep the temporaries small
CROSSFADE = 1.5  # seconds over which the music's end blends into its start at each loop
FADE_IN, FADE_OUT = 0.5, 1.5  # seconds the music takes to come in at the start and to go at the end
DUCK_RAMP = 0.25  # seconds the music takes to dip before a word and to come back after the voice stops
_FRAME = AUDIO_FPS // 100  # 10 ms frames, for finding where a track loops best


def write_soundtrack(
    narrations: list[Narration],
    durations: list[float],
    dest: Path,
    music: Path | None = None,
    music_volume: float = MUSIC_VOLUME,
    ducked_volume: float = DUCKED_VOLUME,
    target: float = MASTER_LUFS,
) -> None:
    """A WAV of narration at each scene's start over music ducked while the voice speaks (or silence), mastered to
    `target` LUFS with its true peaks under the ceiling."""
    track, speech = voice_track(narrations, durations)
    if music:
        add_music(track, music, speech, music_volume, ducked_volume)
    master(track, AUDIO_FPS, target)
    # PCM, not AAC: the video encoder encodes it alongside the frames rather than before them.
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(AUDIO_FPS)
        for at in range(0, len(track), BLOCK):
            out.writeframes((np.clip(track[at : at + BLOCK], -1, 1) * 32767).astype("<i2").tobytes())


def voice_track(narrations: list[Narration], durations: list[float]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The narration as one stereo track the Short's length, and when each word is spoken on its clock."""
    total = sum(durations)
    # One stereo track in memory (64 MB for 180 s): each file is decoded once, by a short-lived
    # ffmpeg, where a moviepy reader per file would keep an ffmpeg alive per scene all render long.
    track, speech = np.zeros((round(total * AUDIO_FPS), 2), np.float32), []
    voiced = [(n, offset) for n, offset in zip(narrations, [0.0, *accumulate(durations)], strict=False) if n.path]
    # Four ffmpegs at a time: each spends most of its time starting up, not decoding.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for (narration, offset), samples in zip(voiced, pool.map(read_audio, [n.path for n, _ in voiced]), strict=True):
            at = round(offset * AUDIO_FPS)
            samples = samples[: len(track) - at]
            track[at : at + len(samples)] += samples
            speech += [(offset + w.start, offset + w.end) for w in narration.words]
    return track, speech


def add_music(track: np.ndarray, music: Path, speech: list[tuple[float, float]], volume: float, ducked: float) -> None:
    """Add the music to `track`, in place: its loudest 3 s brought to the voice's loudness, then scaled by `volume`
    where nobody speaks and `ducked` under the voice, looped with a crossfade when the track is shorter than the
    Short, and faded in and out at the ends."""
    total = len(track) / AUDIO_FPS
    source = read_audio(music, seconds=total + 0.1)
    # The loudest stretch, not the average: a track that swells must still stay under the voice where it swells.
    level = loudest(source, AUDIO_FPS)
    if not np.isfinite(level := level if np.isfinite(level) else loudness(source, AUDIO_FPS)):
        return
    source *= np.float32(10 ** ((TARGET_LUFS - level) / 20))
    period, cycle = _loop(source) if len(source) < len(track) else (len(source), source)
    gain = _music_gain(speech, total, volume, ducked)
    for at in range(0, len(track), BLOCK):
        end = min(at + BLOCK, len(track))
        track[at:end] += _play(source, cycle, period, at, end) * gain(np.arange(at, end) / AUDIO_FPS)[:, None]


def _play(source: np.ndarray, cycle: np.ndarray, period: int, start: int, end: int) -> np.ndarray:
    """Samples `start` to `end` of the looped music: the track from its start, then the cycle over and over."""
    out, at = np.empty((end - start, source.shape[1]), source.dtype), start
    while at < end:
        piece = source[at : min(end, period)] if at < period else cycle[at % period : at % period + end - at]
        out[at - start : at - start + len(piece)] = piece
        at += len(piece)
    return out


def read_audio(path: Path, seconds: float | None = None) -> np.ndarray:
    """A sound file (or its first `seconds`) as float32 stereo samples at AUDIO_FPS, resampled by ffmpeg."""
    limit = ["-t", f"{seconds:.3f}"] if seconds else []
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        *limit,
        "-vn",
        "-f",
        "f32le",
        "-ac",
        "2",
        "-ar",
        str(AUDIO_FPS),
        "-",
    ]
    result = subprocess.run(cmd, capture_output=True)
    samples = np.frombuffer(result.stdout, np.float32).reshape(-1, 2)
    if result.returncode or not len(samples):
        detail = last_line(result.stderr, "no audio in it")
        raise RenderError(
            f"ffmpeg could not read the audio {path.name} ({detail}); check or replace that file.", step="render"
        )
    return samples.copy()  # writable


def _loop(source: np.ndarray) -> tuple[int, np.ndarray]:
    """Where the track loops (its period in samples) and one cycle of it with the seam crossfaded in at its start.

    The loop leaves out the track's closing decay, and of the places near its end picks the one whose loudness
    contour, beat by beat, best matches the track's opening: so the crossfade keeps the rhythm instead of doubling
    it. Cycles then follow each other with no step in the waveform (a cycle ends on the sample before the one that
    starts its crossfade), so without a click.
    """
    frames = len(source) // _FRAME
    power = np.square(source[: frames * _FRAME, 0], dtype=np.float64) + np.square(source[: frames * _FRAME, 1])
    energy = power.reshape(frames, _FRAME).mean(axis=1)
    level = 10 * np.log10(energy + 1e-12)
    body = np.flatnonzero(level > np.median(level[level > -60] if (level > -60).any() else level) - 10)
    end = (body[-1] + 1 if body.size else frames) * _FRAME
    fade = min(round(CROSSFADE * AUDIO_FPS), end // 4) // _FRAME * _FRAME
    width = fade // _FRAME
    latest, earliest = (end - fade) // _FRAME, max(width, (end - fade) // _FRAME - 2 * AUDIO_FPS // _FRAME)
    opening = _standard(energy[:width])
    scores = [float(np.dot(_standard(energy[p : p + width]), opening)) for p in range(earliest, latest + 1)]
    period = (earliest + int(np.argmax(scores))) * _FRAME if scores and width > 1 else end - fade
    ramp = np.sin(np.linspace(0, np.pi / 2, fade, endpoint=False, dtype=np.float32))[:, None]
    cycle = source[:period].copy()
    # Equal power: the two sides are different music, so their powers, not their amplitudes, add up.
    cycle[:fade] = source[:fade] * ramp + source[period : period + fade] * np.sqrt(1 - ramp**2)
    return period, cycle


def _standard(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / (spread * len(values)) if spread > 0 else np.zeros_like(values)


def _music_gain(
    speech: list[tuple[float, float]], total: float, loud: float, quiet: float
) -> Callable[[np.ndarray], np.ndarray]:
    """A gain curve: quiet under speech, dipping over DUCK_RAMP before each stretch of it and coming back after;
    faded in at the start and out at the end."""
    xs, ys = [0.0], [loud]
    for start, end in _merge(speech, gap=0.6):
        xs += [max(xs[-1], start - DUCK_RAMP), max(xs[-1], start), end, end + DUCK_RAMP]
        ys += [loud, quiet, quiet, loud]
    xs.append(max(total, xs[-1]))
    ys.append(loud)
    points_x, points_y = np.array(xs), np.array(ys)

    def gain(t: np.ndarray) -> np.ndarray:
        g = np.interp(t, points_x, points_y).astype(np.float32)
        head, tail = t < FADE_IN, t > total - FADE_OUT
        g[head] *= np.sin(np.pi / 2 * t[head] / FADE_IN) ** 2
        g[tail] *= np.sin(np.pi / 2 * np.clip((total - t[tail]) / FADE_OUT, 0, 1)) ** 2
        return g

    return gain


def _merge(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
