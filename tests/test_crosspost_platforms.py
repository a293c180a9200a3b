"""Posting to Instagram, Facebook and TikTok through the real httpx clients, against fakes on 127.0.0.1 that answer
as the platforms do (Graph `{"error": ...}` codes 4/9/190, rupload `debug_info`, TikTok's error code with HTTP 200)."""

from __future__ import annotations

import logging
import stat
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fakes import meta, tiktok
from fakes.meta import FakeMeta, graph_error
from fakes.posting import SCRIPT, SECRETS, no_platform_env, platform_env
from fakes.tiktok import FakeTikTok
from fakes.youtube import render_video

from pipeline import ConfigError, Settings, check_post_ready, parse_platforms, post_everywhere
from pipeline.publish.contract import caption, utf16_length
from pipeline.publish.tokens import token_file
from pipeline.state.ledger import open_ledger


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """A real vertical 5 s Short, as big as Facebook asks (540x960)."""
    return render_video(tmp_path_factory.mktemp("video") / "final.mp4", width=540, height=960, seconds=5)


@pytest.fixture
def fake_meta(monkeypatch):
    with FakeMeta() as fake:
        platform_env(monkeypatch, fake, None)
        yield fake


@pytest.fixture
def fake_tiktok(monkeypatch):
    with FakeTikTok() as fake:
        platform_env(monkeypatch, None, fake)
        yield fake


def post(video: Path, *platforms: str):
    return {o.platform: o for o in post_everywhere(video, SCRIPT, list(platforms), Settings(), sleep=lambda s: None)}


def test_instagram_gets_one_reel_with_its_ai_label_and_a_rerun_posts_nothing(fake_meta, video):
    first = post(video, "instagram")["instagram"]
    [container] = fake_meta.containers
    assert first.status == "posted" and first.link == f"https://www.instagram.com/reel/{fake_meta.media[0]}/"
    assert container.params["is_ai_generated"] == "true" and container.params["media_type"] == "REELS"
    assert container.params["caption"] == (
        "How octopuses change colour\n\nOctopuses vanish in plain sight with cells "
        "under their skin.\n\n#octopus #oceanlife #camouflage"
    )
    assert container.data == video.read_bytes() and len(fake_meta.media) == 1

    before = len(fake_meta.requests)
    again = post(video, "instagram")["instagram"]
    assert again == first and len(fake_meta.requests) == before  # not a single request
    assert first.line() == f"instagram: posted {first.link}"


def test_facebook_gets_one_published_reel_with_its_ai_label(fake_meta, video):
    outcome = post(video, "facebook")["facebook"]
    [reel] = fake_meta.videos
    video_id = fake_meta.reels[0]
    assert outcome.status == "posted" and outcome.link == f"https://www.facebook.com/reel/{video_id}"
    [finish] = reel.notes
    assert finish["video_state"] == "PUBLISHED" and finish["is_ai_generated"] == "true"
    assert finish["title"] == SCRIPT.title and finish["description"].endswith("#octopus #oceanlife #camouflage")
    assert reel.data == video.read_bytes()
    assert post(video, "facebook")["facebook"] == outcome and len(fake_meta.videos) == 1


def test_tiktok_gets_one_draft_in_the_inbox(fake_tiktok, video):
    outcome = post(video, "tiktok")["tiktok"]
    [draft] = fake_tiktok.publishes.values()
    assert outcome.status == "drafted" and "finish it" in outcome.reason and "AI-generated label" in outcome.reason
    assert "post_info" not in draft.body and draft.body["source_info"]["video_size"] == video.stat().st_size
    assert bytes(draft.data) == video.read_bytes() and draft.status == "SEND_TO_USER_INBOX"
    assert post(video, "tiktok")["tiktok"].status == "drafted" and fake_tiktok.inits == 1
    assert outcome.line().startswith("tiktok: drafted (in the creator's TikTok inbox")


def test_a_direct_tiktok_post_carries_the_ai_label_and_the_chosen_privacy(fake_tiktok, video, monkeypatch):
    monkeypatch.setenv("SHORTS_TIKTOK_MODE", "direct")
    monkeypatch.setenv("SHORTS_TIKTOK_PRIVACY", "SELF_ONLY")
    outcome = post(video, "tiktok")["tiktok"]
    [published] = fake_tiktok.publishes.values()
    info = published.body["post_info"]
    assert outcome.status == "posted" and outcome.link == "https://www.tiktok.com/@octofan/video/7300000000000000001"
    assert info["is_aigc"] is True and info["privacy_level"] == "SELF_ONLY" and info["title"].startswith(SCRIPT.title)


