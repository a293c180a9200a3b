"""A cached file cut short between two runs of `shorts make` is made again, never packaged."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.package import video_problem
from pipeline.state.store import intact

SHORTS = str(Path(sys.executable).parent / "shorts")
ARGS = ["Why octopuses blush", "--seconds", "5", "--scenes", "2", "--json"]


def make() -> tuple[dict, str]:
    result = subprocess.run([SHORTS, "make", *ARGS], capture_output=True, text=True, timeout=400, env=os.environ)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout), result.stderr


def cut_short(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


@pytest.mark.flow
def test_a_truncated_cached_render_or_voice_is_made_again_and_the_package_is_whole(prefect_api, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("SHORTS_VOICE_PROVIDER", "espeak")  # an offline voice that starts at once
    first, _ = make()
    manifest = json.loads(Path(first["manifest"]).read_text())
    render = Path(manifest["render"]["video"])
    voice = Path(manifest["narrations"][1]["path"])
    assert intact(render) and intact(voice)

    cut_short(render)  # the render Prefect's cached result names
    second, log = make()
    assert f"{render} is damaged" in log and intact(render)
    assert video_problem(Path(second["video"]), second["seconds"]) is None
    assert video_problem(Path(second["published"], "final.mp4"), second["seconds"]) is None  # the outbox's copy

    cut_short(voice)  # a scene's cached voice: spoken again, so that scene is not silent under its captions
    third, log = make()
    assert f"{voice} is damaged" in log and intact(voice)
    again = json.loads(Path(third["manifest"]).read_text())
    assert again["narrations"][1]["seconds"] == pytest.approx(manifest["narrations"][1]["seconds"], abs=0.2)
    assert video_problem(Path(third["video"]), third["seconds"]) is None


@pytest.mark.flow
def test_a_truncated_runway_clip_is_collected_again_or_stops_in_one_sentence(
    prefect_api, runway, monkeypatch, tmp_path
):
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("SHORTS_VOICE_PROVIDER", "espeak")  # the clips are what is bought here
    args = ["--video", "runway"]
    first = make_with(*args)
    clip = Path(json.loads(Path(first["manifest"]).read_text())["clips"][0]["path"])
    whole = clip.read_bytes()
    assert len(runway.seen("POST", "/v1/image_to_video")) == 2

    cut_short(clip)  # the ledger has its finished task: downloaded again, not bought
    second = make_with(*args)
    assert clip.read_bytes() == whole and len(runway.seen("POST", "/v1/image_to_video")) == 2
    assert video_problem(Path(second["video"]), second["seconds"]) is None

    (Path(os.environ["SHORTS_HOME"]) / "ledger.sqlite").unlink()  # a ledger that does not know it
    cut_short(clip)
    failed = subprocess.run([SHORTS, "make", *ARGS, *args], capture_output=True, text=True, timeout=400, env=os.environ)
    assert failed.returncode == 1 and len(runway.seen("POST", "/v1/image_to_video")) == 2  # nothing bought
    assert (
        failed.stderr.strip()
        .splitlines()[-1]
        .endswith(
            f"Scene 1: The clip {clip} is damaged ({clip.stat().st_size} bytes, {len(whole)} when stored) and was bought "
            f"from runway, so it is not bought again unasked; to buy only it again, delete it (`rm {clip}`) and rerun the "
            "same command."
        )
    ), failed.stderr[-2000:]


def make_with(*args: str) -> dict:
    result = subprocess.run([SHORTS, "make", *ARGS, *args], capture_output=True, text=True, timeout=400, env=os.environ)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)
