"""Offline first frames as designed title cards: the scene's key phrase and a topic pictogram over soft colour.

Everything is laid out in shares of the frame, so a 144x256 test card is the 720x1280 one scaled down. The text
stays inside the part of the frame that the offline clip's slow zoom and pan keep in view, and above the captions.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.media import text
from pipeline.media.fonts import FONT, load_font
from pipeline.models import Scene, VideoFormat
from pipeline.providers.offline.pictograms import emoji_font, pick_pictogram

RGB = tuple[int, int, int]
MAX_PHRASE_WORDS, MAX_PHRASE_CHARS = 4, 26
MIN_NEW_SCORE = 1.0  # a later card's headline of new words below this (one plain word) names the subject instead
TEXT_WIDTH = 0.74  # widest a line may be, as a share of the width: the clip's zoom and pan never crop it
PICTO_Y, PICTO_R = 0.19, 0.145  # the disc's centre (share of the height) and radius (share of the width)
TEXT_TOP, TEXT_BOTTOM = 0.295, 0.49  # shares of the height: well above the captions, which sit at 0.62
LINE_PITCH = 1.34  # baseline to baseline, in cap heights
# Small words of English, French, Spanish, German and Portuguese (the offline script's languages): a headline
# neither starts nor ends on one. Words that are also English nouns ("war", "son", "car") are left out.
STOPWORDS = frozenset(
    """
a about above after again against all almost also am an and any are as at be because been before being below
between both but by can could did do does doing down during each even ever every few for from further had has
have having he her here hers him his how i if in into is it its itself just like may me might more most much must
my never no nor not now of off on once only or other our out over own same she should so some such than that the
their them then there these they this those through to too under until up upon us very was we were what when where
which while who whom why will with would yet you your yours one thing things way really get got make made next
time times here's it's that's there's you'll you're let's around
""".split()
) | frozenset(
    """
