"""Captions: short word groups, the SRT file, and one pre-rendered image per highlighted word."""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw
from pydantic import Field

from pipeline.media import text
from pipeline.media.fonts import FONT, load_font, visible
from pipeline.media.text import draw_word
from pipeline.models import Model, VideoFormat, WordTiming

LINGER = 0.6  # seconds a group stays after its last word when nothing follows at once
EDGE = 2  # pixels kept clear inside the safe area: the video's half-size colour planes blur an edge by one


class CaptionStyle(Model):
    """How captions look; sizes are fractions of the frame so tiny test renders look the same."""

    font: Path = FONT
    size: float = Field(0.085, description="Font size as a share of the frame width.")
    min_size: float = Field(
        0.06,
        description="Smallest font size, as a share of the width: a word too wide for "
        "the line at this size is shown in pieces, one after another.",
    )
    stroke: float = Field(0.14, description="Outline width as a share of the font size.")
    fill: tuple[int, int, int] = (255, 255, 255)
    highlight: tuple[int, int, int] = (255, 214, 10)
    outline: tuple[int, int, int] = (0, 0, 0)
    max_words: int = 3
    centre_y: float = Field(0.62, description="Vertical centre, inside the Shorts safe area.")
    # YouTube's safe area for Shorts: the title and channel sit below 75 %, the like/comment/share column right of
    # 85 %, the search bar above 10 %. Every caption pixel, outline included, stays inside.
    left: float = Field(0.08, description="Left edge of the caption area, as a share of the width.")
    right: float = Field(0.85, description="Right edge of the caption area, as a share of the width.")
    top: float = Field(0.10, description="Top edge of the caption area, as a share of the height.")
    bottom: float = Field(0.75, description="Bottom edge of the caption area, as a share of the height.")
    uppercase: bool = True


class CaptionGroup(Model):
    """A few words shown together on one line; times are seconds from the start of the Short."""

    words: list[WordTiming]
    start: float
    end: float

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


class CaptionCue(Model):
    """One image on screen over [start, end): a group with one word highlighted."""

    group: int
    highlight: int
    start: float
    end: float


class _Sizes(NamedTuple):
    """A format's caption font sizes in pixels and the room a line has, outline included."""

    largest: int
    smallest: int
    box: tuple[int, int, int, int]  # left, top, right, bottom: where caption pixels may go

    def room(self, px: int, style: CaptionStyle) -> float:
        """How wide a line's letters may run at `px`, leaving room for the outline on both sides."""
        return self.box[2] - self.box[0] - 2 * _stroke(px, style) - 2


def _sizes(fmt: VideoFormat, style: CaptionStyle) -> _Sizes:
    largest = max(8, round(style.size * fmt.width))
    box = (
        math.ceil(style.left * fmt.width) + EDGE,
        math.ceil(style.top * fmt.height) + EDGE,
        math.floor(style.right * fmt.width) - EDGE,
        math.floor(style.bottom * fmt.height) - EDGE,
    )
    return _Sizes(largest, min(largest, max(8, round(style.min_size * fmt.width))), box)


def _stroke(px: int, style: CaptionStyle) -> int:
    return max(1, round(style.stroke * px))


def _shown(word: str, style: CaptionStyle) -> str:
    """A word as the caption draws it."""
    return visible(word.upper() if style.uppercase else word, style.font)


def _line_width(words: list[str], px: int, style: CaptionStyle) -> float:
    """How wide words draw on one line at `px` (advance widths, without the outline)."""
    shown = [_shown(w, style) for w in words]
    return sum(text.width(w, px, style.font) for w in shown) + load_font(style.font, px).getlength(" ") * (
        len(shown) - 1
    )


def _fits(words: list[str], px: int, sizes: _Sizes, style: CaptionStyle) -> bool:
    return _line_width(words, px, style) <= sizes.room(px, style)


def _pieces(word: WordTiming, sizes: _Sizes, style: CaptionStyle) -> list[WordTiming]:
    """A word too wide for a line even at the smallest size, in pieces that fit, its time shared by their length;
    any other word as it is."""
    if _fits([word.word], sizes.smallest, sizes, style):
        return [word]
    parts = text.break_word(word.word, lambda piece: _fits([piece], sizes.smallest, sizes, style))
    ends = np.cumsum([len(p) for p in parts]) / sum(len(p) for p in parts)
    at = [word.start, *(word.start + (word.end - word.start) * float(e) for e in ends)]
    return [WordTiming(word=p, start=a, end=b) for p, a, b in zip(parts, at, at[1:], strict=False)]


def group_words(
    words: list[WordTiming], style: CaptionStyle = CaptionStyle(), fmt: VideoFormat = VideoFormat()
) -> list[CaptionGroup]:
    """Cut the timed words into groups of one line, breaking after punctuation, at long pauses, and before a word
    that would not fit on the line at the full caption size (measured with the caption font)."""
    sizes = _sizes(fmt, style)
    chunks: list[list[WordTiming]] = []
    for word in (piece for w in words for piece in _pieces(w, sizes, style)):
        current = chunks[-1] if chunks else None
        if (
            current is None
            or len(current) >= style.max_words
            or current[-1].word[-1] in ".!?;:,"
            or word.start - current[-1].end > 0.5
            or not _fits([w.word for w in current] + [word.word], sizes.largest, sizes, style)
        ):
            chunks.append([word])
        else:
            current.append(word)
    groups = []
    for i, chunk in enumerate(chunks):
        following = chunks[i + 1][0].start if i + 1 < len(chunks) else float("inf")
        groups.append(CaptionGroup(words=chunk, start=chunk[0].start, end=min(following, chunk[-1].end + LINGER)))
    return groups


