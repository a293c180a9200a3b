"""Two machines, one Short: separate SHORTS_HOMEs against one Prefect server, sharing a real Postgres (the ledger,
its locks) and a local S3-compatible server (assets, Prefect's result records).

The README's way first: a process work pool, the repository's own prefect.yaml deployed with `prefect deploy`, and
`prefect worker start` on each machine; a worker killed in the middle of paid clips, and the Short finished by
another worker without paying again. Then two machines (`shorts make` processes) started on the same Short at once,
which buy each frame and clip once. The fake Runway counts what was bought.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml
from fakes.runway import KEY as RUNWAY_KEY
from fakes.runway import FakeRunway
from local_prefect import alive, clean_env, wait_until
from reliability import run_env, temporaries
from s3_server import AWS_ENV
from shorts_process import ShortsProcess

from pipeline import short_folder, slug

PREFECT = str(Path(sys.executable).parent / "prefect")
CHECKOUT = Path(__file__).resolve().parents[2]  # where prefect.yaml is


def make(topic: str) -> tuple[str, ...]:
    return ("make", topic, "--seconds", "6", "--scenes", "2", "--image", "runway", "--video", "runway", "--json")


def machine(
    root: Path, name: str, api: str, runway: FakeRunway, database: str, store: str, endpoint: str
) -> dict[str, str]:
    """The environment of one worker machine: its own home and output folder, the shared servers."""
    return run_env(
        root / name / "home",
        root / name / "out",
        api,
        RUNWAYML_API_SECRET=RUNWAY_KEY,
        RUNWAYML_BASE_URL=runway.url,
        SHORTS_RUNWAY_POLL_SECONDS="0.05",
        SHORTS_DATABASE_URL=database,
        SHORTS_STORE_URL=store,
        AWS_ENDPOINT_URL=endpoint,
        SHORTS_VOICE_PROVIDER="espeak",
        **AWS_ENV,
    )


def shared_tasks(database: str, *more: str) -> list[tuple]:
    """(kind, status, *more) of every remote task in the shared ledger; none before the first run makes its tables."""
    with psycopg.connect(database) as db:
        try:
            return db.execute(
                f"SELECT {', '.join(('kind', 'status', *more))} FROM remote_tasks ORDER BY row"
            ).fetchall()
        except psycopg.errors.UndefinedTable:
            return []


@pytest.fixture
def runway():
    fake = FakeRunway().start()
    yield fake
    fake.stop()


def prefect(*args: str, env: dict[str, str]) -> str:
    """A `prefect` command as the README has a person type it, in the checkout; fails with its output."""
    done = subprocess.run([PREFECT, *args], env=env, cwd=CHECKOUT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"`prefect {' '.join(args)}` failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


class Pool:
    """README "Scaling out" steps 4 and 5 on the session's Prefect server: the `shorts` process pool, the
    repository's prefect.yaml deployed from the checkout, and a `prefect worker start` per machine."""

    def __init__(self, api: str, root: Path) -> None:
        self.root, self.api = root, httpx.Client(base_url=api, timeout=30)
        self.workers: list[subprocess.Popen] = []
        self.runs: list[str] = []
        self.deployments: dict[str, dict] = {}

    def deploy(self) -> None:
        env = clean_env(
            PREFECT_API_URL=str(self.api.base_url).rstrip("/"),
            PREFECT_HOME=str(self.root / "deployer" / "prefect"),
            SHORTS_HOME=str(self.root / "deployer" / "home"),
        )
        prefect("work-pool", "create", "shorts", "--type", "process", env=env)
        # The Runway limit every worker shares: 4, not the README's 2, since a killed run's slots stay taken until
        # Prefect's lease of them ends (5 minutes), and machine B needs two while machine A's two are still held.
        prefect("gcl", "create", "runway", "--limit", "4", env=env)
        # --all, as the README says: the daily deployment's schedule only makes runs for tomorrow's 09:00 in the
        # `daily` queue, which no worker here takes, and close() deletes them with the deployment.
        prefect("--no-prompt", "deploy", "--all", env=env)
        self.deployments = {d["name"]: d for d in self._deployed()}

    def _deployed(self) -> list[dict]:
        return self.api.post("/deployments/filter", json={"work_pools": {"name": {"any_": ["shorts"]}}}).json()

    def start_worker(self, name: str, env: dict[str, str]) -> subprocess.Popen:
        """A machine's worker, started in a folder of its own (not the checkout: prefect.yaml's pull step must find
        it through SHORTS_CHECKOUT), in its own session; its output and its flow runs' go to worker-NAME.log."""
        (self.root / name).mkdir(parents=True, exist_ok=True)
        env = {
            **env,
            "SHORTS_CHECKOUT": str(CHECKOUT),
            "PREFECT_HOME": str(self.root / name / "prefect"),
            "SHORTS_RUNWAY_LIMIT": "runway",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }  # take a new run within a second (the default polls every 10 s)
        with (self.root / f"worker-{name}.log").open("w") as out:
            worker = subprocess.Popen(
                [PREFECT, "worker", "start", "--pool", "shorts", "--work-queue", "default", "--limit", "2"],
                env=env,
                cwd=self.root / name,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(worker)
        return worker

    def log(self, name: str) -> str:
        return (self.root / f"worker-{name}.log").read_text(errors="replace")

    def make_short(self, topic: str) -> str:
        """A run of make-short-pool, as Custom run in the UI makes one; returns its id."""
        # eSpeak, the quickest offline voice: under load Piper's takes longer than the rest of the Short.
        request = {
            "topic": topic,
            "seconds": 6,
            "scenes": 2,
            "image_provider": "runway",
            "video_provider": "runway",
            "voice_provider": "espeak",
        }
        deployment = self.deployments["make-short-pool"]["id"]
        for _ in range(3):  # a busy server answers 503 when its database timed out, and the run was rolled back
            answer = self.api.post(
                f"/deployments/{deployment}/create_flow_run", json={"parameters": {"request": request}}
            )
            if answer.status_code != 503:
                break
            time.sleep(1)
        answer.raise_for_status()
        self.runs.append(answer.json()["id"])
        return self.runs[-1]

    def run(self, run_id: str) -> dict:
        return self.api.get(f"/flow_runs/{run_id}").json()

    def run_process(self, run_id: str) -> int | None:
        """The PID of the flow run's process on its worker's machine (the worker records it on the run)."""
        pid = self.run(run_id)["infrastructure_pid"]
        return int(str(pid).rsplit(":", 1)[-1]) if pid else None

    def logs(self, run_id: str) -> list[str]:
        """The run's log lines as the Prefect UI shows them."""
        body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 200}
        lines, offset = [], 0
        while page := self.api.post("/logs/filter", json={**body, "offset": offset}).json():
            lines += [entry["message"] for entry in page]
            offset += len(page)
        return lines

    def close(self) -> None:
        """Stop every worker and flow-run process started here, by PID, and take the pool, its deployments and the
        limit off the shared server (test_ui counts the deployments on it), however far deploy() got."""
        # SIGKILL: a Prefect 3.9.1 worker that has run a flow says "Received SIGINT" and goes on (seen here).
        for worker in self.workers:
            _kill_group(worker.pid)
            worker.wait(30)
        for run_id in self.runs:
            if (pid := self.run_process(run_id)) and alive(pid):
                _kill_group(pid)
        for deployment in self._deployed():
            self.api.delete(f"/deployments/{deployment['id']}")
        self.api.delete("/work_pools/shorts")
        self.api.delete("/v2/concurrency_limits/runway")
        self.api.close()


