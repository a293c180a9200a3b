"""The 16-bit WAV files speech is kept in, where the speech in one starts and ends, and word timings that need no
voice: the words spread over a span by their length."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import numpy as np

from pipeline.models import WordTiming


def time_words(text: str, start: float, end: float) -> list[WordTiming]:
    """Spread the words over [start, end] in proportion to their length, with a beat after punctuation."""
    words = text.split()
    if not words:
        return []
    weights = [len(re.sub(r"\W", "", w)) + 2 + (3 if w[-1] in ".,;:!?" else 0) for w in words]
    scale = (end - start) / sum(weights)
    timings, t = [], start
    for word, weight in zip(words, weights, strict=False):
        timings.append(WordTiming(word=word, start=round(t, 3), end=round(t + weight * scale, 3)))
        t += weight * scale
    return timings


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the sample rate of a 16-bit PCM WAV."""
    with wave.open(str(path), "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return data.reshape(-1, channels).mean(axis=1) / 32768.0, rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write float samples in [-1, 1] as a mono 16-bit PCM WAV."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def speech_bounds(samples: np.ndarray, rate: int, threshold: float = 0.02) -> tuple[float, float]:
    """Where speech starts and ends, skipping leading and trailing silence."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return 0.0, len(samples) / rate
    return loud[0] / rate, (loud[-1] + 1) / rate