le la les l' un une des du de d' au aux et ou mais donc ni que qu' qui quoi dont où ce cet cette ces se sa
ses leur leurs mon ma mes ton ta tes il ils elle elles on nous vous je tu me te y en ne n' n'est c'est pas plus
moins très tout tous toute toutes autre autres encore chose choses aussi avec sans pour par sur sous dans entre
vers chez est sont être avoir a ont été fait comme si bien peu puis alors quand comment pourquoi
el la los las lo un una unos unas del al y o pero ni que quien cual cuando donde como porque por para con
sobre entre hasta desde su sus mi mis tu tus se le les nos es ser estar está están hay eso esto esa ese este
esta muy más menos todo toda todos todas otra otro cosa cosas aún ya también qué cómo
der die das den dem des ein eine einen einem einer eines und oder aber doch noch nicht kein keine ist sind
es er sie wir ihr ich du mit von zu zum zur im in an am auf aus bei für über unter um als wie wenn dass da
dann so sehr dir dich mir mich uns euch einmal mehr auch nur schon etwas alles gibt haben sein noch
o a os as um uma uns umas do da dos das no na nos nas ao aos à às e ou mas nem que quem qual quando onde como
porque por para com sem sobre entre até desde seu sua seus suas meu minha se lhe é são ser estar está há isso
isto essa esse este esta muito mais menos tudo todo toda todos todas outra outro coisa coisas já também tem
""".split()
)


@dataclass(frozen=True)
class Palette:
    """A dark two-colour ground that white text reads on, an accent for the pictogram and the key word, and glows."""

    top: RGB
    bottom: RGB
    accent: RGB
    glow: RGB


# No accent is the captions' yellow highlight (CaptionStyle.highlight): in a close shot the disc fills the frame
# behind the caption, and a yellow word on a yellow disc no longer stands out.
PALETTES = (
    Palette((14, 16, 44), (62, 30, 112), (255, 140, 190), (120, 90, 255)),  # midnight
    Palette((3, 34, 56), (0, 104, 124), (255, 138, 101), (0, 200, 190)),  # deep sea
    Palette((36, 8, 18), (138, 34, 48), (140, 220, 255), (255, 110, 60)),  # ember
    Palette((6, 32, 26), (22, 98, 66), (222, 255, 110), (60, 200, 120)),  # forest
    Palette((32, 8, 46), (148, 34, 112), (120, 230, 255), (255, 90, 170)),  # plum
    Palette((18, 22, 30), (56, 68, 92), (255, 107, 107), (110, 140, 200)),  # slate
    Palette((22, 14, 52), (176, 64, 84), (150, 240, 220), (255, 120, 90)),  # dusk
    Palette((4, 24, 48), (24, 64, 150), (110, 255, 200), (60, 140, 255)),  # cobalt
)


def key_phrase(narration: str, prompt: str = "", first: bool = True) -> str:
    """The scene's headline: the best short run of words within one of the narration's clauses, the same every time.

    A run starts and ends on a content word; long words and numbers score, small words and length cost, so a run
    grows only for words worth reading. The first scene's card names the subject (words the picture's prompt
    shares score most); later cards say what is new, so a Short about one subject does not repeat its name, unless
    nothing new is worth a headline.
    """
    shared = _subject_words(prompt)
    best, best_score = "", (float("-inf"), 0)
    for clause in re.split(r"[.!?;:,()\"“”…—–。、！？，؛،]+|\s-\s", narration):
        words = re.findall(_word_pattern(), clause)
        for start in range(len(words)):
            for end in range(start + 1, min(start + MAX_PHRASE_WORDS, len(words)) + 1):
                run = words[start:end]
                if len(" ".join(run)) > MAX_PHRASE_CHARS:
                    break
                if run[0].lower() in STOPWORDS or run[-1].lower() in STOPWORDS:
                    continue
                score = (_run_score(run, shared, first), -len(run))  # ties go to the shorter run
                if score > best_score:
                    best, best_score = " ".join(run), score
    if not first and best_score[0] < MIN_NEW_SCORE:
        return key_phrase(narration, prompt, first=True)
    return best or " ".join(narration.split()[:MAX_PHRASE_WORDS])


@lru_cache(maxsize=1)
def _word_pattern() -> str:
    """A word: letters and digits with the marks that belong to them (Arabic vowels, Devanagari and Thai vowel
    signs, which `\\w` leaves out), apostrophes and hyphens inside."""
    marks = "".join(chr(c) for c in range(0x0300, 0x2000) if unicodedata.category(chr(c)) in ("Mn", "Mc", "Me"))
    letter = rf"[\w{re.escape(marks)}\u200c\u200d]"
    return rf"[\w'’-]*{letter}*\w{letter}*"


def _run_score(run: list[str], shared: set[str], first: bool) -> float:
    score = 4.0 * first * (_stem(run[-1]) in shared) - 3.0 * (len(run) == 1) + 5.0 * any(w[0].isdigit() for w in run)
    for word in run:
        if word.lower() in STOPWORDS:
            score -= 3
        elif _stem(word) in shared:
            score += min(len(word), 10) + 4.5 if first else -2
        else:
            score += 0.5 * min(len(word), 10) - 2
    return score


def _key_word(phrase: str, prompt: str) -> str:
    """The word to colour: the longest the prompt shares, else the longest."""
    shared = _subject_words(prompt)
    return max(phrase.split(), key=lambda word: (_stem(word) in shared, len(word)), default="")


def _subject_words(prompt: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[\w'’]+", prompt)} - STOPWORDS


def _stem(word: str) -> str:
    return word.lower().removesuffix("s")


@dataclass(frozen=True)
class TitleCard:
    """What a card shows, decided from the scene before anything is drawn."""

    phrase: str  # in capitals; "" for none
    key_word: str  # the word of the phrase drawn in the accent colour
    emoji: str  # the pictogram; "" for none
    palette: Palette
    layout_seed: int  # where the glows and the faint big pictogram go


def plan_title_card(scene: Scene, style: str, seed: int) -> TitleCard:
    """The card for a scene: the same scene, style and seed always give the same card."""
    rng = random.Random(
        hashlib.sha256(f"{seed}|{style}|{scene.first_frame_prompt}|{scene.narration}".encode()).digest()
    )
    subject = scene.first_frame_prompt.replace(style, " ") if style else scene.first_frame_prompt
    phrase = key_phrase(scene.narration, subject, first=scene.index == 1)
    return TitleCard(
        phrase=phrase.upper(),
        key_word=_key_word(phrase, subject).upper(),
        emoji=pick_pictogram(subject, scene.narration),
        palette=rng.choice(PALETTES),
        layout_seed=rng.getrandbits(32),
    )


def draw_title_card(card: TitleCard, fmt: VideoFormat) -> Image.Image:
    """The card as a picture: the phrase and pictogram over a soft background the offline clip slowly moves over."""
    rng = random.Random(card.layout_seed)
    image = _background(fmt.size, card.palette, rng)
    if card.emoji:
        _draw_watermark(image, card.emoji, rng)
    _draw_pictogram(image, card.emoji, card.palette)
    if card.phrase:
        _draw_phrase(image, card.phrase, card.key_word, card.palette)
    return image.convert("RGB")


def draw_phrase(image: Image.Image, card: TitleCard) -> None:
    """The card's phrase drawn on another picture (RGBA), laid out in shares of it as on a card."""
    if card.phrase:
        _draw_phrase(image, card.phrase, card.key_word, card.palette)


