import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline import VideoFormat, WordTiming
from pipeline.media.fonts import FONT, describe_fonts, runs, visible
from pipeline.media.text import break_word, visual_order
from pipeline.render.captions import CaptionStyle, cues, draw_caption, group_words, srt


def _words(text: str, step: float = 0.4) -> list[WordTiming]:
    return [WordTiming(word=w, start=i * step, end=(i + 1) * step) for i, w in enumerate(text.split())]


def test_groups_are_short_and_break_after_punctuation():
    groups = group_words(_words("Crabs march. Across the sand every single night in huge numbers"))
    assert [g.text for g in groups][0] == "Crabs march."
    assert all(len(g.words) <= 3 for g in groups)
    assert all(a.end <= b.start for a, b in zip(groups, groups[1:], strict=False))


def test_a_group_ends_before_a_word_that_would_not_fit_on_its_line():
    # By the drawn width, not the letters: twelve narrow characters fit on a line, twelve wide ones do not.
    narrow, wide = group_words(_words("it fills lit")), group_words(_words("mom wow womb"))
    assert len(narrow) == 1 and len(wide) == 2
    fmt = VideoFormat()
    for group in narrow + wide:
        assert draw_caption(group, fmt).fill.shape[1] > 0.2 * fmt.width  # at the full size: nothing shrank


def test_cues_highlight_each_word_in_turn_without_gaps():
    groups = group_words(_words("one two three four"))
    timeline = cues(groups)
    assert [(c.group, c.highlight) for c in timeline] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert all(a.end == b.start for a, b in zip(timeline, timeline[1:], strict=False))


def test_srt_has_numbered_timed_blocks():
    text = srt(group_words(_words("one two three four", step=0.5)))
    assert text.startswith("1\n00:00:00,000 --> 00:00:01,500\none two three\n")
    assert "2\n00:00:01,500 --> 00:00:02,600\nfour" in text


def test_caption_image_highlights_one_word():
    fmt = VideoFormat()
    group = group_words(_words("camouflage is clever"))[0]
    layers = draw_caption(group, fmt)
    plain, other = layers.rgba(0, CaptionStyle()), layers.rgba(1, CaptionStyle())
    yellow = lambda img: ((img[..., 0] > 200) & (img[..., 1] > 180) & (img[..., 2] < 80)).sum()  # noqa: E731
    assert yellow(plain) > 100 and yellow(other) > 100
    assert not np.array_equal(plain, other)


def test_a_long_word_shrinks_a_step_rather_than_break():
    fmt = VideoFormat()
    full, long = (draw_caption(group_words(_words(w))[0], fmt) for w in ("octopus", "chromatophores"))
    assert 0.8 * _height(full) < _height(long) < 0.97 * _height(full)  # smaller, not much
    assert len(group_words(_words("chromatophores"))) == 1


def _height(layers) -> int:
    return int((layers.fill.max(axis=1) > 96).sum())


# Every caption pixel inside YouTube's safe area for Shorts, on one line, at every size and in every script.

SAFE = (0.08, 0.10, 0.85, 0.75)  # left, top, right, bottom as shares of the frame
TEXTS = [
    "Octopuses change colour with thousands of chromatophores, each ringed by tiny muscles.",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is incomprehensibly long, WWWWWWWWWWWWW too.",
    "a" * 100,
    "タコはどうやって色を変えるのか 皮膚の色素胞が広がったり縮んだりします",
    "كيف يغير الأخطبوط لونه؟ الخلايا الصبغية في جلده تتمدد وتنكمش",
    "ปลาหมึกยักษ์เปลี่ยนสีได้อย่างไร เซลล์เม็ดสีในผิวหนังขยายและหดตัว",
    "ऑक्टोपस अपना रंग कैसे बदलता है",
    "איך התמנון משנה את צבעו",
    "Как осьминог меняет цвет кожи",
    "explain كيف يغير OCTOPUS 42% colour",
]
FORMATS = [VideoFormat(width=144, height=256), VideoFormat(), VideoFormat(width=1080, height=1920)]


