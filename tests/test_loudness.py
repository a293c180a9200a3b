"""Our BS.1770 meter, true-peak meter, limiters and mastering, checked against pyloudnorm and scipy (independent
implementations)."""

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from pipeline.loudness import MASTER_CEILING_DBTP, finish_speech, loudness, master, true_peak

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


def true_peak_by_scipy(samples: np.ndarray, rate_factor: int = 4) -> float:
    """An independent true-peak meter: scipy's polyphase resampler at 4x (as BS.1770-4 asks), over every channel."""
    up = resample_poly(samples.astype(np.float64), rate_factor, 1, axis=0)
    return 20 * np.log10(np.max(np.abs(up)))


def mix(level: float, seconds: float = 12.0, seed: int = 2) -> np.ndarray:
    """Stereo speech-like bursts (a voice's hiss ends near 11 kHz: voices are made at 22-24 kHz) over a bright chord:
    hot peaks between the samples."""
    rate = 44100
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    hiss = np.convolve(rng.standard_normal(t.size), np.ones(2) / 2, "same")
    voice = (np.sin(2 * np.pi * 3.5 * t) > 0.3) * (0.5 * np.sin(2 * np.pi * 210 * t) + 0.3 * hiss)
    chord = sum(0.1 * np.sin(2 * np.pi * f * t + i) for i, f in enumerate((3520, 7040, 11025 - 3)))
    return (np.stack([voice + chord, 0.8 * voice + np.roll(chord, 7)], axis=1) * level).astype(np.float32)


@pytest.mark.parametrize(("level", "target"), [(0.02, -14.0), (0.3, -14.0), (1.5, -14.0), (0.3, -16.0), (0.3, -10.0)])
def test_a_mix_is_mastered_to_its_target_with_true_peaks_under_the_ceiling(level, target):
    mastered = master(mix(level), 44100, target)
    assert pyloudnorm.Meter(44100).integrated_loudness(mastered.astype(np.float64)) == pytest.approx(target, abs=0.2)
    assert true_peak_by_scipy(mastered) <= MASTER_CEILING_DBTP + 0.1


def test_the_true_peak_meter_sees_peaks_between_the_samples():
    # A quarter-rate sine sampled 45 degrees off its crests: every sample is 3 dB under the wave's peak.
    t = np.arange(44100)
    wave = 0.5 * np.sin(np.pi / 2 * t + np.pi / 4)
    assert 20 * np.log10(np.max(np.abs(wave))) == pytest.approx(-9.03, abs=0.01)
    assert true_peak(wave, 44100) == pytest.approx(-6.02, abs=0.05)
    hot = mix(1.0)
    assert true_peak(hot, 44100) == pytest.approx(true_peak_by_scipy(hot), abs=0.1)
    clicks = np.zeros(4096)
    clicks[[100, 2000, 2001]] = [1.0, 0.9, -0.9]  # broadband to the top: a 4x meter reads them alike, not exactly
    assert true_peak(clicks, 44100) == pytest.approx(true_peak_by_scipy(clicks), abs=0.5)


def test_mastering_leaves_silence_silent_and_the_speech_finish_as_it_was():
    assert not master(np.zeros((44100, 2), np.float32), 44100).any()
    assert loudness(np.zeros(100), RATE) == -np.inf
    stereo = np.stack([bursts(0.3)] * 2, axis=1)
    assert loudness(stereo, RATE) == pytest.approx(loudness(bursts(0.3), RATE) + 3.01, abs=0.01)  # channels add
