"""A picture that moves: moving stills cut into shots every few seconds, each moving at the same speed per second
whatever the scene's length, and never a frozen frame in the finished video, at cuts or anywhere else."""

import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from pipeline import (
    AssetStore,
    Narration,
    RenderOptions,
    Scene,
    Script,
    VideoFormat,
    animate_scene,
    make_first_frame,
    render_short,
)
from pipeline.media.motion import MAX_SHOT_SECONDS
from pipeline.providers.offline.clip import OfflineClipMaker
from pipeline.providers.offline.image import OfflineImageMaker

FMT = VideoFormat(width=216, height=384, fps=12)  # big enough that a slow zoom moves whole pixels after the encoder


def _short(tmp_path: Path, *seconds: float) -> Path:
    """A rendered Short of title-card scenes animated offline, each as long as planned (a tone for narration)."""
    scenes = [
        Scene(
            index=i,
            narration=f"Octopuses change colour in a blink, fact number {i}.",
            first_frame_prompt=f"octopus on a reef {i}",
            motion_prompt="slow push in",
            seconds=s,
        )
        for i, s in enumerate(seconds, 1)
    ]
    script = Script(title="t", description="", tags=[], hook="", scenes=scenes)
    store = AssetStore(tmp_path / "store")
    clips = [
        animate_scene(s, make_first_frame(s, "", FMT, OfflineImageMaker(), store), FMT, OfflineClipMaker(), store)
        for s in scenes
    ]
    narrations = [_tone(tmp_path / f"voice{s.index}.wav", s) for s in scenes]
    return render_short(script, clips, narrations, FMT, RenderOptions(), store).video


def _tone(path: Path, scene: Scene) -> Narration:
    t = np.arange(int(22050 * scene.seconds)) / 22050
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(22050)
        w.writeframes((4000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16).tobytes())
    return Narration(
        scene=scene.index, path=path, seconds=scene.seconds, provider="test", voice=None, words=[], timing="audio"
    )


def _changes(video: Path) -> np.ndarray:
    """The mean change of luma from each frame to the next, in grey levels."""
    raw = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, FMT.height, FMT.width).astype(np.float32)
    return np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))


def _cuts(changes: np.ndarray) -> list[int]:
    """Frames where a new shot starts: a change far above the steady motion around it."""
    return [i + 1 for i, c in enumerate(changes) if c > max(2.0, 5 * np.median(changes[max(0, i - 6) : i + 7]))]


@pytest.fixture(scope="module")
def short(tmp_path_factory) -> Path:
    """A 4 s scene, then a 14 s one: one render serves every test here."""
    return _short(tmp_path_factory.mktemp("motion"), 4.0, 14.0)


@pytest.fixture(scope="module")
def changes(short) -> np.ndarray:
    return _changes(short)


def test_a_long_scene_is_cut_into_shots_of_at_most_three_seconds_that_move_every_second(changes):
    bounds = [0, *_cuts(changes), len(changes) + 1]
    assert (
        len(bounds) >= 9
        and max(b - a for a, b in zip(bounds, bounds[1:], strict=False)) <= MAX_SHOT_SECONDS * FMT.fps + 1
    )
    per_second = changes[: len(changes) // FMT.fps * FMT.fps].reshape(-1, FMT.fps)
    assert (np.median(per_second, axis=1) > 0.1).all()  # motion in every second, not only at the cuts
    assert (changes > 0).all()  # no frame repeated


def test_the_camera_moves_as_fast_in_a_long_scene_as_in_a_short_one(changes):
    within = np.ones(len(changes), bool)
    within[[cut - 1 for cut in _cuts(changes)]] = False  # the motion within shots, cuts left out
    # The mean, not the median: each scene alternates wide and close shots, and a close shot moves more pixels.
    steady = [np.mean(changes[part][within[part]]) for part in (slice(0, 4 * FMT.fps), slice(4 * FMT.fps, None))]
    assert 0.7 < steady[1] / steady[0] < 1.4


def test_ffmpeg_finds_no_freeze_at_the_cuts_or_anywhere(short):
    found = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-i",
            str(short),
            "-vf",
            "freezedetect=n=-60dB:d=0.4",
            "-an",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    ).stderr
    assert "freeze_start" not in found
