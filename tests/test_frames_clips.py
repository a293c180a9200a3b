import numpy as np
import pytest
from PIL import Image
from video_files import still_frames

from pipeline import AssetStore, RenderError, Scene, animate_scene, make_first_frame
from pipeline.media.motion import MOTION_KEY, Motion, is_moving_still, moving_still_frames
from pipeline.providers.base import ClipOrder
from pipeline.providers.offline.clip import OfflineClipMaker
from pipeline.providers.offline.image import OfflineImageMaker


def _scenes(seconds=2.0, scenes=2):
    return [
        Scene(
            index=i,
            narration="Lights dance over the pole.",
            first_frame_prompt=f"aurora over ice, scene {i}",
            motion_prompt="slow push in",
            seconds=seconds,
        )
        for i in range(1, scenes + 1)
    ]


def test_first_frames_have_the_size_and_differ_per_scene(tmp_path, tiny):
    store = AssetStore(tmp_path)
    a, b = (make_first_frame(s, "neon", tiny, OfflineImageMaker(), store) for s in _scenes())
    img_a, img_b = Image.open(a.path), Image.open(b.path)
    assert img_a.size == img_b.size == (tiny.width, tiny.height)
    assert np.abs(np.asarray(img_a, dtype=int) - np.asarray(img_b, dtype=int)).mean() > 10


def test_first_frame_is_deterministic_and_reused(tmp_path, tiny):
    scene = _scenes()[0]
    store = AssetStore(tmp_path)
    first = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store)
    made_at = first.path.stat().st_mtime_ns
    again = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store)
    assert again == first and again.path.stat().st_mtime_ns == made_at

    other_store = AssetStore(tmp_path / "other")
    elsewhere = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), other_store)
    assert elsewhere.path.read_bytes() == first.path.read_bytes()


def test_offline_clip_is_a_moving_still_that_gives_as_many_frames_as_the_render_asks(tmp_path, tiny):
    scene = _scenes(seconds=2, scenes=1)[0]
    store = AssetStore(tmp_path)
    frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store)
    clip = animate_scene(scene, frame, tiny, OfflineClipMaker(), store)

    assert clip.path.suffix == ".png" and is_moving_still(clip.path)
    with Image.open(clip.path) as still:
        assert still.size == (tiny.width, tiny.height)
    frames = list(moving_still_frames(clip.path, tiny, count=round(scene.seconds * tiny.fps)))
    assert len(frames) == round(scene.seconds * tiny.fps)
    assert frames[0].shape == (tiny.height * 3 // 2, tiny.width)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1  # zoom and pan, not a still
    assert clip.cost.credits == 0 and clip.provider == "offline"
    # The render may make the scene shorter or longer than planned: the still fills it either way.
    assert len(list(moving_still_frames(clip.path, tiny, count=5))) == 5
    assert len(list(moving_still_frames(clip.path, tiny, count=5 * tiny.fps))) == 5 * tiny.fps


def test_offline_clip_shows_the_rgb_shots_and_is_the_same_bytes_every_time(tmp_path, tiny):
    """The still is moved on its YUV planes; its luma is the luma of the picture the RGB shots draw."""
    scene = _scenes(seconds=1, scenes=1)[0]
    frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), AssetStore(tmp_path))
    clips = [animate_scene(scene, frame, tiny, OfflineClipMaker(), AssetStore(tmp_path / name)) for name in "ab"]
    assert clips[0].path.read_bytes() == clips[1].path.read_bytes()

    moved = list(moving_still_frames(clips[0].path, tiny, count=4 * tiny.fps))  # two shots
    with Image.open(frame.path) as img:
        expected = list(still_frames(img.convert("RGB"), len(moved), tiny.fps, frame.seed, "card"))
    for got, want in zip(moved, expected, strict=False):
        luma = 16 + want.astype(float) @ np.array([65.481, 128.553, 24.966]) / 255  # BT.601 limited range
        assert np.abs(got[: tiny.height].astype(float) - luma).mean() < 2


def test_a_title_card_gets_shots_framed_on_its_layout_and_any_other_picture_generic_ones(tmp_path, tiny):
    scene = _scenes(seconds=1, scenes=1)[0]
    store = AssetStore(tmp_path)
    card = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store).path
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (tiny.height, tiny.width, 3), np.uint8)).save(photo)
    framings = []
    for frame in (card, photo):
        OfflineClipMaker().make_clip(
            ClipOrder(scene=scene, frame=frame, fmt=tiny, seed=1), tmp_path / f"{frame.stem}-clip.png"
        )
        with Image.open(tmp_path / f"{frame.stem}-clip.png") as still:
            framings.append(Motion.model_validate_json(still.text[MOTION_KEY]).framing)
    assert framings == ["card", "picture"]


def test_a_png_that_is_not_a_moving_still_is_one_sentence(tmp_path, tiny):
    plain = tmp_path / "plain.png"
    Image.new("RGB", tiny.size).save(plain)
    with pytest.raises(RenderError, match="plain.png is not a moving still .*; remake this clip"):
        next(moving_still_frames(plain, tiny, count=10))


def test_no_partial_files_left_in_the_store(tmp_path, tiny):
    scene = _scenes(seconds=1, scenes=1)[0]
    store = AssetStore(tmp_path)
    frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store)
    animate_scene(scene, frame, tiny, OfflineClipMaker(), store)
    assert not [p for p in tmp_path.rglob("*") if ".part" in p.name]
