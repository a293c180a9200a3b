"""The caption highlight against the spoken word, measured on the finished MP4 as a viewer sees and hears it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from video_files import encode_frames

from pipeline import AssetStore, ClipAsset, RenderOptions, Scene, Script, ShortRequest, VideoFormat, narrate
from pipeline.providers.offline.piper import PiperNarrator
from pipeline.render.short import render_short

# The measuring code of benchmarks/caption_timing.py (a script folder, not a package).
_spec = importlib.util.spec_from_file_location(
    "caption_timing", Path(__file__).parents[1] / "benchmarks" / "caption_timing.py"
)
caption_timing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(caption_timing)

# Every word is in pocketsphinx's dictionary, so it aligns the text to the audio without guessing.
LINES = (
    "Honeybees visit thousands of flowers every day, and they dance to tell each other where the food is.",
    "The whole hive listens. A single hive can make more than fifty pounds of honey in one summer.",
)


def _clip(path: Path, scene: int, seconds: float, fmt: VideoFormat) -> ClipAsset:
    frames = (np.full((fmt.height, fmt.width, 3), 60 + 40 * scene, np.uint8) for _ in range(round(seconds * fmt.fps)))
    encode_frames(frames, path, fmt)
    return ClipAsset(scene=scene, path=path, provider="test", model="flat", seed=0, seconds=seconds)


def test_the_highlight_changes_on_the_spoken_word_in_the_finished_video(tmp_path):
    store, fmt = AssetStore(tmp_path), VideoFormat(width=288, height=512)
    scenes = [
        Scene(index=i + 1, narration=text, first_frame_prompt="bees", motion_prompt="push in", seconds=8)
        for i, text in enumerate(LINES)
    ]
    narrator = PiperNarrator(tmp_path / "voices")
    narrations = [narrate(ShortRequest(topic="honeybees", seconds=16), s, narrator, store) for s in scenes]
    script = Script(title="Bees", description="", tags=[], hook="", scenes=scenes)
    clips = [_clip(tmp_path / f"clip{s.index}.mp4", s.index, s.seconds + 1, fmt) for s in scenes]
    video = render_short(script, clips, narrations, fmt, RenderOptions(), store).video

    words = [w.word for n in narrations for w in n.words]
    timing = caption_timing.measure(video, words)
    assert timing["aligned"] == len(words) == len(" ".join(LINES).split()) and timing["unmatched"] == 0, timing
    assert timing["median_abs_ms"] <= 35 and timing["within_0.1s"] >= 0.97, timing
