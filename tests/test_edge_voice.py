"""Edge narration through the real `edge-tts` against a local fake of its WebSocket protocol."""

from __future__ import annotations

import pytest
from fakes.edge import FakeEdge

from pipeline import AssetStore, ConfigError, Scene, Settings, ShortRequest, narrate
from pipeline.providers import build_provider, choose_providers
from pipeline.providers.edge.voice import EdgeNarrator
from pipeline.timing import read_wav

SCENE = Scene(
    index=1,
    narration="Octopuses taste with their arms, and see colour through their skin!",
    first_frame_prompt="an octopus",
    motion_prompt="slow push in",
    seconds=5,
)
REQUEST = ShortRequest(topic="octopus camouflage", seconds=10, scenes=2)


@pytest.fixture
def fake():
    with FakeEdge() as server:
        yield server


@pytest.fixture
def edge_settings(fake, monkeypatch) -> Settings:
    monkeypatch.setenv("SHORTS_EDGE_URL", fake.ws_url)
    monkeypatch.setenv("SHORTS_EDGE_VOICES_URL", fake.voices_url)
    return Settings()


def test_words_follow_the_word_boundary_events_and_the_mp3_becomes_a_wav(fake, edge_settings, tmp_path):
    speaker = build_provider("voice", "edge", edge_settings)
    narration = narrate(REQUEST, SCENE, speaker, AssetStore(tmp_path))

    voice, words, spans = fake.spoken[0]
    assert voice == "Microsoft Server Speech Text to Speech Voice (en-US, EmmaMultilingualNeural)"
    assert '"wordBoundaryEnabled":"true"' in fake.configs[0]
    assert narration.timing == "voice" and [w.word for w in narration.words] == SCENE.narration.split() == words
    for timing, (start, end) in zip(narration.words, spans, strict=False):
        assert timing.start == pytest.approx(start, abs=0.05) and timing.end == pytest.approx(end, abs=0.05)
    samples, rate = read_wav(narration.path)
    assert rate == 24_000 and abs(samples).max() > 0.1 and narration.seconds >= spans[-1][1]
    # The decoded audio is loud where the events say the words are (MP3 delay is a few ms).
    for start, end in spans:
        middle = int((start + end) / 2 * rate)
        assert abs(samples[middle - 100 : middle + 100]).max() > 0.2
    assert narration.cost.characters == 0 and narration.package.startswith("edge-tts 7.")


def test_a_voice_is_picked_with_voice_name_and_edge_is_never_picked_by_auto(fake, edge_settings, tmp_path):
    speaker = build_provider("voice", "edge", edge_settings)
    narrate(REQUEST.model_copy(update={"voice": "fr-FR-DeniseNeural"}), SCENE, speaker, AssetStore(tmp_path))
    assert fake.spoken[0][0].endswith("(fr-FR, DeniseNeural)")
    assert choose_providers(REQUEST, edge_settings)["voice"].name != "edge"

    with pytest.raises(ConfigError, match="Edge spoke nothing with voice 'en-US-NobodyNeural'"):
        narrate(REQUEST.model_copy(update={"voice": "en-US-NobodyNeural"}), SCENE, speaker, AssetStore(tmp_path / "b"))
    with pytest.raises(ConfigError, match="'robot' is not an Edge voice name"):
        narrate(REQUEST.model_copy(update={"voice": "robot"}), SCENE, speaker, AssetStore(tmp_path / "c"))


def test_the_voice_list_comes_from_the_configured_url(fake, edge_settings):
    voices = EdgeNarrator.voices(edge_settings)
    assert [(v.name, v.language) for v in voices] == [
        ("en-US-EmmaMultilingualNeural", "en-US"),
        ("fr-FR-DeniseNeural", "fr-FR"),
    ]
