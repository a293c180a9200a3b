"""ElevenLabs narration through the real `elevenlabs` SDK against a local fake whose speech runs on an uneven clock."""

from __future__ import annotations

import wave
from concurrent.futures import ThreadPoolExecutor

import pytest
from fakes.elevenlabs import KEY, FakeElevenLabs

from pipeline import (
    AssetStore,
    ConfigError,
    Narration,
    ProviderError,
    Scene,
    Script,
    Settings,
    ShortRequest,
    ShortsError,
    narrate,
)
from pipeline.budget import check_budget, estimate_cost
from pipeline.providers import build_provider, choose_providers
from pipeline.providers.elevenlabs.voice import ElevenLabsNarrator
from pipeline.render.captions import CaptionStyle, cues
from pipeline.render.short import caption_groups
from pipeline.state.ledger import CHARACTERS, DONE, UNCONFIRMED, Ledger

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
    with FakeElevenLabs() as server:
        yield server


def narrator(fake: FakeElevenLabs, tmp_path, **extra) -> ElevenLabsNarrator:
    return ElevenLabsNarrator(
        api_key=KEY, base_url=fake.root, ledger=Ledger(tmp_path / "ledger.sqlite"), sleep=lambda seconds: None, **extra
    )


def test_captions_follow_the_voices_own_uneven_clock(fake, tmp_path):
    speaker = narrator(fake, tmp_path)
    narration = narrate(REQUEST, SCENE, speaker, AssetStore(tmp_path / "store"))

    words, spans = fake.spoken[0]
    assert narration.timing == "voice" and [w.word for w in narration.words] == SCENE.narration.split() == words
    for timing, (start, end) in zip(narration.words, spans, strict=False):
        assert timing.start == pytest.approx(start, abs=0.01) and timing.end == pytest.approx(end, abs=0.01)
    # Each caption cue highlights its word from that word's onset in the audio.
    groups = caption_groups([narration], [narration.seconds], CaptionStyle())
    first_word = [sum(len(g.words) for g in groups[:i]) for i in range(len(groups))]
    timeline = cues(groups)
    assert len(timeline) == len(words)
    for cue in timeline:
        assert abs(cue.start - spans[first_word[cue.group] + cue.highlight][0]) < 0.1
    with wave.open(str(narration.path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getframerate() == 24_000
        assert w.getnframes() / 24_000 == pytest.approx(spans[-1][1] + 0.2, abs=0.01)

    assert narration.cost.characters == len(SCENE.narration) and narration.voice == "JBFqnCBsd6RMkjVDRZzb"
    assert narration.package.startswith("elevenlabs 2.") and "ElevenLabs" in narration.license
    post = fake.posts()[0]
    assert post["body"]["model_id"] == "eleven_multilingual_v2" and post["body"]["text"] == SCENE.narration
    [row] = speaker.ledger.tasks()
    assert (row.status, row.unit, row.amount_spent) == (DONE, CHARACTERS, len(SCENE.narration))
    assert row.task_id and row.task_id in fake.request_ids  # ElevenLabs' request-id, as its answer said

    again = narrate(REQUEST, SCENE, narrator(fake, tmp_path), AssetStore(tmp_path / "store"))
    assert again == narration and len(fake.posts()) == 1  # from the store: not spoken (nor billed) twice


def test_a_voice_named_is_found_in_the_voice_list_and_a_flash_model_bills_half(fake, tmp_path):
    speaker = narrator(fake, tmp_path, model="eleven_flash_v2_5")
    narration = narrate(REQUEST.model_copy(update={"voice": "sarah"}), SCENE, speaker, AssetStore(tmp_path))
    assert fake.posts()[0]["path"] == "/v1/text-to-speech/EXAVITQu4vr4xnSDxMaL/with-timestamps"
    assert narration.cost.characters == len(SCENE.narration) // 2 and narration.voice == "sarah"

    with pytest.raises(ConfigError) as caught:
        narrate(REQUEST.model_copy(update={"voice": "Nobody"}), SCENE, speaker, AssetStore(tmp_path / "b"))
    assert "no voice named 'Nobody'" in str(caught.value) and "shorts voices --provider elevenlabs" in str(caught.value)
    assert len(fake.posts()) == 1


@pytest.mark.parametrize("fault", [500, 408, "drop"])
def test_speech_that_may_have_been_made_is_never_asked_for_again(fake, tmp_path, fault):
    fake.faults = [fault]
    speaker = narrator(fake, tmp_path)
    with pytest.raises(ProviderError) as caught:
        narrate(REQUEST, SCENE, speaker, AssetStore(tmp_path))
    assert not caught.value.retry_safe and "may have been made and billed" in str(caught.value)
    assert len(fake.posts()) == 1  # the SDK's own retries (5xx, 408, 429) are off for speech
    [row] = speaker.ledger.tasks()
    assert row.status == UNCONFIRMED and row.amount_spent is None  # still counts against the daily cap


def test_a_failure_after_the_speech_was_billed_is_never_retried_blindly(fake, tmp_path):
    """Keeping a billed answer can fail too (here the ledger refuses a request-id it holds already): the error says
    it was billed, and the step's retry condition does not send the speech again."""
    speaker = narrator(fake, tmp_path)
    fake.request_id = "req-same"
    narrate(REQUEST, SCENE, speaker, AssetStore(tmp_path))
    other = SCENE.model_copy(update={"narration": "Their skin has cells that change colour in a blink."})
    with pytest.raises(ProviderError) as caught:
        narrate(REQUEST, other, speaker, AssetStore(tmp_path))
    assert not caught.value.retry_safe and len(fake.posts()) == 2
    assert str(caught.value).startswith("Scene 1: ElevenLabs made and billed the speech, but keeping it failed (")
    assert "rerun when a second charge is acceptable" in str(caught.value)


def test_a_busy_answer_is_asked_again_and_then_billed_once(fake, tmp_path):
    fake.faults = [429, 429]
    speaker = narrator(fake, tmp_path)
    narration = narrate(REQUEST, SCENE, speaker, AssetStore(tmp_path))
    assert narration.timing == "voice" and len(fake.posts()) == 3
    assert [row.status for row in speaker.ledger.tasks()] == [DONE]


def test_a_bad_key_is_one_sentence_without_the_key(fake, tmp_path):
    speaker = ElevenLabsNarrator(api_key="el-wrong-key", base_url=fake.root)
    with pytest.raises(ConfigError) as caught:
        narrate(REQUEST, SCENE, speaker, AssetStore(tmp_path))
    assert "check ELEVENLABS_API_KEY" in str(caught.value) and "el-wrong-key" not in str(caught.value)


def test_auto_picks_elevenlabs_and_the_characters_count_against_the_caps(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.root)
    settings = Settings()
    choices = choose_providers(REQUEST, settings)
    assert choices["voice"].name == "elevenlabs" and choices["voice"].reason == "ELEVENLABS_API_KEY is set"
    scenes = [SCENE, SCENE.model_copy(update={"index": 2})]
    script = Script(title="t", description="d", tags=[], hook="h", scenes=scenes)
    assert estimate_cost(script, choices, settings).characters == 2 * len(SCENE.narration)
    check_budget(script, choices, settings)

    monkeypatch.setenv("SHORTS_MAX_CHARACTERS_PER_SHORT", "100")
    with pytest.raises(ConfigError, match=r"up to 134 characters, over SHORTS_MAX_CHARACTERS_PER_SHORT=100"):
        check_budget(script, choices, Settings())

    # The daily cap is held by the ledger, before anything is sent.
    monkeypatch.setenv("SHORTS_MAX_CHARACTERS_PER_DAY", "100")
    speaker = build_provider("voice", "elevenlabs", Settings())
    narrate(REQUEST, SCENE, speaker, AssetStore(tmp_path / "a"))
    with pytest.raises(ConfigError, match=r"to 134 characters, over SHORTS_MAX_CHARACTERS_PER_DAY=100"):
        narrate(REQUEST, SCENE.model_copy(update={"index": 2}), speaker, AssetStore(tmp_path / "b"))
    assert len(fake.posts()) == 1


def short_of(*narrations: str) -> Script:
    scenes = [
        Scene(index=i, narration=text, first_frame_prompt="an octopus", motion_prompt="push in", seconds=2)
        for i, text in enumerate(narrations, 1)
    ]
    return Script(title="Octopus facts", description="d", tags=[], hook="h", scenes=scenes)


def speak_at_once(script: Script, store: AssetStore) -> list[Narration | ShortsError]:
    """Every scene at once, each in its thread with its own narrator built from settings, as the flow does."""

    def one(scene: Scene) -> Narration | ShortsError:
        try:
            return narrate(REQUEST, scene, build_provider("voice", "elevenlabs", Settings()), store, script=script)
        except ShortsError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(script.scenes)) as pool:
        return list(pool.map(one, script.scenes))


def test_a_voice_that_bills_double_stops_the_short_at_its_cap_and_keeps_what_it_made(fake, tmp_path, monkeypatch):
    """Nothing says up front that this voice costs 2 credits a character: its first request is spoken alone, the
    others are priced at the rate it billed, and each reservation checks the Short's total in the same transaction."""
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.root)
    monkeypatch.setenv("SHORTS_MAX_CHARACTERS_PER_SHORT", "70")
    fake.multiplier, fake.delay = 2.0, 0.5  # slow enough that all four would be in flight together
    script = short_of("Arms taste prey.", "Skin sees light.", "Blood runs blue.", "Eyes see no red.")  # 16 each
    choices = choose_providers(REQUEST, Settings())
    assert estimate_cost(script, choices, Settings()).characters == 64  # one a character: no rate known yet
    check_budget(script, choices, Settings())

    results = speak_at_once(script, AssetStore(tmp_path / "store"))
    made = [r for r in results if isinstance(r, Narration)]
    refused = [r for r in results if isinstance(r, ShortsError)]
    assert len(made) == 2 and len(fake.posts()) == 2 and all(n.cost.characters == 32 for n in made)
    assert len(refused) == 2 and all(isinstance(e, ConfigError) for e in refused)
    assert {e.scene for e in refused} | {n.scene for n in made} == {1, 2, 3, 4}
    assert str(refused[0]).endswith(
        "This narration would bring the Short's elevenlabs spend to 96 characters, over "
        "SHORTS_MAX_CHARACTERS_PER_SHORT=70; raise it or shorten the script, nothing "
        "was submitted."
    )
    ledger = Ledger(Settings().paths.ledger)
    assert sum(t.amount_spent or 0 for t in ledger.tasks()) == 64 <= 70  # billed, and never past the cap
    assert all(n.path.is_file() for n in made)

    # Now the rate is known: the estimate (the storyboard's too) and the refusal before anything is paid use it.
    assert estimate_cost(script, choices, Settings()).characters == 128
    with pytest.raises(ConfigError, match=r"up to 128 characters, over SHORTS_MAX_CHARACTERS_PER_SHORT=70"):
        check_budget(script, choices, Settings())

    # With room for the Short, a rerun speaks only the scenes it lacks; the Short's total counts what it kept.
    monkeypatch.setenv("SHORTS_MAX_CHARACTERS_PER_SHORT", "128")
    again = speak_at_once(script, AssetStore(tmp_path / "store"))
    assert all(isinstance(n, Narration) for n in again) and len(fake.posts()) == 4
    assert {n.path for n in made} <= {n.path for n in again if isinstance(n, Narration)}
    assert sum(t.amount_spent or 0 for t in ledger.tasks()) == 128


