"""The output folder a person opens: final.mp4, captions.srt, script.json and manifest.json."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import unicodedata
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from pydantic import Field, model_validator

from pipeline.errors import ConfigError, RenderError
from pipeline.footage import footage_credits
from pipeline.models import (
    ClipAsset,
    Cost,
    FrameAsset,
    Model,
    Narration,
    ProviderChoice,
    RenderedShort,
    Script,
    ShortRequest,
    VideoFormat,
    costs_from,
)
from pipeline.moderation import ModerationCheck
from pipeline.music import MusicTrack
from pipeline.publish.youtube_metadata import with_credits
from pipeline.render.short import RenderOptions
from pipeline.source.models import Source
from pipeline.state.store import atomic_path, record_path
from pipeline.storyboard import Review

PACKAGE_FILES = ("final.mp4", "captions.srt", "script.json", "manifest.json")
# How far the decoded length may be from the planned one: the AAC encoder pads its last frame (tens of ms).
DURATION_SLACK = 0.5
_OUT_TIME = re.compile(r"^out_time_us=(\d+)$", re.M)
_STREAM = re.compile(r"Stream #0:\d+.*?: (Video|Audio):")


class Manifest(Model):
    """Every input, provider, model, seed, task id, cost and timing of a run."""

    shorts_version: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    request: ShortRequest
    providers: dict[str, ProviderChoice]
    video_format: VideoFormat
    render_options: RenderOptions
    music: MusicTrack | None = None  # the track under the voice, its package, version and licence
    script: Script
    frames: list[FrameAsset]
    clips: list[ClipAsset]
    narrations: list[Narration]
    render: RenderedShort
    moderation: ModerationCheck | None = None
    review: Review | None = None  # who approved buying the clips, when a review was asked for
    step_seconds: dict[str, float]
    cost: Cost  # what this run paid for: its frames, clips and speech
    # The credit lines the article and the stock footage's sources ask for (also in the description).
    attributions: list[str] = []
    source: Source | None = None  # the article the facts come from (its revision) and the pictures shown
    youtube_id: str | None = None
    youtube_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_fields(cls, data: Any) -> Any:
        # manifest.json as an older version wrote it: each unit of the cost apart, and the attributions as `credits`.
        data = costs_from(data, cost_credits="credits", cost_usd="usd", cost_characters="characters")
        if isinstance(data, dict) and "credits" in data:
            data = dict(data)  # costs_from copied it only if it had cost fields
            data["attributions"] = data.pop("credits")
        return data


def build_manifest(
    request: ShortRequest,
    choices: dict[str, ProviderChoice],
    fmt: VideoFormat,
    options: RenderOptions,
    script: Script,
    frames: list[FrameAsset],
    clips: list[ClipAsset],
    narrations: list[Narration],
    rendered: RenderedShort,
    moderation: ModerationCheck,
    review: Review | None,
    timings: dict[str, float],
    music: MusicTrack | None,
    source: Source | None,
) -> Manifest:
    """Everything the run used and made, with its costs; the script's description credits the article, the
    pictures and the stock footage."""
    assets: list[FrameAsset | ClipAsset | Narration] = [*frames, *clips, *narrations]
    credits, sources = footage_credits(clips), source.credits() if source else []
    return Manifest(
        shorts_version=package_version(),
        request=request,
        providers=choices,
        video_format=fmt,
        render_options=options,
        music=music,
        script=with_credits(script, credits, sources),
        source=source,
        frames=frames,
        clips=clips,
        narrations=narrations,
        render=rendered,
        moderation=moderation,
        review=review,
        step_seconds=timings,
        cost=sum((asset.cost for asset in assets), Cost()),
        attributions=[*sources, *credits],
    )


def package_version() -> str:
    try:
        return version("shorts")
    except PackageNotFoundError:
        return "unknown"


def slug(text: str, limit: int = 60) -> str:
    """A safe folder name: ASCII letters, digits and dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return cleaned or "short"


def short_folder(topic: str, limit: int = 60) -> str:
    """The folder a topic's Short goes in: its words, then a short hash of the exact topic, so that two topics
    ("Black holes" and "Black holes!", or two in a script without Latin letters) never share one.

    Latin letters lose their accents; letters, digits and marks of other scripts are kept as they are.
    """
    kept = []
    for char in unicodedata.normalize("NFKC", topic).casefold():
        ascii_char = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        if ascii_char.isalnum():
            kept.append(ascii_char)
        elif unicodedata.category(char)[0] in "LMN":
            kept.append(char)
        else:
            kept.append("-")
    words = re.sub(r"-+", "-", "".join(kept)).strip("-")[:limit].strip("-") or "short"
    return f"{words}-{hashlib.sha256(topic.encode()).hexdigest()[:6]}"