@pytest.mark.parametrize("fmt", FORMATS, ids=["144x256", "720x1280", "1080x1920"])
def test_every_caption_is_one_line_inside_the_safe_area(fmt):
    style = CaptionStyle()
    left, top, right, bottom = (round(a * b) for a, b in zip(SAFE, fmt.size * 2, strict=False))
    px = max(8, round(style.size * fmt.width))
    ascent, descent = ImageFont.truetype(str(FONT), px).getmetrics()
    for topic in TEXTS:
        for group in group_words(_words(topic), style, fmt):
            layers = draw_caption(group, fmt, style)
            inked = np.argwhere(np.maximum(layers.outline, layers.fill) > 0) + (layers.y, layers.x)
            assert left <= inked[:, 1].min() and inked[:, 1].max() < right, group.text
            assert top <= inked[:, 0].min() and inked[:, 0].max() < bottom, group.text
            # One line: a single band of ink, never the height of two lines of the caption font.
            assert len(_bands(layers.outline)) == 1 and layers.outline.shape[0] < 1.6 * (ascent + descent), group.text
            assert layers.fill.astype(bool).mean() > 0.1  # letters, not a hairline
    # Centred in the safe area, which is left of the frame's centre.
    layers = draw_caption(group_words(_words("camouflage"), style, fmt)[0], fmt, style)
    assert abs(layers.x + layers.outline.shape[1] / 2 - (left + right) / 2) <= 2


def test_a_word_too_long_for_a_line_is_shown_in_pieces_one_after_another():
    fmt = VideoFormat(width=144, height=256)
    word = WordTiming(word="Pneumonoultramicroscopicsilicovolcanoconiosis", start=1.0, end=2.5)
    groups = group_words([word], CaptionStyle(), fmt)
    pieces = [w for g in groups for w in g.words]
    assert len(groups) == len(pieces) > 1
    assert "".join(p.word.removesuffix("-") for p in pieces) == word.word
    assert pieces[0].start == word.start and pieces[-1].end == pytest.approx(word.end)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(pieces, pieces[1:], strict=False))


# Every script: the fonts that draw them, right-to-left order.

JAPANESE, ARABIC = "タコはどうやって色を変えるのか", "كيف يغير الأخطبوط لونه"


def _ink_columns(mask: np.ndarray) -> np.ndarray:
    return mask.max(axis=0) > 96


def _gaps(columns: np.ndarray) -> int:
    """Runs of empty columns between inked ones."""
    inked = np.flatnonzero(columns)
    return int((np.diff(inked) > 1).sum()) if inked.size else 0


def _bands(mask: np.ndarray) -> list[int]:
    """Heights of the row bands that hold ink: one per line of letters."""
    rows = np.r_[False, mask.max(axis=1) > 96, False]
    edges = np.flatnonzero(np.diff(rows.astype(np.int8)))
    return list(edges[1::2] - edges[0::2])


def _is_real_glyph(path, ch: str) -> bool:
    """The font maps `ch` to a glyph of its own: it does not draw the font's "missing" box (.notdef)."""
    font = ImageFont.truetype(str(path), 48)
    return bytes(font.getmask(ch)) != bytes(font.getmask("\U0010fffd"))


@pytest.mark.parametrize("topic", [JAPANESE, ARABIC])
def test_a_japanese_or_arabic_caption_draws_each_letter_in_a_font_that_has_it(topic):
    fmt = VideoFormat()
    drawn = runs(topic)
    assert "".join(run for run, _ in drawn).replace(" ", "") == topic.replace(" ", "")  # nothing left out
    assert all(_is_real_glyph(path, ch) for run, path in drawn for ch in run if not ch.isspace())
    assert all(path != FONT for run, path in drawn if run.strip())  # not the Latin caption font, which has none
    layers = draw_caption(group_words(_words(topic))[0], fmt)
    # Ink on every line, at the full caption size (a line of letters at least half the font's size tall).
    px = round(CaptionStyle().size * fmt.width)
    assert layers.fill.astype(bool).mean() > 0.1 and min(_bands(layers.fill)) > 0.5 * px


def test_a_japanese_phrase_too_wide_for_a_line_is_shown_a_line_at_a_time_broken_between_characters():
    fmt = VideoFormat()
    groups = group_words(_words(JAPANESE), CaptionStyle(), fmt)
    assert len(groups) >= 2 and "".join(g.text for g in groups) == JAPANESE
    assert all(len(_bands(draw_caption(g, fmt).fill)) == 1 for g in groups)
    assert break_word(JAPANESE, lambda piece: len(piece) <= 6) == ["タコはどう", "やって色を", "変えるのか"]
    assert break_word("ちょっと", lambda piece: len(piece) <= 1) == ["ちょっ", "と"]  # no small kana starts a line


