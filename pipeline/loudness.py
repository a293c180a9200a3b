"""Sound that is finished: integrated loudness (ITU-R BS.1770-4), true peak, and limiters, in numpy.

Speech is finished per scene (`finish_speech`); the mixed soundtrack is mastered once (`master`). Both work in
100 ms steps and chunks, so a 180 s stereo mix costs a few tenths of a second and no copy of itself.
"""

from __future__ import annotations

import functools
import math

import numpy as np

TARGET_LUFS = -16.0  # each scene's speech: what voice-led video on phones is mixed to
PEAK_DBFS = -1.0  # headroom for the AAC encoder, whose output peaks above its input
MASTER_LUFS = -14.0  # the finished soundtrack: YouTube turns louder uploads down and never turns quieter ones up
# The finished MP4 must peak at or under -1 dBTP; the AAC encoder's output peaks above its input (by up to 0.5 dB
# with the fast coder the render uses, measured on Piper over the library's music), and meters differ by a tenth.
MASTER_CEILING_DBTP = -2.5
# The music's gain where nobody speaks and under the voice, its loudest 3 s taken as loud as the voice: 0.1 (-20 dB)
# keeps the voice 12 dB or more above it, measured 3 s at a time, over every track of the library.
MUSIC_VOLUME, DUCKED_VOLUME = 0.3, 0.1
_MASTER_TOLERANCE = 0.1  # LU either side of the target: a tenth of what the Short promises
_STEP = 0.1  # gating blocks of 400 ms (4 steps), overlapping by 75 %
_CHUNK_STEPS = 15  # steps K-weighted per FFT, after one step of history for the filters' tails
_LIMIT_WINDOW = 0.005  # seconds each side over which a limiter eases in and out of a peak
_LIMIT_CHUNK = 1024  # samples: the true-peak limiter skips stretches this long with no peak near the ceiling
_LIMIT_PIECE = 1 << 18  # samples the limiter works on at once
_PEAK_PIECE = 1 << 14  # samples oversampled at once: a few arrays of it fit a CPU's cache
# 4x oversampling (BS.1770-4 annex 2): each point between two samples is a 16-tap windowed sinc of its neighbours,
# flat within 0.12 dB to 0.4 of the sample rate (17.6 kHz at 44.1 kHz, above what the AAC encoder keeps); BS.1770's
# own 12 taps fall 0.6 dB there, and under-read what a limiter's peaks hold up there.
_PHASES = np.array([0.25, 0.5, 0.75])
_TAPS = np.arange(-7, 9)


def loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS of float samples, mono or one column per channel; -inf for silence."""
    sums, step = _step_energies(samples, rate), int(_STEP * rate)
    if len(samples) <= 4 * step:  # shorter than one gating block: the mean over all of it
        return _lufs(sums.sum() / len(samples)) if len(samples) else -math.inf
    return _gated(sums[: len(samples) // step] / (4 * step))


def loudest(samples: np.ndarray, rate: int, seconds: float = 3.0) -> float:
    """The loudness of the loudest `seconds` (EBU R128's short-term loudness at its highest, ungated); -inf for
    silence or a sound shorter than that."""
    sums = _step_energies(samples, rate)[: len(samples) // int(_STEP * rate)]
    steps = round(seconds / _STEP)
    if len(sums) < steps:
        return -math.inf
    window = np.convolve(sums, np.ones(steps), "valid") / (steps * int(_STEP * rate))
    return _lufs(float(window.max()))


def finish_speech(samples: np.ndarray, rate: int, target: float = TARGET_LUFS, peak: float = PEAK_DBFS) -> np.ndarray:
    """The samples at about `target` LUFS, their peaks limited to `peak` dBFS; silence is left as it is."""
    ceiling = 10 ** (peak / 20)
    out = samples.astype(np.float64)
    for _ in range(3):  # limiting lowers the loudness a little: measure again and make it up
        level = loudness(out, rate)
        if not math.isfinite(level) or abs(level - target) < 0.2:
            break
        out = _limit(out * 10 ** ((target - level) / 20), ceiling, rate)
    return _limit(out, ceiling, rate)


def master(
    samples: np.ndarray, rate: int, target: float = MASTER_LUFS, ceiling: float = MASTER_CEILING_DBTP
) -> np.ndarray:
    """The mix (samples x channels, float32) at `target` LUFS with true peaks under `ceiling` dBTP, changed in
    place (a 180 s copy would cost 64 MB); silence is left as it is.

    A gain brings it to the target, then a true-peak limiter catches what that pushes over the ceiling, which takes
    a little loudness off: measured again (only where the limiter worked), it is made up by a smaller gain and
    limit, at most four rounds.
    """
    step = int(_STEP * rate)
    whole = len(samples) // step
    if whole < 4:
        return samples
    sums = _step_energies(samples, rate)[:whole]
    level, efficiency = _gated(sums / (4 * step)), 1.0
    for _ in range(4):
        if not math.isfinite(level) or abs(level - target) <= _MASTER_TOLERANCE:
            break
        # Aim at the top of the tolerance: the limiter only takes loudness off. Where it works hard, a dB of gain adds
        # less than a dB of loudness: ask for more, as the last round found (a secant step).
        raise_db = (target + 0.9 * _MASTER_TOLERANCE - level) / efficiency
        samples *= np.float32(10 ** (raise_db / 20))
        sums *= 10 ** (raise_db / 10)
        for first, last in _step_spans(limit_true_peak(samples, rate, ceiling), step, whole):
            sums[first:last] = _step_energies(samples, rate, first, last)
        level, before = _gated(sums / (4 * step)), level
        efficiency = min(1.0, max(0.1, (level - before) / raise_db)) if raise_db > 0 else 1.0
    return samples


def _step_spans(changed: list[tuple[int, int]], step: int, steps: int) -> list[tuple[int, int]]:
    """The steps whose K-weighted energy the changed samples alter (the filters' tail carries a change up to a step
    further), joined where they come within an FFT's worth of steps of each other."""
    spans: list[tuple[int, int]] = []
    for start, end in changed:
        first, last = start // step, min(steps, -(-end // step) + 1)
        if spans and first - spans[-1][1] <= _CHUNK_STEPS:
            spans[-1] = (spans[-1][0], max(spans[-1][1], last))
        else:
            spans.append((first, last))
    return spans


def true_peak(samples: np.ndarray, rate: int) -> float:
    """The highest peak in dBTP (4x oversampled, over all channels) of float samples; -inf for silence."""
    channels = samples.reshape(len(samples), -1)
    peak = max(
        (float(np.max(_peaks(channels[a : a + (1 << 20) + 12]))) for a in range(0, len(channels), 1 << 20)), default=0.0
    )
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit_true_peak(samples: np.ndarray, rate: int, ceiling: float) -> list[tuple[int, int]]:
    """Turn the gain down smoothly around every true peak over `ceiling` dBTP, in place, all channels alike; the
    stretches (first and past-last sample) it changed.

    Only stretches with a sample within reach of the ceiling are oversampled (a 12-tap interpolator cannot rise more
    than the sum of its taps' sizes above the samples it reads), a piece at a time, so the temporaries stay small.
    """
    limit = 10 ** (ceiling / 20)
    channels = samples.reshape(len(samples), -1)
    half = max(1, int(_LIMIT_WINDOW * rate))
    reach = limit / float(np.abs(_interpolator()).sum(axis=1).max())
    chunks = -(-len(channels) // _LIMIT_CHUNK)
    loudest = (
        np.array([float(np.max(np.abs(channels[i * _LIMIT_CHUNK : (i + 1) * _LIMIT_CHUNK]))) for i in range(chunks)])
        if chunks
        else np.zeros(0)
    )
    hot = loudest >= reach
    hot[1:] |= hot[:-1].copy()  # a chunk's neighbours too: the interpolator reads 6 samples past each edge
    hot[:-1] |= hot[1:].copy()
    margin = 2 * half + len(_TAPS)  # the gain moves up to 2 windows from a peak; the interpolator needs its taps
    edges = np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(np.int8), [0]])))
    changed: list[tuple[int, int]] = []
    for first, last in zip(
        edges[::2] * _LIMIT_CHUNK, np.minimum(edges[1::2] * _LIMIT_CHUNK, len(channels)), strict=False
    ):
        # What each sample needs, all of it before any is changed; then the gain, a piece (and its margin) at a time.
        lo, hi = max(0, first - margin), min(len(channels), last + margin)
        need = np.ones(hi - lo, np.float32)
        for a in range(lo, hi, _LIMIT_PIECE):
            a0, b0 = max(lo, a - len(_TAPS)), min(hi, a + _LIMIT_PIECE + len(_TAPS))
            peaks = _peaks(channels[a0:b0])[a - a0 : a - a0 + min(_LIMIT_PIECE, hi - a)]
            need[a - lo : a - lo + len(peaks)] = np.minimum(1.0, limit / np.maximum(peaks, 1e-12))
        for a in range(lo, hi, _LIMIT_PIECE):
            b = min(hi, a + _LIMIT_PIECE)
            a0, b0 = max(lo, a - 2 * half), min(hi, b + 2 * half)
            if need[a0 - lo : b0 - lo].min() < 1:
                channels[a:b] *= _ease(need[a0 - lo : b0 - lo], half)[a - a0 : b - a0, None]
                changed.append((a, b))
    np.clip(channels, -limit, limit, out=channels)  # only catches float rounding at sample points
    return changed


