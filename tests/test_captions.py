import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline import VideoFormat, WordTiming
from pipeline.render.captions import CaptionStyle, cues, draw_caption, group_words, render_caption, srt
from pipeline.render.fonts import FONT, describe_fonts, runs, visible
from pipeline.render.text import break_word, visual_order


def _words(text: str, step: float = 0.4) -> list[WordTiming]:
    return [WordTiming(word=w, start=i * step, end=(i + 1) * step) for i, w in enumerate(text.split())]


def test_groups_are_short_and_break_after_punctuation():
    groups = group_words(_words("Tiny crabs march. Across the sand every single night in huge numbers"))
    assert [g.text for g in groups][0] == "Tiny crabs march."
    assert all(len(g.words) <= 3 and len(g.text) <= 18 or len(g.words) == 1 for g in groups)
    assert all(a.end <= b.start for a, b in zip(groups, groups[1:]))


def test_cues_highlight_each_word_in_turn_without_gaps():
    groups = group_words(_words("one two three four"))
    timeline = cues(groups)
    assert [(c.group, c.highlight) for c in timeline] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert all(a.end == b.start for a, b in zip(timeline, timeline[1:]))


def test_srt_has_numbered_timed_blocks():
    text = srt(group_words(_words("one two three four", step=0.5)))
    assert text.startswith("1\n00:00:00,000 --> 00:00:01,500\none two three\n")
    assert "2\n00:00:01,500 --> 00:00:02,600\nfour" in text


def test_caption_image_sits_inside_the_safe_area_and_highlights_one_word():
    fmt = VideoFormat()
    group = group_words(_words("camouflage is clever"))[0]
    plain, x, y = render_caption(group, 0, fmt)
    other, _, _ = render_caption(group, 1, fmt)
    h, w = plain.shape[:2]
    assert plain.shape[2] == 4 and 0 < x and x + w < fmt.width
    assert 0.15 * fmt.height < y and y + h < 0.8 * fmt.height  # clear of the top bar and bottom UI
    yellow = lambda img: ((img[..., 0] > 200) & (img[..., 1] > 180) & (img[..., 2] < 80)).sum()  # noqa: E731
    assert yellow(plain) > 100 and yellow(other) > 100
    assert not np.array_equal(plain, other)


def test_very_long_word_is_shrunk_to_fit():
    fmt = VideoFormat(width=144, height=256)
    image, x, _ = render_caption(group_words(_words("Pneumonoultramicroscopicsilicovolcanoconiosis"))[0], 0, fmt,
                                 CaptionStyle())
    assert x >= 0 and x + image.shape[1] <= fmt.width


# Every script: the fonts that draw them, right-to-left order, and long words broken instead of shrunk.

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


def test_a_japanese_phrase_too_wide_for_a_line_breaks_between_characters_at_full_size():
    fmt = VideoFormat()
    layers = draw_caption(group_words(_words(JAPANESE))[0], fmt)
    h, w = layers.fill.shape
    assert len(_bands(layers.fill)) == 2 and w <= CaptionStyle().max_width * fmt.width + 20
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
    ImageDraw.Draw(isolated).text((px, px), "كيف", font=ImageFont.truetype(str(arabic), px,
                                  layout_engine=ImageFont.Layout.BASIC), fill=255, anchor="ls")
    assert _gaps(_ink_columns(word)) == 0 and _gaps(_ink_columns(np.asarray(isolated))) >= 2
    # Right to left inside the word: each letter's joined form (initial kaf, medial yeh, final feh, drawn alone by
    # Pillow with a zero-width joiner) is found in the caption, the first letter rightmost.
    where = [_find(word > 128, _joined_form(arabic, px, form)) for form in ("ك\u200d", "\u200dي\u200d", "\u200dف")]
    assert all(score > 0.85 for _, score in where)
    assert where[0][0] > where[1][0] > where[2][0]

    # Right to left across words: the first word spoken is the rightmost, so its highlight is on the right.
    group = group_words(_words("كيف يغير الأخطبوط"))[0]
    assert len(group.words) == 3
    centres = [_yellow_centre(render_caption(group, k, fmt)[0]) for k in range(3)]
    assert centres[0] > centres[1] > centres[2]
    latin = group_words(_words("how bees dance"))[0]
    assert _yellow_centre(render_caption(latin, 0, fmt)[0]) < _yellow_centre(render_caption(latin, 2, fmt)[0])


def _joined_form(path, px: int, text: str) -> np.ndarray:
    font = ImageFont.truetype(str(path), px)
    font.set_variation_by_axes([700])  # the captions' bold
    image = Image.new("L", (4 * px, 3 * px))
    ImageDraw.Draw(image).text((px, 2 * px), text, font=font, fill=255, anchor="ls")
    return np.asarray(image.crop(image.getbbox())) > 128


def _find(mask: np.ndarray, glyph: np.ndarray) -> tuple[float, float]:
    """Where `glyph` best matches inside `mask` (the x of its centre), and the share of its ink found there."""
    (H, W), (h, w) = mask.shape, glyph.shape
    _, x, y = max(((mask[y:y + h, x:x + w] & glyph).sum() - (mask[y:y + h, x:x + w] ^ glyph).sum(), x, y)
                  for y in range(H - h + 1) for x in range(W - w + 1))
    return x + w / 2, (mask[y:y + h, x:x + w] & glyph).sum() / glyph.sum()


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


@pytest.mark.parametrize("fmt", [VideoFormat(width=144, height=256), VideoFormat()], ids=["144x256", "720x1280"])
def test_a_100_letter_word_is_hyphenated_over_lines_never_drawn_as_a_hairline(fmt):
    style = CaptionStyle()
    layers = draw_caption(group_words(_words("a" * 100))[0], fmt)
    h, w = layers.fill.shape
    bands = _bands(layers.fill)
    smallest = max(8, round(style.min_size * fmt.width))
    cap = 0.714  # Noto Sans' cap height, in ems
    assert len(bands) >= 4 and min(bands) >= cap * smallest - 2
    assert w <= style.max_width * fmt.width + 2 * style.stroke * round(style.size * fmt.width) + 2
    assert layers.y >= 0 and layers.y + h <= fmt.height
    pieces = break_word("A" * 100, lambda piece: len(piece) <= 20)
    assert "".join(p.removesuffix("-") for p in pieces) == "A" * 100
    assert all(p.endswith("-") for p in pieces[:-1]) and max(map(len, pieces)) - min(map(len, pieces)) <= 2


def test_latin_captions_never_open_another_font_and_doctor_names_the_scripts():
    assert all(path == FONT for _, path in runs("CAMOUFLAGE, ÉTÉ, ΑΒΓ, ПРИВЕТ 42%"))
    line = describe_fonts()
    assert all(name in line for name in ("Latin", "Arabic", "Hebrew", "Devanagari", "Thai", "Japanese", "Korean"))
    assert "libraqm" in line and "no font for" not in line
