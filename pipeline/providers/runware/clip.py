"""Clips animated by a Runware image-to-video model (Kling 2.5 Turbo Pro by default) from the scene's first frame."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.errors import ProviderError
from pipeline.media.probe import is_portrait_9_16, video_size
from pipeline.models import Cost
from pipeline.providers.base import ClipMaker, ClipOrder, Made
from pipeline.providers.inputs import cut_text, data_uri
from pipeline.providers.paid.jobs import PaidJobs
from pipeline.providers.runware.client import clip_duration, clip_usd, video_model
from pipeline.providers.runware.maker import RunwareMaker
from pipeline.providers.runware.tasks import RunwareVendor
from pipeline.settings import default
from pipeline.state.store import content_key


def check_portrait_video(path: Path) -> None:
    """Raise unless `path` is a readable 9:16 video (the render scales it to the Short's size)."""
    width, height = video_size(path)
    if not is_portrait_9_16(width, height):
        raise ProviderError(
            f"Runware returned a {width}x{height} clip, not 9:16; check that RUNWARE_BASE_URL points "
            "at a Runware-compatible server and the model keeps the first frame's shape."
        )


class RunwareClipMaker(RunwareMaker, ClipMaker):
    """Animates a first frame with a Runware video model; each task is resumed, never bought twice."""

    flag, model_field = "--video runware", "runware_video_model"

    def __init__(self, tasks: PaidJobs[RunwareVendor], model: str = default("runware_video_model")) -> None:
        super().__init__(tasks, model)
        self.spec = video_model(model)

    def make_clip(self, order: ClipOrder, dest: Path) -> Made:
        scene, frame = order.scene, order.frame
        spec = self.spec
        prompt = cut_text(scene.motion_prompt, spec.prompt_limit)
        request: dict[str, Any] = dict(
            model=self.model, positivePrompt=prompt, duration=clip_duration(self.model, scene.seconds)
        )
        if spec.send_size:
            request.update(width=spec.size[0], height=spec.size[1])
        # Everything that decides the paid task: the same key on a rerun means "resume, don't pay again".
        key = content_key("runware-clip", image=frame, **request)

        def task() -> dict[str, Any]:
            return dict(
                request,
                taskType="videoInference",
                inputs={"frameImages": [{"image": data_uri(frame), "frame": "first"}]},
                deliveryMethod="async",
                outputType="URL",
                outputFormat="MP4",
                includeCost=True,
            )

        estimate = clip_usd(self.model, scene.seconds)
        job = self.job("clip", scene.index, key, estimate, prepare=task, verify=check_portrait_video)
        task_id, usd = self.tasks.produce(job, dest)
        return Made(task_id, Cost(usd=usd))