def _limit(samples: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """Turn the gain down smoothly around each sample over `ceiling` (a sample-peak limiter for one voice)."""
    if not samples.size or np.max(np.abs(samples)) <= ceiling:
        return samples
    need = np.minimum(1.0, ceiling / np.maximum(np.abs(samples), 1e-12))
    return np.clip(samples * _ease(need, max(1, int(_LIMIT_WINDOW * rate))), -ceiling, ceiling)


def _ease(need: np.ndarray, half: int) -> np.ndarray:
    """A gain at or under `need` everywhere, moving over 2 * `half` samples instead of clicking.

    The gain is the lowest needed within a window around each sample, then averaged over the same window: every
    value averaged at a peak is a minimum taken over a window holding that peak, so the peak ends at or under the
    ceiling.
    """
    width = 2 * half + 1
    lowest = _running_min(need, width)
    total = np.concatenate([[0.0], np.cumsum(np.pad(lowest, half, constant_values=1.0), dtype=np.float64)])
    return ((total[width:] - total[:-width]) / width).astype(need.dtype)


def _running_min(values: np.ndarray, width: int) -> np.ndarray:
    """The minimum over each centred window of odd `width` (van Herk / Gil-Werman: three passes, any width)."""
    half, n = width // 2, len(values)
    padded = np.pad(values, (half, half + (-(n + 2 * half)) % width), constant_values=1.0).reshape(-1, width)
    prefix = np.minimum.accumulate(padded, axis=1).ravel()
    suffix = np.minimum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:n], prefix[width - 1 : width - 1 + n])


