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

from pipeline.speech_text import spoken_text

SHORTS = str(Path(sys.executable).parent / "shorts")


def srt_starts(text: str) -> list[float]:
    """The start of every SubRip cue, in seconds."""
    return [
        int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
        for h, m, s, ms in re.findall(r"^(\d+):(\d+):(\d+),(\d+) -->", text, re.M)
    ]


@pytest.mark.flow
def test_make_with_elevenlabs_times_the_captions_and_reports_the_characters(monkeypatch, on_prefect_server):
    with FakeElevenLabs() as fake:
        monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
        monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.root)
        result = subprocess.run(
            [
                SHORTS,
                "make",
                "octopus camouflage",
                "--seconds",
                "6",
                "--scenes",
                "2",
                "--voice",
                "elevenlabs",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=400,
            env=os.environ,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    short = json.loads(result.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())

    narrations = manifest["narrations"]
    texts = [n["body"]["text"] for n in fake.posts()]
    assert len(texts) == 2 and short["providers"]["voice"] == "elevenlabs"
    assert short["cost"]["characters"] == manifest["cost"]["characters"] == sum(map(len, texts)) > 0
    assert sorted(n["cost"]["characters"] for n in narrations) == sorted(map(len, texts))
    assert f"and {sum(map(len, texts))} characters of speech" in result.stderr  # the estimate, before anything is made
    # Scene 1's captions start where the fake's uneven clock put its words (scene 2's are offset by scene 1's length).
    spoken = {" ".join(words): spans for words, spans in fake.spoken}
    first = narrations[0]
    spans = spoken[spoken_text(" ".join(w["word"] for w in first["words"]))[0]]  # the voice hears "6" as "six"
    assert first["timing"] == "voice"
    onsets = [start for start, _ in spans]
    # Scene 2 starts after scene 1's last word ends (and its audio's leading silence after that).
    starts = [t for t in srt_starts(Path(short["captions"]).read_text()) if t < spans[-1][1]]
    assert starts and all(min(abs(t - onset) for onset in onsets) < 0.1 for t in starts)
    assert KEY not in result.stderr + result.stdout + Path(short["manifest"]).read_text()


SPENDS = {"SHORT": "the Short's elevenlabs spend", "DAY": "the last 24 hours' elevenlabs spend"}


@pytest.mark.flow
@pytest.mark.parametrize("cap", ["SHORT", "DAY"])
def test_a_voice_billing_double_stops_the_run_at_the_cap_and_a_rerun_keeps_what_it_made(
    monkeypatch, on_prefect_server, cap
):
    """The fake bills 2 credits a character, which nothing knew: the run stops in one sentence before the Short's or
    the day's cap is passed, the speech already made stays in the asset store, and a rerun speaks only the scenes it
    lacks."""
    make = [SHORTS, "make", "octopus camouflage", "--seconds", "12", "--scenes", "4", "--voice", "elevenlabs", "--json"]
    with FakeElevenLabs() as fake:
        fake.multiplier = 2.0
        monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
        monkeypatch.setenv("ELEVENLABS_BASE_URL", fake.root)
        # Prefect's result records in this test's home: the other cap's run made the same narrations.
        monkeypatch.setenv("PREFECT_LOCAL_STORAGE_PATH", str(Path(os.environ["SHORTS_HOME"]) / "prefect-results"))
        monkeypatch.setenv(f"SHORTS_MAX_CHARACTERS_PER_{cap}", "300")  # the narration is 200-odd characters
        stopped = subprocess.run(make, capture_output=True, text=True, timeout=400, env=os.environ)
        first = [p["body"]["text"] for p in fake.posts()]
        kept = list((Path(os.environ["SHORTS_HOME"]) / "assets" / "voice").glob("*.wav"))

        monkeypatch.setenv(f"SHORTS_MAX_CHARACTERS_PER_{cap}", "1000")
        rerun = subprocess.run(make, capture_output=True, text=True, timeout=400, env=os.environ)
        texts = [p["body"]["text"] for p in fake.posts()]

    assert stopped.returncode == 1, stopped.stderr[-3000:]
    estimate = int(re.search(r"and (\d+) characters of speech", stopped.stderr)[1])  # before any rate was known
    assert estimate <= 300 < 2 * estimate  # within the cap at one a character, over it as billed
    [line] = [line for line in stopped.stderr.splitlines() if line.startswith("shorts: ")]
    assert re.search(
        rf"Scene \d: This narration would bring {SPENDS[cap]} to \d+ characters, "
        rf"over SHORTS_MAX_CHARACTERS_PER_{cap}=300; raise it or [a-z ]+, nothing was submitted\.$",
        line,
    ), line
    assert 1 <= len(first) < 4 and 2 * sum(map(len, first)) <= 300  # billed, and never past the cap
    assert len(kept) == len(first)  # the speech made before the stop is in the asset store

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"and {2 * estimate} characters of speech" in rerun.stderr  # now priced at the rate the voice billed
    assert sorted(texts) == sorted(set(texts)) and len(texts) == 4  # each scene spoken once over both runs
    assert json.loads(rerun.stdout)["cost"]["characters"] == 2 * sum(map(len, texts)) == 2 * estimate
