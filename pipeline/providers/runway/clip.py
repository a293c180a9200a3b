"""Clips animated by Runway image-to-video at 720:1280, from the scene's first frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.errors import ProviderError
from pipeline.media.probe import video_size
from pipeline.models import Cost
from pipeline.providers.base import ClipMaker, ClipOrder, Made
from pipeline.providers.paid.jobs import PaidJobs
from pipeline.providers.runway.client import (
    DATA_URI_LIMIT,
    DURATIONS,
    RATIO,
    RATIO_SIZE,
    SILENT_ON_REQUEST,
    clip_credits,
    clip_duration,
    cut_prompt,
    image_uri,
)
from pipeline.providers.runway.maker import RunwayMaker
from pipeline.providers.runway.tasks import RunwayVendor
from pipeline.settings import default
from pipeline.state.store import content_key


def check_video(path: Path, size: tuple[int, int] = RATIO_SIZE) -> None:
    """Raise unless `path` is a readable video of `size` with at least one frame."""
    if (got := video_size(path)) != size:
        w, h = got
        raise ProviderError(
            f"Runway returned a {w}x{h} clip, not {size[0]}x{size[1]}; check RUNWAYML_BASE_URL points "
            "at a Runway-compatible server."
        )


class RunwayClipMaker(RunwayMaker, ClipMaker):
    """Animates a first frame with Runway (gen4_turbo by default); tasks are resumed, never bought twice."""

    flag, model_field = "--video runway", "runway_video_model"

    def __init__(
        self,
        tasks: PaidJobs[RunwayVendor],
        model: str = default("runway_video_model"),
        data_uri_limit: int = DATA_URI_LIMIT,
    ) -> None:
        if model not in DURATIONS:
            raise ValueError(f"{model} is not a Runway image-to-video model that accepts {RATIO}")
        super().__init__(tasks, model)
        self.data_uri_limit = data_uri_limit

    def make_clip(self, order: ClipOrder, dest: Path) -> Made:
        scene, frame, seed = order.scene, order.frame, order.seed
        duration = clip_duration(self.model, scene.seconds)
        prompt = cut_prompt(scene.motion_prompt)
        request: dict[str, Any] = dict(model=self.model, ratio=RATIO, duration=duration, prompt_text=prompt, seed=seed)
        if self.model in SILENT_ON_REQUEST:
            request["audio"] = False
        # Everything that decides the paid task: the same key on a rerun means "resume, don't pay again".
        key = content_key("runway-clip", image=frame, **request)

        def prepare() -> dict[str, Any]:
            return dict(request, prompt_image=image_uri(self.tasks.vendor.client, frame, self.data_uri_limit))

        estimate = clip_credits(self.model, scene.seconds)
        job = self.job(
            "clip", scene.index, key, estimate, prepare=prepare, verify=check_video, endpoint="image_to_video"
        )
        task_id, credits = self.tasks.produce(job, dest)
        return Made(task_id, Cost(credits=credits))
