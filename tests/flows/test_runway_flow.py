"""`shorts make --video runway --image runway` through Prefect, against the fake Runway via RUNWAYML_BASE_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fake_runway import KEY, FakeRunway

SHORTS = str(Path(sys.executable).parent / "shorts")


@pytest.mark.flow
def test_make_with_runway_frames_and_clips_reports_the_credits(monkeypatch, on_prefect_server):
    monkeypatch.delenv("RUNWAY_API_KEY", raising=False)
    fake = FakeRunway().start()
    try:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
        monkeypatch.setenv("SHORTS_RUNWAY_POLL_SECONDS", "0.02")
        # Each Runway task holds a slot of a Prefect global concurrency limit shared by all workers.
        monkeypatch.setenv("SHORTS_RUNWAY_LIMIT", "runway-shared")
        httpx.post(f"{on_prefect_server}/v2/concurrency_limits/", json={"name": "runway-shared", "limit": 1},
                   timeout=10).raise_for_status()
        result = subprocess.run([SHORTS, "make", "octopus camouflage", "--seconds", "6", "--scenes", "2",
                                 "--video", "runway", "--image", "runway", "--json"],
                                capture_output=True, text=True, timeout=400, env=os.environ)
    finally:
        fake.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    short = json.loads(result.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())

    clips = [r["body"] for r in fake.seen("POST", "/v1/image_to_video")]
    assert len(clips) == 2 and {c["ratio"] for c in clips} == {"720:1280"}
    assert len(fake.seen("POST", "/v1/text_to_image")) == 2
    assert {c["task_id"] for c in manifest["clips"]} == {t.id for t in fake.tasks.values() if t.kind == "image_to_video"}
    assert [c["cost_credits"] for c in manifest["clips"]] == [15, 15]
    assert short["cost_credits"] == manifest["cost_credits"] >= 30
    assert short["providers"]["video"] == "runway" and "RUNNING" in result.stderr  # progress is shown
    assert KEY not in result.stderr + result.stdout + Path(short["manifest"]).read_text()
    limit = httpx.get(f"{on_prefect_server}/v2/concurrency_limits/runway-shared", timeout=10).json()
    assert limit["active_slots"] == 0  # each task's slot was given back


@pytest.mark.flow
def test_a_named_prefect_limit_that_does_not_exist_stops_before_paying(monkeypatch, on_prefect_server):
    fake = FakeRunway().start()
    try:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
        monkeypatch.setenv("SHORTS_RUNWAY_LIMIT", "no-such-limit")
        result = subprocess.run([SHORTS, "make", "limits", "--seconds", "5", "--scenes", "1", "--video", "runway"],
                                capture_output=True, text=True, timeout=400, env=os.environ)
    finally:
        fake.stop()
    assert result.returncode == 1 and "no-such-limit" in result.stderr.splitlines()[-1]
    assert fake.seen("POST", "/v1/image_to_video") == [] and fake.seen("POST", "/v1/text_to_image") == []
