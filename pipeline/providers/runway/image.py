"""First frames drawn by Runway text-to-image (gen4_image) at 720:1280."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import httpx
from PIL import Image, ImageOps

from pipeline.errors import ProviderError
from pipeline.media.probe import Unreadable, is_portrait_9_16
from pipeline.models import Cost, VideoFormat
from pipeline.providers.base import FrameOrder, ImageMaker, Made, Shared
from pipeline.providers.paid.jobs import Job, PaidJobs
from pipeline.providers.runway.client import CREDITS_PER_IMAGE, RATIO, cut_prompt, image_uri
from pipeline.providers.runway.tasks import RunwayVendor, runway_jobs
from pipeline.settings import RunwaySettings, default
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


class RunwayImageMaker(ImageMaker):
    """Draws first frames with Runway; a later scene may take scene 1's frame as a reference for a consistent look."""

    name: ClassVar[str] = "runway"
    section: ClassVar[type[RunwaySettings]] = RunwaySettings

    def __init__(self, tasks: PaidJobs[RunwayVendor], model: str = default("runway_image_model")) -> None:
        self.tasks = tasks
        self.model = model

    @classmethod
    def from_settings(
        cls, settings: RunwaySettings, shared: Shared, http_client: httpx.Client | None = None
    ) -> RunwayImageMaker:
        return cls(runway_jobs(settings, shared, "--image runway", http_client), settings.runway_image_model)

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

        job = Job(
            key=key,
            kind="first frame",
            model=self.model,
            estimate=CREDITS_PER_IMAGE[self.model],
            label=f"scene {scene.index} first frame",
            prepare=prepare,
            verify=check_image,
            endpoint="text_to_image",
            fix="rerun with --image offline",
        )
        task_id, credits = self.tasks.produce(job, dest)
        _fit_png(dest, fmt)
        return Made(task_id, Cost(credits=credits))


def _fit_png(path: Path, fmt: VideoFormat) -> None:
    """Rewrite the downloaded image in place as an RGB PNG of exactly `fmt.size`."""
    with Image.open(path) as img:
        fitted = ImageOps.fit(img.convert("RGB"), fmt.size, Image.Resampling.LANCZOS)
    fitted.save(path, format="PNG")
