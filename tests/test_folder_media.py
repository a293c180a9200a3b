"""Your own media: `--video folder:PATH` and `--image folder:PATH`, matched to scenes and fitted to them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fakes.runway import video_bytes
from PIL import Image

from pipeline import (
    AssetStore,
    ConfigError,
    Scene,
    Script,
    Settings,
    ShortRequest,
    animate_scene,
    build_provider,
    choose_providers,
    footage_credits,
    make_first_frame,
    pick_footage,
)
from pipeline.media.motion import moving_still_frames
from pipeline.providers.folder.files import probe_video
from pipeline.providers.folder.media import match_files, read_folder
from pipeline.providers.offline.image import OfflineImageMaker
from pipeline.render.stitch import decode

SHORTS = str(Path(sys.executable).parent / "shorts")


def picture(path: Path, size=(300, 200), colour=(200, 60, 30)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def clip(path: Path, seconds: int = 4, size=(180, 320)) -> Path:
    path.write_bytes(video_bytes(*size, seconds))
    return path


def script_of(*terms: list[str], seconds: float = 2.0) -> Script:
    scenes = [
        Scene(
            index=i,
            narration="Words.",
            first_frame_prompt=f"scene {i}",
            motion_prompt="slow push in",
            seconds=seconds,
            search_terms=t,
        )
        for i, t in enumerate(terms, 1)
    ]
    return Script(title="Mine", description="My own media.", tags=[], hook="Look.", scenes=scenes)


@pytest.fixture
def media(tmp_path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    picture(folder / "scene10-sunset.png", colour=(10, 10, 200))
    clip(folder / "scene2-coral-reefs.mp4")
    picture(folder / "scene1-octopus.jpg")
    (folder / ".DS_Store").write_bytes(b"\0\1")  # hidden files are not media, and not looked at
    return folder


def test_files_are_read_in_natural_name_order_and_matched_by_the_words_in_their_names(media):
    files = read_folder(media)
    assert [f.id for f in files] == ["scene1-octopus.jpg", "scene2-coral-reefs.mp4", "scene10-sunset.png"]
    assert [f.kind for f in files] == ["image", "video", "image"] and files[1].seconds == pytest.approx(4, abs=0.3)

    by_name = match_files(script_of(["sunset sky"], ["octopus"], ["coral reef"]).scenes, files)
    assert [(p.scene, p.id, p.query) for p in by_name] == [
        (1, "scene10-sunset.png", "sunset"),
        (2, "scene1-octopus.jpg", "octopus"),
        (3, "scene2-coral-reefs.mp4", "coral reef"),
    ]
    in_order = match_files(script_of(["desert"], ["desert"], ["desert"], ["desert"]).scenes, files)
    assert [p.id for p in in_order] == [f.id for f in files] + [files[0].id]  # used again only when too few


def test_a_folder_of_images_and_videos_makes_fitted_clips(media, tmp_path, tiny):
    script = script_of(["octopus"], ["coral reef"], ["sunset"])
    store, maker = AssetStore(tmp_path / "store"), build_provider("video", f"folder:{media}", Settings())
    picks = pick_footage(script, tiny, maker, store)
    clips = [
        animate_scene(s, make_first_frame(s, "x", tiny, OfflineImageMaker(), store), tiny, maker, store, footage=p)
        for s, p in zip(script.scenes, picks, strict=False)
    ]
    assert [c.provider for c in clips] == ["folder"] * 3
    assert [c.footage.id for c in clips] == ["scene1-octopus.jpg", "scene2-coral-reefs.mp4", "scene10-sunset.png"]
    for c in clips:
        if c.footage.kind == "image":  # animated in the render, from a moving still
            frames = list(moving_still_frames(c.path, tiny, count=2 * tiny.fps))
            width, height, seconds = frames[0].shape[1], frames[0].shape[0] * 2 // 3, len(frames) / tiny.fps
        else:
            width, height, seconds = probe_video(c.path)
        assert (width, height) == tiny.size and seconds >= 2.0
    assert footage_credits(clips) == []  # your own files need no credit


def test_first_frames_from_a_folder_are_its_images_cropped_to_the_video(media, tmp_path, tiny):
    script = script_of(["sunset"], ["octopus"])
    maker = build_provider("image", f"folder:{media}", Settings())
    store = AssetStore(tmp_path / "store")
    picks = pick_footage(script, tiny, maker, store)
    assert [p.id for p in picks] == ["scene10-sunset.png", "scene1-octopus.jpg"]  # images only
    frames = [
        make_first_frame(s, "x", tiny, maker, store, footage=p) for s, p in zip(script.scenes, picks, strict=False)
    ]
    with Image.open(frames[0].path) as first:
        assert first.size == tiny.size and first.convert("RGB").getpixel((70, 120)) == (10, 10, 200)


@pytest.mark.parametrize(
    "name, content, says",
    [
        ("notes.txt", b"hello", "notes.txt is not an image or a video"),
        ("broken.mp4", b"not a video at all", "broken.mp4 cannot be read as a video"),
        ("broken.jpg", b"\xff\xd8 not a jpeg", "broken.jpg cannot be read as an image"),
    ],
)
def test_a_bad_file_is_one_sentence_naming_it(media, name, content, says):
    (media / name).write_bytes(content)
    with pytest.raises(ConfigError) as bad:
        choose_providers(ShortRequest(topic="x", video_provider=f"folder:{media}"), Settings())
    message = str(bad.value)
    assert says in message and str(media / name) in message and message.count(". ") == 0 and "\n" not in message


def test_a_clip_shorter_than_its_scene_is_used_and_filled_by_slowing_and_looping(media, tmp_path, tiny):
    clip(media / "scene3-short.mp4", seconds=1)
    script = script_of(["short"], seconds=3.0)
    store, maker = AssetStore(tmp_path / "store"), build_provider("video", f"folder:{media}", Settings())
    [pick] = pick_footage(script, tiny, maker, store)
    made = animate_scene(
        script.scenes[0],
        make_first_frame(script.scenes[0], "x", tiny, OfflineImageMaker(), store),
        tiny,
        maker,
        store,
        footage=pick,
    )
    assert pick.id == "scene3-short.mp4"
    assert len(list(decode(made.path, tiny, 3 * tiny.fps))) == 3 * tiny.fps  # the render gets the whole scene


def test_the_cli_refuses_a_broken_folder_before_starting(media, tmp_path):
    (media / "broken.mov").write_bytes(b"junk")
    done = subprocess.run(
        [SHORTS, "make", "octopus", "--video", f"folder:{media}"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()  # one sentence, no traceback
    assert line.startswith(f"shorts: {media / 'broken.mov'} cannot be read as a video (")
    assert line.endswith("); replace it or move it out of the media folder.")
    assert "Traceback" not in done.stderr
