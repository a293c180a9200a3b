"""First frames drawn by Runway text-to-image (gen4_image) at 720:1280."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from pipeline.errors import ProviderError
from pipeline.media.probe import Unreadable, is_portrait_9_16
from pipeline.models import Cost, VideoFormat
from pipeline.providers.base import FrameOrder, ImageMaker, Made
from pipeline.providers.runway.client import CREDITS_PER_IMAGE, RATIO, cut_prompt, image_uri
from pipeline.providers.runway.maker import RunwayMaker
from pipeline.state.store import content_key

REFERENCE_TAG = "scene1"


def check_image(path: Path) -> None:
    """Raise unless `path` is a readable image with the 9:16 shape asked for."""
    try:
        with Image.open(path) as img:
            img.load()
            size = img.size
    except OSError as exc:
        raise Unreadable("not a readable image") from exc
    if not is_portrait_9_16(*size):  # RATIO is 9:16
        raise ProviderError(
            f"Runway returned a {size[0]}x{size[1]} image, not {RATIO}; check RUNWAYML_BASE_URL "
            "points at a Runway-compatible server."
        )


class RunwayImageMaker(RunwayMaker, ImageMaker):
    """Draws first frames with Runway; a later scene may take scene 1's frame as a reference for a consistent look."""

    flag, model_field = "--image runway", "runway_image_model"

    def make_image(self, order: FrameOrder, dest: Path) -> Made:
        scene, style, fmt, seed, reference = order.scene, order.style, order.fmt, order.seed, order.reference
        text = f"{scene.first_frame_prompt} Style: {style}."
        if reference:
            text = f"Same look, palette and characters as @{REFERENCE_TAG}. {text}"
        request: dict[str, Any] = dict(model=self.model, ratio=RATIO, prompt_text=cut_prompt(text), seed=seed)
        key = content_key("runway-image", reference=reference, **request)

        def prepare() -> dict[str, Any]:
            if not reference:
                return request
            uri = image_uri(self.tasks.vendor.client, reference)
            return dict(request, reference_images=[{"uri": uri, "tag": REFERENCE_TAG}])

        estimate = CREDITS_PER_IMAGE[self.model]
        job = self.job(
            "first frame", scene.index, key, estimate, prepare=prepare, verify=check_image, endpoint="text_to_image"
        )
        task_id, credits = self.tasks.produce(job, dest)
        _fit_png(dest, fmt)
        return Made(task_id, Cost(credits=credits))


def _fit_png(path: Path, fmt: VideoFormat) -> None:
    """Rewrite the downloaded image in place as an RGB PNG of exactly `fmt.size`."""
    with Image.open(path) as img:
        fitted = ImageOps.fit(img.convert("RGB"), fmt.size, Image.Resampling.LANCZOS)
    fitted.save(path, format="PNG")
