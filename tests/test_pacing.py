"""Pacing: scenes as long as their narration plus a breath, scripts planned at the voice's pace, never over 180 s,
and scenes no longer than the clip model's longest clip."""

from __future__ import annotations

import subprocess
import wave

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from pipeline import (
    AssetStore,
    ClipAsset,
    Narration,
    ProviderChoice,
    RenderOptions,
    Settings,
    ShortRequest,
    VideoFormat,
    WordTiming,
    estimate_cost,
    narrate,
    plan_script,
    render_short,
    write_script,
)
from pipeline.media.motion import save_moving_still
from pipeline.models import MAX_SHORT_SECONDS
from pipeline.providers import speaking_pace
from pipeline.providers.offline.espeak import EspeakNarrator
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.providers.runway.client import clip_duration
from pipeline.script_rules import target_words

GAP, LOOP = 0.6, 0.5  # the longest silence between two words, and from the last word to the end


def _choices(voice: str = "espeak", video: str = "offline") -> dict[str, ProviderChoice]:
    return {
        step: ProviderChoice(step=step, name=name, reason="test")
        for step, name in (("script", "offline"), ("image", "offline"), ("video", video), ("voice", voice))
    }


def _audio(path) -> tuple[np.ndarray, int]:
    rate = 16000
    pcm = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-f",
            "f32le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(pcm, np.float32), rate


def _sounding(samples: np.ndarray, rate: int, window: float = 0.01, db: float = -45) -> np.ndarray:
    """Which 10 ms windows are louder than `db` dBFS."""
    n = int(rate * window)
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    return 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-12) > db


def _still_clips(tmp_path, count: int, fmt: VideoFormat) -> list[ClipAsset]:
    clips = []
    for i in range(count):
        picture = Image.fromarray(np.random.default_rng(i).integers(0, 255, (fmt.height, fmt.width, 3), np.uint8))
        path = tmp_path / f"still{i}.png"
        save_moving_still(picture, fmt, 4.0, i, path)
        clips.append(ClipAsset(scene=i + 1, path=path, provider="offline", model="ken-burns-v1", seed=i, seconds=4.0))
    return clips


def test_an_espeak_short_has_no_dead_air_between_words_and_ends_soon_after_its_last_word(tmp_path, tiny):
    request = ShortRequest(topic="How octopuses change colour", seconds=12, scenes=3, voice_provider="espeak")
    plan = plan_script(request, _choices(), Settings())
    script = write_script(request, OfflineScriptWriter(), plan)
    store = AssetStore(tmp_path / "store")
    narrations = [narrate(request, scene, EspeakNarrator(), store, script=script) for scene in script.scenes]
    rendered = render_short(script, _still_clips(tmp_path, 3, tiny), narrations, tiny, RenderOptions(), store)

    samples, rate = _audio(rendered.video)
    loud = np.flatnonzero(_sounding(samples, rate))
    assert (np.diff(loud) - 1).max() * 0.01 <= GAP  # between the first sound and the last
    assert len(samples) / rate - (loud[-1] + 1) * 0.01 <= LOOP
    assert abs(rendered.seconds - request.seconds) <= 0.15 * request.seconds


def _voice(tmp_path, n: int, seconds: float, text: str) -> Narration:
    """A tone lasting `seconds`, its words spread evenly over it."""
    path = tmp_path / f"voice{n}.wav"
    t = np.arange(int(8000 * seconds)) / 8000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes((8000 * np.sin(2 * np.pi * 330 * t)).astype(np.int16).tobytes())
    words = text.split()
    step = seconds / len(words)
    timed = [WordTiming(word=w, start=i * step, end=(i + 1) * step - 0.05) for i, w in enumerate(words)]
    return Narration(scene=n + 1, path=path, seconds=seconds, provider="test", voice=None, words=timed, timing="audio")


