"""`shorts make --voice runway` through Prefect, against the fake Runway: a Short's narration spoken by Runway, paid
once across a SIGKILL and a rerun, its credits in the manifest and `--json`; and the credit cap refusing it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fakes.runway import KEY, FakeRunway
from reliability import check_finished_files, remote_tasks, run_env
from shorts_process import ShortsProcess

MAKE = (
    "make",
    "octopus ink",
    "--seconds",
    "6",
    "--scenes",
    "2",
    "--image",
    "offline",
    "--video",
    "offline",
    "--voice",
    "runway",
    "--json",
)
SPEECH = "/v1/text_to_speech"


@pytest.mark.flow
def test_a_short_spoken_by_runway_is_billed_once_across_a_kill_and_a_rerun(on_prefect_server, tmp_path):
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
        )
        fake.speech_outcomes = ["HOLD", "HOLD"]
        killed = ShortsProcess(*MAKE, env=env, cwd=tmp_path)
        try:
            killed.wait_for(r"narration .*: Runway task \S+ RUNNING", count=2)
        finally:
            killed.kill()  # SIGKILL while both speech tasks run: they are billed, and only the ledger knows them
        tasks = [t for t in fake.tasks.values() if t.kind == "text_to_speech"]
        assert len(tasks) == 2
        assert sorted((t["kind"], t["status"], t["task_id"]) for t in remote_tasks(home)) == sorted(
            ("narration", "in_flight", t.id) for t in tasks
        )
        for task in tasks:
            fake.finish(task.id)  # Runway finished them while nobody was waiting

        rerun = ShortsProcess(*MAKE, env=env, cwd=tmp_path)
        assert rerun.finish() == 0, rerun.stderr[-4000:]
    finally:
        fake.stop()

    posts = fake.seen("POST", SPEECH)
    assert len(posts) == 2 and fake.seen("DELETE") == []  # collected by the rerun, not bought again
    assert len(rerun.matching(r"narration .*: resuming Runway task \S+ from an earlier run")) == 2
    short = json.loads(rerun.stdout)
    manifest = json.loads(Path(short["manifest"]).read_text())
    credits = sorted(math.ceil(len(p["body"]["promptText"]) / 50) for p in posts)
    narrations = manifest["narrations"]
    assert sorted(n["cost"]["credits"] for n in narrations) == credits == sorted(t.credits for t in tasks)
    assert short["cost"]["credits"] == manifest["cost"]["credits"] == sum(credits)  # offline frames and clips are free
    assert {(n["provider"], n["voice"], n["timing"]) for n in narrations} == {("runway", "Maya", "pauses")}
    assert short["providers"]["voice"] == "runway"
    assert [t["status"] for t in remote_tasks(home)] == ["done"] * 2
    assert rerun.matching(rf"narration up to {sum(credits):g} credits")  # the storyboard's line says what it is
    assert check_finished_files(home, out) > 0
    assert KEY not in rerun.stderr + rerun.stdout + Path(short["manifest"]).read_text()


@pytest.mark.flow
def test_the_credit_cap_refuses_a_runway_narration_before_anything_is_spoken(on_prefect_server, tmp_path):
    fake = FakeRunway().start()
    try:
        # Under what any scene's speech is estimated at (1 credit per 50 characters begun), so nothing may be spoken.
        env = run_env(
            tmp_path / "home",
            tmp_path / "out",
            on_prefect_server,
            RUNWAYML_API_SECRET=KEY,
            RUNWAYML_BASE_URL=fake.url,
            SHORTS_RUNWAY_POLL_SECONDS="0.05",
            SHORTS_MAX_CREDITS_PER_SHORT="0.5",
        )
        run = ShortsProcess(*MAKE, env=env, cwd=tmp_path)
        assert run.finish() == 1, run.stderr[-3000:]
    finally:
        fake.stop()
    assert "over SHORTS_MAX_CREDITS_PER_SHORT=0.5" in run.lines[-1]
    assert fake.seen("POST", SPEECH) == [] and fake.tasks == {}