def test_direct_mode_without_a_privacy_is_refused_in_one_sentence(fake_tiktok, monkeypatch):
    monkeypatch.setenv("SHORTS_TIKTOK_MODE", "direct")
    with pytest.raises(ConfigError, match="needs SHORTS_TIKTOK_PRIVACY"):
        check_post_ready(Settings(), ["tiktok"])


def test_a_100_s_short_goes_to_instagram_and_tiktok_but_not_facebook(fake_meta, fake_tiktok, tmp_path, monkeypatch):
    platform_env(monkeypatch, fake_meta, fake_tiktok)
    long = render_video(tmp_path / "final.mp4", width=540, height=960, seconds=100)
    outcomes = post(long, "instagram", "facebook", "tiktok")
    assert outcomes["facebook"].line() == (
        "facebook: skipped (Facebook Reels must be 3-90 s long and this Short is 100 s, so it was not posted there)"
    )
    assert fake_meta.videos == [] and outcomes["instagram"].status == "posted"
    assert outcomes["tiktok"].status == "drafted"


def test_tiktok_refuses_a_short_longer_than_the_creator_may_post(fake_tiktok, video):
    fake_tiktok.max_duration = 3
    outcome = post(video, "tiktok")["tiktok"]
    assert outcome.status == "skipped" and "up to 3 s from this account and this Short is 5 s" in outcome.reason
    assert fake_tiktok.inits == 0


def test_an_expired_tiktok_token_is_refreshed_once_and_the_rotated_refresh_token_kept(fake_tiktok, video, tmp_path):
    fake_tiktok.hold_processing = True

    def expire_mid_run() -> None:  # the token ends while TikTok processes the upload
        assert fake_tiktok.processing.wait(20)
        fake_tiktok.expire_token()
        fake_tiktok.release()

    helper = threading.Thread(target=expire_mid_run)
    helper.start()
    outcome = post(video, "tiktok")["tiktok"]
    helper.join()
    assert outcome.status == "drafted" and fake_tiktok.refreshes == [tiktok.REFRESH]
    stored = token_file(Settings().home_dir, "tiktok")
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert fake_tiktok.refresh in stored.read_text() and tiktok.REFRESH not in stored.read_text()

    # The next run uses the stored pair, not the environment's refresh token that TikTok no longer takes.
    other = render_video(tmp_path / "other.mp4", width=540, height=960, seconds=4, colour="red")
    fake_tiktok.expire_token()
    assert post(other, "tiktok")["tiktok"].status == "drafted"
    assert fake_tiktok.refreshes == [tiktok.REFRESH, "fake-tiktok-refresh-token-2-for-tests"]


def test_a_refused_refresh_is_one_sentence(fake_tiktok, video, monkeypatch):
    monkeypatch.setenv("TIKTOK_REFRESH_TOKEN", "fake-refresh-token-tiktok-forgot")
    fake_tiktok.expire_token()
    outcome = post(video, "tiktok")["tiktok"]
    assert outcome.line() == (
        "tiktok: failed (TikTok refused to refresh the token (invalid_grant); run `shorts auth "
        "tiktok` (or set TIKTOK_ACCESS_TOKEN); a rerun starts it again)"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("spam_risk_too_many_pending_share", "The TikTok inbox holds too many unfinished drafts"),
        ("spam_risk_too_many_posts", "TikTok's daily post limit for this account is reached"),
    ],
)
def test_tiktok_error_codes_sent_with_http_200_are_one_sentence(fake_tiktok, video, code, expected):
    fake_tiktok.refuse_init = code
    outcome = post(video, "tiktok")["tiktok"]
    assert outcome.status == "failed" and outcome.reason.startswith(expected) and not outcome.resumes


def test_an_expired_instagram_token_is_one_sentence_without_the_token(fake_meta, video, caplog):
    fake_meta.fail("media", 400, graph_error(190, f"Error validating access token {meta.IG_TOKEN}", subcode=463))
    with caplog.at_level(logging.INFO, logger="shorts"):
        outcome = post(video, "instagram")["instagram"]
    assert outcome.line() == (
        "instagram: failed (Instagram refused the token (code 190: expired or revoked); make a "
        "new one and run `shorts auth instagram` (or set INSTAGRAM_ACCESS_TOKEN); a rerun "
        "starts it again)"
    )
    assert meta.IG_TOKEN not in caplog.text


