"""Which scenes open on the source's free pictures, and the credits of those used."""

from __future__ import annotations

from pipeline.models import Footage, Script, VideoFormat
from pipeline.source.models import Source, SourcePicture
from pipeline.source.text import stems

MAX_UPSCALE = 2.0  # a picture that would need more to cover the frame looks soft: that scene keeps its title card
SITE = "wikimedia"  # Footage.source of a picture from Commons


def scene_pictures(source: Source | None, script: Script, fmt: VideoFormat) -> list[Footage | None]:
    """A picture or None per scene: the lead picture for the hook, each other for the scene whose narration shares
    most words with its description (else the next scene without one); each picture once, and only those a 9:16
    crop of needs at most MAX_UPSCALE to fill the frame."""
    picks: list[Footage | None] = [None] * len(script.scenes)
    usable = [p for p in (source.pictures if source else []) if p.path and _upscale(p, fmt) <= MAX_UPSCALE]
    for picture in sorted(usable, key=lambda p: not p.lead):
        free = [i for i, pick in enumerate(picks) if pick is None and (i > 0 or picture.lead)]
        if not free:
            break
        words = stems(picture.description)
        best = max(free, key=lambda i: (len(words & stems(script.scenes[i].narration)), -i))
        picks[best] = _footage(picture, script.scenes[best].index)
    return picks


def used_source(source: Source, picks: list[Footage | None]) -> Source:
    """The source with only the pictures the Short shows: what the manifest records and the credits name."""
    shown = {pick.id for pick in picks if pick}
    return source.model_copy(update={"pictures": [p for p in source.pictures if p.file in shown]})


def _footage(picture: SourcePicture, scene: int) -> Footage:
    return Footage(
        scene=scene,
        source=SITE,
        kind="image",
        id=picture.file,
        url=picture.url,
        path=picture.path,
        width=picture.width,
        height=picture.height,
        author=picture.author,
        page=picture.page,
        query=picture.licence,
    )


def _upscale(picture: SourcePicture, fmt: VideoFormat) -> float:
    """How much the picture must grow for a crop of it to cover the frame."""
    if not picture.width or not picture.height:
        return float("inf")
    return max(fmt.width / picture.width, fmt.height / picture.height)
