"""`shorts voices` lists each provider's voices; `shorts doctor` says which voices work here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from fakes.edge import FakeEdge
from fakes.elevenlabs import KEY, FakeElevenLabs
from typer.testing import CliRunner

from flows.cli import app


@pytest.fixture
def online(monkeypatch):
    """Fake ElevenLabs and Edge services, reached through their settings."""
    with FakeElevenLabs() as eleven, FakeEdge() as edge:
        monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
        monkeypatch.setenv("ELEVENLABS_BASE_URL", eleven.root)
        monkeypatch.setenv("SHORTS_EDGE_URL", edge.ws_url)
        monkeypatch.setenv("SHORTS_EDGE_VOICES_URL", edge.voices_url)
        yield eleven


def test_voices_lists_every_provider_with_languages(online):
    result = CliRunner().invoke(app, ["voices"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "elevenlabs (2 voices; --voice elevenlabs --voice-name NAME):" in lines
    assert "  George (en-GB)  id JBFqnCBsd6RMkjVDRZzb" in lines
    assert "  Sarah - Confident (en-US, fr-FR)  id EXAVITQu4vr4xnSDxMaL" in lines
    assert "  en-US-EmmaMultilingualNeural (en-US)  Female" in lines and "  fr-FR-DeniseNeural (fr-FR)  Female" in lines
    assert "  coral (any)  needs OPENAI_API_KEY; shuts down 2027-01-06" in lines
    assert "  joe (en-US)  Piper; the default offline voice" in lines
    if shutil.which("espeak-ng"):
        assert "  en-us (en-us)  eSpeak NG English_(America)" in lines
    assert KEY not in result.output


def test_offline_voices_without_a_system_espeak_ng(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a fresh machine: no espeak-ng binary
    result = CliRunner().invoke(app, ["voices", "--provider", "offline"])
    assert result.exit_code == 0 and result.output.splitlines()[1:] == [
        "  joe (en-US)  Piper; the default offline voice",
        "  espeak-ng (about 100 languages)  eSpeak NG; its languages are listed when its binary is on PATH",
    ]


def test_listing_one_providers_voices_imports_no_other_vendors_sdk():
    # A subprocess, since this session has imported every SDK; offline lists from settings and PATH alone.
    code = (
        "import sys; from pipeline import Settings, list_voices; list_voices(Settings(), 'offline'); "
        "print(sorted(m for m in ('openai', 'runwayml', 'elevenlabs', 'edge_tts') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_voices_of_one_provider_and_a_provider_that_cannot_list(online, monkeypatch):
    result = CliRunner().invoke(app, ["voices", "--provider", "edge"])
    assert result.exit_code == 0 and result.output.splitlines()[0].startswith("edge (2 voices")
    assert "George" not in result.output and "coral" not in result.output

    monkeypatch.delenv("ELEVENLABS_API_KEY")
    result = CliRunner().invoke(app, ["voices", "--provider", "elevenlabs"])
    assert result.output == "elevenlabs: set ELEVENLABS_API_KEY to list the voices of your ElevenLabs account.\n"

    result = CliRunner().invoke(app, ["voices", "--provider", "robot"])
    assert result.exit_code == 2 and "'robot' is not a voice provider; use one of" in result.output


def test_doctor_says_which_voices_work_and_when_openai_speech_ends(online, monkeypatch):
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "voice   provider: elevenlabs (ELEVENLABS_API_KEY is set)" in result.output
    assert "ElevenLabs: key accepted, 2 voices; voice JBFqnCBsd6RMkjVDRZzb" in result.output
    assert "ends 2027-01-06, when OpenAI shuts its speech models down: `auto` no longer picks it" in result.output
    assert [r["path"] for r in online.requests] == ["/v1/voices"]  # one free call, nothing spoken

    monkeypatch.setenv("SHORTS_ELEVENLABS_VOICE", "Nobody")
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1 and "ElevenLabs has no voice named 'Nobody'" in result.output