@pytest.mark.parametrize("code", [4, 9])
def test_a_graph_rate_limit_fails_only_that_platform(fake_meta, fake_tiktok, video, monkeypatch, code):
    platform_env(monkeypatch, fake_meta, fake_tiktok)
    fake_meta.fail("media", 400, graph_error(code, "Application request limit reached", transient=True))
    outcomes = post(video, "instagram", "facebook", "tiktok")
    assert outcomes["instagram"].status == "failed" and f"(code {code})" in outcomes["instagram"].reason
    assert outcomes["facebook"].status == "posted" and outcomes["tiktok"].status == "drafted"


def test_a_retriable_rupload_error_is_sent_again_to_the_same_container(fake_meta, video):
    fake_meta.fail("rupload", 503, {"debug_info": {"retriable": True, "type": "ServerError", "message": "Try again"}})
    assert post(video, "instagram")["instagram"].status == "posted"
    assert len(fake_meta.containers) == 1 and len(fake_meta.media) == 1
    [container] = fake_meta.items
    assert [p for m, p in fake_meta.requests if p.startswith("rupload")] == [
        f"rupload/ig-api-upload/v26.0/{container}"
    ] * 2


def test_a_refused_upload_fails_and_the_rerun_resumes_the_same_container(fake_meta, video):
    fake_meta.fail(
        "rupload",
        400,
        {"debug_info": {"retriable": False, "type": "ProcessingFailedError", "message": "Request processing failed"}},
    )
    first = post(video, "instagram")["instagram"]
    assert first.line() == (
        "instagram: failed (Instagram refused the upload (HTTP 400, ProcessingFailedError: "
        "Request processing failed); a rerun resumes this post)"
    )
    assert post(video, "instagram")["instagram"].status == "posted"
    assert len(fake_meta.containers) == 1 and len(fake_meta.media) == 1


def test_an_expired_container_is_replaced_by_a_new_one_and_posted_once(fake_meta, video):
    fake_meta.fail("publish", 500, graph_error(2, "An unexpected error has occurred.", transient=True))
    assert post(video, "instagram")["instagram"].status == "failed"  # the publish call is never repeated blindly
    fake_meta.containers[0].state = "EXPIRED"
    assert post(video, "instagram")["instagram"].status == "posted"
    assert len(fake_meta.containers) == 2 and len(fake_meta.media) == 1 and fake_meta.containers[1].published


def test_a_used_up_instagram_quota_is_read_at_run_time(fake_meta, video):
    fake_meta.quota_usage, fake_meta.quota_total = 100, 100
    outcome = post(video, "instagram")["instagram"]
    assert outcome.status == "failed" and "used up (100 of 100 in the last 24 hours)" in outcome.reason
    assert fake_meta.containers == []


def test_facebook_counts_its_30_reels_a_day_from_the_ledger(fake_meta, video):
    ledger = open_ledger(Settings())
    for n in range(30):
        ledger.record_post("facebook", meta.PAGE, f"other-{n}", stage="posted")
    outcome = post(video, "facebook")["facebook"]
    assert outcome.status == "skipped" and "30 Reels posted by shorts in the last 24 hours" in outcome.reason


def test_no_token_reaches_a_log_the_ledger_or_an_outcome(fake_meta, fake_tiktok, video, monkeypatch, caplog):
    platform_env(monkeypatch, fake_meta, fake_tiktok)
    fake_tiktok.expire_token()  # a refresh too
    with caplog.at_level(logging.DEBUG):
        outcomes = post(video, "instagram", "facebook", "tiktok")
    assert [o.status for o in outcomes.values()] == ["posted", "posted", "drafted"]
    ledger = Settings().paths.ledger.read_bytes().decode("latin-1")
    text = caplog.text + " ".join(o.model_dump_json() for o in outcomes.values())
    for secret in (*SECRETS, fake_tiktok.access, fake_tiktok.refresh):
        assert secret not in text and secret not in ledger


def test_a_platform_without_credentials_is_skipped_and_check_post_ready_says_so(fake_meta, video, monkeypatch):
    no_platform_env(monkeypatch)
    outcome = post(video, "tiktok")["tiktok"]
    assert outcome.status == "skipped" and outcome.reason.startswith("No TikTok account is set up")
    with pytest.raises(ConfigError, match="set INSTAGRAM_ACCESS_TOKEN and INSTAGRAM_USER_ID"):
        check_post_ready(Settings(), ["youtube", "instagram"])


