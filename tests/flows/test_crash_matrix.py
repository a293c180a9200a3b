"""Kill `shorts make` (SIGKILL) at step boundaries and in the middle of slow steps, then run it again.

Against the fakes: Runway draws the first frames, Runware animates the clips, YouTube takes the upload; the script
and narration are offline; the format is tiny. The kill points form a chain: each rerun is the next kill's victim,
so N kill points cost N + 1 runs, not 2N. Each kill point is found from the run's own stderr lines (a step's
"▶"/"✓" line, a task's status line) or from a fake holding a request, never by sleeping. After every kill, whatever
looks finished must open whole; the last run must finish with no paid call made twice (Runway and Runware task
creations, YouTube video inserts), no temporary file left and no lock file left behind.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import pytest
from fakes.runware import KEY as RUNWARE_KEY
from fakes.runware import FakeRunware
from fakes.runway import KEY as RUNWAY_KEY
from fakes.runway import FakeRunway
from fakes.youtube import ACCESS_TOKEN, FakeYouTube
from reliability import check_finished_files, remote_tasks, run_env, save_youtube_token, temporaries
from shorts_process import ShortsProcess

MAKE = (
    "make",
    "octopus ink clouds",
    "--seconds",
    "6",
    "--scenes",
    "2",
    "--image",
    "runway",
    "--video",
    "runware",
    "--upload",
    "--json",
)


@pytest.mark.flow
def test_killed_anywhere_a_rerun_finishes_and_nothing_is_paid_twice(on_prefect_server, tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    save_youtube_token(home, ACCESS_TOKEN)
    with ExitStack() as stack:
        runway, runware, youtube = FakeRunway().start(), stack.enter_context(FakeRunware()), FakeYouTube()
        stack.callback(runway.stop)
        stack.callback(youtube.stop)
        env = run_env(
            home,
            out,
            on_prefect_server,
            RUNWAYML_API_SECRET=RUNWAY_KEY,
            RUNWAYML_BASE_URL=runway.url,
            SHORTS_RUNWAY_POLL_SECONDS="0.05",
            RUNWARE_API_KEY=RUNWARE_KEY,
            RUNWARE_BASE_URL=runware.url,
            SHORTS_RUNWARE_POLL_SECONDS="0.05",
            SHORTS_YOUTUBE_API_URL=youtube.url,
            SHORTS_VOICE_PROVIDER="espeak",
        )  # a Runway key alone would also pick Runway's (paid) voice

        def run() -> ShortsProcess:
            process = ShortsProcess(*MAKE, env=env, cwd=tmp_path)
            stack.callback(lambda: process.process.poll() is None and process.kill())
            return process

        def kill(process: ShortsProcess) -> None:
            process.kill()
            check_finished_files(home, out)  # whatever looks finished opens whole

        # 1. A step boundary: the script is written, nothing is paid for yet.
        boundary = run()
        boundary.wait_for(r"✓ script")
        kill(boundary)

        # 2. Waiting on Runway: it holds both first frames RUNNING; their task ids are in the ledger already.
        runway.outcomes = ["HOLD", "HOLD"]
        frames = run()
        frames.wait_for(r"scene \d first frame: Runway task \S+ RUNNING", count=2)
        kill(frames)
        assert [(t["provider"], t["status"]) for t in remote_tasks(home)] == [("runway", "in_flight")] * 2
        for task in runway.tasks.values():
            runway.finish(task.id)  # Runway went on working while we were dead

        # 3. Waiting on Runware: the frames are resumed (not bought again), then it holds both clips processing.
        runware.outcomes = ["hold", "hold"]
        clips = run()
        clips.wait_for(r"scene \d clip: Runware task \S+ processing", count=2)
        kill(clips)
        assert len(clips.matching(r"first frame: resuming Runway task")) == 2
        assert [t["status"] for t in remote_tasks(home) if t["provider"] == "runware"] == ["in_flight"] * 2
        for task in runware.tasks.values():
            runware.finish(task.uuid)

        # Prefect writes its result records in place, so a kill mid-write leaves one cut short: cut them all. The
        # script and frames are then made again from the asset store, for free; the clips resume from the ledger.
        records = [p for p in (home / "prefect-results").rglob("*") if p.is_file()]
        assert records
        for record in records:
            record.write_bytes(record.read_bytes()[: record.stat().st_size // 2])

        # 4. In the middle of the render: the clips are fetched from Runware (not bought again), then the encoder
        # is killed with its video half-written under a temporary name.
        render = run()
        render.wait_for(r"render [1-9]0%")
        kill(render)
        assert len(render.matching(r"clip: checking Runware task \S+ from an earlier run")) == 2
        renders = home / "assets" / "renders"
        assert not [p for p in renders.glob("*.mp4") if not p.name.startswith(".")]  # killed before it finished
        assert temporaries(renders)

        # 5. In the middle of the upload: YouTube has taken part of the video when the uploader dies.
        youtube.stall_after = 4096
        upload = run()
        upload.wait_for(r"▶ publish")
        assert youtube.stalled.wait(120), upload.stderr[-3000:]
        kill(upload)
        youtube.release()
        assert youtube.inserts == 1 and youtube.videos == []

        last = run()
        assert last.finish() == 0, last.stderr[-4000:]

    short = json.loads(last.stdout)
    # Paid calls: two first frames from Runway, two clips from Runware, one video on YouTube, whatever the kills.
    assert len(runway.seen("POST", "/v1/text_to_image")) == 2 and runway.seen("POST", "/v1/image_to_video") == []
    assert len(runware.seen("videoInference")) == 2
    assert youtube.inserts == 1 and youtube.videos == ["fakeVid001"] and short["youtube_id"] == "fakeVid001"
    assert "resuming the interrupted YouTube upload" in last.stderr
    assert bytes(youtube.sessions["s1"].data) == Path(short["video"]).read_bytes()  # resumed, and whole

    manifest = json.loads(Path(short["manifest"]).read_text())
    assert {c["task_id"] for c in manifest["clips"]} == set(runware.tasks) and manifest["youtube_id"] == "fakeVid001"
    assert [t["status"] for t in remote_tasks(home)] == ["done"] * 4

    # Nothing half-written anywhere, no temporary file left, and no lock file left by the killed runs.
    assert check_finished_files(home, out) >= 10
    assert temporaries(home, out) == []
    assert not (home / "locks").exists() or list((home / "locks").iterdir()) == []
