"""Nothing corrupt is reused or published: stored files are checked against what was recorded when they were written,
and the finished Short is probed before it is packaged or uploaded."""

import logging
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from clip_runs import scene

from pipeline import (
    ClipAsset,
    ConfigError,
    Cost,
    DamagedAsset,
    FrameAsset,
    Manifest,
    ProviderChoice,
    RenderError,
    RenderOptions,
    Scene,
    Script,
    Settings,
    ShortRequest,
    animate_scene,
    build_provider,
    make_first_frame,
    narrate,
    open_store,
    render_short,
    write_package,
)
from pipeline.package import check_packaged_video, video_problem
from pipeline.providers.offline.clip import OfflineClipMaker
from pipeline.providers.offline.espeak import EspeakNarrator
from pipeline.providers.offline.image import OfflineImageMaker
from pipeline.state.ledger import Ledger
from pipeline.state.store import AssetStore, RemoteStore, intact, read_record, record_path

CLIPS = "/v1/image_to_video"
SCENES = [
    Scene(index=i, narration=text, first_frame_prompt=f"an octopus, scene {i}", motion_prompt="push in", seconds=1.5)
    for i, text in ((1, "Octopuses blush."), (2, "Then they vanish."))
]
SCRIPT = Script(title="Octopus colour", description="", tags=[], hook="", scenes=SCENES)
REQUEST = ShortRequest(topic="octopus colour", seconds=5, scenes=2)


def truncate(path: Path, keep: float = 0.5) -> None:
    """Cut a file to a part of its length, as a full disk or a killed copy leaves it."""
    with path.open("r+b") as f:
        f.truncate(int(path.stat().st_size * keep))


def make_steps(store: AssetStore, tiny) -> tuple[list, list, object]:
    """Frames, clips, narration and the render of SCRIPT, offline, with `store`."""
    frames = [make_first_frame(s, "neon", tiny, OfflineImageMaker(), store) for s in SCENES]
    clips = [animate_scene(s, f, tiny, OfflineClipMaker(), store) for s, f in zip(SCENES, frames, strict=False)]
    voices = [narrate(REQUEST, s, EspeakNarrator(), store, script=SCRIPT) for s in SCENES]
    rendered = render_short(SCRIPT, clips, voices, tiny, RenderOptions(), store)
    return clips, voices, rendered


def manifest(clips: list, voices: list, rendered, tiny) -> Manifest:
    return Manifest(
        shorts_version="test",
        request=REQUEST,
        video_format=tiny,
        render_options=RenderOptions(),
        providers={"video": ProviderChoice(step="video", name="offline", reason="test")},
        script=SCRIPT,
        frames=[],
        clips=clips,
        narrations=voices,
        render=rendered,
        step_seconds={},
        cost=Cost(),
    )


def test_every_stored_file_has_a_record_and_an_old_file_without_one_is_reused(tmp_path):
    store = AssetStore(tmp_path)
    path = store.path("clips", "k", ".mp4")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"old clip bytes")
    assert store.find("clips", "k", ".mp4") == path  # stored before records were kept: accepted as before
    store.saved(path, paid_by="runway", task_id="t-1")
    record = read_record(path)
    assert (record.size, record.paid_by, record.task_id) == (14, "runway", "t-1") and len(record.sha256) == 64
    assert store.find("clips", "k", ".mp4") == path


@pytest.mark.parametrize("damage", ["truncate", "empty", "same size"])
def test_a_damaged_free_file_is_a_miss_named_in_one_line(tmp_path, caplog, damage):
    store = AssetStore(tmp_path)
    path = store.path("renders", "k", ".mp4")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"a whole render" * 100)
    store.saved(path)
    if damage == "same size":  # a flipped byte: only the sha256 sees it
        data = bytearray(path.read_bytes())
        data[700] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        truncate(path, 0.5 if damage == "truncate" else 0)
    with caplog.at_level(logging.WARNING, logger="shorts"):
        assert store.find("renders", "k", ".mp4") is None
    (line,) = [r.getMessage() for r in caplog.records]
    assert str(path) in line and "damaged" in line and line.endswith("making it again")
    assert not path.exists() and not record_path(path).exists()  # made anew with a new record


