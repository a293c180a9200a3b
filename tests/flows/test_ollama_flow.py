"""`shorts make` with no key and a (fake) Ollama answering on loopback: the script comes from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.ollama import FakeOllama
from fakes.openai import good_script

SHORTS = str(Path(sys.executable).parent / "shorts")


@pytest.mark.flow
def test_a_keyless_short_takes_its_script_from_the_ollama_that_answers(monkeypatch, on_prefect_server):
    with FakeOllama() as fake:
        fake.openai.chat.append(good_script(title="What the fake Ollama wrote"))
        monkeypatch.setenv("OLLAMA_HOST", fake.host)
        result = subprocess.run(
            [SHORTS, "make", "octopus camouflage", "--seconds", "10", "--scenes", "2", "--json"],
            capture_output=True,
            text=True,
            timeout=400,
            env=os.environ,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    short = json.loads(result.stdout)

    assert f"script  provider: ollama (Ollama answered at {fake.root}; model llama3.2:latest)" in result.stderr
    script = json.loads(Path(short["script"]).read_text())
    assert script["title"] == "What the fake Ollama wrote" and script["scenes"][1]["narration"].endswith("scene2.")
    assert short["providers"] == {"script": "ollama", "image": "offline", "video": "offline", "voice": "offline"}
    manifest = json.loads(Path(short["manifest"]).read_text())
    assert manifest["moderation"]["skipped"] == "no OPENAI_API_KEY"  # OpenAI's endpoint; never sent to Ollama
    assert fake.paths().count("/api/tags") == 1 and fake.paths().count("/v1/chat/completions") == 1
