"""Step 3: one animated clip per scene, from its first frame."""

from __future__ import annotations

from pipeline.errors import ShortsError
from pipeline.models import ClipAsset, Footage, FrameAsset, Scene, VideoFormat
from pipeline.providers import is_paid, picks_footage
from pipeline.providers.base import ClipMaker, ClipOrder, Made
from pipeline.providers.offline.clip import OfflineClipMaker
from pipeline.state.store import AssetStore, atomic_path, content_key


def animate_scene(
    scene: Scene,
    frame: FrameAsset,
    fmt: VideoFormat,
    maker: ClipMaker,
    store: AssetStore,
    fresh: bool = False,
    footage: Footage | None = None,
) -> ClipAsset:
    """The scene's clip, from the store when the same frame was animated the same way before.

    A maker that fits existing media (stock, your own files) gets the scene's `footage`; where none was found, the
    first frame is animated offline instead (the footage step said so).
    """
    if footage is None and picks_footage("video", maker.name):
        maker = OfflineClipMaker()
    seed = frame.seed
    # Footage replaces the frame in the key (with its file's content, for your own media); other clips keep theirs.
    extra = {"footage": footage, "source": footage.path} if footage else {}
    key = content_key(
        "clip",
        provider=maker.name,
        model=maker.model,
        frame=None if footage else frame.path,
        motion=scene.motion_prompt,
        seconds=scene.seconds,
        fmt=fmt,
        seed=seed,
        **extra,
    )
    suffix = maker.clip_suffix(footage)
    path = store.path("clips", key, suffix)
    made = Made()  # nothing, when the clip is in the store
    try:
        found = not fresh and store.find("clips", key, suffix)
    except ShortsError as exc:  # a damaged paid clip
        raise exc.at("clips", scene.index)
    if not found:
        try:
            with atomic_path(path) as tmp:
                made = maker.make_clip(
                    ClipOrder(scene=scene, frame=frame.path, fmt=fmt, seed=seed, footage=footage, store=store), tmp
                )
        except ShortsError as exc:
            raise exc.at("clips", scene.index)
        store.saved(path, paid_by=maker.name if is_paid("video", maker.name) else None, task_id=made.task_id)
    return ClipAsset(
        scene=scene.index,
        path=path,
        provider=maker.name,
        model=maker.model,
        seed=seed,
        seconds=scene.seconds,
        task_id=made.task_id,
        cost=made.cost,
        footage=footage,
    )