def test_a_truncated_render_and_voice_are_made_again_and_the_package_holds_a_good_mp4(tmp_path, tiny, caplog):
    store = AssetStore(tmp_path / "store")
    make_steps(store, tiny)
    clips, voices, rendered = make_steps(store, tiny)
    good_render = rendered.video.stat().st_size
    truncate(rendered.video)
    with caplog.at_level(logging.WARNING, logger="shorts"):
        clips, voices, rendered_again = make_steps(store, tiny)
    (line,) = [r.getMessage() for r in caplog.records]
    assert str(rendered.video) in line and "making it again" in line
    assert (
        rendered_again.video == rendered.video
        and rendered_again.video.stat().st_size == pytest.approx(good_render, rel=0.2)
        and intact(rendered.video)
    )

    caplog.clear()
    voice = voices[0].path
    truncate(voice)
    with caplog.at_level(logging.WARNING, logger="shorts"):
        clips, again, rendered_again = make_steps(store, tiny)
    (line,) = [r.getMessage() for r in caplog.records]
    assert str(voice) in line and "making it again" in line
    assert again[0].path == voice and intact(voice) and again[0].seconds == pytest.approx(voices[0].seconds, abs=0.1)
    out = tmp_path / "out"
    out.mkdir()
    files = write_package(manifest(clips, again, rendered_again, tiny), out)
    assert video_problem(files["final.mp4"], rendered_again.seconds) is None


def test_a_broken_render_with_no_record_is_never_packaged_and_the_rerun_renders_it(tmp_path, tiny):
    store = AssetStore(tmp_path / "store")
    clips, voices, rendered = make_steps(store, tiny)
    record_path(rendered.video).unlink()  # rendered before records were kept, then cut short
    record_path(rendered.captions).unlink()
    truncate(rendered.video, 0.6)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RenderError) as caught:
        write_package(manifest(clips, voices, rendered, tiny), out)
    assert re.fullmatch(
        rf"The rendered Short {re.escape(str(rendered.video))} is broken \(it does not decode to its "
        r"end: [^.]+\), so it was not packaged; it was removed, so rerun the same command to render it "
        r"again\.",
        str(caught.value),
    ), str(caught.value)
    assert not (out / "final.mp4").exists() and not rendered.video.exists()
    clips, voices, rendered = make_steps(store, tiny)  # the rerun
    files = write_package(manifest(clips, voices, rendered, tiny), out)
    assert video_problem(files["final.mp4"], rendered.seconds) is None


def test_a_broken_package_is_not_published(tmp_path, tiny):
    store = AssetStore(tmp_path / "store")
    clips, voices, rendered = make_steps(store, tiny)
    out = tmp_path / "out"
    out.mkdir()
    files = write_package(manifest(clips, voices, rendered, tiny), out)
    check_packaged_video(files["final.mp4"])  # whole: no error
    shutil.copyfile(clips[0].path, files["final.mp4"])  # a video with no audio, and too short
    with pytest.raises(ConfigError, match=r"^Not published: .*final.mp4 is broken \(no audio stream\); the package"):
        check_packaged_video(files["final.mp4"])
    truncate(files["final.mp4"], 0.02)
    with pytest.raises(ConfigError, match=r"is broken \(not a readable video: "):
        check_packaged_video(files["final.mp4"])


def test_the_probe_knows_the_length(tmp_path, tiny):
    clips, voices, rendered = make_steps(AssetStore(tmp_path), tiny)
    assert video_problem(rendered.video, rendered.seconds) is None
    assert video_problem(rendered.video, rendered.seconds + 2) == (
        f"it plays {rendered.seconds:.1f} s, not {rendered.seconds + 2:.1f} s"
    )


@pytest.fixture
def frame(tiny) -> FrameAsset:
    return make_first_frame(scene(), "neon", Settings().video_format, OfflineImageMaker(), open_store(Settings()))


def runway_clip(settings: Settings, frame: FrameAsset) -> ClipAsset:
    return animate_scene(
        scene(), frame, settings.video_format, build_provider("video", "runway", settings), open_store(settings)
    )


def test_a_truncated_paid_clip_is_collected_again_for_free_when_the_ledger_has_its_task(runway, frame, caplog):
    settings = Settings()
    clip = runway_clip(settings, frame)
    assert clip.cost.credits > 0 and len(runway.seen("POST", CLIPS)) == 1
    good = clip.path.read_bytes()
    truncate(clip.path)
    with caplog.at_level(logging.WARNING, logger="shorts"):
        again = runway_clip(settings, frame)
    assert len(runway.seen("POST", CLIPS)) == 1 and again.cost.credits == 0  # resumed, not bought
    assert again.path.read_bytes() == good and again.task_id == clip.task_id
    (line,) = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert str(clip.path) in line and f"collecting runway task {clip.task_id} again (no new charge)" in line


