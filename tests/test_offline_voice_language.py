"""The offline voice says which engine spoke each scene, and points to a natural voice when eSpeak NG speaks."""

from __future__ import annotations

import logging

from pipeline import AssetStore, Scene, ShortRequest, narrate
from pipeline.models import Speech
from pipeline.providers.offline.piper import PiperNarrator
from pipeline.providers.offline.voice import OfflineNarrator, natural_voice_hint

FRENCH = ShortRequest(topic="Comment les pieuvres changent de couleur", seconds=6, language="fr")


def _scene(index: int, narration: str) -> Scene:
    return Scene(index=index, narration=narration, first_frame_prompt="octopus", motion_prompt="push in", seconds=3)


def test_a_french_scene_names_espeak_which_spoke_it_and_says_once_which_free_voice_sounds_natural(tmp_path, caplog):
    offline = OfflineNarrator(tmp_path / "voices")
    with caplog.at_level(logging.INFO, logger="shorts"):
        first = narrate(FRENCH, _scene(1, "Les pieuvres changent de couleur."), offline, AssetStore(tmp_path))
        second = narrate(FRENCH, _scene(2, "Regardons de plus près."), offline, AssetStore(tmp_path))
    for narration in (first, second):  # what the manifest lists for each scene
        assert (narration.provider, narration.model, narration.voice) == ("offline", "espeak-ng", "fr")
        assert narration.package.startswith("espeakng-loader")
    # One record seen twice is one line said: with Prefect's logging set up by an earlier test in this process, the
    # capture can be handed the same record twice.
    hints = [r.getMessage() for r in {id(r): r for r in caplog.records}.values() if "--voice edge" in r.getMessage()]
    assert len(hints) == 1 and "robotic" in hints[0] and "(fr)" in hints[0] and "\n" not in hints[0]


def test_only_espeak_gets_the_hint():
    # Piper's own words are checked with its audio in test_offline_voice; loading it here again would cost seconds.
    assert natural_voice_hint(Speech(model=PiperNarrator.model), "en") is None
    assert natural_voice_hint(Speech(model="espeak-ng (system)"), "de") is not None
