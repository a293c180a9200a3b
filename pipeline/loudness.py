"""Speech that sounds finished: integrated loudness (ITU-R BS.1770-4) and a gentle peak limiter, in numpy."""

from __future__ import annotations

import math

import numpy as np

TARGET_LUFS = -16.0  # what voice-led video on phones is mixed to (and what YouTube plays back near)
PEAK_DBFS = -1.0  # headroom for the AAC encoder, whose output peaks above its input
_BLOCK, _STEP = 0.4, 0.1  # gating blocks of 400 ms, overlapping by 75 %
_LIMIT_WINDOW = 0.005  # seconds each side over which the limiter eases in and out of a peak


def loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS of mono float samples; -inf for silence."""
    weighted = _k_weighted(samples, rate)
    size, step = int(_BLOCK * rate), int(_STEP * rate)
    if len(weighted) <= size:
        powers = np.array([np.mean(weighted ** 2)]) if len(weighted) else np.zeros(1)
    else:
        power = np.concatenate([[0.0], np.cumsum(weighted ** 2)])
        starts = np.arange(0, len(weighted) - size + 1, step)
        powers = (power[starts + size] - power[starts]) / size
    gated = powers[powers > 10 ** ((-70 + 0.691) / 10)]  # absolute gate, -70 LUFS
    if not gated.size:
        return -math.inf
    relative = 10 ** ((_lufs(np.mean(gated)) - 10 + 0.691) / 10)  # relative gate, 10 LU under the first mean
    kept = gated[gated > relative]
    return _lufs(np.mean(kept if kept.size else gated))


def finish_speech(samples: np.ndarray, rate: int, target: float = TARGET_LUFS, peak: float = PEAK_DBFS
                  ) -> np.ndarray:
    """The samples at about `target` LUFS, their peaks limited to `peak` dBFS; silence is left as it is."""
    ceiling = 10 ** (peak / 20)
    out = samples.astype(np.float64)
    for _ in range(3):  # limiting lowers the loudness a little: measure again and make it up
        level = loudness(out, rate)
        if not math.isfinite(level) or abs(level - target) < 0.2:
            break
        out = _limit(out * 10 ** ((target - level) / 20), ceiling, rate)
    return _limit(out, ceiling, rate)


def _limit(samples: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """Turn the gain down smoothly around each sample over `ceiling`, never under it anywhere it matters.

    The gain is the lowest needed within a window around each sample, then averaged over the same window: every
    value averaged at a peak is a minimum taken over a window holding that peak, so the peak ends at or under the
    ceiling, and the gain moves over ~10 ms instead of clicking.
    """
    if not samples.size or np.max(np.abs(samples)) <= ceiling:
        return samples
    half = max(1, int(_LIMIT_WINDOW * rate))
    need = np.minimum(1.0, ceiling / np.maximum(np.abs(samples), 1e-12))
    padded = np.pad(need, half, constant_values=1.0)
    lowest = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).min(axis=1)
    total = np.concatenate([[0.0], np.cumsum(np.pad(lowest, half, constant_values=1.0))])
    gain = (total[2 * half + 1:] - total[:-(2 * half + 1)]) / (2 * half + 1)
    return np.clip(samples * gain, -ceiling, ceiling)  # the clip only catches float rounding


def _lufs(power: float) -> float:
    return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf


def _k_weighted(samples: np.ndarray, rate: int) -> np.ndarray:
    """BS.1770's K-weighting (a high shelf, then a high pass), applied in the frequency domain."""
    if not samples.size:
        return samples
    n = 1 << int(math.ceil(math.log2(len(samples) + rate // 10)))  # room for the filters' tails
    z = np.exp(-1j * np.pi * np.arange(n // 2 + 1) / (n // 2))  # e^-jw on the rfft's bins
    response = np.ones_like(z)
    for b, a in (_shelf(rate), _high_pass(rate)):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return np.fft.irfft(np.fft.rfft(samples, n) * response, n)[:len(samples)]


def _shelf(rate: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    gain, q, fc = 4.0, 0.7071752369554193, 1681.974450955533
    a, w0 = 10 ** (gain / 40), 2 * math.pi * fc / rate
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    root = 2 * math.sqrt(a) * alpha
    return ((a * ((a + 1) + (a - 1) * cos + root), -2 * a * ((a - 1) + (a + 1) * cos),
             a * ((a + 1) + (a - 1) * cos - root)),
            ((a + 1) - (a - 1) * cos + root, 2 * ((a - 1) - (a + 1) * cos), (a + 1) - (a - 1) * cos - root))


def _high_pass(rate: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    q, fc = 0.5003270373253953, 38.13547087613982
    w0 = 2 * math.pi * fc / rate
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    return ((1 + cos) / 2, -(1 + cos), (1 + cos) / 2), (1 + alpha, -2 * cos, 1 - alpha)
