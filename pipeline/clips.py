"""Step 3: one animated clip per scene, from its first frame."""

from __future__ import annotations

from pipeline.errors import ShortsError
from pipeline.models import ClipAsset, FrameAsset, Scene, VideoFormat
from pipeline.providers.base import ClipMaker
from pipeline.store import AssetStore, atomic_path, content_key


def animate_scene(
    scene: Scene, frame: FrameAsset, fmt: VideoFormat, maker: ClipMaker, store: AssetStore, fresh: bool = False
) -> ClipAsset:
    """The scene's clip, from the store when the same frame was animated the same way before."""
    seed = frame.seed
    key = content_key("clip", provider=maker.name, model=maker.model, frame=frame.path, motion=scene.motion_prompt,
                      seconds=scene.seconds, fmt=fmt, seed=seed)
    path = store.path("clips", key, ".mp4")
    task_id, cost = None, 0.0
    if fresh or not store.find("clips", key, ".mp4"):
        try:
            with atomic_path(path) as tmp:
                task_id, cost = maker.make_clip(scene, frame.path, fmt, seed, tmp)
        except ShortsError as exc:
            raise exc.at("clips", scene.index)
        store.saved(path)
    # A maker that bills in dollars (Runware) says so with `cost_unit`; the others count credits.
    paid = {"cost_usd" if getattr(maker, "cost_unit", "credits") == "usd" else "cost_credits": cost}
    return ClipAsset(scene=scene.index, path=path, provider=maker.name, model=maker.model, seed=seed,
                     seconds=scene.seconds, task_id=task_id, **paid)
