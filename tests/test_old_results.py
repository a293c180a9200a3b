"""Prefect's result records are pickles of our models: one written before a field was added still loads."""

import pickle
from pathlib import Path

from pipeline import Narration, WordTiming


def test_a_narration_pickled_before_its_newer_fields_loads_with_their_defaults():
    made = Narration(
        scene=1,
        path=Path("voice.wav"),
        seconds=2.0,
        provider="offline",
        voice="en",
        timing="audio",
        words=[WordTiming(word="Hello", start=0.1, end=0.5)],
        characters=12,
        model="espeak-ng",
    )
    state = made.__getstate__()
    for added in ("characters", "model", "package", "license"):  # what an earlier version did not have
        del state["__dict__"][added]
    old = Narration.__new__(Narration)
    old.__setstate__(state)
    loaded = pickle.loads(pickle.dumps(old))
    assert (loaded.characters, loaded.model, loaded.package, loaded.license) == (0, None, None, None)
    assert loaded.words == made.words and loaded.provider == "offline"
