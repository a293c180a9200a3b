"""Word timings from the pauses heard in speech-like audio, with no transcript."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.pause_timing import time_words_by_pauses
from pipeline.timing import speech_bounds, time_words

RATE = 16_000
TEXT = (
    "Octopuses taste with their arms, and see colour through their skin! They change shape in a blink; nobody "
    "knows quite how they learned it, but they did. Then they vanish."
)


def phrases(text: str, seed: int = 1) -> tuple[np.ndarray, list[float]]:
    """Speech-like audio: words of uneven length run together, a short stop inside each, and pauses after
    punctuation; with each word's true onset."""
    rng = np.random.default_rng(seed)
    parts, onsets, t = [np.zeros(int(0.3 * RATE))], [], 0.3
    for i, word in enumerate(text.split()):
        length = 0.06 + 0.045 * len(word.strip(",.!;")) * rng.uniform(0.7, 1.3)
        n = int(length * RATE)
        tone = np.sin(2 * np.pi * (200 + 30 * (i % 7)) * np.arange(n) / RATE)
        voiced = 0.4 * tone * (1 + 0.3 * rng.standard_normal(n))
        voiced[int(n * 0.4) : int(n * 0.4) + int(0.03 * RATE)] = 0  # a stop consonant: quiet, but no pause
        gap = 0.35 if word[-1] in ".!;" else 0.2 if word[-1] == "," else rng.uniform(0, 0.04)
        parts += [voiced, 0.002 * rng.standard_normal(int(gap * RATE))]  # room noise in the gaps
        onsets.append(t)
        t += len(voiced) / RATE + int(gap * RATE) / RATE
    return np.concatenate(parts + [np.zeros(int(0.3 * RATE))]), onsets


@pytest.mark.parametrize("seed", [1, 3, 4])
def test_words_start_near_their_onsets_where_the_plain_spread_drifts(seed):
    samples, onsets = phrases(TEXT, seed)
    timings = time_words_by_pauses(TEXT, samples, RATE)
    assert [t.word for t in timings] == TEXT.split()  # as written, punctuation kept
    assert all(a.end <= b.start + 1e-9 for a, b in zip(timings, timings[1:], strict=False))
    errors = np.array([abs(t.start - onset) for t, onset in zip(timings, onsets, strict=False)])
    # Every phrase starts on its pause; inside one, words of uneven length (±30 %) drift a little.
    assert errors.max() < 0.15 and (errors < 0.1).mean() >= 0.9
    # The plain spread over the voiced span (what a voice with no timings got before) drifts much further.
    spread = time_words(TEXT, *speech_bounds(samples, RATE))
    assert max(abs(t.start - onset) for t, onset in zip(spread, onsets, strict=False)) > 0.2


def test_audio_with_no_pause_is_the_plain_spread_and_no_text_is_no_words():
    samples = 0.4 * np.sin(2 * np.pi * 220 * np.arange(RATE) / RATE)
    assert time_words_by_pauses("one two three", samples, RATE) == time_words("one two three", 0.0, 1.0)
    assert time_words_by_pauses("", samples, RATE) == []
