import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pipeline import AssetStore, Scene, Script, ShortRequest, narrate
from pipeline.models import Speech, WordTiming
from pipeline.providers.base import Narrator
from pipeline.providers.offline.espeak import EspeakNarrator
from pipeline.providers.offline.voice import SystemEspeakNarrator
from pipeline.timing import read_wav, speech_bounds, time_words, write_wav

SCENE = Scene(
    index=1,
    narration="Octopuses can change colour in a blink, without seeing colour at all.",
    first_frame_prompt="octopus",
    motion_prompt="push in",
    seconds=6,
)
REQUEST = ShortRequest(topic="octopus", seconds=6)


class NoVoice(Narrator):
    """A narrator with no voice on this machine."""

    name, model = "none", "none"

    def speak(self, line, dest):
        return None


def test_word_timings_cover_the_span_in_order():
    words = time_words("One, two three. Four", 1.0, 3.0)
    assert [w.word for w in words] == ["One,", "two", "three.", "Four"]
    assert words[0].start == 1.0 and words[-1].end == pytest.approx(3.0, abs=1e-3)
    assert all(a.end == pytest.approx(b.start, abs=1e-3) for a, b in zip(words, words[1:], strict=False))
    assert words[2].end - words[2].start > words[1].end - words[1].start  # punctuation earns a beat


def test_without_a_voice_the_scene_is_unvoiced_and_timed_at_reading_pace(tmp_path):
    narration = narrate(REQUEST, SCENE, NoVoice(), AssetStore(tmp_path))
    assert narration.path is None and narration.timing == "reading-pace"
    assert narration.seconds == pytest.approx(len(SCENE.narration.split()) / 2.5)
    assert narration.words[-1].end == pytest.approx(narration.seconds, abs=1e-3)


def test_espeak_voices_the_scene_within_its_seconds_and_is_reused(tmp_path):
    long = SCENE.model_copy(update={"narration": " ".join([SCENE.narration] * 2), "seconds": 6})
    narration = narrate(REQUEST, long, EspeakNarrator(), AssetStore(tmp_path))
    samples, rate = read_wav(narration.path)
    start, end = speech_bounds(samples, rate)
    assert narration.timing == "voice" and 1.0 < narration.seconds <= long.seconds + 0.3  # sped up to fit
    assert narration.words[0].start == pytest.approx(start, abs=0.05)
    assert narration.words[-1].end == pytest.approx(end, abs=0.1)
    again = narrate(REQUEST, long, EspeakNarrator(), AssetStore(tmp_path))
    assert again.path == narration.path and again.words == narration.words  # reused, not spoken again


def test_numbers_are_spoken_in_words_and_captioned_as_written(tmp_path):
    scene = SCENE.model_copy(update={"narration": "Dr. Lee paid $5.50 for 3% of it in the 1990s."})
    narration = narrate(REQUEST, scene, EspeakNarrator(), AssetStore(tmp_path))
    assert [w.word for w in narration.words] == scene.narration.split()
    price = narration.words[3]  # "$5.50": "five dollars and fifty cents", five spoken words
    assert price.end - price.start > 4 * (narration.words[2].end - narration.words[2].start)
    assert all(a.start <= b.start for a, b in zip(narration.words, narration.words[1:], strict=False))


def test_a_system_espeak_ng_is_the_last_fallback(tmp_path, monkeypatch):
    """A stand-in espeak-ng on PATH (writing a WAV of noise) shows the command the fallback runs."""
    fake = tmp_path / "bin" / "espeak-ng"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\n"
        + """import sys, wave
args = sys.argv[1:]
if args[args.index("-v") + 1] == "xx-none":
    sys.exit("Error: voice 'xx-none' not found")
with wave.open(args[args.index("-w") + 1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)
    w.writeframes(bytes(range(256)) * 300)
"""
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    narration = narrate(REQUEST, SCENE, SystemEspeakNarrator(), AssetStore(tmp_path))
    assert narration.package == "espeak-ng (system)" and narration.timing == "audio" and narration.seconds > 1
    from pipeline import ProviderError

    with pytest.raises(ProviderError) as caught:
        narrate(REQUEST.model_copy(update={"voice": "xx-none"}), SCENE, SystemEspeakNarrator(), AssetStore(tmp_path))
    assert "xx-none" in str(caught.value) and "\n" not in str(caught.value)


def test_a_voice_that_ignores_its_neighbours_keeps_its_cached_audio_when_given_them(tmp_path):
    scenes = [SCENE, SCENE.model_copy(update={"index": 2, "narration": "Their skin sees light."})]
    script = Script(title="t", description="d", tags=[], hook="h", scenes=scenes)
    alone = narrate(REQUEST, SCENE, EspeakNarrator(), AssetStore(tmp_path))
    made = alone.path.stat().st_mtime_ns
    beside = narrate(REQUEST, SCENE, EspeakNarrator(), AssetStore(tmp_path), script=script)
    assert beside.path == alone.path and beside.path.stat().st_mtime_ns == made  # the same key: reused, not remade


class Varying(Narrator):
    """A voice like Piper: each time it speaks a text, it takes a different time, so its words move too."""

    name, model = "varying", "v1"

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def speak(self, line, dest):
        with self.lock:
            self.calls += 1
            lead = 0.1 * self.calls  # the silence before the first word differs each time
        time.sleep(0.2)  # long enough for the other scene to ask meanwhile
        rate, words = 16000, line.text.split()
        t = np.arange(int(rate * (lead + 0.4 * len(words)))) / rate
        write_wav(dest, (0.3 * np.sin(2 * np.pi * 220 * t) * (t >= lead)).astype(np.float32), rate)
        return Speech(
            words=[WordTiming(word=w, start=lead + 0.4 * i, end=lead + 0.4 * (i + 1)) for i, w in enumerate(words)]
        )


def test_two_scenes_with_the_same_narration_at_once_share_one_recording_and_its_timings(tmp_path):
    narrator, store = Varying(), AssetStore(tmp_path)
    second = SCENE.model_copy(update={"index": 2})
    with ThreadPoolExecutor(2) as pool:
        first, other = pool.map(lambda scene: narrate(REQUEST, scene, narrator, store), [SCENE, second])
    assert narrator.calls == 1  # spoken once: a paid voice bills once
    assert first.path == other.path and first.words == other.words
    start, _ = speech_bounds(*read_wav(first.path))
    assert first.words[0].start == pytest.approx(start, abs=0.02)  # the timings are those of the stored audio