def test_platform_lists_are_checked():
    assert parse_platforms("youtube, Instagram,tiktok,youtube") == ["youtube", "instagram", "tiktok"]
    assert parse_platforms("") == []
    with pytest.raises(ConfigError, match="Cannot post to myspace; choose from youtube, instagram, facebook, tiktok"):
        parse_platforms("instagram,myspace")


def test_captions_keep_the_title_and_tags_within_each_limit():
    long = SCRIPT.model_copy(update={"description": "Ink and colour. " * 400, "tags": [f"tag{n}" for n in range(40)]})
    text = caption(long, max_chars=2200, max_hashtags=30)
    assert len(text) <= 2200 and text.startswith(SCRIPT.title) and text.count("#") == 30
    assert text.endswith("#tag29") and "…" in text
    emoji = SCRIPT.model_copy(update={"description": "🐙" * 3000})
    assert utf16_length(caption(emoji, max_chars=2200, max_hashtags=30, count=utf16_length)) <= 2200


def test_the_ledger_keeps_posts_on_postgres_too(postgres_url, tmp_path):
    from pipeline.state.ledger import Ledger

    ledger = Ledger(tmp_path / "unused.sqlite", url=postgres_url)
    ledger.record_post("tiktok", "main", "hash", stage="created", remote_id="p1", upload_url="https://up/1")
    ledger.record_post("tiktok", "main", "hash", stage="drafted", detail="in the inbox")
    found = ledger.post("tiktok", "main", "hash")
    assert (found.stage, found.remote_id, found.upload_url, found.detail) == (
        "drafted",
        "p1",
        "https://up/1",
        "in the inbox",
    )
    assert ledger.posts_since("tiktok", "main", found.created_at.replace(year=2000), ("drafted",)) == 1


def test_an_instagram_login_token_posts_through_a_link_from_the_object_store(
    fake_meta, video, monkeypatch, s3_store_url
):
    monkeypatch.setenv("SHORTS_INSTAGRAM_LOGIN", "instagram")
    monkeypatch.setenv("SHORTS_INSTAGRAM_GRAPH_URL", fake_meta.graph)
    monkeypatch.setenv("SHORTS_STORE_URL", s3_store_url)
    outcome = post(video, "instagram")["instagram"]
    [container] = fake_meta.containers
    assert outcome.status == "posted" and container.data == video.read_bytes()  # fetched from the link
    expires = int(parse_qs(urlsplit(container.params["video_url"]).query)["Expires"][0])
    assert abs(expires - time.time() - 6 * 3600) < 120 and "upload_type" not in container.params  # a few hours
    assert not [p for _, p in fake_meta.requests if p.startswith("rupload")]


def test_an_instagram_login_token_without_an_object_store_is_one_sentence(fake_meta, video, monkeypatch):
    monkeypatch.setenv("SHORTS_INSTAGRAM_LOGIN", "instagram")
    outcome = post(video, "instagram")["instagram"]
    assert outcome.status == "skipped" and outcome.reason.startswith(
        "An Instagram Login token (SHORTS_INSTAGRAM_LOGIN=instagram) can post only a video at a public URL: set "
        "SHORTS_STORE_URL"
    )


def test_tiktoks_six_inits_a_minute_are_waited_out_once(fake_tiktok, video):
    fake_tiktok.init_times = [time.monotonic()] * 6  # six uploads started in the last minute
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if seconds == 60:
            fake_tiktok.init_times = []  # a minute has passed

    [outcome] = post_everywhere(video, SCRIPT, ["tiktok"], Settings(), sleep=sleep)
    assert outcome.status == "drafted" and 60 in waits and fake_tiktok.inits == 1


def test_an_answer_of_an_unexpected_shape_fails_that_platform_only(fake_meta, fake_tiktok, video, monkeypatch):
    platform_env(monkeypatch, fake_meta, fake_tiktok)
    fake_meta.fail("reels_start", 200, {"id": "no video_id here"})
    outcomes = post(video, "facebook", "tiktok")
    assert outcomes["facebook"].line() == (
        "facebook: failed (facebook answered in an unexpected shape (KeyError: 'video_id'); a rerun starts it again)"
    )
    assert outcomes["tiktok"].status == "drafted"