def test_a_180_second_plan_and_its_video_never_run_past_180_seconds(tmp_path):
    request = ShortRequest(topic="How octopuses change colour", seconds=180)
    for voice in ("piper", "espeak", "offline", "elevenlabs", "none"):
        plan = plan_script(request, _choices(voice), Settings())
        assert MAX_SHORT_SECONDS - 6 < sum(plan.seconds) <= MAX_SHORT_SECONDS - 5  # a margin for a slow voice
        script = write_script(request, OfflineScriptWriter(), plan)
        spoken = sum(len(s.narration.split()) for s in script.scenes) / plan.words_per_second
        assert spoken + plan.breath * len(script.scenes) <= MAX_SHORT_SECONDS

    # Voices that ran 20 % slow: the breaths go first, then the Short ends after the last sentence that fits.
    fmt = VideoFormat(width=64, height=64, fps=1)
    script = write_script(request.model_copy(update={"scenes": 3}), OfflineScriptWriter())
    narrations = [_voice(tmp_path, i, 1.2 * s.seconds, s.narration) for i, s in enumerate(script.scenes)]
    rendered = render_short(
        script,
        _still_clips(tmp_path, len(script.scenes), fmt),
        narrations,
        fmt,
        RenderOptions(),
        AssetStore(tmp_path / "store"),
    )
    samples, rate = _audio(rendered.video)
    assert rendered.seconds <= MAX_SHORT_SECONDS and len(samples) / rate <= MAX_SHORT_SECONDS + 0.05
    _, times, text = rendered.captions.read_text().strip().split("\n\n")[-1].split("\n", 2)
    h, m, s = times.split(" --> ")[1].replace(",", ".").split(":")
    assert text.rstrip().endswith((".", "!", "?")) and 3600 * int(h) + 60 * int(m) + float(s) <= MAX_SHORT_SECONDS


@pytest.mark.parametrize(
    ("video", "model_setting", "longest"),
    [
        ("runway", {"runway_video_model": "gen4_turbo"}, 10),
        ("runway", {"runway_video_model": "veo3.1"}, 8),
        ("runware", {"runware_video_model": "klingai:6@1"}, 10),
    ],
)
def test_a_paid_clip_models_scenes_are_planned_within_its_longest_clip(video, model_setting, longest):
    settings = Settings(**model_setting)
    request = ShortRequest(topic="How octopuses change colour", seconds=180)
    plan = plan_script(request, _choices("elevenlabs", video), settings)
    assert len(plan.seconds) >= 175 / longest and max(plan.seconds) <= longest
    # The words planned, spoken at the voice's pace with the breath after them, fit the clip.
    assert all(target_words(s, plan) / plan.words_per_second + plan.breath <= longest for s in plan.seconds)
    if video == "runway":
        script = write_script(request, OfflineScriptWriter(), plan)
        assert all(clip_duration(settings.runway_video_model, s.seconds) >= s.seconds for s in script.scenes)
        expected = sum(clip_duration(settings.runway_video_model, s) for s in plan.seconds) * (
            5 if longest == 10 else 20
        )
        assert estimate_cost(script, _choices("offline", video), settings).credits == expected
    # Offline clips have no longest length: the request's scene count stands.
    assert len(plan_script(request, _choices("elevenlabs"), settings).seconds) == request.scene_count


def test_each_voice_plans_at_its_own_pace():
    settings = Settings()
    english, french = ShortRequest(topic="bees"), ShortRequest(topic="bees", language="fr")
    assert speaking_pace(english, "piper", settings) > speaking_pace(english, "espeak", settings)
    assert speaking_pace(french, "espeak", settings) > speaking_pace(english, "espeak", settings)
    assert speaking_pace(french, "offline", settings) == speaking_pace(french, "espeak", settings)  # Piper is English
    faster = Settings(openai_voice_speed=1.2)
    assert speaking_pace(english, "openai", faster) == pytest.approx(1.2 * speaking_pace(english, "openai", settings))
