"""Two machines, one Short: workers with separate SHORTS_HOMEs against one Prefect server, sharing a real Postgres
(the ledger, its locks) and a local S3-compatible server (assets, Prefect's result records).

Killed on one machine in the middle of paid clips, the Short is finished on the other without paying again; two
machines started on the same Short at once buy each frame and clip once. The fake Runway counts what was bought.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from fakes.runway import KEY as RUNWAY_KEY
from fakes.runway import FakeRunway
from reliability import run_env, temporaries
from s3_server import AWS_ENV
from shorts_process import ShortsProcess

# The Prefect server is shared by the session's tests: a topic of its own keeps this test's runs countable.
TOPIC = "why octopuses change colour"


def make(topic: str) -> tuple[str, ...]:
    return ("make", topic, "--seconds", "6", "--scenes", "2", "--image", "runway", "--video", "runway", "--json")


def machine(root: Path, name: str, api: str, runway: FakeRunway, database: str, store: str,
            endpoint: str) -> dict[str, str]:
    """The environment of one worker machine: its own home and output folder, the shared servers."""
    return run_env(root / name / "home", root / name / "out", api, RUNWAYML_API_SECRET=RUNWAY_KEY,
                   RUNWAYML_BASE_URL=runway.url, SHORTS_RUNWAY_POLL_SECONDS="0.05", SHORTS_DATABASE_URL=database,
                   SHORTS_STORE_URL=store, AWS_ENDPOINT_URL=endpoint, **AWS_ENV)


def shared_tasks(database: str) -> list[tuple[str, str]]:
    """(kind, status) of every remote task in the shared ledger."""
    with psycopg.connect(database) as db:
        return db.execute("SELECT kind, status FROM remote_tasks ORDER BY row").fetchall()


@pytest.fixture
def runway():
    fake = FakeRunway().start()
    yield fake
    fake.stop()


@pytest.mark.flow
def test_killed_on_one_machine_the_short_is_finished_on_another_without_paying_twice(
        on_prefect_server, postgres_url, s3_store_url, s3_endpoint, runway, tmp_path):
    env = {name: machine(tmp_path, name, on_prefect_server, runway, postgres_url, s3_store_url, s3_endpoint)
           for name in ("a", "b")}
    runway.outcomes = ["SUCCEEDED", "SUCCEEDED", "HOLD", "HOLD"]  # the first frames, then both clips held RUNNING
    first = ShortsProcess(*make(TOPIC), env=env["a"], cwd=tmp_path)
    try:
        first.wait_for(r"scene \d clip: Runway task \S+ RUNNING", count=2)
    finally:
        first.kill()  # machine A is gone in the middle of the paid clips
    shutil.rmtree(tmp_path / "a")  # and its disk with it: machine B can only use what is shared
    for task in list(runway.tasks.values()):
        runway.finish(task.id)  # Runway went on working

    second = ShortsProcess(*make(TOPIC), env=env["b"], cwd=tmp_path)
    assert second.finish() == 0, second.stderr[-4000:]
    short = json.loads(second.stdout)

    # Each frame and each clip billed once, whichever machine asked.
    assert len(runway.seen("POST", "/v1/text_to_image")) == 2
    assert len(runway.seen("POST", "/v1/image_to_video")) == 2
    assert len(second.matching(r"clip: resuming Runway task \S+ from an earlier run")) == 2
    assert shared_tasks(postgres_url) == [("first frame", "done")] * 2 + [("clip", "done")] * 2
    assert second.matching(r"reused from an earlier run")  # machine A's script, found in the bucket's records
    assert not (tmp_path / "b" / "home" / "ledger.sqlite").exists()

    # The Short is complete, and its link opens the video from the bucket, on any machine.
    video = Path(short["video"])
    assert video.is_file() and video.is_relative_to(tmp_path / "b" / "out")
    assert httpx.get(short["video_url"], timeout=30).content == video.read_bytes()
    manifest = json.loads(Path(short["manifest"]).read_text())
    assert {c["task_id"] for c in manifest["clips"]} == {t.id for t in runway.tasks.values()
                                                        if t.kind == "image_to_video"}
    with httpx.Client(base_url=on_prefect_server, timeout=30) as client:
        runs = client.post("/flow_runs/filter", json={"flow_runs": {"name": {"any_": [TOPIC]}}}).json()
        links = client.post("/artifacts/filter",
                            json={"artifacts": {"key": {"any_": ["video-why-octopuses-change-colour"]}}}).json()
    assert len(runs) == 2 and len(links) == 1 and f"]({short['video_url']})" in links[0]["data"]
    assert temporaries(tmp_path) == []


@pytest.mark.flow
def test_two_machines_on_the_same_short_at_once_buy_each_clip_once(
        on_prefect_server, postgres_url, s3_store_url, s3_endpoint, runway, tmp_path):
    env = {name: machine(tmp_path, name, on_prefect_server, runway, postgres_url, s3_store_url, s3_endpoint)
           for name in ("a", "b")}
    runway.outcomes = ["HOLD"] * 4  # every task RUNNING until both machines have reached it
    runs = [ShortsProcess(*make("how bees dance"), env=env[name], cwd=tmp_path) for name in ("a", "b")]
    try:
        for wanted in ("first frame", "clip"):
            _wait_until_one_works_and_the_other_waits(runs, runway, wanted)
            for task in list(runway.tasks.values()):
                runway.finish(task.id)
        codes = [run.finish() for run in runs]
    finally:
        for run in runs:
            if run.process.poll() is None:
                run.kill()
    assert codes == [0, 0], "\n\n".join(run.stderr[-3000:] for run in runs)
    assert len(runway.seen("POST", "/v1/text_to_image")) == 2
    assert len(runway.seen("POST", "/v1/image_to_video")) == 2
    assert shared_tasks(postgres_url) == [("first frame", "done")] * 2 + [("clip", "done")] * 2
    shorts = [json.loads(run.stdout) for run in runs]
    assert Path(shorts[0]["video"]).read_bytes() == Path(shorts[1]["video"]).read_bytes()


def _wait_until_one_works_and_the_other_waits(runs: list[ShortsProcess], runway: FakeRunway, what: str) -> None:
    """Both scenes' `what` tasks RUNNING at Runway, and a run waiting for another's (a step or a paid job)."""
    def progress() -> tuple[int, int]:
        running = sum(len(run.matching(rf"scene \d {what}: Runway task \S+ RUNNING")) for run in runs)
        waiting = sum(len(run.matching(r"waiting for (another run|the same runway task)")) for run in runs)
        return running, waiting

    deadline = time.monotonic() + 240
    while (now := progress())[0] < 2 or now[1] < 1:
        assert all(run.process.poll() is None for run in runs), "\n\n".join(r.stderr[-3000:] for r in runs)
        assert time.monotonic() < deadline, f"{now}\n" + "\n\n".join(r.stderr[-3000:] for r in runs)
        time.sleep(0.1)
