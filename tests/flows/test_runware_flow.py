"""`shorts make --video runware` through Prefect, against the fake Runware via RUNWARE_BASE_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fakes.runware import KEY, FakeRunware

from pipeline.media.probe import video_size

SHORTS = str(Path(sys.executable).parent / "shorts")


@pytest.mark.flow
def test_make_with_runware_clips_reports_the_dollars(monkeypatch, on_prefect_server):
    with FakeRunware() as fake:
        monkeypatch.setenv("RUNWARE_API_KEY", KEY)
        monkeypatch.setenv("RUNWARE_BASE_URL", fake.url)
        monkeypatch.setenv("SHORTS_RUNWARE_POLL_SECONDS", "0.02")
        result = subprocess.run(
            [SHORTS, "make", "octopus camouflage", "--seconds", "6", "--scenes", "2", "--video", "runware", "--json"],
            capture_output=True,
            text=True,
            timeout=400,
            env=os.environ,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    short = json.loads(result.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())

    clips = fake.seen("videoInference")
    assert len(clips) == 2 and {c["model"] for c in clips} == {"klingai:6@1"}
    assert {c["task_id"] for c in manifest["clips"]} == {c["taskUUID"] for c in clips}
    assert [c["cost"]["usd"] for c in manifest["clips"]] == [0.35, 0.35]
    assert short["cost"]["usd"] == manifest["cost"]["usd"] == 0.7 and short["cost"]["credits"] == 0
    assert short["providers"]["video"] == "runware" and "estimated cost: up to 0 credits and $0.70" in result.stderr
    assert video_size(Path(short["video"])) == (144, 256)  # Runware's 1080x1920, scaled to the tests' format
    assert KEY not in result.stderr + result.stdout + Path(short["manifest"]).read_text()
    # The run's cost table in the Prefect UI shows the dollars too.
    with httpx.Client(base_url=on_prefect_server, timeout=30) as client:
        tables = client.post(
            "/artifacts/filter",
            json={"artifacts": {"key": {"any_": ["cost-octopus-camouflage"]}}, "sort": "CREATED_DESC", "limit": 1},
        )  # this run's
    rows = json.loads(tables.json()[0]["data"])
    assert [row["clip $"] for row in rows] == [0.35, 0.35, 0.7] and rows[-1]["scene"] == "total"
