"""The approval gate from the CLI: a storyboard and the estimate first, no clip bought until a person says yes.

Runs go through `shorts make` as a person runs it, against the session's Prefect server; the question is answered
through a pseudo-terminal, and clips are bought from the fake Runway so every paid request can be counted.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.runway import KEY, FakeRunway
from PIL import Image

from pipeline import Cost, Review, Settings, ShortRequest, Storyboard, file_digest, short_folder
from pipeline.storyboard import StoryboardScene

SHORTS = str(Path(sys.executable).parent / "shorts")


def make(*args: str, answer: str | None = None) -> subprocess.CompletedProcess:
    """`shorts make ARGS`; with `answer`, stdin is a terminal (a pty) that answers the question with it."""
    if answer is None:
        return subprocess.run(
            [SHORTS, "make", *args], capture_output=True, text=True, timeout=400, stdin=subprocess.DEVNULL
        )
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [SHORTS, "make", *args], stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        os.close(terminal)
        os.write(controller, f"{answer}\n".encode())  # waits in the terminal until the question reads it
        out, err = process.communicate(timeout=400)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def store_files(kind: str) -> dict[Path, int]:
    folder = Settings().home_dir / "assets" / kind
    return {p: p.stat().st_mtime_ns for p in folder.glob("*") if p.suffix != ".sum"} if folder.exists() else {}


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        (
            {},
            ["--review"],
            "shorts: --review asks before buying the clips, but no terminal is attached to answer; "
            "add --yes to approve in advance, or run it in a terminal.\n",
        ),
        ({"SHORTS_REVIEW": "true"}, [], "shorts: SHORTS_REVIEW=true asks before buying the clips, but no terminal"),
        (
            {},
            ["--scenes", "3", "--redo-scene", "4"],
            "shorts: --redo-scene must be a scene of this Short, 1 to 3 (got 4).",
        ),
    ],
)
def test_a_review_nobody_can_answer_is_refused_in_one_sentence_before_anything_is_made(
    env, args, expected, monkeypatch, tmp_path
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = make("bees", *args)  # stdin is /dev/null: no terminal
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(expected) and result.stderr.count("\n") == 1
    assert not (tmp_path / "home").exists() and not (tmp_path / "out").exists()  # nothing made, nothing paid


def test_who_approves(monkeypatch, tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.review import describe, rejected, review_storyboard

    scene = StoryboardScene(index=1, seconds=5, words="w", frame=tmp_path / "f.png", clip=Cost(credits=25))
    board = Storyboard(
        title="t", seconds=5, scenes=[scene], clip_provider="runway", clip_model="gen4_turbo", estimate=Cost(credits=30)
    )
    request = ShortRequest(topic="bees")
    assert review_storyboard(board, request, Settings(), "pause") is None  # review off: as before
    assert review_storyboard(board, request, Settings(), "rules") is None  # no rule set: daily runs as before
    assert review_storyboard(board, request, Settings(), "given") is None
    assert review_storyboard(board, request.model_copy(update={"review": True}), Settings(), "given") == Review(
        approved=True, by="person", note="approved before this run"
    )

    monkeypatch.setenv("SHORTS_AUTO_APPROVE_CREDITS", "30")
    assert review_storyboard(board, request, Settings(), "rules") == Review(
        approved=True, by="rule", note="estimated 30 credits, within SHORTS_AUTO_APPROVE_CREDITS=30"
    )
    over = board.model_copy(update={"estimate": Cost(credits=30.5)})
    with temporary_settings(restore_defaults={PREFECT_API_URL}):  # Prefect's own throwaway server: no UI to ask in
        review = review_storyboard(over, request, Settings(), "rules")
    assert not review.approved and review.by == "nobody"
    assert review.note.startswith(
        "estimated 30.5 credits, over SHORTS_AUTO_APPROVE_CREDITS=30, but this run has no Prefect UI to approve it in"
    )
    assert describe(review).startswith("not approved: estimated 30.5 credits")
    state = rejected(Review(approved=False, by="person", note="too dark"))
    assert state.is_cancelled() and state.message == (
        "Rejected at review: too dark; no clip was bought, and the script and first frames are kept for the next run."
    )


@pytest.mark.flow
def test_a_review_shows_the_storyboard_and_buys_no_clip_until_a_person_says_yes(on_prefect_server, monkeypatch):
    fake = FakeRunway().start()
    monkeypatch.setenv("RUNWAYML_API_SECRET", KEY)
    # A Runway key alone also picks Runway's voice; this test is about the clips' review, so the voice stays offline.
    monkeypatch.setenv("SHORTS_VOICE_PROVIDER", "espeak")
    monkeypatch.setenv("RUNWAYML_BASE_URL", fake.url)
    monkeypatch.setenv("SHORTS_RUNWAY_POLL_SECONDS", "0.02")
    args = [
        "octopus camouflage",
        "--seconds",
        "6",
        "--scenes",
        "2",
        "--video",
        "runway",
        "--image",
        "offline",
        "--review",
        "--json",
    ]
    storyboard = Settings().output_dir / short_folder("octopus camouflage") / "storyboard.png"
    try:
        no = make(*args, answer="n")
        assert no.returncode == 1 and no.stdout == ""
        assert f"Storyboard: {storyboard}\n" in no.stderr
        # gen4_turbo: 5 credits a second, each 3 s scene bought as 3 s; frames are offline.
        assert (
            "Estimate: up to 30 credits ($0.30): 30 credits for 2 clips, 0 credits for first frames; clips by "
            "runway gen4_turbo.\nBuy the clips and finish the Short? [y/N]"
        ) in no.stderr
        assert no.stderr.rstrip().endswith(
            "shorts: Not approved: no clip was bought; the script and first frames "
            "are kept for the next run (--redo-scene N draws a scene again)."
        )
        assert fake.seen("POST", "/v1/image_to_video") == [] and store_files("clips") == {}
        with Image.open(storyboard) as sheet:
            assert sheet.size[0] >= 960
        frames = store_files("frames")
        assert len(frames) == 2
        sheet = storyboard.stat()

        yes = make(*args, answer="y")
    finally:
        fake.stop()
    assert yes.returncode == 0, yes.stderr[-3000:]
    # One approved `--review`: the preview writes the script (here, reuses the first run's) and draws the storyboard;
    # the approved run takes the script from the cache and the storyboard as approved: no second drawing, and the
    # sheet drawn for this same board is kept.
    assert yes.stderr.count("▶ script") == 2 and yes.stderr.count("reused from an earlier run") == 2
    assert yes.stderr.count(f"{storyboard}: ") == 1
    assert (storyboard.stat().st_ino, storyboard.stat().st_mtime_ns) == (sheet.st_ino, sheet.st_mtime_ns)
    assert len(fake.seen("POST", "/v1/image_to_video")) == 2
    assert store_files("frames") == frames  # approval went on from the frames already made
    manifest = json.loads(Path(json.loads(yes.stdout)["manifest"]).read_text())
    assert manifest["review"] == {"approved": True, "by": "person", "note": "approved before this run"}
    assert [c["cost"]["credits"] for c in manifest["clips"]] == [15, 15]


def hashes(manifest_path: str) -> dict[int, tuple[str, str]]:
    """Scene -> (frame, clip) content hashes, as a run's manifest lists them."""
    manifest = json.loads(Path(manifest_path).read_text())
    clips = {c["scene"]: file_digest(Path(c["path"])) for c in manifest["clips"]}
    return {f["scene"]: (file_digest(Path(f["path"])), clips[f["scene"]]) for f in manifest["frames"]}


