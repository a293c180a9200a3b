"""The output folder a person opens: final.mp4, captions.srt, script.json and manifest.json."""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pydantic import Field

from pipeline.errors import ConfigError
from pipeline.models import (
    ClipAsset, FrameAsset, Model, Narration, ProviderChoice, RenderedShort, Script, ShortRequest, VideoFormat,
)
from pipeline.moderation import ModerationCheck
from pipeline.render.short import RenderOptions
from pipeline.state.store import atomic_path
from pipeline.storyboard import Review

PACKAGE_FILES = ("final.mp4", "captions.srt", "script.json", "manifest.json")


class Manifest(Model):
    """Every input, provider, model, seed, task id, cost and timing of a run."""

    shorts_version: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    request: ShortRequest
    providers: dict[str, ProviderChoice]
    video_format: VideoFormat
    render_options: RenderOptions
    script: Script
    frames: list[FrameAsset]
    clips: list[ClipAsset]
    narrations: list[Narration]
    render: RenderedShort
    moderation: ModerationCheck | None = None
    review: Review | None = None  # who approved buying the clips, when a review was asked for
    step_seconds: dict[str, float]
    cost_credits: float
    cost_usd: float = 0.0
    cost_characters: int = 0  # billed by the voice's vendor (ElevenLabs)
    credits: list[str] = []  # what the stock footage's sources ask to be credited with (also in the description)
    youtube_id: str | None = None
    youtube_url: str | None = None


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
        raise ConfigError(f"Cannot write to the output folder {path} ({exc.strerror}); choose another with --out.") from exc
    return path


def write_package(manifest: Manifest, out_dir: Path) -> dict[str, Path]:
    """Copy the video and captions into the output folder and write the script and manifest."""
    paths = {name: out_dir / name for name in PACKAGE_FILES}
    try:
        for source, name in ((manifest.render.video, "final.mp4"), (manifest.render.captions, "captions.srt")):
            with atomic_path(paths[name]) as tmp:
                shutil.copyfile(source, tmp)
        for model, name in ((manifest.script, "script.json"), (manifest, "manifest.json")):
            with atomic_path(paths[name]) as tmp:
                tmp.write_text(model.model_dump_json(indent=2), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write the Short into {out_dir} ({exc.strerror}); free some space or use --out.",
                          step="package") from exc
    return paths


def record_upload(manifest: Manifest, out_dir: Path, youtube_id: str, youtube_url: str) -> Path:
    """Write the manifest again, now with the YouTube video it became."""
    path = out_dir / "manifest.json"
    try:
        with atomic_path(path) as tmp:
            updated = manifest.model_copy(update={"youtube_id": youtube_id, "youtube_url": youtube_url})
            tmp.write_text(updated.model_dump_json(indent=2), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Uploaded as {youtube_url}, but cannot update {path} ({exc.strerror}); the next run "
                          "records it.", step="publish") from exc
    return path