def test_arabic_letters_are_joined_and_words_run_right_to_left_with_the_spoken_word_highlighted():
    fmt = VideoFormat()
    # Joined: "كيف" is one unbroken stroke; the same letters unshaped (Pillow's basic layout draws each letter's
    # isolated form) stand apart.
    word = draw_caption(group_words(_words("كيف"))[0], fmt).fill
    arabic = next(path for _, path in runs("كيف"))
    px = round(CaptionStyle().size * fmt.width)
    isolated = Image.new("L", (4 * px, 2 * px))
    ImageDraw.Draw(isolated).text(
        (px, px),
        "كيف",
        font=ImageFont.truetype(str(arabic), px, layout_engine=ImageFont.Layout.BASIC),
        fill=255,
        anchor="ls",
    )
    assert _gaps(_ink_columns(word)) == 0 and _gaps(_ink_columns(np.asarray(isolated))) >= 2
    # Right to left inside the word: each letter's joined form (initial kaf, medial yeh, final feh, drawn alone by
    # Pillow with a zero-width joiner) is found in the caption, the first letter rightmost.
    where = [_find(word > 128, _joined_form(arabic, px, form)) for form in ("ك\u200d", "\u200dي\u200d", "\u200dف")]
    assert all(score > 0.85 for _, score in where)
    assert where[0][0] > where[1][0] > where[2][0]

    # Right to left across words: the first word spoken is the rightmost, so its highlight is on the right.
    group = group_words(_words("كيف يغير الأخطبوط"))[0]
    assert len(group.words) == 3
    layers = draw_caption(group, fmt)
    centres = [_yellow_centre(layers.rgba(k, CaptionStyle())) for k in range(3)]
    assert centres[0] > centres[1] > centres[2]
    latin = group_words(_words("bees can dance"))[0]
    layers = draw_caption(latin, fmt)
    assert _yellow_centre(layers.rgba(0, CaptionStyle())) < _yellow_centre(layers.rgba(2, CaptionStyle()))


def _joined_form(path, px: int, text: str) -> np.ndarray:
    font = ImageFont.truetype(str(path), px)
    font.set_variation_by_axes([700])  # the captions' bold
    image = Image.new("L", (4 * px, 3 * px))
    ImageDraw.Draw(image).text((px, 2 * px), text, font=font, fill=255, anchor="ls")
    return np.asarray(image.crop(image.getbbox())) > 128


def _find(mask: np.ndarray, glyph: np.ndarray) -> tuple[float, float]:
    """Where `glyph` best matches inside `mask` (the x of its centre), and the share of its ink found there."""
    (H, W), (h, w) = mask.shape, glyph.shape
    _, x, y = max(
        ((mask[y : y + h, x : x + w] & glyph).sum() - (mask[y : y + h, x : x + w] ^ glyph).sum(), x, y)
        for y in range(H - h + 1)
        for x in range(W - w + 1)
    )
    return x + w / 2, (mask[y : y + h, x : x + w] & glyph).sum() / glyph.sum()


def _yellow_centre(rgba: np.ndarray) -> float:
    yellow = (rgba[..., 0] > 200) & (rgba[..., 1] > 180) & (rgba[..., 2] < 80)
    assert yellow.sum() > 100
    return float(np.flatnonzero(yellow.any(axis=0)).mean())


def test_words_of_both_directions_on_one_line_keep_each_stretch_in_its_own_order():
    assert visible("\u202eOCTOPUS\u202c كيف") == "OCTOPUS كيف"  # an override hidden in a topic flips nothing
    assert visual_order(["ltr", "rtl", "rtl"]) == [0, 2, 1]  # "explain كيف يغير": the Arabic reads from the right
    assert visual_order(["rtl", "ltr", "ltr", "rtl"]) == [3, 1, 2, 0]  # an English name in Arabic stays in order
    assert visual_order(["rtl", None, "rtl"]) == [2, 1, 0]  # a number between Arabic words goes with them
    assert visual_order(["ltr", None, "ltr"]) == [0, 1, 2]


def test_latin_captions_never_open_another_font_and_doctor_names_the_scripts():
    assert all(path == FONT for _, path in runs("CAMOUFLAGE, ÉTÉ, ΑΒΓ, ПРИВЕТ 42%"))
    line = describe_fonts()
    assert all(name in line for name in ("Latin", "Arabic", "Hebrew", "Devanagari", "Thai", "Japanese", "Korean"))
    assert "libraqm" in line and "no font for" not in line
