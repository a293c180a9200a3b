"""A local Ollama found by itself: OLLAMA_HOST read as Ollama reads it, the probe, the model, and the script
written through the real openai SDK against a fake Ollama on 127.0.0.1."""

import logging
import socket
import threading

import pytest
from fakes.ollama import EMBEDDER, LLAMA, QWEN, FakeOllama
from fakes.openai import good_script

from pipeline import ConfigError, Settings, ShortRequest, build_provider, choose_providers, moderate_script
from pipeline.providers import choose_provider
from pipeline.providers.ollama.client import is_chat_model, ollama_url

REQUEST = ShortRequest(topic="octopus camouflage", seconds=10, scenes=2)


@pytest.fixture
def ollama(monkeypatch):
    with FakeOllama() as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.host)
        yield fake


@pytest.mark.parametrize(
    "host, url",
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        (":5000", "http://127.0.0.1:5000"),
        ("gpu-box", "http://gpu-box:11434"),
        ("gpu-box:11500", "http://gpu-box:11500"),
        ("http://gpu-box", "http://gpu-box:80"),
        ("https://ollama.example.org/", "https://ollama.example.org:443"),
        ("HTTP://127.0.0.1:11434/", "http://127.0.0.1:11434"),
        ("http://proxy.lan:8000/ollama", "http://proxy.lan:8000/ollama"),
        ("[::]:11434", "http://[::1]:11434"),
        ("[fd00::2]", "http://[fd00::2]:11434"),
    ],
)
def test_ollama_host_is_read_as_ollama_reads_it(host, url):
    assert ollama_url(host) == url


def test_a_bad_ollama_host_is_one_sentence():
    with pytest.raises(ConfigError, match=r"OLLAMA_HOST='gpu-box:port' is not a host, host:port or URL"):
        ollama_url("gpu-box:port")


def test_embedding_only_models_are_not_chat_models():
    assert is_chat_model(LLAMA) and is_chat_model(QWEN)
    assert not is_chat_model(EMBEDDER)
    assert not is_chat_model({"name": "mxbai-embed-large:latest", "details": {"family": "bert"}})
    assert not is_chat_model({"name": "bge-m3:latest", "details": {"family": "bert"}})


def test_with_no_key_auto_writes_the_script_with_the_ollama_that_answers(ollama):
    ollama.openai.chat.append(good_script(title="Octopus tricks from the fake Ollama"))

    choices = choose_providers(REQUEST, Settings())
    script_choice = choices["script"]
    assert script_choice.name == "ollama"
    assert script_choice.reason == f"Ollama answered at {ollama.root}; model llama3.2:latest"  # the embedder is skipped
    assert {c.name for step, c in choices.items() if step != "script"} == {"offline"}

    writer = build_provider("script", "ollama", Settings())
    script = writer.write(REQUEST)

    assert script.title == "Octopus tricks from the fake Ollama" and writer.name == "ollama"
    (body,) = ollama.openai.bodies("/chat/completions")
    assert body["model"] == "llama3.2:latest" and body["response_format"]["type"] == "json_schema"
    assert ollama.paths() == ["/api/tags", "/v1/chat/completions"]  # probed once for the choice and the writer


def test_a_server_without_structured_output_gets_json_mode(ollama, caplog):
    ollama.openai.structured_output = False
    ollama.openai.chat.append(good_script(title="Camouflage, in JSON mode"))

    with caplog.at_level(logging.WARNING, logger="shorts"):
        script = build_provider("script", "ollama", Settings()).write(REQUEST)

    assert script.title == "Camouflage, in JSON mode"
    kinds = [b["response_format"]["type"] for b in ollama.openai.bodies("/chat/completions")]
    assert kinds == ["json_schema", "json_object"]
    assert "rejected structured output for llama3.2:latest" in caplog.text


def test_the_model_setting_picks_an_installed_model(ollama, monkeypatch):
    ollama.models = [LLAMA, QWEN]
    monkeypatch.setenv("SHORTS_OLLAMA_MODEL", "qwen2.5:7b")
    assert choose_provider("script", REQUEST, Settings()).reason.endswith("; model qwen2.5:7b")

    ollama.openai.chat.append(good_script())
    build_provider("script", "ollama", Settings()).write(REQUEST)
    assert ollama.openai.bodies("/chat/completions")[0]["model"] == "qwen2.5:7b"


