"""A full disk or an unwritable folder: one clear sentence, nothing that looks finished, no temporary left."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from fakes.youtube import render_video
from tiny_disk import fill, tiny_disk
from video_files import encode_frames

from pipeline import (
    AssetStore,
    ClipAsset,
    ConfigError,
    Cost,
    Manifest,
    Narration,
    RenderedShort,
    RenderError,
    RenderOptions,
    Scene,
    Script,
    ShortRequest,
    VideoFormat,
    WordTiming,
    disk_error,
    prepare_output_dir,
    publish_to_outbox,
    render_short,
    write_package,
)

TINY = VideoFormat(width=144, height=256, fps=12)
SCRIPT = Script(
    title="Bees",
    description="",
    tags=[],
    hook="",
    scenes=[
        Scene(index=1, narration="Bees dance to talk.", first_frame_prompt="a bee", motion_prompt="slow", seconds=1)
    ],
)


def _anything(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name != "filler")


@pytest.fixture
def clip(tmp_path) -> ClipAsset:
    path = tmp_path / "clip.mp4"
    encode_frames((np.full((TINY.height, TINY.width, 3), 90, np.uint8) for _ in range(TINY.fps)), path, TINY)
    return ClipAsset(scene=1, path=path, provider="test", model="flat", seed=0, seconds=1)


def test_a_render_onto_a_full_disk_is_one_sentence_and_leaves_no_video(tmp_path, clip):
    narration = Narration(
        scene=1,
        path=None,
        seconds=1,
        provider="test",
        voice=None,
        timing="reading-pace",
        words=[WordTiming(word="Bees", start=0, end=0.5), WordTiming(word="dance", start=0.5, end=1)],
    )
    with tiny_disk(tmp_path / "disk", "256k") as disk:
        fill(disk, leave=8192)
        with pytest.raises(RenderError) as caught:
            render_short(SCRIPT, [clip], [narration], TINY, RenderOptions(threads=1), AssetStore(disk))
        left = _anything(disk)
    message = str(caught.value)
    assert "check free disk space and rerun" in message and "\n" not in message
    assert not [name for name in left if name.endswith(".mp4") or ".part" in name]


def test_a_package_onto_a_full_disk_is_one_sentence_and_leaves_nothing_that_looks_finished(tmp_path):
    video, captions = tmp_path / "v.mp4", tmp_path / "c.srt"
    render_video(video, size=64 * 1024)  # a real video (the package refuses a broken one), too big for the disk
    captions.write_text("1\n00:00:00,000 --> 00:00:01,000\nBEES\n")
    manifest = Manifest(
        shorts_version="test",
        request=ShortRequest(topic="bees"),
        providers={},
        video_format=TINY,
        render_options=RenderOptions(),
        script=SCRIPT,
        frames=[],
        clips=[],
        narrations=[],
        render=RenderedShort(video=video, captions=captions, seconds=1, width=144, height=256),
        step_seconds={},
        cost=Cost(),
    )
    with tiny_disk(tmp_path / "out", "32k") as out:
        prepare_output_dir(out)  # an empty probe file still fits
        with pytest.raises(ConfigError) as caught:
            write_package(manifest, out)
        left = _anything(out)
    assert str(caught.value).startswith(f"Cannot write the Short into {out} (No space left on device)")
    assert left == []  # neither the video nor a half of it

    with tiny_disk(tmp_path / "outbox", "16k") as outbox:
        with pytest.raises(ConfigError) as caught:
            publish_to_outbox(_package(tmp_path / "package", video, captions), outbox, "bees")
        left = _anything(outbox)
    assert "Cannot write to the outbox" in str(caught.value) and "No space left on device" in str(caught.value)
    assert left == []


def test_a_read_only_output_folder_is_refused_before_anything_is_made(tmp_path):
    with tiny_disk(tmp_path / "ro", "16k", read_only=True) as folder, pytest.raises(ConfigError) as caught:
        prepare_output_dir(folder / "bees")
    assert str(caught.value) == (
        f"Cannot write to the output folder {folder / 'bees'} (Read-only file system); choose another with --out."
    )


def _package(folder: Path, video: Path, captions: Path) -> Path:
    folder.mkdir()
    (folder / "final.mp4").write_bytes(video.read_bytes())
    (folder / "captions.srt").write_text(captions.read_text())
    (folder / "script.json").write_text(SCRIPT.model_dump_json())
    (folder / "manifest.json").write_text("{}")
    return folder


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device"),
            "The disk is full (No space left on device); free some space",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/srv/out/x.png"),
            "Cannot write /srv/out/x.png (Read-only file system)",
        ),
        (sqlite3.OperationalError("database or disk is full"), "The disk is full (No space left on device)"),
        (PermissionError(errno.EPERM, "Operation not permitted"), None),  # not a file: not a folder's permissions
        (ValueError("no"), None),
    ],
)
def test_any_step_meeting_a_full_or_read_only_disk_says_so_in_one_sentence(error, expected):
    found = disk_error(error, step="render")
    if expected is None:
        assert found is None
    else:
        assert str(found).startswith(expected) and found.step == "render"
        assert "\n" not in str(found) and str(found).endswith("continues where this run stopped.")
