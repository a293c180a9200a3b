"""Every openai piece built from settings, through the SDK's own HTTP client, against a 127.0.0.1 server."""

import pytest
from fakes.openai import FakeOpenAI, good_script, serving

from pipeline import (
    AssetStore,
    ProviderError,
    Settings,
    ShortRequest,
    build_provider,
    make_first_frame,
    moderate_script,
    narrate,
    write_script,
)


def test_openai_base_url_points_every_step_at_a_compatible_server(monkeypatch, tiny, tmp_path):
    fake = FakeOpenAI()
    fake.structured_output = False  # like an older local server: JSON mode it is
    fake.chat.append(good_script(scenes=2))
    with serving(fake) as base_url:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("SHORTS_OPENAI_MAX_RETRIES", "0")
        settings = Settings()
        request = ShortRequest(topic="octopus camouflage", seconds=10, scenes=2)
        store = AssetStore(tmp_path)

        script = write_script(request, build_provider("script", "openai", settings))
        assert moderate_script(script, settings).checked == 6
        frame = make_first_frame(
            script.scenes[0], request.style, tiny, build_provider("image", "openai", settings), store
        )
        narration = narrate(request, script.scenes[0], build_provider("voice", "openai", settings), store)

    assert frame.provider == "openai" and frame.model == "gpt-image-2"
    assert [w.word for w in narration.words] == script.scenes[0].narration.split()
    # The words are timed from the pauses in the audio: no transcript (whisper-1 shuts down) unless asked for.
    assert fake.paths() == [
        "/chat/completions",
        "/chat/completions",
        "/moderations",
        "/images/generations",
        "/audio/speech",
    ]


def test_an_unreachable_server_is_a_retry_safe_error_naming_the_setting(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # discard port: nothing listens
    monkeypatch.setenv("SHORTS_OPENAI_MAX_RETRIES", "0")
    writer = build_provider("script", "openai", Settings())
    with pytest.raises(ProviderError) as caught:
        write_script(ShortRequest(topic="bees", seconds=10, scenes=2), writer)
    assert caught.value.retry_safe is True and "OPENAI_BASE_URL" in str(caught.value)
