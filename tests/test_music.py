"""The music bed: which track a Short gets, what the manifest says of it, and how it loops."""

import json
from importlib.metadata import version
from pathlib import Path

import immich_memories_music
import numpy as np
import pytest

from pipeline import ConfigError, Script, ShortRequest, check_music, choose_music
from pipeline.loudness import loudness
from pipeline.music import MOODS, mood_for
from pipeline.providers.offline.script import OfflineScriptWriter
from pipeline.render.mix import AUDIO_FPS, add_music, read_audio
from pipeline.script_rules import SceneDraft, ScriptDraft

LIBRARY = immich_memories_music.tracks_dir()


def test_the_library_has_every_mood_and_its_licence_asks_for_no_credit():
    assert sorted(p.name for p in LIBRARY.iterdir() if p.is_dir()) == sorted(MOODS)
    licence = next(
        Path(immich_memories_music.__file__).parents[1].glob("immich_memories_music-*.dist-info/licenses/LICENSE-MUSIC")
    ).read_text()
    assert "ACE-Step 1.5" in licence and "no attribution required" in licence and "MIT" in licence


@pytest.mark.parametrize(
    ("topic", "mood"),
    [
        ("How octopuses change colour", "calm"),
        ("Black holes", "calm"),
        ("How rockets reach orbit", "energetic"),
        ("The fall of the Roman empire", "nostalgic"),
        ("Why we love our grandparents", "tender"),
        ("Why cats purr", "happy"),
        ("Categories of clouds", "calm"),  # a word that only begins like "cat"
    ],
)
def test_the_offline_script_takes_its_mood_from_the_topic(topic, mood):
    assert mood_for(topic) == mood
    assert OfflineScriptWriter().write(ShortRequest(topic=topic, seconds=10, scenes=2)).mood == mood


def test_an_llm_script_names_a_mood_and_one_it_gets_wrong_falls_back_to_the_topic():
    def draft(mood: str) -> Script:
        scenes = [SceneDraft(narration="N.", first_frame_prompt="a reef", motion_prompt="pan")]
        return ScriptDraft(title="T", description="D", tags=[], hook="H", scenes=scenes, mood=mood).to_script([3.0])

    assert draft(" Energetic ").mood == "energetic"
    assert draft("upbeat").mood is None and draft("").mood is None
    old = draft("happy").model_dump(mode="json")
    del old["mood"]  # a script saved before moods
    assert Script.model_validate(old).mood is None
    assert choose_music("auto", None, "Why cats purr").mood == "happy"


def test_auto_picks_a_library_track_of_the_mood_the_same_one_for_the_same_topic():
    track = choose_music("auto", "nostalgic", "The first telephone")
    assert track.path.parent == LIBRARY / "nostalgic" and track.path.is_file()
    assert track == choose_music("auto", "nostalgic", "The first telephone")
    assert track.package == "immich-memories-music" and track.version == version("immich-memories-music")
    assert track.licence == "MIT, generated with ACE-Step 1.5, no attribution required"
    picks = {choose_music("auto", "nostalgic", f"topic {i}").path for i in range(40)}
    assert len(picks) > 3  # topics spread over the mood's tracks
    assert choose_music("TENDER", "calm", "x").path.parent == LIBRARY / "tender"  # a mood named outright wins
    assert choose_music("none", "calm", "x") is None
    assert json.loads(track.model_dump_json())["licence"].startswith("MIT")


def test_your_own_file_or_folder_plays_and_a_missing_one_is_one_sentence(tmp_path):
    song = tmp_path / "song.mp3"
    song.write_bytes(b"")
    assert choose_music(str(song), "calm", "x").path == song
    assert choose_music(str(song), "calm", "x").licence is None  # its licence is yours to know
    folder = tmp_path / "music"
    (folder / "happy").mkdir(parents=True)
    for name in ("a.wav", "b.ogg", "notes.txt", "happy/joy.opus"):
        (folder / name).write_bytes(b"")
    assert choose_music(str(folder), "happy", "x").path == folder / "happy" / "joy.opus"
    assert choose_music(str(folder), "happy", "x").mood == "happy"
    assert choose_music(str(folder), "calm", "x").path.name in ("a.wav", "b.ogg")
    with pytest.raises(ConfigError, match=r"^Music '/no/such/song.mp3' is no mood \(auto, none, calm, energetic"):
        check_music("/no/such/song.mp3")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="has no audio files"):
        check_music(str(tmp_path / "empty"))


def _short_term(stem: np.ndarray, at: float) -> float:
    """Loudness of the 3 s of `stem` ending at `at` seconds."""
    return loudness(stem[round((at - 3) * AUDIO_FPS) : round(at * AUDIO_FPS)], AUDIO_FPS)


@pytest.mark.parametrize("name", ["tender/tender_acoustic_s411.opus", "energetic/energetic_electronic_2.opus"])
def test_a_track_loops_to_any_length_without_a_click_a_gap_or_a_bump(name):
    """A ~30 s track under a 75 s Short: the music plays throughout, no louder or quieter at its loop points than
    the track itself ever is, and no sample steps further than the track's own steepest step."""
    source = read_audio(LIBRARY / name)
    stem = np.zeros((75 * AUDIO_FPS, 2), np.float32)
    add_music(stem, LIBRARY / name, [], volume=1.0, ducked=1.0)
    gain = float(
        np.sqrt(
            np.mean(stem[5 * AUDIO_FPS : 25 * AUDIO_FPS] ** 2) / np.mean(source[5 * AUDIO_FPS : 25 * AUDIO_FPS] ** 2)
        )
    )
    own = [_short_term(source, t) for t in np.arange(3, len(source) / AUDIO_FPS - 2.5, 0.5)]
    looped = [_short_term(stem, t) for t in np.arange(3, 73, 0.75)]
    shift = 20 * np.log10(gain)
    assert min(own) + shift - 1 <= min(looped) and max(looped) <= max(own) + shift + 1
    steepest = np.abs(np.diff(source, axis=0)).max() * gain
    assert np.abs(np.diff(stem[: -2 * AUDIO_FPS], axis=0)).max() <= 1.05 * steepest
    assert np.abs(stem[: AUDIO_FPS // 100]).max() < 0.01  # faded in
    assert np.abs(stem[-10:]).max() < 0.001  # and out
