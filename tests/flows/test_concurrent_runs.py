"""Two `shorts make --upload` for the same topic at once, with recognisable fake keys for every vendor.

Against the OpenAI fake (script, first frames, narration, moderation), the fake Runway (clips, held RUNNING until
both runs have reached them) and the fake YouTube. One run does each step, the other waits for it and reuses what
it made: nothing is paid for twice. Then every output of both runs is searched for the keys and tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fakes.openai import FakeOpenAI, good_script, serving
from fakes.runway import KEY as RUNWAY_KEY
from fakes.runway import FakeRunway
from fakes.youtube import ACCESS_TOKEN, FakeYouTube
from reliability import CLIENT_SECRET, REFRESH_TOKEN, remote_tasks, run_env, save_youtube_token, temporaries
from shorts_process import ShortsProcess

from pipeline import publish_to_outbox, short_folder

OPENAI_KEY = "sk-fake-RELIABILITY"
RUNWARE_KEY = "rw-fake-runware-RELIABILITY-0d4c"  # set, though these runs animate with Runway
SECRETS = {
    "OPENAI_API_KEY": OPENAI_KEY,
    "RUNWAYML_API_SECRET": RUNWAY_KEY,
    "RUNWARE_API_KEY": RUNWARE_KEY,
    "YouTube access token": ACCESS_TOKEN,
    "YouTube refresh token": REFRESH_TOKEN,
    "OAuth client secret": CLIENT_SECRET,
}
TOPIC = "why squid glow"
MAKE = ("make", TOPIC, "--seconds", "10", "--scenes", "2", "--video", "runway", "--upload", "--json")


@dataclass
class Pair:
    """What the two runs did, and the fakes that saw them."""

    home: Path
    out: Path
    runs: list[ShortsProcess]
    codes: list[int]
    openai: FakeOpenAI
    runway: FakeRunway
    youtube: FakeYouTube
    api: str


@pytest.fixture(scope="module")
def pair(prefect_api, tmp_path_factory) -> Iterator[Pair]:
    """Both runs, started together; Runway holds the clips until both runs have reached them."""
    root = tmp_path_factory.mktemp("concurrent")
    home, out = root / "home", root / "out"
    save_youtube_token(home, ACCESS_TOKEN)
    openai = FakeOpenAI()
    openai.chat += [good_script(scenes=2), good_script(scenes=2)]  # a second script would be a duplicate call
    runway, youtube = FakeRunway(), FakeYouTube()
    runway.outcomes = ["HOLD", "HOLD"]
    runway.start()
    runs: list[ShortsProcess] = []
    try:
        with serving(openai) as openai_url:
            env = run_env(
                home,
                out,
                prefect_api,
                OPENAI_API_KEY=OPENAI_KEY,
                OPENAI_BASE_URL=openai_url,
                SHORTS_OPENAI_MAX_RETRIES="0",
                RUNWAYML_API_SECRET=RUNWAY_KEY,
                RUNWAYML_BASE_URL=runway.url,
                SHORTS_RUNWAY_POLL_SECONDS="0.05",
                SHORTS_YOUTUBE_API_URL=youtube.url,
            )
            env = {k: v for k, v in env.items() if not k.startswith("RUNWARE_")} | {"RUNWARE_API_KEY": RUNWARE_KEY}
            runs = [ShortsProcess(*MAKE, env=env, cwd=root) for _ in range(2)]
            _wait_until_both_reach_the_clips(runs, runway)
            for task in list(runway.tasks.values()):
                runway.finish(task.id)
            codes = [run.finish() for run in runs]
        yield Pair(home, out, runs, codes, openai, runway, youtube, prefect_api)
    finally:
        for run in runs:
            if run.process.poll() is None:
                run.kill()
        runway.stop()
        youtube.stop()


def _wait_until_both_reach_the_clips(runs: list[ShortsProcess], runway: FakeRunway) -> None:
    """Both clips are RUNNING at Runway (held there), and a run waits for the other's clip: each run maps both scenes'
    clips, so the run that is not doing a clip is waiting for it."""
    for run in runs:
        run.wait_for(r"▶ .*clips")

    def progress() -> tuple[int, int]:
        running = sum(len(run.matching(r"scene \d clip: Runway task \S+ RUNNING")) for run in runs)
        waiting = sum(
            "waiting for another run" in line
            for run in runs
            for line in run.lines[[i for i, seen in enumerate(run.lines) if "▶" in seen and "clips" in seen][0] :]
        )
        return running, waiting

    deadline = time.monotonic() + 240
    while (now := progress())[0] < 2 or now[1] < 1:
        assert all(run.process.poll() is None for run in runs), "\n\n".join(r.stderr[-3000:] for r in runs)
        assert time.monotonic() < deadline, f"{now}\n" + "\n\n".join(r.stderr[-3000:] for r in runs)
        time.sleep(0.1)
    assert len(runway.seen("POST", "/v1/image_to_video")) == 2


@pytest.mark.flow
def test_two_runs_at_once_pay_for_each_step_once(pair):
    assert pair.codes == [0, 0], "\n\n".join(run.stderr[-3000:] for run in pair.runs)
    shorts = [json.loads(run.stdout) for run in pair.runs]

    assert pair.openai.paths().count("/chat/completions") == 1  # one script, which both runs use
    assert pair.openai.paths().count("/images/generations") == 2  # one first frame per scene
    assert pair.openai.paths().count("/audio/speech") == 0  # auto speaks with Runway's voice (OpenAI's is ending)
    assert len(pair.runway.seen("POST", "/v1/image_to_video")) == 2  # one clip per scene
    assert len(pair.runway.seen("POST", "/v1/text_to_speech")) == 2  # one narration per scene
    tasks = sorted((t["provider"], t["kind"], t["status"]) for t in remote_tasks(pair.home))
    assert (
        tasks
        == [("openai", "first frame", "done")] * 2
        + [("runway", "clip", "done")] * 2
        + [("runway", "narration", "done")] * 2
    )
    assert pair.youtube.inserts == 1 and pair.youtube.videos == ["fakeVid001"]
    assert {s["youtube_id"] for s in shorts} == {"fakeVid001"} and shorts[0]["video"] == shorts[1]["video"]

    everything = "\n".join(run.stderr for run in pair.runs)
    assert "already on YouTube" in everything  # the second publish waited for the first, then found its upload
    assert temporaries(pair.home, pair.out) == []


@pytest.mark.flow
def test_no_key_or_token_reaches_any_output(pair, tmp_path):
    assert pair.codes == [0, 0]
    # A run without --upload would drop the package in the outbox: search that too.
    publish_to_outbox(pair.out / short_folder("why squid glow"), pair.home / "outbox", "why-squid-glow")

    token = pair.home / "youtube" / "main.json"
    places: dict[str, bytes] = {}
    for index, run in enumerate(pair.runs):
        places[f"run {index} stdout"] = run.stdout.encode()
        places[f"run {index} stderr"] = run.stderr.encode()
    # This test's home and output folder, and the Prefect home every test's runs share (its caches, its logs).
    for root in (pair.home, pair.out, Path(os.environ["PREFECT_HOME"])):
        for path in root.rglob("*"):
            if path.is_file() and path != token:  # the token file is where the tokens are meant to be
                places[str(path)] = _readable(path.read_bytes())
    places.update(_prefect_records_of(pair.api))

    for name, secret in SECRETS.items():
        leaks = [place for place, data in places.items() if secret.encode() in data]
        assert leaks == [], f"{name} found in {leaks}"
    assert any("ledger.sqlite" in p for p in places) and any("prefect-results" in p for p in places)
    assert any("outbox" in p for p in places) and any(p.endswith("manifest.json") for p in places)

    # The token itself: readable by its owner only, in a folder only its owner can enter.
    assert token.stat().st_mode & 0o777 == 0o600 and token.parent.stat().st_mode & 0o777 == 0o700


def test_git_ignores_env_files_tokens_and_the_shorts_home():
    repo = Path(__file__).resolve().parents[2]
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    paths = [
        ".env",
        ".shorts/youtube/main.json",
        ".shorts/ledger.sqlite",
        "client_secret.json",
        "client_secret_1234.apps.googleusercontent.com.json",
        "out/bees/final.mp4",
    ]
    result = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=repo, capture_output=True, text=True)
    assert sorted(result.stdout.split()) == sorted(paths)


def _readable(data: bytes) -> bytes:
    """The bytes, plus whatever base64 (and pickled) payloads inside a Prefect result record decode to."""
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return data
    payload = record.get("result") if isinstance(record, dict) else None
    if isinstance(payload, str):
        try:
            return data + base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            pass
    return data


def _prefect_records_of(api: str) -> dict[str, bytes]:
    """The flow runs of TOPIC on the server, with their task runs, logs and artifacts, as JSON text."""
    with httpx.Client(base_url=api, timeout=30) as client:
        flows = client.post("/flow_runs/filter", json={"flow_runs": {"name": {"any_": [TOPIC]}}}).json()
        ids = [run["id"] for run in flows]
        assert len(ids) == 2
        tasks = client.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": ids}}}).json()
        logs = client.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": ids}}, "limit": 200}).json()
        artifacts = client.post("/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": ids}}}).json()
    assert artifacts
    return {
        "prefect flow runs": json.dumps(flows).encode(),
        "prefect task runs": json.dumps(tasks).encode(),
        "prefect logs": json.dumps(logs).encode(),
        "prefect artifacts": json.dumps(artifacts).encode(),
    }