def test_a_model_setting_that_is_not_installed_is_one_sentence(ollama, monkeypatch):
    monkeypatch.setenv("SHORTS_OLLAMA_MODEL", "mistral")
    with pytest.raises(ConfigError) as caught:
        choose_providers(REQUEST, Settings())
    assert str(caught.value) == (
        f"SHORTS_OLLAMA_MODEL='mistral' is not installed in the Ollama at {ollama.root}; "
        "run `ollama pull mistral`, or unset it to use the first installed model."
    )


def test_an_ollama_with_only_embedding_models_leaves_the_template_script(ollama):
    ollama.models = [EMBEDDER]
    choice = choose_provider("script", REQUEST, Settings())
    assert choice.name == "offline"
    assert choice.reason == f"no OPENAI_API_KEY set; the Ollama at {ollama.root} has no chat model installed"
    with pytest.raises(ConfigError, match="has no chat model installed; run `ollama pull llama3.2`"):
        build_provider("script", "ollama", Settings())


def test_without_an_ollama_the_template_script_says_where_it_looked(no_ollama_host):
    choice = choose_provider("script", REQUEST, Settings())
    assert (choice.name, choice.reason) == (
        "offline",
        f"no OPENAI_API_KEY set; no Ollama answered at http://{no_ollama_host}",
    )
    with pytest.raises(
        ConfigError,
        match=rf"No Ollama answered at http://{no_ollama_host} to write the script; "
        r"start it \(`ollama serve`\)",
    ):
        build_provider("script", "ollama", Settings())


def test_a_server_that_never_answers_does_not_hold_the_run(monkeypatch):
    """A listener that accepts and stays silent: the probe gives up after SHORTS_OLLAMA_PROBE_SECONDS."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setenv("SHORTS_OLLAMA_PROBE_SECONDS", "0.05")
        done = threading.Event()
        found: list = []
        worker = threading.Thread(
            target=lambda: (found.append(choose_provider("script", REQUEST, Settings())), done.set()), daemon=True
        )
        worker.start()
        assert done.wait(30), "the probe did not give up"
    assert found[0].name == "offline" and "no Ollama answered" in found[0].reason


def test_an_ollama_error_names_ollama_and_its_host_setting(ollama):
    writer = build_provider("script", "ollama", Settings())
    ollama.models = []  # the model was removed (`ollama rm`) after the run chose it
    with pytest.raises(ConfigError) as caught:
        writer.write(REQUEST)
    message = str(caught.value)
    assert message.startswith("The Ollama server answered 404 while writing the script (llama3.2:latest)")
    assert "OLLAMA_HOST" in message and "OPENAI" not in message


def test_a_key_wins_and_ollama_is_not_asked(ollama, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-ollama-test")
    assert choose_provider("script", REQUEST, Settings()).name == "openai"
    assert ollama.paths() == []


def test_moderation_is_skipped_for_an_ollama_script(ollama):
    """Moderation is OpenAI's endpoint; with no OPENAI_API_KEY nothing is sent to it, nor to Ollama."""
    ollama.openai.chat.append(good_script())
    script = build_provider("script", "ollama", Settings()).write(REQUEST)
    check = moderate_script(script, Settings())
    assert (check.checked, check.skipped) == (0, "no OPENAI_API_KEY")
    assert "/moderations" not in ollama.openai.paths() and all("moderations" not in p for p in ollama.paths())


def test_doctor_names_the_ollama_and_the_model_scripts_would_use(ollama):
    from typer.testing import CliRunner

    from flows.cli import app

    ollama.models = [LLAMA, QWEN, EMBEDDER]
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert f"script  provider: ollama (Ollama answered at {ollama.root}; model llama3.2:latest)" in result.output
    assert (
        f"Ollama: answered at {ollama.root}; chat models llama3.2:latest, qwen2.5:7b; scripts would use llama3.2:latest"
    ) in result.output


def test_doctor_says_when_no_ollama_answers_or_its_model_is_missing(ollama, monkeypatch, no_ollama_host):
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setenv("SHORTS_OLLAMA_MODEL", "mistral")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # one line and exit 1, no traceback
    assert f"providers: SHORTS_OLLAMA_MODEL='mistral' is not installed in the Ollama at {ollama.root}" in result.output
    assert "Traceback" not in result.output

    monkeypatch.setenv("OLLAMA_HOST", no_ollama_host)
    monkeypatch.delenv("SHORTS_OLLAMA_MODEL")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0
    assert f"Ollama: none answered at http://{no_ollama_host}" in result.output