def test_a_truncated_paid_clip_the_ledger_cannot_collect_is_one_sentence_and_buys_nothing(
    runway, frame, tmp_path, monkeypatch
):
    clip = runway_clip(Settings(), frame)
    # Another machine (its own ledger) that was given a copy of the store, which a bad copy cut short.
    other = tmp_path / "other-home"
    shutil.copytree(Settings().home_dir / "assets", other / "assets")
    monkeypatch.setenv("SHORTS_HOME", str(other))
    settings = Settings()
    copied = settings.home_dir / "assets" / "clips" / clip.path.name
    truncate(copied)
    size = copied.stat().st_size
    moved_frame = frame.model_copy(update={"path": settings.home_dir / "assets" / "frames" / frame.path.name})
    with pytest.raises(DamagedAsset) as caught:
        runway_clip(settings, moved_frame)
    assert str(caught.value) == (
        f"Scene 1: The clip {copied} is damaged ({size} bytes, {2 * size} when stored) and was bought from runway, so "
        f"it is not bought again unasked; to buy only it again, delete it (`rm {copied}`) and rerun the same command."
    )
    assert caught.value.retry_safe is False and caught.value.step == "clips"
    assert len(runway.seen("POST", CLIPS)) == 1 and Ledger(settings.paths.ledger).tasks() == []  # nothing bought
    assert copied.stat().st_size == size  # kept as it is, for the person to look at

    copied.unlink()  # the command the sentence gives: delete it, then rerun
    bought = runway_clip(settings, moved_frame)
    assert len(runway.seen("POST", CLIPS)) == 2 and bought.cost.credits > 0


def test_checking_a_rerun_costs_milliseconds(tmp_path):
    """sha256 of a stored file the size of a 30 s Short's render (about 2.5 MB) and its six clips."""
    store = AssetStore(tmp_path)
    paths = []
    for n, size in enumerate([2_500_000] + [600_000] * 6):
        path = store.path("clips", f"k{n}", ".mp4")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        paths.append(store.saved(path))
    started = time.perf_counter()
    for n in range(len(paths)):
        assert store.find("clips", f"k{n}", ".mp4")
    assert time.perf_counter() - started < 0.5  # about 10 ms here: sha256 reads some 400 MB/s a core


def test_with_object_storage_a_damaged_local_copy_is_fetched_again_and_a_damaged_shared_one_stops(
    s3_store_url, tmp_path
):
    remote = RemoteStore(f"{s3_store_url}/assets")
    a, b = AssetStore(tmp_path / "a", remote), AssetStore(tmp_path / "b", remote)
    made = a.path("clips", "k", ".mp4")
    made.parent.mkdir(parents=True)
    made.write_bytes(b"a bought clip" * 50)
    a.saved(made, paid_by="runware", task_id="t-9")

    truncate(made)  # this machine's cache broke: the bucket's copy is whole, so nothing is bought
    assert a.find("clips", "k", ".mp4") == made and made.read_bytes() == b"a bought clip" * 50

    remote.fs.pipe_file(remote._remote("clips/k.mp4"), b"a bought")  # the shared copy broke: another machine
    with pytest.raises(DamagedAsset) as caught:
        b.find("clips", "k", ".mp4")
    mine = tmp_path / "b" / "clips" / "k.mp4"
    assert str(caught.value) == (
        f"The clip {mine} is damaged (8 bytes, 650 when stored, as fetched from object storage) and was bought from "
        f"runware, so it is not bought again unasked; to buy only it again, delete it (`rm {mine}` and `clips/k.mp4` "
        "under SHORTS_STORE_URL) and rerun the same command."
    )


def test_a_cut_short_package_is_never_uploaded(tmp_path, youtube, youtube_settings):
    from fakes.youtube import render_video

    from pipeline import publish_short

    folder = tmp_path / "out" / "octopus"
    folder.mkdir(parents=True)
    truncate(render_video(folder / "final.mp4", seconds=20), 0.5)
    with pytest.raises(ConfigError) as caught:
        publish_short(
            folder, SCRIPT, REQUEST.model_copy(update={"upload": True}), youtube_settings, sleep=lambda s: None
        )
    assert re.fullmatch(
        rf"Not published: {re.escape(str(folder / 'final.mp4'))} is broken \([^)]+\); the package "
        r"stays in its folder, so rerun the command that made it to render and package it again\.",
        str(caught.value),
    ), str(caught.value)
    assert youtube.requests == [] and youtube.inserts == 0  # YouTube was asked nothing
