"""`shorts make --video runway --image runway` through Prefect, against the fake Runway via RUNWAYML_BASE_URL;
and Ctrl-C while the clips are made."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fakes.runway import KEY, FakeRunway
from reliability import remote_tasks, run_env
from shorts_process import ShortsProcess

SHORTS = str(Path(sys.executable).parent / "shorts")


@pytest.mark.flow
def test_make_with_runway_frames_and_clips_reports_the_credits(monkeypatch, on_prefect_server):
    monkeypatch.delenv("RUNWAY_API_KEY", raising=False)
    fake = FakeRunway().start()
    try:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        # A Runway key alone also picks Runway's voice; this test is about frames and clips, so the voice stays offline.
        monkeypatch.setenv("SHORTS_VOICE_PROVIDER", "espeak")
        monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
        monkeypatch.setenv("SHORTS_RUNWAY_POLL_SECONDS", "0.02")
        monkeypatch.setenv("SHORTS_RUNWAY_REFERENCE_FIRST_FRAME", "true")
        # Each Runway task holds a slot of a Prefect global concurrency limit shared by all workers.
        monkeypatch.setenv("SHORTS_RUNWAY_LIMIT", "runway-shared")
        httpx.post(
            f"{on_prefect_server}/v2/concurrency_limits/", json={"name": "runway-shared", "limit": 1}, timeout=10
        ).raise_for_status()
        result = subprocess.run(
            [
                SHORTS,
                "make",
                "octopus camouflage",
                "--seconds",
                "6",
                "--scenes",
                "2",
                "--video",
                "runway",
                "--image",
                "runway",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=400,
            env=os.environ,
        )
    finally:
        fake.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    short = json.loads(result.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())

    clips = [r["body"] for r in fake.seen("POST", "/v1/image_to_video")]
    assert len(clips) == 2 and {c["ratio"] for c in clips} == {"720:1280"}
    frames = [r["body"] for r in fake.seen("POST", "/v1/text_to_image")]
    assert len(frames) == 2 and "referenceImages" not in frames[0]  # scene 2 is drawn to look like scene 1
    assert [r["tag"] for r in frames[1]["referenceImages"]] == ["scene1"]
    assert {c["task_id"] for c in manifest["clips"]} == {
        t.id for t in fake.tasks.values() if t.kind == "image_to_video"
    }
    assert [c["cost"]["credits"] for c in manifest["clips"]] == [15, 15]
    assert short["cost"]["credits"] == manifest["cost"]["credits"] >= 30
    assert short["providers"]["video"] == "runway" and "RUNNING" in result.stderr  # progress is shown
    assert KEY not in result.stderr + result.stdout + Path(short["manifest"]).read_text()
    limit = httpx.get(f"{on_prefect_server}/v2/concurrency_limits/runway-shared", timeout=10).json()
    assert limit["active_slots"] == 0  # each task's slot was given back


@pytest.mark.flow
def test_a_named_prefect_limit_that_does_not_exist_stops_before_paying(monkeypatch, on_prefect_server):
    fake = FakeRunway().start()
    try:
        monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
        # A Runway key alone also picks Runway's voice; this test is about frames and clips, so the voice stays offline.
        monkeypatch.setenv("SHORTS_VOICE_PROVIDER", "espeak")
        monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
        monkeypatch.setenv("SHORTS_RUNWAY_LIMIT", "no-such-limit")
        result = subprocess.run(
            [SHORTS, "make", "limits", "--seconds", "5", "--scenes", "1", "--video", "runway"],
            capture_output=True,
            text=True,
            timeout=400,
            env=os.environ,
        )
    finally:
        fake.stop()
    assert result.returncode == 1 and "no-such-limit" in result.stderr.splitlines()[-1]
    assert fake.seen("POST", "/v1/image_to_video") == [] and fake.seen("POST", "/v1/text_to_image") == []


@pytest.mark.flow
def test_ctrl_c_while_clips_run_leaves_them_to_finish_and_the_rerun_buys_nothing(on_prefect_server, tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    fake = FakeRunway().start()
    try:
        env = run_env(
            home,
            out,
            on_prefect_server,
            RUNWAYML_API_SECRET=KEY,
            RUNWAYML_BASE_URL=fake.url,
            SHORTS_RUNWAY_POLL_SECONDS="0.05",
            SHORTS_VOICE_PROVIDER="espeak",
        )
        make = (
            "make",
            "octopus ink",
            "--seconds",
            "6",
            "--scenes",
            "2",
            "--image",
            "offline",
            "--video",
            "runway",
            "--json",
        )
        fake.outcomes = ["HOLD", "HOLD"]
        run = ShortsProcess(*make, env=env, cwd=tmp_path)
        try:
            run.wait_for(r"scene \d clip: Runway task \S+ RUNNING", count=2)
            run.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            assert run.finish(120) == 130, run.stderr[-3000:]
        finally:
            run.process.poll() is None and run.kill()
        clips = [t for t in fake.tasks.values() if t.kind == "image_to_video"]
        assert fake.seen("DELETE") == [] and {t.status for t in clips} == {"RUNNING"}  # already billed: kept
        left = run.matching(
            r"Left running, as they may already be billed: .*the next run of the same command "
            r"collects them without a new charge"
        )
        assert left and all(f"Runway task {t.id}" in " ".join(left) for t in clips), run.stderr[-3000:]
        assert [t["status"] for t in remote_tasks(home)] == ["in_flight"] * 2

        for task in clips:
            fake.finish(task.id)  # Runway finished them while nobody was waiting
        rerun = ShortsProcess(*make, env=env, cwd=tmp_path)
        assert rerun.finish() == 0, rerun.stderr[-3000:]
    finally:
        fake.stop()
    assert len(fake.seen("POST", "/v1/image_to_video")) == 2  # collected by the rerun, not bought again
    manifest = json.loads(Path(json.loads(rerun.stdout)["manifest"]).read_text())
    assert {c["task_id"] for c in manifest["clips"]} == {t.id for t in clips}
    assert [t["status"] for t in remote_tasks(home)] == ["done"] * 2