def _kill_group(pid: int) -> None:
    """SIGKILL a process we started and what it started in its session (a worker, or a worker's flow run: Prefect
    starts each run in a session of its own), as a power cut would."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # not a session of its own after all: the process alone
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def pool(on_prefect_server, tmp_path) -> Iterator[Pool]:
    pool = Pool(on_prefect_server, tmp_path)
    try:
        pool.deploy()
        yield pool
    finally:
        pool.close()


TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.mark.flow
def test_a_worker_killed_in_the_middle_of_paid_clips_another_worker_finishes_the_short_without_paying_twice(
    pool, on_prefect_server, postgres_url, s3_store_url, s3_endpoint, runway, tmp_path
):
    topic = "why squids glow in the dark"
    env = {
        name: machine(tmp_path, name, on_prefect_server, runway, postgres_url, s3_store_url, s3_endpoint)
        for name in ("a", "b")
    }
    runway.outcomes = ["SUCCEEDED", "SUCCEEDED", "HOLD", "HOLD"]  # the first frames, then both clips held RUNNING
    worker_a = pool.start_worker("a", env["a"])
    first = pool.make_short(topic)

    def both_clips_running() -> int | None:
        """The run's PID once Runway has both clips RUNNING and the shared ledger has both task ids."""
        assert worker_a.poll() is None, pool.log("a")[-4000:]
        assert pool.run(first)["state_type"] not in TERMINAL, pool.log("a")[-4000:]
        at_runway = [t for t in list(runway.tasks.values()) if t.kind == "image_to_video" and t.status == "RUNNING"]
        recorded = [row for row in shared_tasks(postgres_url, "task_id") if row[0] == "clip" and row[2]]
        return len(at_runway) == 2 and len(recorded) == 2 and pool.run_process(first)

    pid = wait_until(both_clips_running, 180, "both clips RUNNING at Runway", tmp_path / "worker-a.log")
    _kill_group(worker_a.pid)  # machine A is gone in the middle of the paid clips: its worker,
    worker_a.wait(30)
    _kill_group(pid)  # and the run's own process
    wait_until(lambda: not alive(pid), 30, "the killed run's process to end")
    shutil.rmtree(tmp_path / "a")  # and its disk with it: machine B can only use what is shared
    for task in list(runway.tasks.values()):
        runway.finish(task.id)  # Runway went on working

    worker_b = pool.start_worker("b", env["b"])
    second = pool.make_short(topic)

    def finished() -> dict | None:
        assert worker_b.poll() is None, pool.log("b")[-4000:]
        run = pool.run(second)
        return run if run["state_type"] in TERMINAL else None

    run = wait_until(finished, 240, "the second run to end", tmp_path / "worker-b.log")
    assert run["state_type"] == "COMPLETED", pool.log("b")[-4000:]
    # The run's process sends its last log lines to the server as it exits, after the run is Completed.
    wait_until(lambda: not alive(pool.run_process(second)), 60, "the second run's process to end")
    logs = pool.logs(second)

    # Each frame and each clip billed once, whichever machine asked.
    assert len(runway.seen("POST", "/v1/text_to_image")) == 2
    assert len(runway.seen("POST", "/v1/image_to_video")) == 2
    assert len([line for line in logs if re.search(r"clip: resuming Runway task \S+ from an earlier run", line)]) == 2
    assert shared_tasks(postgres_url) == [("first frame", "done")] * 2 + [("clip", "done")] * 2
    assert "  reused from an earlier run" in logs  # machine A's script, found in the bucket's result records
    assert not (tmp_path / "b" / "home" / "ledger.sqlite").exists()

    # The Short is complete on machine B, and its link opens the same video from the bucket.
    out = tmp_path / "b" / "out" / short_folder(topic)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {c["task_id"] for c in manifest["clips"]} == {
        t.id for t in runway.tasks.values() if t.kind == "image_to_video"
    }
    links = pool.api.post("/artifacts/filter", json={"artifacts": {"key": {"any_": [f"video-{slug(topic)}"]}}}).json()
    assert len(links) == 1 and links[0]["flow_run_id"] == second
    url = re.search(r"\]\((http[^)]+)\)", links[0]["data"]).group(1)
    assert httpx.get(url, timeout=30).content == (out / "final.mp4").read_bytes()
    assert temporaries(tmp_path) == []
    assert (
        pool.api.get("/v2/concurrency_limits/runway").json()["active_slots"] == 2
    )  # machine A's, until the lease ends
    assert pool.run(first)["state_type"] == "RUNNING"  # as the README says: nothing tells Prefect that A died


