"""Clips animated locally from the first frame: shots of it cut every few seconds, each a slow zoom and pan, kept as
a moving still for the render."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from PIL import Image

from pipeline.errors import ProviderError
from pipeline.media.motion import Framing, save_moving_still
from pipeline.models import Footage
from pipeline.providers.base import ClipMaker, ClipOrder, Made
from pipeline.providers.offline.title_card import is_title_card


class OfflineClipMaker(ClipMaker):
    """Animates the first frame locally; no key, no network, no cost."""

    name: ClassVar[str] = "offline"
    model = "shots-v1"  # was "ken-burns-v1" (one zoom over the whole scene): a new name, so those are made again

    def clip_suffix(self, footage: Footage | None = None) -> str:
        return ".png"

    def make_clip(self, order: ClipOrder, dest: Path) -> Made:
        scene, frame, fmt, seed = order.scene, order.frame, order.fmt, order.seed
        try:
            with Image.open(frame) as img:
                framing: Framing = "card" if is_title_card(img) else "picture"
                save_moving_still(img, fmt, scene.seconds, seed, dest, framing=framing)
        except OSError as exc:
            raise ProviderError(f"Could not write the offline clip ({exc}); check free disk space.") from exc
        return Made()
