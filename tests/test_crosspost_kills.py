"""Killing a run (SIGKILL) while it uploads to a platform, or while the platform processes the video, then running it
again: exactly one post per platform, through the same remote container, video or publish id."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.meta import IG_USER, PAGE, FakeMeta
from fakes.posting import SCRIPT, kill_when, platform_env
from fakes.tiktok import FakeTikTok
from fakes.youtube import render_video

from pipeline import Settings, file_digest, post_everywhere
from pipeline.state.ledger import open_ledger


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return render_video(tmp_path_factory.mktemp("video") / "final.mp4", width=540, height=960, seconds=4)


@pytest.fixture
def fakes(monkeypatch):
    with FakeMeta() as meta, FakeTikTok() as tiktok:
        platform_env(monkeypatch, meta, tiktok)
        yield meta, tiktok


def rerun(video: Path, platform: str):
    [outcome] = post_everywhere(video, SCRIPT, [platform], Settings(), sleep=lambda s: None)
    return outcome


def posts(meta: FakeMeta, tiktok: FakeTikTok, platform: str) -> tuple[int, int]:
    """(remote items started, posts made) on `platform`."""
    if platform == "instagram":
        return len(meta.containers), len(meta.media)
    if platform == "facebook":
        return len(meta.videos), len(meta.reels)
    return tiktok.inits, len(tiktok.done("SEND_TO_USER_INBOX"))


@pytest.mark.parametrize("platform", ["instagram", "facebook", "tiktok"])
def test_killed_during_the_upload_the_rerun_makes_exactly_one_post(fakes, video, tmp_path, platform):
    meta, tiktok = fakes
    fake = tiktok if platform == "tiktok" else meta
    fake.stall_upload = 4096  # the platform has taken part of the file when the run dies
    kill_when(video, [platform], tmp_path, fake.stalled.is_set)
    fake.release()
    assert posts(meta, tiktok, platform) == (1, 0)

    outcome = rerun(video, platform)
    assert outcome.status in ("posted", "drafted") and posts(meta, tiktok, platform) == (1, 1)
    assert rerun(video, platform) == outcome and posts(meta, tiktok, platform) == (1, 1)


@pytest.mark.parametrize("platform", ["instagram", "facebook", "tiktok"])
def test_killed_while_the_platform_processes_the_rerun_makes_exactly_one_post(fakes, video, tmp_path, platform):
    meta, tiktok = fakes
    fake = tiktok if platform == "tiktok" else meta
    fake.hold_processing = True
    kill_when(video, [platform], tmp_path, fake.processing.is_set)
    fake.release()

    outcome = rerun(video, platform)
    assert outcome.status in ("posted", "drafted") and posts(meta, tiktok, platform) == (1, 1)
    uploads = (
        [p for _, p in meta.requests if p.startswith("rupload")]
        if platform != "tiktok"
        else [r for r in tiktok.requests if r["method"] == "PUT"]
    )
    assert len(uploads) == 1  # the bytes were in: the rerun only waited, and published


@pytest.mark.parametrize("platform", ["instagram", "facebook", "tiktok"])
def test_a_run_killed_after_its_last_byte_but_before_noting_it_sends_nothing_again(fakes, video, platform):
    """The ledger still says `created` (the run died between the platform's answer and the ledger's write): the
    rerun asks the platform, finds every byte there, and only finishes the post."""
    meta, tiktok = fakes
    fake = tiktok if platform == "tiktok" else meta
    fake.hold_processing = True  # the first run stops here, after the upload (as if killed)
    fake.processing_polls = 0
    first = post_everywhere(
        video, SCRIPT, [platform], Settings().model_copy(update={"post_wait_minutes": 0.001}), sleep=lambda s: None
    )[0]
    assert first.status == "failed" and first.resumes
    account = {"instagram": IG_USER, "facebook": PAGE, "tiktok": "main"}[platform]
    open_ledger(Settings()).record_post(platform, account, file_digest(video), stage="created")
    fake.release()

    assert rerun(video, platform).status in ("posted", "drafted") and posts(meta, tiktok, platform) == (1, 1)
    uploads = (
        [p for _, p in meta.requests if p.startswith("rupload")]
        if platform != "tiktok"
        else [r for r in tiktok.requests if r["method"] == "PUT"]
    )
    assert len(uploads) == 1
