import imageio_ffmpeg
import numpy as np
from PIL import Image

from pipeline import AssetStore, Scene, animate_scene, make_first_frame
from pipeline.providers.offline.clip import OfflineClipMaker, ken_burns_frames
from pipeline.providers.offline.image import OfflineImageMaker


def _scenes(seconds=2.0, scenes=2):
    return [
        Scene(index=i, narration="Lights dance over the pole.", first_frame_prompt=f"aurora over ice, scene {i}",
              motion_prompt="slow push in", seconds=seconds)
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


def test_offline_clip_is_h264_of_scene_length_and_moves(tmp_path, tiny):
    scene = _scenes(seconds=2, scenes=1)[0]
    store = AssetStore(tmp_path)
    frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store)
    clip = animate_scene(scene, frame, tiny, OfflineClipMaker(), store)

    reader = imageio_ffmpeg.read_frames(str(clip.path))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8) for f in reader]
    assert meta["codec"].startswith("h264") and tuple(meta["size"]) == (tiny.width, tiny.height)
    assert len(frames) == round(scene.seconds * tiny.fps)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1  # zoom and pan, not a still
    assert clip.cost_credits == 0 and clip.provider == "offline"


def test_offline_clip_shows_the_rgb_zoom_and_pan_and_is_the_same_bytes_every_time(tmp_path, tiny):
    """The clip is moved on its YUV planes; decoded, it is the picture the RGB zoom and pan draws."""
    scene = _scenes(seconds=1, scenes=1)[0]
    frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), AssetStore(tmp_path))
    clips = [animate_scene(scene, frame, tiny, OfflineClipMaker(), AssetStore(tmp_path / name)) for name in "ab"]
    assert clips[0].path.read_bytes() == clips[1].path.read_bytes()

    reader = imageio_ffmpeg.read_frames(str(clips[0].path))
    next(reader)
    decoded = [np.frombuffer(f, np.uint8).reshape(tiny.height, tiny.width, 3) for f in reader]
    with Image.open(frame.path) as img:
        expected = list(ken_burns_frames(img.convert("RGB"), len(decoded), frame.seed))
    for got, want in zip(decoded, expected):
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 6  # chroma subsampling and H.264, no more


def test_no_partial_files_left_in_the_store(tmp_path, tiny):
    scene = _scenes(seconds=1, scenes=1)[0]
    store = AssetStore(tmp_path)
    frame = make_first_frame(scene, "neon", tiny, OfflineImageMaker(), store)
    animate_scene(scene, frame, tiny, OfflineClipMaker(), store)
    assert not [p for p in tmp_path.rglob("*") if ".part" in p.name]
