import shutil

import pytest

from pipeline import AssetStore, Scene, ShortRequest, narrate
from pipeline.narration import read_wav, speech_bounds, time_words
from pipeline.providers.offline.voice import OfflineNarrator

SCENE = Scene(index=1, narration="Octopuses can change colour in a blink, without seeing colour at all.",
              first_frame_prompt="octopus", motion_prompt="push in", seconds=6)
REQUEST = ShortRequest(topic="octopus", seconds=6)


def test_word_timings_cover_the_span_in_order():
    words = time_words("One, two three. Four", 1.0, 3.0)
    assert [w.word for w in words] == ["One,", "two", "three.", "Four"]
    assert words[0].start == 1.0 and words[-1].end == pytest.approx(3.0, abs=1e-3)
    assert all(a.end == pytest.approx(b.start, abs=1e-3) for a, b in zip(words, words[1:]))
    assert words[2].end - words[2].start > words[1].end - words[1].start  # punctuation earns a beat


def test_without_espeak_the_scene_is_unvoiced_and_timed_at_reading_pace(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on this PATH
    narration = narrate(REQUEST, SCENE, OfflineNarrator(), AssetStore(tmp_path))
    assert narration.path is None and narration.timing == "reading-pace"
    assert narration.seconds == pytest.approx(len(SCENE.narration.split()) / 2.5)
    assert narration.words[-1].end == pytest.approx(narration.seconds, abs=1e-3)


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")
def test_espeak_voices_the_scene_within_its_seconds(tmp_path):
    narration = narrate(REQUEST, SCENE, OfflineNarrator(), AssetStore(tmp_path))
    samples, rate = read_wav(narration.path)
    start, end = speech_bounds(samples, rate)
    assert narration.timing == "audio" and 1.0 < narration.seconds <= SCENE.seconds + 0.3
    assert narration.words[0].start == pytest.approx(start, abs=0.01)
    assert narration.words[-1].end == pytest.approx(end, abs=0.01)
    again = narrate(REQUEST, SCENE, OfflineNarrator(), AssetStore(tmp_path))
    assert again.path == narration.path  # reused, not spoken again


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")
def test_unknown_espeak_voice_is_one_clear_error(tmp_path):
    from pipeline import ProviderError

    request = REQUEST.model_copy(update={"voice": "xx-none"})
    with pytest.raises(ProviderError) as caught:
        narrate(request, SCENE, OfflineNarrator(), AssetStore(tmp_path))
    assert caught.value.step == "narration" and caught.value.scene == 1
    assert "xx-none" in str(caught.value) and "\n" not in str(caught.value)