@pytest.mark.flow
def test_two_machines_on_the_same_short_at_once_buy_each_clip_once(
    on_prefect_server, postgres_url, s3_store_url, s3_endpoint, runway, tmp_path
):
    env = {
        name: machine(tmp_path, name, on_prefect_server, runway, postgres_url, s3_store_url, s3_endpoint)
        for name in ("a", "b")
    }
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
    # --json's link opens the video from the bucket, on any machine.
    assert httpx.get(shorts[1]["video_url"], timeout=30).content == Path(shorts[0]["video"]).read_bytes()


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


def test_a_worker_without_shorts_checkout_says_what_to_set(monkeypatch, tmp_path):
    """prefect.yaml's pull step, as a worker runs it: with SHORTS_CHECKOUT unset or wrong, one sentence that says so
    (Prefect's own set_working_directory stays in a temporary folder, and the run crashes on a missing file)."""
    from flows.checkout import use_checkout

    pull = yaml.safe_load((CHECKOUT / "prefect.yaml").read_text())["pull"]
    assert pull == [{"flows.checkout.use_checkout": {"directory": "{{ $SHORTS_CHECKOUT }}"}}]
    with pytest.raises(ValueError, match=r"^SHORTS_CHECKOUT is not set where this worker runs: set it to the folder"):
        use_checkout("")  # what Prefect's templating makes of an unset variable
    with pytest.raises(ValueError, match=rf"^SHORTS_CHECKOUT={tmp_path} is not a checkout of shorts"):
        use_checkout(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert use_checkout(str(CHECKOUT)) == {"directory": str(CHECKOUT)} and Path.cwd() == CHECKOUT
