import os
import subprocess
import sys
from typing import get_args

import pytest
from fakes import elevenlabs, pexels, pixabay, runware, runway

from pipeline import ConfigError, Settings, ShortRequest, build_provider, choose_providers, provider_spec
from pipeline.models import ShortRequest as Request
from pipeline.models import provider_names
from pipeline.providers import REGISTRY, choose_provider
from pipeline.providers.runware.client import VIDEO_MODELS
from pipeline.providers.runway.client import CREDITS_PER_SECOND, DURATIONS


def test_with_no_keys_every_step_is_offline_and_says_why():
    choices = choose_providers(ShortRequest(topic="x"), Settings())
    assert {c.name for c in choices.values()} == {"offline"}
    assert all(c.reason for c in choices.values())


def test_flag_beats_setting(monkeypatch):
    monkeypatch.setenv("SHORTS_VIDEO_PROVIDER", "offline")
    choice = choose_provider("video", ShortRequest(topic="x", video_provider="offline"), Settings())
    assert choice.reason == "chosen with --video"
    assert choose_provider("video", ShortRequest(topic="x"), Settings()).reason == "SHORTS_VIDEO_PROVIDER=offline"


def test_unknown_provider_setting_is_one_clear_sentence(monkeypatch):
    monkeypatch.setenv("SHORTS_IMAGE_PROVIDER", "dalle9")
    with pytest.raises(ConfigError, match=r"SHORTS_IMAGE_PROVIDER='dalle9' is not a image provider; use one of"):
        choose_providers(ShortRequest(topic="x"), Settings())


def test_request_literals_match_the_registry():
    for step, providers in REGISTRY.items():
        names = set(provider_names(Request.model_fields[f"{step}_provider"].annotation))
        assert names == {"auto", *(name.replace("folder", "folder:PATH") for name in providers)}
        assert list(providers)[-1] == "offline"  # auto tries vendors first


def test_keys_are_secret_and_home_is_configurable(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "h"))
    settings = Settings()
    assert settings.has_key("OPENAI_API_KEY")
    assert "sk-test-not-a-real-key" not in repr(settings) and "sk-test" not in settings.model_dump_json()
    assert settings.home_dir == tmp_path / "h" and settings.outbox == tmp_path / "h" / "outbox"


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("SHORTS_FPS=30\n")
    monkeypatch.delenv("SHORTS_FPS")
    assert Settings().fps == 30


@pytest.mark.parametrize("topic", ["", "   ", "\x00\x07"])
def test_empty_topics_are_refused(topic):
    with pytest.raises(ValueError, match="topic is empty"):
        ShortRequest(topic=topic)


def test_topic_whitespace_and_control_characters_are_cleaned():
    assert ShortRequest(topic="  deep\tsea\n fish\x1b ").topic == "deep sea fish"


def test_a_run_without_keys_never_imports_a_vendor_sdk():
    """Every `shorts` process imports the CLI, most the flow too; a vendor SDK (openai alone takes ~0.5 s) or Google's
    client loads only when it is used. A subprocess (with clean_env's keyless environment), since this session has
    imported them all."""
    code = (
        "import flows.cli, flows.make_short, sys; "
        "print(sorted(m for m in ('openai', 'runwayml', 'googleapiclient', 'httplib2') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_model_settings_offer_exactly_the_models_the_providers_know():
    runway = set(get_args(Settings.model_fields["runway_video_model"].annotation))
    assert runway == set(DURATIONS) == set(CREDITS_PER_SECOND)
    assert set(get_args(Settings.model_fields["runware_video_model"].annotation)) == set(VIDEO_MODELS)


def test_the_registry_names_each_providers_model_as_the_built_provider_does(monkeypatch, tmp_path):
    """The storyboard names the clip model from the registry alone: no SDK client, no ledger."""
    keys = {"OPENAI_API_KEY": "fake-key-for-tests", "RUNWAYML_API_SECRET": runway.KEY, "RUNWARE_API_KEY": runware.KEY}
    keys |= {"ELEVENLABS_API_KEY": elevenlabs.KEY, "PEXELS_API_KEY": pexels.KEY, "PIXABAY_API_KEY": pixabay.KEY}
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SHORTS_RUNWAY_VIDEO_MODEL", "veo3.1")  # not the default, so the setting is what is read
    settings = Settings()
    for step, providers in REGISTRY.items():
        for name in providers:
            if (step, name) in (("script", "ollama"), ("voice", "offline")):  # found on this machine once built
                continue
            name = f"folder:{tmp_path}" if name == "folder" else name
            assert provider_spec(step, name).model(settings) == build_provider(step, name, settings).model, name
    assert provider_spec("video", "runway").model(settings) == "veo3.1"


def test_the_shared_concurrency_limit_is_held_by_runways_tasks_only(monkeypatch):
    monkeypatch.setenv("SHORTS_RUNWAY_LIMIT", "runway-shared")  # Runway caps tasks per account: frames, clips, voice
    settings = Settings()
    held = {
        (step, name) for step, specs in REGISTRY.items() for name, spec in specs.items() if spec.shared_limit(settings)
    }
    assert held == {("image", "runway"), ("video", "runway"), ("voice", "runway")}


def test_only_runways_first_frames_are_drawn_alike_and_only_when_asked(monkeypatch):
    assert not provider_spec("image", "runway").draws_alike(Settings())
    monkeypatch.setenv("SHORTS_RUNWAY_REFERENCE_FIRST_FRAME", "true")
    settings = Settings()
    assert [name for name, spec in REGISTRY["image"].items() if spec.draws_alike(settings)] == ["runway"]
