"""Before anything is paid for: `auto` never picks a voice whose vendor is shutting it down, and every chosen provider
says, with free calls only, whether it can make the Short (OpenAI models still served, Piper's one voice)."""

import pytest
from fakes.openai import FakeOpenAI, serving

from pipeline import ConfigError, Settings, ShortRequest, check_providers, choose_providers
from pipeline.providers import choose_provider, is_paid

KEY = "fake-openai-key-for-tests"


def test_auto_gives_an_openai_only_user_the_offline_voice_and_says_why(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    choices = choose_providers(ShortRequest(topic="bees"), Settings())
    assert {step: c.name for step, c in choices.items()} == {
        "script": "openai",
        "image": "openai",
        "video": "offline",
        "voice": "offline",
    }
    assert "OPENAI_API_KEY is set, but OpenAI shuts its speech models down on 2027-01-06" in choices["voice"].reason
    assert "--voice openai still uses it until then" in choices["voice"].reason
    # Asked for, it still works until then; a paid voice waits for the storyboard's approval.
    asked = choose_provider("voice", ShortRequest(topic="bees", voice_provider="openai"), Settings())
    assert asked.name == "openai" and is_paid("voice", "openai") and not is_paid("voice", "offline")


def test_auto_still_prefers_a_live_paid_voice_over_the_dying_one(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ELEVENLABS_API_KEY", "el-test-not-a-real-key")
    assert choose_provider("voice", ShortRequest(topic="bees"), Settings()).name == "elevenlabs"


def _openai(monkeypatch, base_url: str, **settings: str) -> Settings:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_a_gone_speech_model_is_refused_before_anything_is_paid_for(monkeypatch):
    fake = FakeOpenAI()
    del fake.models["gpt-4o-mini-tts"]  # /v1/models/{id} answers 404, as for a model OpenAI shut down
    request = ShortRequest(topic="bees", voice_provider="openai")
    with serving(fake) as url:
        settings = _openai(monkeypatch, url)
        with pytest.raises(ConfigError) as caught:
            check_providers(request, choose_providers(request, settings), settings)
    error = caught.value
    assert error.step == "voice" and "gpt-4o-mini-tts" in str(error) and "--voice offline" in str(error)
    assert KEY not in str(error)
    assert [p for p in fake.paths() if not p.startswith("/models")] == []  # only the free model look-ups


def test_a_model_past_its_shutdown_date_counts_as_gone(monkeypatch):
    fake = FakeOpenAI()
    fake.models["gpt-4o-mini-tts"] = "2026-01-06"  # still listed, but its announced date has passed
    request = ShortRequest(topic="bees", voice_provider="openai")
    with serving(fake) as url:
        settings = _openai(monkeypatch, url)
        with pytest.raises(ConfigError, match="shut gpt-4o-mini-tts down on 2026-01-06"):
            check_providers(request, choose_providers(request, settings), settings)


def test_served_models_pass_and_a_transcript_model_is_checked_only_when_used(monkeypatch):
    fake = FakeOpenAI()
    del fake.models["whisper-1"]
    request = ShortRequest(topic="bees", voice_provider="openai")
    with serving(fake) as url:
        settings = _openai(monkeypatch, url)
        check_providers(request, choose_providers(request, settings), settings)  # whisper-1 is not used
        assert sorted(fake.paths()) == ["/models/gpt-4o-mini-tts", "/models/gpt-5.4-mini", "/models/gpt-image-2"]
        settings = _openai(monkeypatch, url, SHORTS_OPENAI_WORD_TIMINGS="true")
        with pytest.raises(ConfigError, match="SHORTS_OPENAI_TRANSCRIBE_MODEL"):
            check_providers(request, choose_providers(request, settings), settings)


def test_a_compatible_server_without_a_model_list_is_not_refused(monkeypatch):
    """A server that knows neither /v1/models/{id} nor /v1/models cannot say a model is gone: the run goes on."""
    fake = FakeOpenAI()
    fake.models.clear()
    fake.failures["/models"] = [FakeOpenAI.no_route("/models")]
    request = ShortRequest(topic="bees", image_provider="offline")
    with serving(fake) as url:
        settings = _openai(monkeypatch, url)
        check_providers(request, choose_providers(request, settings), settings)
    assert fake.paths() == ["/models/gpt-5.4-mini", "/models"]


def test_a_missing_key_and_a_voice_piper_cannot_speak_are_one_sentence_each():
    request = ShortRequest(topic="bees", image_provider="runway")
    with pytest.raises(ConfigError, match="RUNWAYML_API_SECRET") as caught:
        check_providers(request, choose_providers(request, Settings()), Settings())
    assert caught.value.step == "image"
    request = ShortRequest(topic="abeilles", voice_provider="piper", language="fr")
    with pytest.raises(ConfigError, match="--voice espeak") as caught:
        check_providers(request, choose_providers(request, Settings()), Settings())
    assert caught.value.step == "voice"


def test_an_elevenlabs_voice_name_the_account_lacks_is_refused_before_anything_is_spoken(monkeypatch):
    from fakes.elevenlabs import KEY as ELEVENLABS_KEY
    from fakes.elevenlabs import FakeElevenLabs

    request = ShortRequest(topic="bees", voice_provider="elevenlabs", voice="Nobody")
    with FakeElevenLabs() as fake:
        monkeypatch.setenv("ELEVENLABS_API_KEY", ELEVENLABS_KEY)
        monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.root)
        with pytest.raises(ConfigError, match="no voice named 'Nobody'") as caught:
            check_providers(request, choose_providers(request, Settings()), Settings())
        check_providers(request.model_copy(update={"voice": None}), choose_providers(request, Settings()), Settings())
    assert caught.value.step == "voice" and fake.posts() == []  # nothing spoken, nothing billed


def test_a_runway_voice_name_it_lacks_is_refused_before_anything_is_bought(runway):
    request = ShortRequest(topic="bees", voice_provider="runway", voice="Nobody")
    with pytest.raises(ConfigError, match="no preset voice named 'Nobody'") as caught:
        check_providers(request, choose_providers(request, Settings()), Settings())
    assert caught.value.step == "voice" and runway.seen("POST", "/v1/text_to_speech") == []


def test_an_openai_voice_name_it_lacks_is_refused_before_any_request(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # OpenAI itself: its voices are known (a compatible server has its own)
    request = ShortRequest(
        topic="bees", voice_provider="openai", voice="robot", script_provider="offline", image_provider="offline"
    )
    with pytest.raises(ConfigError, match="OpenAI has no voice named 'robot'; use one of alloy, ") as caught:
        check_providers(request, choose_providers(request, Settings()), Settings())
    assert caught.value.step == "voice"
