"""A provider is configured from its own section of the settings; each key's variable is spelled in one place."""

import pytest

from pipeline import RenderOptions, Settings, build_provider
from pipeline.providers import REGISTRY
from pipeline.providers.edge.voice import EdgeNarrator
from pipeline.settings import EdgeSettings, RenderSettings, RunwaySettings


def test_a_section_holds_the_settings_values_and_no_others(monkeypatch):
    monkeypatch.setenv("RUNWAY_API_KEY", "fake-key-for-tests")  # the older variable, read through its alias
    monkeypatch.setenv("SHORTS_RUNWAY_POLL_SECONDS", "7")
    section = Settings().section(RunwaySettings)
    assert type(section) is RunwaySettings
    assert section.runwayml_api_secret.get_secret_value() == "fake-key-for-tests"
    assert section.runway_poll_seconds == 7 and section.runway_video_model == "gen4_turbo"
    assert not hasattr(section, "openai_api_key")


def test_every_provider_reads_only_settings_there_are():
    for step, providers in REGISTRY.items():
        for name, spec in providers.items():
            section = spec.load().section
            if section is not None:
                assert set(section.model_fields) <= set(Settings.model_fields), f"{step} {name}"


def test_a_provider_is_built_from_its_section_alone():
    narrator = EdgeNarrator.from_settings(EdgeSettings(edge_voice="en-GB-SoniaNeural"))
    assert narrator.voice == "en-GB-SoniaNeural"


def test_the_registry_builds_a_provider_from_its_section(monkeypatch):
    monkeypatch.setenv("SHORTS_EDGE_VOICE", "fr-FR-DeniseNeural")
    assert build_provider("voice", "edge", Settings()).voice == "fr-FR-DeniseNeural"


def test_every_key_the_registry_names_is_a_key_setting(monkeypatch):
    variables = {spec.env_var for providers in REGISTRY.values() for spec in providers.values() if spec.env_var}
    for variable in variables:
        assert not Settings().has_key(variable)
        monkeypatch.setenv(variable, "fake-key-for-tests")
        assert Settings().has_key(variable)
    with pytest.raises(KeyError):
        Settings().has_key("NO_SUCH_KEY")


def test_the_render_options_default_to_the_render_settings():
    assert RenderOptions() == RenderOptions.from_settings(RenderSettings(), None)
