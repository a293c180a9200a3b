"""Real `shorts make` runs at the edges: a hostile topic still gives a Short, and a full output disk gives one
sentence and nothing that looks finished."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import imageio_ffmpeg
import pytest
from reliability import temporaries
from shorts_process import ShortsProcess
from tiny_disk import tiny_disk

from pipeline import ShortRequest, short_folder

NASTY = "  ../../etc/😀 Octopus\u0301 שלום\x1b[31m ink \u202e/ \\ Pneumonoultramicroscopicsilicovolcanoconiosis  "


@pytest.mark.flow
def test_a_hostile_topic_makes_a_short_in_a_safe_folder(on_prefect_server, tmp_path):
    env = dict(os.environ, PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "home" / "prefect-results"))
    run = ShortsProcess("make", NASTY, "--seconds", "5", "--scenes", "1", "--json", env=env, cwd=tmp_path)
    assert run.finish() == 0, run.stderr[-3000:]
    short = json.loads(run.stdout)
    out = Path(os.environ["SHORTS_OUTPUT_DIR"])
    folder = Path(short["output_dir"])
    # Inside the output folder, whatever the topic holds (no separator, no `..`).
    assert folder.parent == out and folder.name == short_folder(ShortRequest(topic=NASTY).topic), folder.name
    assert sorted(p.name for p in out.iterdir()) == [folder.name]  # nothing written outside its own folder
    assert imageio_ffmpeg.count_frames_and_secs(short["video"])[0] > 0
    topic = json.loads(Path(short["manifest"]).read_text())["request"]["topic"]
    assert topic.startswith("../../etc/😀 Octopus") and "\x1b" not in topic and "\u202e" not in topic
    assert "😀" in Path(short["captions"]).read_text(encoding="utf-8")  # the SRT keeps what the font cannot draw
    assert "caption font has no glyph for 😀" in run.stderr  # and the run says what the picture leaves out
    assert temporaries(tmp_path / "home", out) == []


@pytest.mark.flow
def test_a_full_output_disk_is_one_sentence_and_leaves_no_short(on_prefect_server, tmp_path):
    env = dict(os.environ, PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "home" / "prefect-results"))
    with tiny_disk(tmp_path / "disk", "48k") as disk:
        run = ShortsProcess(
            "make", "bees on a full disk", "--seconds", "5", "--scenes", "1", "--out", str(disk), env=env, cwd=tmp_path
        )
        code = run.finish()
        left = sorted(p.name for p in disk.rglob("*"))
    assert code == 1, run.stderr[-3000:]
    # Whichever write meets the full disk first (the storyboard, the package), the run ends with one sentence.
    last = run.lines[-1]
    sentence = r"shorts: [a-z ]+ failed: [^\n]*\(No space left on device\); free some space [^\n]*\."
    assert re.fullmatch(sentence, last), last
    assert "Unexpected" not in last, last
    assert "final.mp4" not in left and "manifest.json" not in left and not [n for n in left if ".part" in n]
    assert temporaries(tmp_path / "home") == []


def test_a_full_disk_under_shorts_home_is_one_sentence_before_anything_starts(tmp_path):
    with tiny_disk(tmp_path / "disk", "1m") as disk:
        env = dict(os.environ, SHORTS_HOME=str(disk / "home"))
        run = ShortsProcess("make", "bees", "--seconds", "5", "--scenes", "1", env=env, cwd=tmp_path)
        code = run.finish()
        left = sorted(p.name for p in disk.rglob("*"))
    assert code == 2 and len(run.lines) == 1 and "Traceback" not in run.stderr
    assert re.fullmatch(
        r"shorts: The disk under SHORTS_HOME \(\S+\) has 1 MB free and a Short needs about 100 MB; "
        r"free some space, or set SHORTS_HOME to another disk, then rerun\.",
        run.lines[0],
    ), run.lines
    assert left == []  # no server, no database, no half-made file


@pytest.mark.flow
def test_ctrl_c_while_the_offline_voice_speaks_is_one_line_and_leaves_no_temporary(on_prefect_server, tmp_path):
    """Ctrl-C reaches the whole foreground group, the Piper worker included, as in a terminal."""
    env = dict(os.environ, PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "home" / "prefect-results"))
    run = ShortsProcess("make", "bees in winter", "--seconds", "10", "--scenes", "2", env=env, cwd=tmp_path)
    try:
        run.wait_for(r"▶ clips and narration")
        os.killpg(run.process.pid, signal.SIGINT)
        code = run.finish(120)
    finally:
        run.process.poll() is None and run.kill()
    assert code == 130, run.stderr[-3000:]
    assert run.lines[-1].startswith("shorts: Interrupted") and "Traceback" not in run.stderr, run.stderr[-3000:]
    assert temporaries(tmp_path / "home", Path(os.environ["SHORTS_OUTPUT_DIR"])) == []
