"""Step 2: one first frame per scene."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from pipeline.errors import ProviderError, ShortsError
from pipeline.models import Footage, FrameAsset, Scene, VideoFormat
from pipeline.providers import is_paid
from pipeline.providers.base import FrameOrder, ImageMaker, Made
from pipeline.state.store import AssetStore, atomic_path, content_key


def scene_seed(*parts: object) -> int:
    """A seed fixed by what the scene is, so a rerun draws the same picture."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def make_first_frame(
    scene: Scene,
    style: str,
    fmt: VideoFormat,
    maker: ImageMaker,
    store: AssetStore,
    fresh: bool = False,
    reference: FrameAsset | None = None,
    take: int = 1,
    footage: Footage | None = None,
) -> FrameAsset:
    """The scene's first frame, from the store when it was made before; `reference` is a frame to look like.

    `take` > 1 draws the scene again with another seed (--redo-scene); take 1 keeps the seed frames always had.
    `footage` is the picture picked for the scene from your own media (--image folder:PATH).
    """
    seed = scene_seed(style, scene.first_frame_prompt, *([f"take {take}"] if take > 1 else []))
    # Only a reference joins the key, so frames made without one keep their old names.
    extra = {"reference": reference.path} if reference else {}
    if footage and footage.path:
        extra["source"] = footage.path
    # A title card shows the narration's words, so they join its key (and only its: other frames keep their names).
    drawn = {"narration": scene.narration} if maker.draws_narration else {}
    key = content_key(
        "frame",
        provider=maker.name,
        model=maker.model,
        prompt=scene.first_frame_prompt,
        style=style,
        size=fmt.size,
        seed=seed,
        **extra,
        **drawn,
    )
    path = store.path("frames", key, ".png")
    made = Made()  # nothing, when the frame is in the store
    try:
        found = not fresh and store.find("frames", key, ".png")
    except ShortsError as exc:  # a damaged paid frame
        raise exc.at("frames", scene.index)
    if not found:
        try:
            with atomic_path(path) as tmp:
                made = maker.make_image(FrameOrder(scene=scene, style=style, fmt=fmt, seed=seed, **extra), tmp)
                _check_image(tmp, fmt)
        except ShortsError as exc:
            raise exc.at("frames", scene.index)
        store.saved(path, paid_by=maker.name if is_paid("image", maker.name) else None, task_id=made.task_id)
    return FrameAsset(
        scene=scene.index,
        path=path,
        provider=maker.name,
        model=maker.model,
        seed=seed,
        prompt=scene.first_frame_prompt,
        task_id=made.task_id,
        cost=made.cost,
        take=take,
    )


def _check_image(path: Path, fmt: VideoFormat) -> None:
    try:
        with Image.open(path) as img:
            size = img.size
    except OSError as exc:
        raise ProviderError("The image provider returned a file that is not an image; rerun with --fresh.") from exc
    if size != fmt.size:
        raise ProviderError(f"The image provider returned {size[0]}x{size[1]}, not {fmt.width}x{fmt.height}.")
