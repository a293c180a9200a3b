"""`shorts make --voice elevenlabs` through Prefect, against the fake ElevenLabs via ELEVENLABS_BASE_URL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.elevenlabs import KEY, FakeElevenLabs

SHORTS = str(Path(sys.executable).parent / "shorts")


def srt_starts(text: str) -> list[float]:
    """The start of every SubRip cue, in seconds."""
    return [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
            for h, m, s, ms in re.findall(r"^(\d+):(\d+):(\d+),(\d+) -->", text, re.M)]


@pytest.mark.flow
def test_make_with_elevenlabs_times_the_captions_and_reports_the_characters(monkeypatch, on_prefect_server):
    with FakeElevenLabs() as fake:
        monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
        monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.root)
        result = subprocess.run([SHORTS, "make", "octopus camouflage", "--seconds", "6", "--scenes", "2",
                                 "--voice", "elevenlabs", "--json"], capture_output=True, text=True, timeout=400,
                                env=os.environ)
    assert result.returncode == 0, result.stderr[-3000:]
    short = json.loads(result.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())

    narrations = manifest["narrations"]
    texts = [n["body"]["text"] for n in fake.posts()]
    assert len(texts) == 2 and short["providers"]["voice"] == "elevenlabs"
    assert short["cost_characters"] == manifest["cost_characters"] == sum(map(len, texts)) > 0
    assert sorted(n["characters"] for n in narrations) == sorted(map(len, texts))
    assert f"and {sum(map(len, texts))} characters of speech" in result.stderr  # the estimate, before anything is made
    # Scene 1's captions start where the fake's uneven clock put its words (scene 2's are offset by scene 1's length).
    spoken = {" ".join(words): spans for words, spans in fake.spoken}
    first = narrations[0]
    spans = spoken[" ".join(w["word"] for w in first["words"])]
    assert first["timing"] == "voice"
    onsets = [start for start, _ in spans]
    starts = [t for t in srt_starts(Path(short["captions"]).read_text()) if t < first["seconds"] - 0.05]
    assert starts and all(min(abs(t - onset) for onset in onsets) < 0.1 for t in starts)
    assert KEY not in result.stderr + result.stdout + Path(short["manifest"]).read_text()