def prepare_output_dir(path: Path) -> Path:
    """Create the output folder and prove it is writable, before anything is made."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"Cannot write to the output folder {path} ({exc.strerror}); choose another with --out."
        ) from exc
    return path


def video_problem(video: Path, seconds: float | None) -> str | None:
    """What is wrong with a finished Short's file, in a few words, or None when it has a video and an audio stream,
    decodes to its end without an error and lasts about `seconds` (when given).

    Every packet is read and the audio decoded in full; of the video only key frames are decoded, which is what
    keeps it near 0.1 s for a 30 s Short (a full decode takes over a second) while a cut or garbled file still fails.
    """
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "level+info",
        "-skip_frame",
        "nokey",
        "-i",
        str(video),
        "-map",
        "0:v:0?",
        "-map",
        "0:a:0?",
        "-progress",
        "pipe:1",
        "-f",
        "null",
        "-",
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"ffmpeg could not read it ({type(exc).__name__})"
    err, out = done.stderr.decode("utf-8", "replace"), done.stdout.decode("utf-8", "replace")
    # ffmpeg also complains of the key-frame option when it cannot open the file at all: that says nothing.
    errors = [
        line.split("] ", 2)[-1].strip().rstrip(".").replace(str(video), video.name)
        for line in err.splitlines()
        if ("[error]" in line or "[fatal]" in line) and "AVOption" not in line
    ]
    if done.returncode != 0 or (errors and not _STREAM.search(err)):
        return f"not a readable video: {errors[0] if errors else 'ffmpeg failed'}"
    streams = set(_STREAM.findall(err))
    if streams != {"Video", "Audio"}:
        return "no video stream" if "Video" not in streams else "no audio stream"
    if errors:
        return f"it does not decode to its end: {errors[0]}"
    decoded = int(_OUT_TIME.findall(out)[-1]) / 1e6 if _OUT_TIME.search(out) else 0.0
    if seconds is not None and abs(decoded - seconds) > DURATION_SLACK:
        return f"it plays {decoded:.1f} s, not {seconds:.1f} s"
    return None


def write_package(manifest: Manifest, out_dir: Path) -> dict[str, Path]:
    """Check the rendered video, then copy it and the captions into the output folder and write the script and
    manifest. A broken video is never packaged: it leaves the store (a render is free to make again) and the run
    stops with a RenderError."""
    paths = {name: out_dir / name for name in PACKAGE_FILES}
    video = manifest.render.video
    if problem := video_problem(video, manifest.render.seconds):
        # Out of the store, so the same command renders it again instead of finding it.
        video.unlink(missing_ok=True)
        record_path(video).unlink(missing_ok=True)
        raise RenderError(
            f"The rendered Short {video} is broken ({problem}), so it was not packaged; it was removed, "
            "so rerun the same command to render it again.",
            step="package",
        )
    try:
        for source, name in ((manifest.render.video, "final.mp4"), (manifest.render.captions, "captions.srt")):
            with atomic_path(paths[name]) as tmp:
                shutil.copyfile(source, tmp)
        for model, name in ((manifest.script, "script.json"), (manifest, "manifest.json")):
            with atomic_path(paths[name]) as tmp:
                tmp.write_text(model.model_dump_json(indent=2), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the Short into {out_dir} ({exc.strerror}); free some space or use --out.", step="package"
        ) from exc
    return paths


def check_packaged_video(video: Path) -> None:
    """Refuse to publish a package's final.mp4 that is broken (see `video_problem`), in one sentence."""
    try:
        seconds = json.loads((video.parent / "manifest.json").read_text(encoding="utf-8"))["render"]["seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        seconds = None  # a package without its manifest: the streams and the decode are still checked
    if problem := video_problem(video, seconds):
        raise ConfigError(
            f"Not published: {video} is broken ({problem}); the package stays in its folder, so "
            "rerun the command that made it to render and package it again.",
            step="publish",
        )


def record_upload(manifest: Manifest, out_dir: Path, youtube_id: str, youtube_url: str) -> Path:
    """Write the manifest again, now with the YouTube video it became."""
    path = out_dir / "manifest.json"
    try:
        with atomic_path(path) as tmp:
            updated = manifest.model_copy(update={"youtube_id": youtube_id, "youtube_url": youtube_url})
            tmp.write_text(updated.model_dump_json(indent=2), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"Uploaded as {youtube_url}, but cannot update {path} ({exc.strerror}); the next run records it.",
            step="publish",
        ) from exc
    return path
