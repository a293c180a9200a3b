"""`shorts doctor` warns of configured OpenAI models with an announced shutdown, from the real SDK's GET /v1/models."""

from fakes.openai import FakeOpenAI, error, serving
from typer.testing import CliRunner

from flows.cli import app
from pipeline import Settings
from pipeline.providers.openai.client import model_shutdowns

KEY = "sk-fake-doctor-0000"


def test_doctor_warns_of_a_model_with_a_shutdown_date_and_of_one_not_listed(monkeypatch):
    fake = FakeOpenAI()
    del fake.models["whisper-1"]
    with serving(fake) as base_url:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "OpenAI: key accepted; models: gpt-5.4-mini, gpt-image-2" in result.output
    assert (
        "warning: gpt-4o-mini-tts shuts down on 2027-01-06 (announced by OpenAI); set SHORTS_OPENAI_VOICE_MODEL "
        "to a model with no shutdown date before then"
    ) in result.output
    assert "warning: the server does not list whisper-1; check SHORTS_OPENAI_TRANSCRIBE_MODEL" in result.output
    assert "gpt-image-2 shuts down" not in result.output and KEY not in result.output
    assert fake.paths().count("/models") == 1  # one free call for every model


def test_the_default_models_for_scripts_images_and_moderation_have_no_shutdown_date(monkeypatch):
    fake = FakeOpenAI()
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with serving(fake) as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        dates = model_shutdowns(Settings())
    assert {
        name: dates[name] for name in ("openai_script_model", "openai_image_model", "openai_moderation_model")
    } == dict.fromkeys(("openai_script_model", "openai_image_model", "openai_moderation_model"))


def test_a_refused_key_fails_the_doctor_in_one_line(monkeypatch):
    fake = FakeOpenAI()
    fake.failures["/models"] = [error(401, "Incorrect API key provided: sk-fake-****0000")]
    with serving(fake) as base_url:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        result = CliRunner().invoke(app, ["doctor"])
    assert (
        result.exit_code == 1
        and "OpenAI: The OpenAI server rejected the API key while listing the models" in result.output
    )
    assert "0000" not in result.output
