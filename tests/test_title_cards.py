"""Offline first frames are title cards: the scene's key phrase in big letters and a topic pictogram."""

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageFont

from pipeline import AssetStore, Scene, ShortRequest, VideoFormat, make_first_frame
from pipeline.media.fonts import runs
from pipeline.providers.offline.image import OfflineImageMaker
from pipeline.providers.offline.pictograms import FALLBACKS, PICTOGRAMS, emoji_font, pick_pictogram
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.providers.offline.title_card import (
    PICTO_R,
    PICTO_Y,
    TEXT_BOTTOM,
    TEXT_TOP,
    draw_title_card,
    key_phrase,
    plan_title_card,
)

OCTOPUS = Scene(
    index=1,
    narration="An octopus can change its colour in less than a second.",
    first_frame_prompt="Close-up of an octopus blending into a coral reef",
    motion_prompt="slow push in",
    seconds=5,
)
BIG = VideoFormat(width=720, height=1280, fps=24)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def text_band(a: np.ndarray) -> np.ndarray:
    h = a.shape[0]
    return a[int(TEXT_TOP * h) : int(TEXT_BOTTOM * h)]


def disc(a: np.ndarray) -> np.ndarray:
    """The pixels inside the pictogram's disc (a little inside its edge)."""
    h, w = a.shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    return a[(x - w / 2) ** 2 + (y - PICTO_Y * h) ** 2 <= (0.85 * PICTO_R * w) ** 2]


