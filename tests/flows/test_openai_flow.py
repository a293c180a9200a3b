"""`shorts make` with only OPENAI_API_KEY, through Prefect, against the fake OpenAI via OPENAI_BASE_URL: the offline
voice instead of OpenAI's dying one, priced first frames, and a gone model refused before anything is bought."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.openai import FakeOpenAI, error, good_script, serving

SHORTS = str(Path(sys.executable).parent / "shorts")
KEY = "fake-openai-key-for-tests"
PAID = ("/chat/completions", "/images/generations", "/audio/speech", "/audio/transcriptions")


def make(fake: FakeOpenAI, monkeypatch, *flags: str) -> subprocess.CompletedProcess:
    with serving(fake) as url:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        return subprocess.run(
            [SHORTS, "make", "octopus camouflage", "--seconds", "10", "--scenes", "2", "--json", *flags],
            capture_output=True,
            text=True,
            timeout=400,
            env=os.environ,
        )


@pytest.mark.flow
def test_an_openai_key_alone_makes_a_voiced_short_with_priced_frames_and_no_openai_speech(
    monkeypatch, on_prefect_server
):
    fake = FakeOpenAI()
    fake.chat.append(good_script(scenes=2))
    result = make(fake, monkeypatch)
    assert result.returncode == 0, result.stderr[-3000:]
    short = json.loads(result.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())

    assert "/audio/speech" not in fake.paths() and fake.paths().count("/images/generations") == 2
    # Each model is checked once, by `shorts make` before Prefect starts; the flow is told, and does not ask again.
    checked = [path for path in fake.paths() if path.startswith("/models/")]
    assert sorted(checked) == ["/models/gpt-5.4-mini", "/models/gpt-image-2"]
    assert short["providers"] == {"script": "openai", "image": "openai", "video": "offline", "voice": "offline"}
    assert "OpenAI shuts its speech models down on 2027-01-06" in result.stderr  # the provider line says why
    assert all(n["path"] and n["provider"] == "offline" for n in manifest["narrations"])  # voiced, offline
    # Two medium gpt-image-2 frames at $0.11: in --json, the manifest, each frame, and the storyboard's estimate.
    assert short["cost"]["usd"] == manifest["cost"]["usd"] == 0.22
    assert [f["cost"]["usd"] for f in manifest["frames"]] == [0.11, 0.11]
    assert "$0.22" in next(line for line in result.stderr.splitlines() if "storyboard" in line and "up to" in line)
    assert KEY not in result.stderr + result.stdout + Path(short["manifest"]).read_text()


@pytest.mark.flow
def test_a_gone_speech_model_stops_the_run_before_anything_is_bought(monkeypatch, on_prefect_server):
    fake = FakeOpenAI()
    fake.chat.append(good_script(scenes=2))
    del fake.models["gpt-4o-mini-tts"]  # /v1/models/gpt-4o-mini-tts answers 404
    fake.failures["/audio/speech"] = [error(404, "The model `gpt-4o-mini-tts` does not exist", "model_not_found")]
    result = make(fake, monkeypatch, "--voice", "openai")

    assert result.returncode == 2  # found before anything started: a setting to change
    last = result.stderr.strip().splitlines()[-1]
    assert "gpt-4o-mini-tts" in last and "--voice offline" in last and "Traceback" not in result.stderr
    assert not [p for p in fake.paths() if p in PAID]  # no script, no image, no speech


@pytest.mark.flow
def test_a_dollar_cap_below_the_frames_price_stops_the_run_before_the_first_image(monkeypatch, on_prefect_server):
    fake = FakeOpenAI()
    fake.chat.append(good_script(scenes=2))
    monkeypatch.setenv("SHORTS_MAX_USD_PER_SHORT", "0.2")
    result = make(fake, monkeypatch)

    assert result.returncode == 1
    assert "up to $0.22, over SHORTS_MAX_USD_PER_SHORT=0.2" in result.stderr.strip().splitlines()[-1]
    assert "/images/generations" not in fake.paths()
