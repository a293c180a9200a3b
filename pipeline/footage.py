"""Step 2b: footage. A provider that uses existing media (stock clips, your own files) picks a file per scene for
the whole script at once, in one deterministic pass, so that no two scenes get the same clip even though the clips
are then made in parallel."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.errors import ShortsError
from pipeline.models import ClipAsset, Footage, Script, VideoFormat
from pipeline.providers.base import FootagePicker
from pipeline.state.store import AssetStore


def pick_footage(
    script: Script, fmt: VideoFormat, maker: FootagePicker, store: AssetStore, fresh: bool = False
) -> list[Footage | None]:
    """A file per scene, in scene order, from `maker.plan`; None for a scene nothing was found for."""
    try:
        picks = maker.plan(script, fmt, store, fresh)
    except ShortsError as exc:
        raise exc.at("footage")
    return list(picks)


def footage_credits(picks: Sequence[Footage | ClipAsset | None]) -> list[str]:
    """The credit lines the sources ask for, once each, in scene order."""
    footage = [p.footage if isinstance(p, ClipAsset) else p for p in picks]
    return list(dict.fromkeys(line for f in footage if f and (line := f.credit())))


def footage_line(footage: list[Footage | None]) -> str:
    """'Footage: Pexels for 5 of 6 scenes, by Ann Lee, Bo Chan (credited in the description); scene 3 animated
    offline', or the files of your own it uses."""
    found = [f for f in footage if f]
    sources = sorted({"your files" if f.source == "folder" else f.source.capitalize() for f in found})
    line = f"Footage: {' and '.join(sources) or 'none found'} for {len(found)} of {len(footage)} scenes"
    authors = list(dict.fromkeys(f.author for f in found if f.author))
    if authors:
        line += f", by {', '.join(authors)} (credited in the description)"
    elif found and all(f.source == "folder" for f in found):
        line += f" ({', '.join(f.id for f in found)})"
    missing = [str(i) for i, f in enumerate(footage, start=1) if f is None]
    return line + (f"; scene {', '.join(missing)} animated offline" if missing else "")


def describe_pick(pick: Footage) -> str:
    """One scene's pick for the run's log: 'scene 2: Pexels clip 123 by Ann Lee, 12 s, for 'coral reef''."""
    source = "your file" if pick.source == "folder" else f"{pick.source.capitalize()} clip"
    by = f" by {pick.author}" if pick.author else ""
    length = f", {pick.seconds:g} s" if pick.seconds else ""
    matched = f", for {pick.query!r}" if pick.query else ""
    return f"scene {pick.scene}: {source} {pick.id}{by}{length}{matched}"
