"""The `shorts` command as a person runs it: bad input gets one sentence and a non-zero exit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SHORTS = str(Path(sys.executable).parent / "shorts")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHORTS, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["make", ""], "the topic is empty"),
        (["make", "x" * 201], "keep it to 200"),
        (["make", "bees", "--seconds", "4"], "--seconds must be between 5 and 180 (got 4)"),
        (["make", "bees", "--seconds", "181"], "--seconds must be between 5 and 180 (got 181)"),
        (["make", "bees", "--video", "sora"], "--video: unknown provider 'sora'; choose one of auto, "),
        (["make", "bees", "--voice", "nope"], "--voice: unknown provider 'nope'"),
        (
            ["make", "bees", "--seconds", "5", "--scenes", "12"],
            "12 scenes in 5 s leave under 2 s a scene; use at most 2",
        ),
        (["make", "bees", "--language", "english please"], "--language"),
        (
            ["make", "abeilles", "--language", "fr", "--voice", "piper"],
            "Piper speaks English with the voice 'joe' only",
        ),
        (["make", "bees", "--music", "/no/such/song.mp3"], "Music '/no/such/song.mp3' is no mood (auto, none, calm"),
    ],
)
def test_bad_input_is_one_clear_line(args, expected):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output_folder_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run("make", "bees", "--out", str(blocker / "short"))
    assert result.returncode == 2
    assert "Cannot write to the output folder" in result.stderr and "--out" in result.stderr
    assert not (tmp_path / "home").exists()  # nothing was made


@pytest.mark.parametrize("args", [("make", "bees"), ("topics", "add", "bees")])
def test_a_shorts_home_that_cannot_be_a_folder_is_one_line(tmp_path, monkeypatch, args):
    (tmp_path / "a-file").write_text("in the way")
    monkeypatch.setenv("SHORTS_HOME", str(tmp_path / "a-file" / "home"))
    result = run(*args)
    assert result.returncode != 0 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "Not a directory" in result.stderr and "SHORTS_HOME" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"), [("SHORTS_FPS", "fast"), ("SHORTS_WIDTH", "8000"), ("SHORTS_RENDER_PRESET", "ludicrous")]
)
def test_bad_setting_is_one_clear_line(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    result = run("make", "bees")
    assert result.returncode == 2 and name in result.stderr and "Traceback" not in result.stderr
    assert not (Path(os.environ["SHORTS_HOME"]) / "prefect-server").exists()  # refused before any server started


def test_help_lists_the_make_options():
    result = run("make", "--help")
    assert result.returncode == 0
    for flag in (
        "--seconds",
        "--scenes",
        "--out",
        "--script",
        "--image",
        "--video",
        "--voice",
        "--fresh",
        "--json",
        "--review",
        "--yes",
        "--redo-scene",
    ):
        assert flag in result.stdout