def test_each_scene_hears_its_neighbours_as_spoken_and_a_seed_from_its_request(fake, tmp_path):
    script = short_of("Arms taste prey.", "Skin sees light.", "It has 3 hearts.")
    first, middle, last = script.scenes
    narrate(REQUEST, middle, narrator(fake, tmp_path), AssetStore(tmp_path / "a"), script=script)
    narrate(REQUEST, first, narrator(fake, tmp_path), AssetStore(tmp_path / "a"), script=script)
    body, opening = fake.posts()[0]["body"], fake.posts()[1]["body"]
    assert (body["previous_text"], body["next_text"]) == ("Arms taste prey.", "It has three hearts.")
    assert "previous_text" not in opening and opening["next_text"] == "Skin sees light."
    assert 0 <= body["seed"] <= 4_294_967_295 and body["seed"] != opening["seed"]

    # The same scene asked for again (another store, another narrator) is the same request, seed included.
    narrate(REQUEST, middle, narrator(fake, tmp_path), AssetStore(tmp_path / "b"), script=script)
    assert fake.posts()[2]["body"] == body

    # Without its neighbours it is other audio, so it is stored under another key and spoken again.
    alone = narrate(REQUEST, middle, narrator(fake, tmp_path), AssetStore(tmp_path / "b"))
    stitched = narrate(REQUEST, middle, narrator(fake, tmp_path), AssetStore(tmp_path / "b"), script=script)
    assert alone.path != stitched.path and len(fake.posts()) == 4
    assert "previous_text" not in fake.posts()[3]["body"] and fake.posts()[3]["body"]["seed"] == body["seed"]


def test_eleven_v4_turbo_bills_half_and_the_estimate_learns_it(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.root)
    monkeypatch.setenv("SHORTS_ELEVENLABS_MODEL", "eleven_v4_turbo")
    script = short_of("Arms taste prey.", "Skin sees light.")
    choices = choose_providers(REQUEST, Settings())
    assert estimate_cost(script, choices, Settings()).characters == 32  # an upper bound until the model has billed
    narration = narrate(
        REQUEST,
        script.scenes[0],
        build_provider("voice", "elevenlabs", Settings()),
        AssetStore(tmp_path),
        script=script,
    )
    assert fake.posts()[0]["body"]["model_id"] == "eleven_v4_turbo" and narration.cost.characters == 8
    assert estimate_cost(script, choices, Settings()).characters == 16
