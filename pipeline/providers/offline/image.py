"""First frames drawn locally as title cards (see `title_card`): no key, no network."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pipeline.providers.base import FrameOrder, ImageMaker, Made
from pipeline.providers.offline.picture_card import draw_picture_card
from pipeline.providers.offline.title_card import draw_title_card, plan_title_card


class OfflineImageMaker(ImageMaker):
    """Draws each first frame as a title card of the scene's key phrase and a topic pictogram."""

    name: ClassVar[str] = "offline"
    # The model names the look, so a changed design is a new asset key, never an old picture reused.
    model = "title-card-v3"
    draws_narration: ClassVar[bool] = True  # the card shows the narration's words, so they are part of its key

    def make_image(self, order: FrameOrder, dest: Path) -> Made:
        """The scene's card; with `source` (a free picture of the article), the picture under the card's phrase."""
        scene, style, fmt, seed, source = order.scene, order.style, order.fmt, order.seed, order.source
        card = plan_title_card(scene, style, seed)
        image = draw_picture_card(card, source, fmt) if source else draw_title_card(card, fmt)
        # Level 1: the card's grain barely compresses, and the default level takes four times as long.
        image.save(dest, format="PNG", compress_level=1)
        return Made()
