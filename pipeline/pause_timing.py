"""Word timings from the audio alone: the words spread over the voiced time, their groups put on the pauses heard.

For a voice that gives no timings of its own (OpenAI speech), without paying for a transcript: a speaker pauses
between phrases, so the pauses in the audio say where the word groups begin and end, and each group's length (in
voiced time, pauses left out) says how many of the words it holds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from pipeline.models import WordTiming
from pipeline.timing import read_wav, speech_bounds, time_words

FRAME_SECONDS = 0.01
MIN_PAUSE = 0.08  # seconds of quiet that count as a pause (shorter ones are stop consonants)
QUIET = 0.1  # a frame is quiet below this share of the loud frames' level
# What leaving a pause inside a group costs, against squared shares: without it one group holding every word
# fits perfectly; with it a pause is passed over only when no word boundary fits it (e.g. a long stop consonant).
SKIP_COST = 0.005
UNMARKED_COST = 0.001  # what a pause after a word with no punctuation costs: speakers pause mostly at punctuation
MAX_SKIPPED = 3  # pauses one group may pass over: bounds the search, which is quadratic in words and pauses
PUNCTUATION = ".,;:!?"


class PauseTimer:
    """A word timer (see `WordTimer`) that listens for pauses: free, local, and needs no transcription model."""

    name: ClassVar[str] = "pauses"
    timing: ClassVar[Literal["pauses"]] = "pauses"
    model = "pauses-1"  # in the stored timings' key: change it when the method changes

    def time_words(self, text: str, audio: Path, language: str) -> list[WordTiming]:
        samples, rate = read_wav(audio)
        return time_words_by_pauses(text, samples, rate)


def time_words_by_pauses(text: str, samples: np.ndarray, rate: int) -> list[WordTiming]:
    """When each word of `text` is spoken in `samples`, placing word groups on the pauses between them."""
    words = text.split()
    start, end = speech_bounds(samples, rate)
    pauses = _pauses(samples, rate, start, end)[: 2 * len(words)]  # the longest, enough for every word boundary
    pauses.sort()
    if not words or not pauses:
        return time_words(text, start, end)
    edges = [(start, start), *pauses, (end, end)]
    voiced, total = [0.0], 0.0  # voiced seconds from the start to each edge's beginning
    for (_, left), (right, _) in zip(edges, edges[1:], strict=False):
        total += right - left
        voiced.append(total)
    weights = np.cumsum([0] + [len(re.sub(r"\W", "", w)) + 2 for w in words])
    # A pause after punctuation is the likely one; the last word's flag is never used (the speech ends there).
    unmarked = [0.0 if w[-1] in PUNCTUATION else UNMARKED_COST for w in words]
    groups = _best_groups(weights / weights[-1], np.array(voiced) / total, unmarked, len(edges))
    timings: list[WordTiming] = []
    for (a, b), (i, k) in groups:
        # No beat after a group's last punctuation: the pause it stands for is outside the group already.
        spread = time_words(" ".join(w.rstrip(PUNCTUATION) or w for w in words[i:k]), edges[a][1], edges[b][0])
        timings += [t.model_copy(update={"word": word}) for t, word in zip(spread, words[i:k], strict=False)]
    return timings


def _pauses(samples: np.ndarray, rate: int, start: float, end: float) -> list[tuple[float, float]]:
    """Quiet stretches inside the speech, longest first, as (start, end) seconds."""
    size = max(1, int(FRAME_SECONDS * rate))
    first, last = int(start * rate), int(end * rate)
    frames = samples[first : first + (last - first) // size * size].reshape(-1, size)
    if len(frames) < 3:
        return []
    level = np.sqrt((frames**2).mean(axis=1))
    quiet = level < QUIET * np.percentile(level, 90)
    found, run = [], None
    for i, is_quiet in enumerate(quiet):
        if is_quiet and run is None:
            run = i
        elif not is_quiet and run is not None:
            if (i - run) * FRAME_SECONDS >= MIN_PAUSE:
                found.append((start + run * FRAME_SECONDS, start + i * FRAME_SECONDS))
            run = None
    return sorted(found, key=lambda p: p[0] - p[1])


def _best_groups(
    weight: np.ndarray, voiced: np.ndarray, unmarked: list[float], edges: int
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Cut the words into groups between chosen pauses so each group's share of the words' weight is closest to its
    share of the voiced time (least squares; a pause not chosen falls inside a group). Returns ((edge a, edge b),
    (first word, end word)) per group."""
    inf = float("inf")
    weight, voiced = weight.tolist(), voiced.tolist()  # plain floats: this loop is hot, numpy scalars are slow
    words = len(unmarked)
    best = [[inf] * (words + 1) for _ in range(edges)]
    back: dict[tuple[int, int], tuple[int, int]] = {}
    best[0][0] = 0.0
    for b in range(1, edges):
        for k in range(1, words + 1):
            unpunctuated = unmarked[k - 1] if b < edges - 1 else 0.0  # a pause after a word with no punctuation
            for a in range(max(0, b - 1 - MAX_SKIPPED), b):
                row, skip = best[a], SKIP_COST * (b - a - 1)
                for i in range(k):
                    if row[i] == inf:
                        continue
                    cost = row[i] + ((weight[k] - weight[i]) - (voiced[b] - voiced[a])) ** 2 + skip + unpunctuated
                    if cost < best[b][k]:
                        best[b][k], back[(b, k)] = cost, (a, i)
    groups, at = [], (edges - 1, words)
    while at != (0, 0):
        a, i = back[at]
        groups.append(((a, at[0]), (i, at[1])))
        at = (a, i)
    return groups[::-1]
