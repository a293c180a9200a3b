"""A first frame made of a real picture (a free one from the article) under the title card's phrase.

The picture is cropped to the frame around its centre; a soft dark band keeps the phrase readable. The phrase is
set narrower than on a card: the offline clip frames a picture with closer shots than a card, and its closest keeps
the middle 0.55 of the width in view (and pans a little).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.models import VideoFormat
from pipeline.providers.folder.files import cover_image
from pipeline.providers.offline.title_card import TEXT_BOTTOM, TEXT_TOP, TitleCard, draw_phrase

PHRASE_WIDTH = 0.62  # the share of the width the phrase is laid out in (its lines take 0.74 of that)
SHADE = 0.6  # how dark the band behind the phrase gets at its middle


def draw_picture_card(card: TitleCard, picture: Path, fmt: VideoFormat) -> Image.Image:
    """The picture covering the frame, darkened behind the phrase, with the phrase on it."""
    image = cover_image(picture, fmt).convert("RGBA")
    w, h = image.size
    y = np.arange(h, dtype=np.float32)[:, None, None] / h
    middle, half = (TEXT_TOP + TEXT_BOTTOM) / 2, (TEXT_BOTTOM - TEXT_TOP) * 0.9
    shade = 1 - SHADE * np.clip(1 - np.abs(y - middle) / half, 0, 1) ** 0.7
    pixels = np.asarray(image, np.float32)
    pixels[..., :3] *= shade
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    left = round(w * (1 - PHRASE_WIDTH) / 2)
    band = image.crop((left, 0, w - left, h))
    draw_phrase(band, card)
    image.paste(band, (left, 0))
    return image.convert("RGB")
