"""The whole flow, through the CLI as a person runs it, at a tiny resolution."""

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import imageio_ffmpeg
import pytest

SHORTS = str(Path(sys.executable).parent / "shorts")
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_make_args() -> list[str]:
    """The arguments of `shorts make` in the README's first command."""
    command = re.search(r"\.venv/bin/shorts (make .+)", README.read_text()).group(1)
    return shlex.split(command)[1:]


def make(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "flows.make_short", *args] if module else [SHORTS, "make", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=os.environ)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def newest_run(api: str, topic: str) -> tuple[dict, list[str], list[str]]:
    """The newest flow run of `topic` on the Prefect server, its log messages and its task runs' state names, once the
    server has recorded every task run's last state from the events the command sent (or after 60 s)."""
    runs = httpx.post(
        f"{api}/flow_runs/filter",
        json={"flow_runs": {"name": {"any_": [topic]}}, "sort": "START_TIME_DESC", "limit": 1},
    ).json()
    deadline = time.monotonic() + 60
    while True:
        logs = httpx.post(
            f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [runs[0]["id"]]}}, "limit": 200}
        ).json()
        tasks = httpx.post(
            f"{api}/task_runs/filter", json={"task_runs": {"flow_run_id": {"any_": [runs[0]["id"]]}}, "limit": 200}
        ).json()
        states = [t["state_name"] for t in tasks]
        if (len(states) == 23 and all(s in ("Completed", "Cached") for s in states)) or time.monotonic() > deadline:
            return runs[0], [log["message"] for log in logs], states
        time.sleep(0.5)


def store_files(home: Path) -> dict[Path, int]:
    # Not the records beside them (`<file>.sum`): a file made again writes its record again too.
    return {p: p.stat().st_mtime_ns for p in (home / "assets").rglob("*") if p.is_file() and p.suffix != ".sum"}


def probe(video: Path) -> dict:
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    reader.close()
    return meta


@pytest.mark.flow
def test_readme_command_makes_a_short_then_a_rerun_reuses_everything(tmp_path, prefect_api, monkeypatch):
    args = readme_make_args()  # 30 s by default; the tests' settings make it 144x256
    first = make(*args, "--json")
    result = json.loads(first.stdout)  # stdout is exactly one JSON object

    video = Path(result["video"])
    meta = probe(video)
    assert tuple(meta["size"]) == (144, 256) and meta["codec"].startswith("h264")
    assert abs(meta["duration"] - 30) <= 0.15 * 30  # the pacing's promise: within 15 % of the request
    assert result["providers"] == {"script": "offline", "image": "offline", "video": "offline", "voice": "offline"}
    assert result["cost"]["credits"] == 0
    for name in ("captions", "manifest", "script"):
        assert Path(result[name]).is_file()
    assert "-->" in Path(result["captions"]).read_text()
    manifest = json.loads(Path(result["manifest"]).read_text())
    assert manifest["request"]["topic"] == args[0] and len(manifest["clips"]) == 6
    assert all(c["seed"] is not None for c in manifest["clips"])
    # Voiced with no keys and no system tool: Piper's Joe voice, captions on its own word timings.
    assert all(
        n["path"] and n["timing"] == "voice" and n["package"].startswith("piper-tts") for n in manifest["narrations"]
    )
    assert Path(result["published"], "final.mp4").is_file()  # dropped in the outbox
    for step in ("script", "render", "publish"):
        assert f"✓ {step}" in first.stderr  # each step is reported with its time
    home = Path(os.environ["SHORTS_HOME"])
    made = store_files(home)
    assert len([p for p in made if p.parent.name in {"frames", "clips", "voice"}]) >= 4

    monkeypatch.setenv("PREFECT_API_URL", prefect_api)  # the first run started Prefect itself; reruns save time
    second = make(*args)
    assert store_files(home) == made  # no new or rewritten frame, clip, audio or render
    assert "18 of 18 scene steps reused" in second.stderr
    # The command ends without the interpreter's teardown, but only after Prefect has sent the run's last logs and
    # events: the run, its step lines and all 23 task runs (script, moderation, 6 frames, storyboard, 6 clips,
    # 6 narrations, render, publish) are complete on the server.
    run, logs, states = newest_run(prefect_api, args[0])
    assert run["state_type"] == "COMPLETED"
    assert any(m.startswith("✓ publish") for m in logs) and any(m.startswith("✓ render") for m in logs)
    assert len(states) == 23 and states.count("Cached") == 20, states

    # A cached clip whose file is gone is a miss: it is made again, and nothing else is.
    clip = next(p for p in made if p.parent.name == "clips")
    clip.unlink()
    make(*args, module=True)
    after = store_files(home)
    assert clip in after
    assert {p: t for p, t in after.items() if p != clip} == {p: t for p, t in made.items() if p != clip}
