"""Our BS.1770 meter and limiter, checked against pyloudnorm (an independent implementation)."""

import numpy as np
import pyloudnorm
import pytest

from pipeline.loudness import finish_speech, loudness

RATE = 22050


def bursts(level: float, seed: int = 0) -> np.ndarray:
    """Two seconds of speech-like sound: syllable-length bursts of tone and noise between pauses, with a few
    spikes to full scale (what Piper gives)."""
    rng = np.random.default_rng(seed)
    t = np.arange(2 * RATE) / RATE
    envelope = (np.sin(2 * np.pi * 4 * t) > 0).astype(float)  # 4 syllables a second
    sound = 0.6 * np.sin(2 * np.pi * 180 * t) + 0.4 * rng.standard_normal(t.size)
    out = level * envelope * sound
    out[rng.integers(0, t.size, 20)] = 1.0
    return out


@pytest.mark.parametrize("level", [0.02, 0.3, 0.9])
def test_quiet_and_loud_speech_end_at_minus_16_lufs_with_peaks_under_minus_1_dbfs(level):
    finished = finish_speech(bursts(level), RATE)
    assert pyloudnorm.Meter(RATE).integrated_loudness(finished) == pytest.approx(-16, abs=0.5)
    assert 20 * np.log10(np.max(np.abs(finished))) <= -1.0 + 1e-6


def test_our_meter_agrees_with_pyloudnorm():
    for level in (0.05, 0.5):
        sound = bursts(level, seed=1)
        assert loudness(sound, RATE) == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(sound), abs=0.2)


def test_silence_is_left_silent():
    assert not finish_speech(np.zeros(RATE), RATE).any()