def cues(groups: list[CaptionGroup]) -> list[CaptionCue]:
    """Each group's screen time, split so the word being spoken is highlighted."""
    out = []
    for g, group in enumerate(groups):
        for k, word in enumerate(group.words):
            start = group.start if k == 0 else word.start
            end = group.end if k == len(group.words) - 1 else group.words[k + 1].start
            if end > start:
                out.append(CaptionCue(group=g, highlight=k, start=start, end=end))
    return out


def srt(groups: list[CaptionGroup]) -> str:
    """The groups as SubRip text."""
    blocks = [f"{i}\n{_stamp(g.start)} --> {_stamp(g.end)}\n{g.text}\n" for i, g in enumerate(groups, start=1)]
    return "\n".join(blocks)


def _stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


class CaptionLayers(NamedTuple):
    """A caption group drawn once: coverage of outline and letters, the word each pixel belongs to, its corner."""

    outline: np.ndarray  # uint8, letters and their outline
    fill: np.ndarray  # uint8, letters only
    word: np.ndarray  # int16 index of the word under each pixel
    x: int
    y: int

    def rgba(self, highlight: int, style: CaptionStyle) -> np.ndarray:
        """The caption with word `highlight` in the highlight colour, as an RGBA array."""
        o, f = self.outline / np.float32(255), self.fill / np.float32(255)
        lit = self.word == highlight
        # What Pillow does drawing outline, then letters, onto a clear canvas: each pass blends its
        # colour in by its coverage. Planes one at a time: numpy is slow on a trailing axis of 3.
        out = np.empty((*o.shape, 4), np.uint8)
        for c in range(3):
            letters = np.where(lit, np.float32(style.highlight[c]), np.float32(style.fill[c]))
            out[..., c] = np.rint(style.outline[c] * o * (1 - f) + letters * f)
        out[..., 3] = np.rint(255 * (o + (1 - o) * f))
        return out


def draw_caption(group: CaptionGroup, fmt: VideoFormat, style: CaptionStyle = CaptionStyle()) -> CaptionLayers:
    """Draw a group's words once, on one line inside the safe area, at the largest size (down to the smallest) whose
    pixels fit; each highlighted version is then a cheap recolouring."""
    sizes = _sizes(fmt, style)
    left, top, right, bottom = sizes.box
    px = sizes.largest
    while px > sizes.smallest and not _fits([w.word for w in group.words], px, sizes, style):
        px = _smaller(px, sizes)
    while True:  # the letters' ink may reach past their advance widths: measured on the drawn line
        outline, fill, word = _draw_line([_shown(w.word, style) for w in group.words], px, style)
        if outline.width <= right - left or px <= sizes.smallest:
            break
        px = _smaller(px, sizes)
    fit = min(1.0, (right - left) / outline.width, (bottom - top) / outline.height)
    if fit < 1.0:  # only a single letter wider than the caption area gets here
        shrunk = (max(1, int(outline.width * fit)), max(1, int(outline.height * fit)))
        lanczos, nearest = Image.Resampling.LANCZOS, Image.Resampling.NEAREST
        outline, fill = outline.resize(shrunk, lanczos), fill.resize(shrunk, lanczos)
        word = np.asarray(Image.fromarray(word.astype(np.int32)).resize(shrunk, nearest)).astype(np.int16)
    # Centred in the safe area, which lies left of the frame's centre (the buttons are on the right).
    x = min(max(round((left + right - outline.width) / 2), left), right - outline.width)
    y = min(max(round(style.centre_y * fmt.height) - outline.height // 2, top), bottom - outline.height)
    return CaptionLayers(np.asarray(outline), np.asarray(fill), word, x, y)


def _smaller(px: int, sizes: _Sizes) -> int:
    """The next size down: a step of about 8 %."""
    return max(sizes.smallest, px - max(1, px // 12))


def _draw_line(words: list[str], px: int, style: CaptionStyle) -> tuple[Image.Image, Image.Image, np.ndarray]:
    """Outline and letter coverage of words on one line, and the word each pixel belongs to, cropped to the ink."""
    stroke = _stroke(px, style)
    font = load_font(style.font, px)
    space = font.getlength(" ")
    ascent, descent = font.getmetrics()
    pad = ascent + descent  # room for ink past the font's line: marks above and below (Arabic, Thai), overhangs
    widths = [text.width(w, px, style.font) for w in words]
    size = (int(sum(widths) + space * (len(words) - 1)) + 2 * (stroke + pad) + 2, ascent + descent + 2 * (stroke + pad))
    outline, fill = Image.new("L", size, 0), Image.new("L", size, 0)
    draw_outline, draw_fill = ImageDraw.Draw(outline), ImageDraw.Draw(fill)
    word = np.full(size[::-1], -1, np.int16)
    x: float = pad + stroke + 1
    baseline = pad + stroke + ascent
    order = text.visual_order([text.direction(w) for w in words])
    for k, i in enumerate(order):  # left to right on the line: right-to-left words are placed in reverse
        draw_word(draw_outline, x, baseline, words[i], px, style.font, fill=255, stroke_width=stroke, stroke_fill=255)
        draw_word(draw_fill, x, baseline, words[i], px, style.font, fill=255)
        # A word owns the pixels up to the middle of the spaces around it.
        start = 0 if k == 0 else round(x - space / 2)
        end = size[0] if k == len(order) - 1 else round(x + widths[i] + space / 2)
        word[:, start:end] = i
        x += widths[i] + space
    box = outline.getbbox() or (0, 0, 1, 1)
    return outline.crop(box), fill.crop(box), word[box[1] : box[3], box[0] : box[2]]