@pytest.mark.flow
def test_redo_scene_changes_only_that_scenes_frame_and_clip_and_keeps_it(on_prefect_server):
    args = ["bees", "--seconds", "9", "--scenes", "3", "--json"]
    first = make(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    before = hashes(json.loads(first.stdout)["manifest"])

    redo = make(*args, "--redo-scene", "2", "--review", "--yes")  # --yes: approved in advance, no terminal needed
    assert redo.returncode == 0, redo.stderr[-3000:]
    after = hashes(json.loads(redo.stdout)["manifest"])
    assert after[1] == before[1] and after[3] == before[3]
    assert after[2][0] != before[2][0] and after[2][1] != before[2][1]  # scene 2: a new frame and so a new clip
    assert "7 of 9 scene steps reused" in redo.stderr

    again = make(*args)  # no --redo-scene: the redone scene stays as it was approved
    assert again.returncode == 0, again.stderr[-3000:]
    assert hashes(json.loads(again.stdout)["manifest"]) == after
    manifest = json.loads(Path(json.loads(again.stdout)["manifest"]).read_text())
    assert [f["take"] for f in manifest["frames"]] == [1, 2, 1]


@pytest.mark.flow
def test_a_daily_short_over_the_auto_approve_rule_waits_for_review_and_unanswered_buys_nothing(
    on_prefect_server, monkeypatch
):
    from flows.daily import daily_shorts
    from pipeline.state.topics import add_topics, topic_statuses

    fake = FakeRunway().start()
    for name, value in dict(
        RUNWAYML_API_SECRET=KEY,
        RUNWAYML_BASE_URL=fake.url,
        SHORTS_IMAGE_PROVIDER="offline",
        SHORTS_VOICE_PROVIDER="espeak",
        SHORTS_AUTO_APPROVE_CREDITS="20",
        SHORTS_REVIEW_TIMEOUT_HOURS="0.0003",
    ).items():
        monkeypatch.setenv(name, value)
    add_topics(Settings(), ["Why cats purr"])
    try:
        state = daily_shorts(count=1, seconds=5, return_state=True)  # one 5 s Runway clip: 25 credits, over 20
    finally:
        fake.stop()

    assert state.is_completed(), state.message  # not approving is a decision, not a failure
    (row,) = state.result()
    assert row.status == "not approved"
    assert row.reason.startswith("Nobody approved it within 0.0003 h (SHORTS_REVIEW_TIMEOUT_HOURS); no clip was bought")
    assert fake.seen("POST", "/v1/image_to_video") == []
    assert topic_statuses(Settings())[0].state != "made"  # still queued for another day