def near(a: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> np.ndarray:
    return (np.abs(a - np.array(colour)) <= tolerance).all(axis=-1)


@pytest.mark.parametrize("fmt", [pytest.param(None, id="144x256"), pytest.param(BIG, id="720x1280")])
def test_the_first_frame_shows_the_key_phrase_and_a_pictogram(fmt, tiny, tmp_path):
    fmt = fmt or tiny
    frame = make_first_frame(OCTOPUS, "neon", fmt, OfflineImageMaker(), AssetStore(tmp_path))
    card = plan_title_card(OCTOPUS, "neon", frame.seed)
    shown = pixels(Image.open(frame.path))
    assert (shown == pixels(draw_title_card(card, fmt))).all()  # the maker draws exactly this card
    assert card.phrase == "OCTOPUS" and card.emoji == "🐙"

    # The words: white glyphs fill the text band, and none are there once the phrase is taken off.
    bare = pixels(draw_title_card(replace(card, phrase=""), fmt))
    white = (text_band(shown) >= 235).all(axis=-1).mean() + near(text_band(shown), card.palette.accent).mean()
    assert white > 0.04 and (text_band(bare) >= 235).all(axis=-1).mean() < 0.001
    assert np.abs(text_band(shown) - text_band(bare)).max(axis=-1).mean() > 10
    top = slice(0, int(0.1 * fmt.height))  # above the pictogram, the card does not depend on the words
    assert (shown[top] == bare[top]).all()

    # The pictogram: dark strokes on the accent disc, which is plain accent without it.
    no_picto = pixels(draw_title_card(replace(card, emoji=""), fmt))
    strokes = near(disc(shown), card.palette.top, 60).mean()
    assert strokes > 0.08 and near(disc(no_picto), card.palette.top, 60).mean() < 0.005
    assert near(disc(no_picto), card.palette.accent, 12).mean() > 0.95


def test_cards_are_the_same_for_the_same_scene_and_differ_between_scenes(tiny, tmp_path):
    scene_two = OCTOPUS.model_copy(
        update={
            "index": 2,
            "narration": "It has three hearts and blue blood.",
            "first_frame_prompt": "An octopus heart pumping blue blood",
        }
    )
    one, again = plan_title_card(OCTOPUS, "neon", 7), plan_title_card(OCTOPUS, "neon", 7)
    assert one == again and (pixels(draw_title_card(one, tiny)) == pixels(draw_title_card(again, tiny))).all()
    two = plan_title_card(scene_two, "neon", 7)
    assert two.phrase == "HEARTS AND BLUE BLOOD" and two.emoji == "🐙"
    assert plan_title_card(OCTOPUS, "neon", 8).layout_seed != one.layout_seed


def test_a_new_narration_is_a_new_card_but_other_frames_keep_their_names(tiny, tmp_path):
    store = AssetStore(tmp_path)
    first = make_first_frame(OCTOPUS, "neon", tiny, OfflineImageMaker(), store)
    reworded = OCTOPUS.model_copy(update={"narration": "Octopuses vanish against the reef in a blink."})
    second = make_first_frame(reworded, "neon", tiny, OfflineImageMaker(), store)
    assert first.path != second.path and first.model == "title-card-v3"
    assert make_first_frame(OCTOPUS, "neon", tiny, OfflineImageMaker(), store).path == first.path


@pytest.mark.parametrize(
    "narration, prompt, first, phrase",
    [
        (
            "An octopus can change its colour in less than a second.",
            "Close-up of an octopus on a reef",
            True,
            "octopus",
        ),
        (
            "The Roman Empire built roads that still carry traffic today.",
            "An ancient Roman road at sunset",
            True,
            "Roman Empire built roads",
        ),
        ("Honeybees dance to say where 3 kilometres away the flowers grow.", "A meadow at dawn", True, "3 kilometres"),
        (
            "The mantis shrimp punches faster than a bullet.",
            "A mantis shrimp striking a snail shell",
            False,
            "punches faster",
        ),
        (
            "That is octopus camouflage in a nutshell.",
            "illustration of octopus camouflage, scene 6",
            False,
            "octopus camouflage",
        ),  # nothing new worth a headline: the subject
    ],
)
def test_the_key_phrase_is_a_short_run_of_the_narrations_strongest_words(narration, prompt, first, phrase):
    assert key_phrase(narration, prompt, first=first) == phrase


def test_the_pictogram_follows_the_topics_words_with_a_default():
    assert pick_pictogram("A honeybee dancing on a honeycomb") == "🐝"
    assert pick_pictogram("close-up about black holes") == "🌌" and pick_pictogram("a hole in the ice") == "🕳"
    assert pick_pictogram("poster of the history of coffee") == "☕"  # a specific word before a broad one
    assert pick_pictogram("bright poster of volcanoes, scene 2, dramatic light", "Lava cools fast.") == "🌋"
    assert pick_pictogram("a quiet abstract scene", "Cats sleep sixteen hours a day.") == "🐈"  # the narration next
    assert pick_pictogram("a quiet abstract scene", "Nothing here is in the table.") in FALLBACKS


def test_every_pictogram_is_drawn_by_the_emoji_font():
    font = emoji_font(48)
    missing = bytes(font.getmask("\ue000"))  # a private-use code point: the font's empty "no glyph" box
    assert not [word for word, emoji in PICTOGRAMS.items() if bytes(font.getmask(emoji)) == missing]


def _offline_scenes(topic: str) -> list[Scene]:
    return OfflineScriptWriter().write(ShortRequest(topic=topic)).scenes


def _is_real_glyph(path, ch: str) -> bool:
    """The font maps `ch` to a glyph of its own: it does not draw the font's "missing" box (.notdef)."""
    font = ImageFont.truetype(str(path), 48)
    return bytes(font.getmask(ch)) != bytes(font.getmask("\U0010fffd"))


@pytest.mark.parametrize("topic", ["タコはどうやって色を変えるのか", "كيف يغير الأخطبوط لونه"])
def test_a_japanese_or_arabic_topic_draws_its_headline_in_real_glyphs(topic):
    scene = next(s for s in _offline_scenes(topic) if plan_title_card(s, "", 3).phrase == topic)
    card = plan_title_card(scene, "", 3)
    assert card.key_word in topic.split()
    drawn = runs(card.phrase)
    assert "".join(text for text, _ in drawn).replace(" ", "") == topic.replace(" ", "")
    assert all(_is_real_glyph(path, ch) for text, path in drawn for ch in text if not ch.isspace())

    shown, bare = pixels(draw_title_card(card, BIG)), pixels(draw_title_card(replace(card, phrase=""), BIG))
    letters = (text_band(shown) >= 235).all(axis=-1) | near(text_band(shown), card.palette.accent, 30)
    assert letters.mean() > 0.03 and (text_band(bare) >= 235).all(axis=-1).mean() < 0.001
    # Big letters: the ink of the headline spans most of the text band's height, inside the safe width.
    rows, columns = np.flatnonzero(letters.any(axis=1)), np.flatnonzero(letters.any(axis=0))
    assert np.ptp(rows) > 0.5 * text_band(shown).shape[0]
    assert columns.min() > 0.1 * BIG.width and columns.max() < 0.9 * BIG.width


def test_an_arabic_headline_reads_right_to_left():
    scene = next(s for s in _offline_scenes("كيف يغير الأخطبوط لونه") if s.index == 1)
    card = plan_title_card(scene, "", 3)
    assert card.phrase.split() == ["كيف", "يغير", "الأخطبوط", "لونه"] and card.key_word == "الأخطبوط"
    band = text_band(pixels(draw_title_card(card, BIG)))
    accent = near(band, card.palette.accent, 30) & ~near(band, (255, 255, 255), 30)
    white = (band >= 235).all(axis=-1)
    # Two lines, "كيف يغير" over "الأخطبوط لونه": the key word opens the second line, so it is on the right.
    second = slice(int(np.flatnonzero(accent.any(axis=1)).min()), None)
    assert np.flatnonzero(accent[second].any(axis=0)).mean() > BIG.width / 2
    assert np.flatnonzero(white[second].any(axis=0)).mean() < BIG.width / 2


def test_the_key_phrase_keeps_the_marks_of_words_in_other_scripts():
    narration = "Now you know ऑक्टोपस रंग कैसे बदलता है."
    phrase = key_phrase(narration, "poster of ऑक्टोपस रंग कैसे बदलता है")
    assert phrase and all(word in narration.split() for word in phrase.split())  # no word cut at a vowel sign
