"""Your own media: first frames or clips from the images and videos in a folder, matched to scenes by the words in
their file names, else by name order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from PIL import Image, UnidentifiedImageError

from pipeline.errors import ConfigError
from pipeline.media.motion import save_moving_still
from pipeline.models import Footage, Scene, Script, VideoFormat
from pipeline.providers.base import ClipMaker, ClipOrder, FrameOrder, ImageMaker, Made
from pipeline.providers.folder.files import cover_image, fit_video, probe_video
from pipeline.search_terms import content_words, scene_terms
from pipeline.state.store import AssetStore

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"})


def natural_key(path: Path) -> list[object]:
    """Sort key that puts scene2.jpg before scene10.jpg."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name.lower())]


def read_folder(folder: Path, images_only: bool = False) -> list[Footage]:
    """Every media file in `folder`, in name order, checked; a file that is not readable media is one ConfigError."""
    if not folder.is_dir():
        raise ConfigError(f"The media folder {folder} does not exist or is not a folder; give folder:PATH of one.")
    found = []
    for path in sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")), key=natural_key):
        suffix = path.suffix.lower()
        if suffix in VIDEO_SUFFIXES and images_only:
            continue  # first frames are pictures; a video in the same folder is for --video folder:
        if suffix not in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
            raise ConfigError(
                f"{path} is not an image or a video ({', '.join(sorted(IMAGE_SUFFIXES | VIDEO_SUFFIXES))}"
                "); move it out of the media folder."
            )
        found.append(_probe(path, suffix in VIDEO_SUFFIXES))
    if not found:
        kinds = "images" if images_only else "images or videos"
        raise ConfigError(f"The media folder {folder} has no {kinds}; add some or choose another folder.")
    return found


def _probe(path: Path, video: bool) -> Footage:
    try:
        if video:
            width, height, seconds = probe_video(path)
            if not width or not seconds:
                raise OSError("no video stream")
        else:
            with Image.open(path) as img:
                img.verify()
                (width, height), seconds = img.size, 0.0
    except (OSError, RuntimeError, StopIteration, UnidentifiedImageError, SyntaxError) as exc:
        kind = "a video" if video else "an image"
        detail = str(exc).strip().splitlines()[-1][:120] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"{path} cannot be read as {kind} ({detail}); replace it or move it out of the media folder."
        ) from None
    return Footage(
        scene=0,
        source="folder",
        kind="video" if video else "image",
        id=path.name,
        path=path,
        width=width,
        height=height,
        seconds=seconds,
    )


def match_files(scenes: list[Scene], files: list[Footage]) -> list[Footage]:
    """A file per scene: the unused one whose name shares most words with the scene's terms, else the next unused
    in name order; files are used again, in order, only when there are fewer than scenes."""
    names = [{_stem(w) for w in content_words(re.sub(r"[\W_]+", " ", Path(f.id).stem))} for f in files]
    free, picks = list(range(len(files))), []
    for scene in scenes:
        if not free:
            free = list(range(len(files)))
        words = list(dict.fromkeys(w for term in scene_terms(scene) for w in content_words(term)))
        score = {i: sum(_stem(w) in names[i] for w in words) for i in free}
        best = max(free, key=lambda i: (score[i], -free.index(i)))
        free.remove(best)
        matched = " ".join(w for w in words if _stem(w) in names[best])
        picks.append(files[best].model_copy(update={"scene": scene.index, "query": matched}))
    return picks


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


class FolderMedia:
    """Your own files in a folder (`folder:PATH`), matched to the scenes by `match_files`."""

    name: ClassVar[str] = "folder"
    model = "own-media-v2"  # v1 animated an image with one zoom over the whole scene; v2 cuts it into shots

    def __init__(self, folder: Path) -> None:
        self.folder = folder


class FolderClipMaker(FolderMedia, ClipMaker):
    """Clips from your own files: videos cut and fitted to their scene, images animated like the offline clips."""

    def plan(self, script: Script, fmt: VideoFormat, store: AssetStore, fresh: bool = False) -> list[Footage]:
        # A video shorter than its scene is fine: the render slows it a little, then loops it.
        return match_files(script.scenes, read_folder(self.folder))

    def make_clip(self, order: ClipOrder, dest: Path) -> Made:
        scene, fmt, seed, footage = order.scene, order.fmt, order.seed, order.footage
        if footage is None or footage.path is None:  # animate_scene animates a scene with no file offline
            raise ConfigError(f"No file of {self.folder} was matched to scene {scene.index}; rerun.")
        if footage.kind == "image":
            save_moving_still(cover_image(footage.path, fmt), fmt, scene.seconds, seed, dest, framing="picture")
        else:
            fit_video(footage.path, dest, fmt, scene.seconds)
        return Made()

    def clip_suffix(self, footage: Footage | None = None) -> str:
        return ".png" if footage and footage.kind == "image" else ".mp4"


class FolderImageMaker(FolderMedia, ImageMaker):
    """First frames from your own images, cropped to the video's shape."""

    def plan(self, script: Script, fmt: VideoFormat, store: AssetStore, fresh: bool = False) -> list[Footage]:
        return match_files(script.scenes, read_folder(self.folder, images_only=True))

    def make_image(self, order: FrameOrder, dest: Path) -> Made:
        scene, fmt, source = order.scene, order.fmt, order.source
        if source is None:
            raise ConfigError(f"No file of {self.folder} was matched to scene {scene.index}; rerun.")
        cover_image(source, fmt).save(dest, format="PNG")
        return Made()
