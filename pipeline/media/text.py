"""Words in any script laid out on lines: fonts per run, right-to-left order, and long words broken to fit.

libraqm (in Pillow's wheels) shapes each run: it joins Arabic letters and orders a right-to-left run itself.
This module orders the words of a line (a word-level form of the Unicode bidirectional algorithm) and breaks a
word too wide for a line, so text never has to shrink to a hairline.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from PIL import ImageDraw, ImageFont

from pipeline.media.fonts import ATTACHED, FONT, load_font, runs, script_of

Direction = str | None  # "rtl", "ltr", or None for a word of digits and punctuation
Ink = float | tuple[int, ...] | str  # a colour as Pillow takes it: a grey level, a tuple of channels, or a name
UNSPACED = frozenset({"Chinese, Japanese, Korean", "Thai", "Lao", "Khmer", "Myanmar"})  # no spaces between words
NO_LINE_START = frozenset("、。，．・：；？！ー）」』】〕〉》ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々ゝゞヽヾ")
NO_LINE_END = frozenset("（「『【〔〈《")
# Arabic letters that join only to the letter before them: a word broken after one needs no joiner.
RIGHT_JOINING = frozenset("آأؤإاةدذرزوٱ") | frozenset(map(chr, range(0x0688, 0x069A)))
ZWJ = "\u200d"


class Run(NamedTuple):
    """Characters one font draws."""

    text: str
    font: ImageFont.FreeTypeFont


class Piece(NamedTuple):
    """A word, or part of a long one, on a line; `word` is its index in the text."""

    text: str
    word: int


@lru_cache(maxsize=2048)
def shape(text: str, px: int, primary: Path = FONT) -> tuple[Run, ...]:
    """`text` as runs of fonts at `px` pixels, in the word's own direction's order (right to left for Arabic)."""
    shaped = tuple(Run(part, load_font(path, px)) for part, path in runs(text, primary))
    return shaped[::-1] if direction(text) == "rtl" else shaped


def width(text: str, px: int, primary: Path = FONT) -> float:
    """How wide `text` draws."""
    return sum(run.font.getlength(run.text) for run in shape(text, px, primary))


def draw_word(
    draw: ImageDraw.ImageDraw,
    x: float,
    baseline: float,
    text: str,
    px: int,
    primary: Path = FONT,
    *,
    fill: Ink | None = None,
    stroke_width: float = 0,
    stroke_fill: Ink | None = None,
) -> None:
    """Draw `text` from `x` (its left edge) on `baseline`, each run in its own font."""
    for run in shape(text, px, primary):
        draw.text(
            (x, baseline),
            run.text,
            font=run.font,
            anchor="ls",
            fill=fill,
            stroke_width=stroke_width,
            stroke_fill=stroke_fill,
        )
        x += run.font.getlength(run.text)


def uses_only(text: str, primary: Path = FONT) -> bool:
    """Whether `primary` draws all of `text` (so its layout is exactly the Latin one)."""
    return all(path == primary for _, path in runs(text, primary))


def direction(text: str) -> Direction:
    """A word's direction from its first strongly directional character."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return None


def visual_order(directions: list[Direction]) -> list[int]:
    """The indexes of a line's words from left to right.

    The line takes the direction of its first directional word; a right-to-left stretch in a left-to-right line
    (or the reverse) keeps its own order, and a neutral word joins a stretch only when both its neighbours are in it.
    """
    base = next((d for d in directions if d), "ltr")
    levels = []
    for i, d in enumerate(directions):
        if d is None:
            before = next((e for e in reversed(directions[:i]) if e), base)
            after = next((e for e in directions[i + 1 :] if e), base)
            d = before if before == after else base
        levels.append((0 if base == "ltr" else 1) + (d != base))
    order = list(range(len(directions)))
    for level in range(max(levels, default=0), 0, -1):  # reverse each stretch at this level or higher
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    return order


def break_word(word: str, fits: Callable[[str], bool]) -> list[str]:
    """`word` in pieces that each fit, evenly long: hyphenated, joined across the break in Arabic, and unmarked in
    scripts written without spaces (where no small kana or closing mark starts a line)."""
    if fits(word) or len(word) < 2:
        return [word]
    cuts = [i for i in range(1, len(word)) if _can_break(word, i)]
    pieces = _greedy(word, cuts, fits, 0)
    even = _greedy(word, cuts, fits, len(pieces))  # the same number of pieces, so the last is not a stub
    return even if len(even) == len(pieces) else pieces


def _greedy(word: str, cuts: list[int], fits: Callable[[str], bool], count: int) -> list[str]:
    """Pieces as long as fit; with a `count`, each at most its share of the characters left."""
    pieces: list[str] = []
    start = 0
    while start < len(word):
        end = start
        most = -(-(len(word) - start) // (count - len(pieces))) if count > len(pieces) else len(word)
        for cut in [c for c in cuts if c > start] + [len(word)]:
            if cut - start > most or not fits(_piece(word, start, cut)):
                break
            end = cut
        if end == start:  # not even one character fits: take it anyway
            end = next((c for c in cuts if c > start), len(word))
        pieces.append(_piece(word, start, end))
        start = end
    return pieces


def _piece(word: str, start: int, end: int) -> str:
    text = word[start:end]
    if end < len(word):
        before, after = word[end - 1], word[end]
        if _joins(before) and _joins(after) and before not in RIGHT_JOINING:
            text += ZWJ  # keeps the letter's joined form at the break
        elif not _unspaced(before) and not _joins(before):
            text += "-"
    if start > 0 and _joins(word[start]) and _joins(word[start - 1]) and word[start - 1] not in RIGHT_JOINING:
        text = ZWJ + text
    return text


def _can_break(word: str, i: int) -> bool:
    ch = word[i]
    if unicodedata.category(ch) in ATTACHED or 0xFE00 <= ord(ch) <= 0xFE0F:
        return False  # never between a letter and its mark
    return ch not in NO_LINE_START and word[i - 1] not in NO_LINE_END


def _joins(ch: str) -> bool:
    return unicodedata.bidirectional(ch) == "AL" and unicodedata.category(ch) == "Lo"


def unspaced(word: str) -> bool:
    """Whether `word` has letters of a script written without spaces, which may break between any two."""
    return any(_unspaced(ch) for ch in word)


def _unspaced(ch: str) -> bool:
    script = script_of(ch)
    return script is not None and script.name in UNSPACED


def wrap(words: list[str], measure: Callable[[str], float], space: float, limit: float) -> list[list[Piece]]:
    """Greedy lines no wider than `limit`; a word wider than a line is broken into pieces first."""
    lines: list[list[Piece]] = [[]]
    for index, word in enumerate(words):
        for piece in break_word(word, lambda text: measure(text) <= limit):
            line = lines[-1]
            used = sum(measure(p.text) for p in line) + space * len(line)
            if line and used + measure(piece) > limit:
                lines.append([Piece(piece, index)])
            else:
                line.append(Piece(piece, index))
    return lines