def is_title_card(image: Image.Image) -> bool:
    """Whether a picture is one of these cards (so the offline clip frames its shots on the layout): a ring of one
    flat colour where the pictogram's disc is (the pictogram may reach into it here and there), unlike the ground
    just outside it. A photo is rarely flat there."""
    w, h = image.size
    y, x = np.mgrid[0:h, 0:w]
    distance = np.hypot(x - w / 2, y - PICTO_Y * h) / (PICTO_R * w)
    pixels = np.asarray(image.convert("RGB"), np.float32)
    ring, outside = pixels[(distance > 0.82) & (distance < 0.95)], pixels[(distance > 1.3) & (distance < 1.5)]
    if not len(ring) or not len(outside):
        return False
    colour = np.median(ring, axis=0)
    flat = (np.abs(ring - colour).max(axis=1) < 12).mean()
    return bool(flat > 0.85 and np.abs(colour - np.median(outside, axis=0)).max() > 30)


def _background(size: tuple[int, int], palette: Palette, rng: random.Random) -> Image.Image:
    """A diagonal gradient with a few large soft glows, drawn small and scaled up (smooth and quick), with grain
    so the encoder does not band it."""
    w, h = size
    sw, sh = max(8, w // 8), max(8, h // 8)
    angle = rng.uniform(-0.5, 0.5)
    y, x = np.mgrid[0:sh, 0:sw].astype(np.float32)
    t = np.clip((y / sh) * np.cos(angle) + (x / sw - 0.5) * np.sin(angle), 0, 1)[..., None]
    small = (1 - t) * np.array(palette.top, np.float32) + t * np.array(palette.bottom, np.float32)
    for _ in range(rng.randint(3, 5)):
        cx, cy = rng.uniform(-0.1, 1.1) * sw, rng.uniform(0.0, 1.0) * sh
        radius = rng.uniform(0.35, 0.7) * sw
        colour = np.array(palette.glow if rng.random() < 0.7 else palette.accent, np.float32)
        strength = rng.uniform(0.18, 0.38) * np.exp(-(((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2)))[..., None]
        small = small * (1 - strength) + colour * strength
    # A vignette pulls the eye to the middle, where the words are.
    v = ((x / sw - 0.5) ** 2 + (y / sh - 0.45) ** 2)[..., None]
    small *= np.clip(1.0 - 0.55 * v, 0.6, 1.0)
    big = Image.fromarray(np.clip(small, 0, 255).astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
    grain = np.random.default_rng(rng.getrandbits(32)).normal(0, 2.2, (h, w, 1)).astype(np.float32)
    return Image.fromarray(np.clip(np.asarray(big, np.float32) + grain, 0, 255).astype(np.uint8)).convert("RGBA")


def _draw_watermark(card: Image.Image, emoji: str, rng: random.Random) -> None:
    """The pictogram again, huge, faint and tilted, low in the frame and partly off it: depth for the empty half."""
    w, h = card.size
    size = round(0.95 * w)
    side = round(1.3 * size)  # room for the glyph at any tilt, and no more: rotating is the costly part
    glyph = Image.new("L", (side, side), 0)
    ImageDraw.Draw(glyph).text((side / 2, side / 2), emoji, font=emoji_font(size), fill=26, anchor="mm")
    glyph = glyph.rotate(rng.uniform(-18, 18), resample=Image.Resampling.BILINEAR)
    left = rng.choice((-0.55, 0.05)) * w + (size - side) / 2
    card.paste((255, 255, 255), (round(left), round(0.80 * h - side / 2)), glyph)


def _draw_pictogram(card: Image.Image, emoji: str, palette: Palette) -> None:
    """The emoji, in the ground's dark colour, on an accent disc with a soft shadow."""
    w, h = card.size
    cx, cy, r = w / 2, PICTO_Y * h, PICTO_R * w
    shadow = Image.new("L", card.size, 0)
    ImageDraw.Draw(shadow).ellipse((cx - r, cy - r + 0.02 * w, cx + r, cy + r + 0.02 * w), fill=150)
    card.paste((0, 0, 0), (0, 0), shadow.filter(ImageFilter.GaussianBlur(max(1.0, 0.03 * w))))
    draw = ImageDraw.Draw(card)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=palette.accent)
    ring = max(1, round(0.008 * w))
    draw.ellipse(
        (cx - r - 3 * ring, cy - r - 3 * ring, cx + r + 3 * ring, cy + r + 3 * ring),
        outline=(*palette.accent, 110),
        width=ring,
    )
    if emoji:
        draw.text((cx, cy), emoji, font=emoji_font(max(8, round(1.15 * r))), fill=palette.top, anchor="mm")


def _draw_phrase(card: Image.Image, phrase: str, key: str, palette: Palette) -> None:
    """The phrase in big bold capitals, centred in lines that fit, its key word in the accent colour, over a soft
    shadow, with a short accent bar under it. Words in other scripts take their own fonts, right to left where
    they are written so."""
    w, h = card.size
    box_h = (TEXT_BOTTOM - TEXT_TOP) * h
    words = phrase.split()
    px, lines = _fit(words, round(0.16 * w), TEXT_WIDTH * w, box_h)
    font = load_font(FONT, px)
    above, below, pitch = _line_metrics(phrase, px)
    space = font.getlength(" ")
    first = TEXT_TOP * h + (box_h - above - pitch * (len(lines) - 1) - below) / 2 + above  # the first baseline
    placed = []  # (piece, its word, x, baseline), each line centred and its words in reading order on screen
    for i, line in enumerate(lines):
        widths = [text.width(p.text, px) for p in line]
        x = (w - sum(widths) - space * (len(line) - 1)) / 2
        for k in text.visual_order([text.direction(p.text) for p in line]):
            placed.append((line[k].text, line[k].word, x, first + i * pitch))
            x += widths[k] + space
    shadow, offset = Image.new("L", card.size, 0), max(1, round(above * 0.08))
    for piece, _, x, y in placed:
        text.draw_word(ImageDraw.Draw(shadow), x + offset, y + offset, piece, px, fill=170)
    card.paste((0, 0, 0), (0, 0), shadow.filter(ImageFilter.GaussianBlur(max(0.6, above * 0.07))))
    draw = ImageDraw.Draw(card)
    for piece, word, x, y in placed:
        text.draw_word(draw, x, y, piece, px, fill=palette.accent if words[word] == key else (255, 255, 255))
    cap = _cap_height(font)
    bar_w, bar_h = 0.14 * w, max(1, round(0.01 * w))
    bar_y = placed[-1][3] + max(cap * 0.6, below + cap * 0.3)
    draw.rounded_rectangle(
        (w / 2 - bar_w / 2, bar_y, w / 2 + bar_w / 2, bar_y + bar_h), radius=bar_h / 2, fill=palette.accent
    )


def _fit(words: list[str], size: int, max_width: float, max_height: float) -> tuple[int, list[list[text.Piece]]]:
    """The largest size (from `size` down) at which the words wrap into at most 3 lines within the box."""
    phrase = " ".join(words)
    while True:
        lines = _wrap(words, size, max_width)
        above, below, pitch = _line_metrics(phrase, size)
        if size <= 6 or lines and len(lines) <= 3 and above + pitch * (len(lines) - 1) + below <= max_height:
            return size, lines or [[text.Piece(word, i) for i, word in enumerate(words)]]
        size -= max(1, size // 16)


def _wrap(words: list[str], size: int, max_width: float) -> list[list[text.Piece]]:
    """Greedy lines no wider than `max_width`; [] when one word alone is wider, unless it is in a script written
    without spaces, which breaks between its characters."""
    if any(text.width(word, size) > max_width and not text.unspaced(word) for word in words):
        return []
    space = load_font(FONT, size).getlength(" ")
    return text.wrap(words, lambda piece: text.width(piece, size), space, max_width)


def _line_metrics(phrase: str, size: int) -> tuple[float, float, float]:
    """How far the lines' letters rise above and sink below the baseline, and the baseline-to-baseline pitch:
    for the caption font's scripts in cap heights, as ever, for others from their glyphs (CJK is taller)."""
    font = load_font(FONT, size)
    cap = _cap_height(font)
    if text.uses_only(phrase):
        return cap, 0.0, cap * LINE_PITCH
    top, bottom = 0.0, 0.0
    for word in phrase.split():
        for run in text.shape(word, size):
            box = run.font.getbbox(run.text, anchor="ls")
            top, bottom = min(top, box[1]), max(bottom, box[3])
    above = max(cap, -top)
    return above, bottom, max(cap * LINE_PITCH, (above + bottom) * 1.15)


def _cap_height(font: ImageFont.FreeTypeFont) -> float:
    return float(-font.getbbox("H", anchor="ls")[1])  # "H" rises from the baseline to the cap height
