"""Word timings from a voice's phoneme durations: which phonemes belong to which word of the text.

eSpeak (Piper's phonemiser) does not keep the text's word boundaries: it joins words ("of the" -> "ʌvðə") and
splits others ("1990" -> "nˈaɪntiːn nˈaɪnti"). So each word is phonemised alone, and that sequence is matched
against the phonemes actually spoken; a word starts where its first matched phoneme does.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

# Stress and length marks, word gaps, punctuation and Piper's start/end symbols: not sounds to match on.
_MARKS = set("ˈˌːˑ ^$_,.;:!?¡¿—–-'\"()")
_STRESS = set("ˈˌ")
_PAUSES = set(",.;:!?—–")
_LEAD_IN = _STRESS | {"_"}  # said as part of the sound after them

Phone = tuple[str, int, int]  # a spoken phoneme, its first sample and its number of samples


def word_spans(word_phonemes: Sequence[str], spoken: Sequence[Phone]) -> list[tuple[int, int]]:
    """(first sample, end sample) of each word, given each word's phonemes said alone and the spoken phonemes."""
    mine = [(k, ch) for k, phonemes in enumerate(word_phonemes) for ch in phonemes if ch not in _MARKS]
    sounds = [i for i, (ch, _, _) in enumerate(spoken) if ch not in _MARKS]
    matcher = difflib.SequenceMatcher(None, [ch for _, ch in mine], [spoken[i][0] for i in sounds], autojunk=False)
    placed: list[int | None] = [None] * len(mine)  # index into `sounds` of each of the words' own phonemes
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            placed[block.a + k] = block.b + k
    first: list[int | None] = [None] * len(word_phonemes)
    last: list[int | None] = [None] * len(word_phonemes)
    for (word, _), at in zip(mine, placed, strict=False):
        if at is not None:
            first[word] = at if first[word] is None else first[word]
            last[word] = at
    total = spoken[-1][1] + spoken[-1][2] if spoken else 0
    _place_unmatched(first, last, len(sounds))
    starts = [total if f is None else _onset(spoken, sounds[f]) for f in first]
    spans = []
    for word, start in enumerate(starts):
        following = starts[word + 1] if word + 1 < len(starts) else total
        stop = last[word]
        end = following if stop is None else min(following, _end(spoken, sounds[stop]))
        spans.append((start, max(start, end)))
    return spans


def _place_unmatched(first: list[int | None], last: list[int | None], sounds: int) -> None:
    """A word none of whose phonemes matched ("a" said alone is "ˈeɪ", in a sentence "ɐ") takes the sounds between
    its neighbours' matched ones; with none free, it starts where the next word does."""
    previous_end = -1
    for word in range(len(first)):
        if first[word] is None:
            following = next((f for f in first[word + 1 :] if f is not None), sounds)
            if previous_end + 1 < following:
                first[word], last[word] = previous_end + 1, following - 1
            elif following < sounds:
                first[word] = following
        stop = last[word]
        if stop is not None:
            previous_end = max(previous_end, stop)


def _onset(spoken: Sequence[Phone], index: int) -> int:
    """Where a word whose first phoneme is `index` starts to sound: with a stress mark said just before it, and the
    blank before it (Piper counts a blank with the phoneme before it, but it is the transition into the next one).
    After a word gap, from the gap's start: the voice is already moving into the word there. Measured against
    pocketsphinx's forced alignment, words start a median 12 ms later than it says; counted from the phoneme itself
    they were ~50 ms late, and ~30 ms with half the gap. Not after punctuation: that gap is a silent pause (0.3 s
    after a comma)."""
    while index > 0 and spoken[index - 1][0] in _LEAD_IN:
        index -= 1
    gap = index - 1
    if gap >= 0 and spoken[gap][0] == " ":
        before = gap - 1
        while before >= 0 and spoken[before][0] == "_":
            before -= 1
        if before < 0 or spoken[before][0] not in _PAUSES:
            index = gap
    return spoken[index][1]


def _end(spoken: Sequence[Phone], index: int) -> int:
    _, start, length = spoken[index]
    return start + length