def _peaks(channels: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude over all channels at the sample and at the 4x points on either side of it."""
    peaks = np.abs(channels[:, 0])
    for channel in channels.T[1:]:
        np.maximum(peaks, np.abs(channel), out=peaks)
    taps = _interpolator()
    for a in range(0, len(channels) - len(_TAPS) + 1, _PEAK_PIECE):
        # The points between samples k + 7 and k + 8, for k in a piece small enough to stay in the CPU's cache.
        count = min(_PEAK_PIECE, len(channels) - len(_TAPS) + 1 - a)
        between, term = np.zeros(count, np.float32), np.empty(count, np.float32)
        for channel in channels.T:
            piece = np.ascontiguousarray(channel[a : a + count + len(_TAPS) - 1])
            for phase in taps:
                point = np.zeros(count, np.float32)
                for j, tap in enumerate(phase):
                    point += np.multiply(piece[j : j + count], tap, out=term)
                np.maximum(between, np.abs(point, out=point), out=between)
        for shift in (-_TAPS[0], 1 - _TAPS[0]):
            np.maximum(peaks[a + shift : a + shift + count], between, out=peaks[a + shift : a + shift + count])
    return peaks


@functools.cache
def _interpolator() -> np.ndarray:
    """The taps (3 x 16) giving the points a quarter, half and three quarters of the way to the next sample."""
    distance = _TAPS[None, :] - _PHASES[:, None]
    taps = np.sinc(distance) * np.cos(np.pi * distance / 17) ** 2  # a Hann window over +-8.5 samples
    return (taps / taps.sum(axis=1, keepdims=True)).astype(np.float32)


def _step_energies(samples: np.ndarray, rate: int, first: int = 0, last: int | None = None) -> np.ndarray:
    """The K-weighted energy, summed over channels, of each 100 ms step from `first` to `last` (default: to the end,
    a last partial step included)."""
    channels = samples.reshape(len(samples), -1)
    step, n = int(_STEP * rate), len(channels)
    last = -(-n // step) if last is None else last
    size = (_CHUNK_STEPS + 1) * step
    response = _k_response(size, rate)
    sums = np.zeros(max(0, last - first))
    for channel in channels.T:
        for at in range(first, last, _CHUNK_STEPS):
            # Overlap-save: one step of history before the chunk, so the filters' tails (under 100 ms) are real.
            start, count = at * step, min(_CHUNK_STEPS, last - at)
            piece = channel[max(0, start - step) : min(n, start + count * step)]
            if start < step:
                piece = np.concatenate([np.zeros(step - start, piece.dtype), piece])
            energy = np.square(
                np.fft.irfft(np.fft.rfft(piece, size) * response, size)[step : len(piece)], dtype=np.float64
            )
            whole = len(energy) // step
            sums[at - first : at - first + whole] += energy[: whole * step].reshape(whole, step).sum(axis=1)
            if len(energy) > whole * step:  # the last, partial step
                sums[at - first + whole] += energy[whole * step :].sum()
    return sums


def _gated(step_powers: np.ndarray) -> float:
    """BS.1770's gated loudness from the mean square of each 100 ms step (x 4): blocks of 4 steps, a step apart."""
    powers = step_powers[:-3] + step_powers[1:-2] + step_powers[2:-1] + step_powers[3:]
    gated = powers[powers > 10 ** ((-70 + 0.691) / 10)]  # absolute gate, -70 LUFS
    if not gated.size:
        return -math.inf
    relative = 10 ** ((_lufs(np.mean(gated)) - 10 + 0.691) / 10)  # relative gate, 10 LU under the first mean
    kept = gated[gated > relative]
    return _lufs(np.mean(kept if kept.size else gated))


def _lufs(power: float) -> float:
    return -0.691 + 10 * math.log10(power) if power > 0 else -math.inf


@functools.cache
def _k_response(size: int, rate: int) -> np.ndarray:
    """BS.1770's K-weighting (a high shelf, then a high pass) on the bins of an rfft of `size`."""
    z = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)  # e^-jw on the rfft's bins
    response = np.ones_like(z)
    for b, a in (_shelf(rate), _high_pass(rate)):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return response.astype(np.complex64)


def _shelf(rate: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    gain, q, fc = 4.0, 0.7071752369554193, 1681.974450955533
    a, w0 = 10 ** (gain / 40), 2 * math.pi * fc / rate
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    root = 2 * math.sqrt(a) * alpha
    return (
        (
            a * ((a + 1) + (a - 1) * cos + root),
            -2 * a * ((a - 1) + (a + 1) * cos),
            a * ((a + 1) + (a - 1) * cos - root),
        ),
        ((a + 1) - (a - 1) * cos + root, 2 * ((a - 1) - (a + 1) * cos), (a + 1) - (a - 1) * cos - root),
    )


def _high_pass(rate: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    q, fc = 0.5003270373253953, 38.13547087613982
    w0 = 2 * math.pi * fc / rate
    alpha, cos = math.sin(w0) / (2 * q), math.cos(w0)
    return ((1 + cos) / 2, -(1 + cos), (1 + cos) / 2), (1 + alpha, -2 * cos, 1 - alpha)
