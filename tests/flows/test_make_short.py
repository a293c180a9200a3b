"""The whole flow, through the CLI as a person runs it, at a tiny resolution."""

import json
import os
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest

SHORTS = str(Path(sys.executable).parent / "shorts")


def make(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "flows.make_short", *args] if module else [SHORTS, "make", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=os.environ)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def store_files(home: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (home / "assets").rglob("*") if p.is_file()}


def probe(video: Path) -> dict:
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    reader.close()
    return meta


@pytest.mark.flow
def test_make_short_end_to_end_then_reuse_everything(tmp_path):
    first = make("octopus camouflage", "--seconds", "6", "--scenes", "2", "--json")
    result = json.loads(first.stdout)  # stdout is exactly one JSON object

    video = Path(result["video"])
    meta = probe(video)
    assert tuple(meta["size"]) == (144, 256) and meta["codec"].startswith("h264")
    assert abs(meta["duration"] - 6) <= 1
    assert result["providers"] == {"script": "offline", "image": "offline", "video": "offline", "voice": "offline"}
    assert result["cost_credits"] == 0
    for name in ("captions", "manifest", "script"):
        assert Path(result[name]).is_file()
    assert "-->" in Path(result["captions"]).read_text()
    manifest = json.loads(Path(result["manifest"]).read_text())
    assert manifest["request"]["topic"] == "octopus camouflage" and len(manifest["clips"]) == 2
    assert all(c["seed"] is not None for c in manifest["clips"])
    assert Path(result["published"], "final.mp4").is_file()  # dropped in the outbox
    for step in ("script", "render", "publish"):
        assert f"✓ {step}" in first.stderr  # each step is reported with its time
    home = Path(os.environ["SHORTS_HOME"])
    made = store_files(home)
    assert len([p for p in made if p.parent.name in {"frames", "clips", "voice"}]) >= 4

    second = make("octopus camouflage", "--seconds", "6", "--scenes", "2")
    assert store_files(home) == made  # no new or rewritten frame, clip, audio or render
    assert "6 of 6 scene steps reused" in second.stderr

    # A cached clip whose file is gone is a miss: it is made again, and nothing else is.
    clip = next(p for p in made if p.parent.name == "clips")
    clip.unlink()
    make("octopus camouflage", "--seconds", "6", "--scenes", "2", module=True)
    after = store_files(home)
    assert clip in after
    assert {p: t for p, t in after.items() if p != clip} == {p: t for p, t in made.items() if p != clip}
