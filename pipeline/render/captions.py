"""Captions: short word groups, the SRT file, and one pre-rendered image per highlighted word."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw
from pydantic import Field

from pipeline.models import Model, VideoFormat, WordTiming
from pipeline.render import text
from pipeline.render.text import draw_word
from pipeline.render.fonts import FONT, load_font, visible

LINGER = 0.6  # seconds a group stays after its last word when nothing follows at once
MAX_HEIGHT = 0.3  # tallest a caption's lines may be, as a share of the frame height, before the size comes down


class CaptionStyle(Model):
    """How captions look; sizes are fractions of the frame so tiny test renders look the same."""

    font: Path = FONT
    size: float = Field(0.085, description="Font size as a share of the frame width.")
    min_size: float = Field(0.06, description="Smallest font size, as a share of the width: long words break instead.")
    stroke: float = Field(0.14, description="Outline width as a share of the font size.")
    fill: tuple[int, int, int] = (255, 255, 255)
    highlight: tuple[int, int, int] = (255, 214, 10)
    outline: tuple[int, int, int] = (0, 0, 0)
    max_words: int = 3
    max_chars: int = 18
    centre_y: float = Field(0.62, description="Vertical centre, inside the Shorts safe area.")
    max_width: float = Field(0.78, description="Widest a line may be, as a share of the frame width.")
    uppercase: bool = True


class CaptionGroup(Model):
    """A few words shown together; times are seconds from the start of the Short."""

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


def group_words(words: list[WordTiming], style: CaptionStyle = CaptionStyle()) -> list[CaptionGroup]:
    """Cut the timed words into short groups, breaking after punctuation and at long pauses."""
    chunks: list[list[WordTiming]] = []
    for i, word in enumerate(words):
        current = chunks[-1] if chunks else None
        joined = len(" ".join(w.word for w in current)) + 1 + len(word.word) if current else 0
        if (
            current is None
            or len(current) >= style.max_words
            or joined > style.max_chars
            or current[-1].word[-1] in ".!?;:,"
            or word.start - current[-1].end > 0.5
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


def render_caption(
    group: CaptionGroup, highlight: int, fmt: VideoFormat, style: CaptionStyle = CaptionStyle()
) -> tuple[np.ndarray, int, int]:
    """Draw a group: an RGBA array cropped to the text, and where its top-left corner goes."""
    layers = draw_caption(group, fmt, style)
    return layers.rgba(highlight, style), layers.x, layers.y


def draw_caption(group: CaptionGroup, fmt: VideoFormat, style: CaptionStyle = CaptionStyle()) -> CaptionLayers:
    """Draw a group's words once; each highlighted version is then a cheap recolouring."""
    words = [visible(w.word.upper() if style.uppercase else w.word, style.font) for w in group.words]
    px = max(8, round(style.size * fmt.width))
    smallest = min(px, max(8, round(style.min_size * fmt.width)))
    while True:  # too many lines for the caption band: a smaller size, never below the smallest
        stroke = max(1, round(style.stroke * px))
        font = load_font(style.font, px)
        space = font.getlength(" ")
        lines = text.wrap(words, lambda t: text.width(t, px, style.font), space, style.max_width * fmt.width)
        ascent, descent = font.getmetrics()
        line_h = ascent + descent
        if line_h * len(lines) <= MAX_HEIGHT * fmt.height or px <= smallest:
            break
        px = max(smallest, px - max(1, px // 12))
    widths = [[text.width(p.text, px, style.font) for p in line] for line in lines]
    width = int(max(sum(w) + space * (len(w) - 1) for w in widths)) + 2 * stroke + 2
    pad = line_h  # room for marks that rise above or sink below the caption font's lines (Arabic, Thai)
    size = (width, line_h * len(lines) + 2 * stroke + 2 + 2 * pad)
    outline, fill = Image.new("L", size, 0), Image.new("L", size, 0)
    draw_outline, draw_fill = ImageDraw.Draw(outline), ImageDraw.Draw(fill)
    word = np.full(size[::-1], -1, np.int16)
    for row, (line, line_w) in enumerate(zip(lines, widths)):
        x = (width - sum(line_w) - space * (len(line) - 1)) / 2
        top = 0 if row == 0 else pad + stroke + row * line_h
        bottom = size[1] if row == len(lines) - 1 else pad + stroke + (row + 1) * line_h
        baseline = pad + stroke + row * line_h + ascent
        order = text.visual_order([text.direction(p.text) for p in line])
        for k, i in enumerate(order):  # left to right on the line: right-to-left words are placed in reverse
            piece = line[i].text
            draw_word(draw_outline, x, baseline, piece, px, style.font, fill=255, stroke_width=stroke, stroke_fill=255)
            draw_word(draw_fill, x, baseline, piece, px, style.font, fill=255)
            # A word owns the pixels up to the middle of the spaces around it.
            left = 0 if k == 0 else round(x - space / 2)
            right = width if k == len(order) - 1 else round(x + line_w[i] + space / 2)
            word[top:bottom, left:right] = line[i].word
            x += line_w[i] + space
    box = outline.getbbox() or (0, 0, 1, 1)
    outline, fill, word = outline.crop(box), fill.crop(box), word[box[1] : box[3], box[0] : box[2]]
    fit = min(1.0, 0.94 * fmt.width / outline.width, 0.9 * fmt.height / outline.height)
    if fit < 1.0:  # only a word of hundreds of letters, or one letter wider than the frame, gets here
        shrunk = (max(1, int(outline.width * fit)), max(1, int(outline.height * fit)))
        outline, fill = outline.resize(shrunk, Image.LANCZOS), fill.resize(shrunk, Image.LANCZOS)
        word = np.asarray(Image.fromarray(word.astype(np.int32)).resize(shrunk, Image.NEAREST)).astype(np.int16)
    x0 = (fmt.width - outline.width) // 2
    y0 = round(style.centre_y * fmt.height) - outline.height // 2
    y0 = min(y0, fmt.height - outline.height)  # a tall caption of many lines moves up rather than off the frame
    return CaptionLayers(np.asarray(outline), np.asarray(fill), word, max(0, x0), max(0, y0))
