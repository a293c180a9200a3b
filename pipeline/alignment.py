"""Put the script's own words on the times a transcript gives, so captions keep the script's spelling."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

from pipeline.models import WordTiming
from pipeline.timing import time_words

Heard = tuple[str, float, float]  # a transcribed word, its start and end in seconds


def word_key(word: str) -> str:
    """A word reduced for matching: lower case, accents and punctuation gone ("Don't," -> "dont")."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def align_words(text: str, heard: Sequence[Heard], start: float, end: float) -> tuple[list[WordTiming], int]:
    """Time each word of `text` from the transcript; return the timings and how many words matched exactly.

    Matching words take the transcript's times. A run the transcript spelt differently ("1969" heard as
    "nineteen sixty nine") shares the times of what was heard there; a run not heard at all is spread over the
    gap around it. `start` and `end` bound the speech, for words before the first or after the last match.
    """
    words = text.split()
    said = [h for h in heard if word_key(h[0])]
    spans: list[tuple[float, float] | None] = [None] * len(words)
    matcher = difflib.SequenceMatcher(
        None, [word_key(w) for w in words], [word_key(h[0]) for h in said], autojunk=False
    )
    matched = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            matched += i2 - i1
            for k in range(i2 - i1):
                spans[i1 + k] = (said[j1 + k][1], said[j1 + k][2])
        elif tag == "replace":
            spread = time_words(" ".join(words[i1:i2]), said[j1][1], said[j2 - 1][2])
            for k, timing in enumerate(spread):
                spans[i1 + k] = (timing.start, timing.end)
    _fill_gaps(words, spans, start, end)
    timings, floor = [], 0.0
    for word, span in zip(words, spans, strict=False):
        begin = max(span[0], floor)  # type: ignore[index]  # _fill_gaps left no None
        finish = max(span[1], begin)  # type: ignore[index]
        timings.append(WordTiming(word=word, start=round(begin, 3), end=round(finish, 3)))
        floor = begin
    return timings, matched


def _fill_gaps(words: list[str], spans: list[tuple[float, float] | None], start: float, end: float) -> None:
    i = 0
    while i < len(spans):
        if spans[i] is not None:
            i += 1
            continue
        j = i
        while j < len(spans) and spans[j] is None:
            j += 1
        lo = spans[i - 1][1] if i > 0 else min(start, spans[j][0] if j < len(spans) else start)  # type: ignore[index]
        hi = spans[j][0] if j < len(spans) else max(end, lo)  # type: ignore[index]
        for k, timing in enumerate(time_words(" ".join(words[i:j]), lo, max(hi, lo))):
            spans[i + k] = (timing.start, timing.end)
        i = j
