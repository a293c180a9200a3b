"""`shorts auth instagram|facebook|tiktok` (a pasted token, checked with a free call, stored 0600) and `shorts doctor`'s
line per platform, against the fakes."""

from __future__ import annotations

import json
import stat

import pytest
from fakes import meta, tiktok
from fakes.meta import FakeMeta
from fakes.posting import SCRIPT, no_platform_env, platform_env
from fakes.tiktok import FakeTikTok
from fakes.youtube import render_video
from typer.testing import CliRunner

from flows.cli import app
from pipeline import Settings, post_everywhere
from pipeline.publish.tokens import token_file


@pytest.fixture
def fakes(monkeypatch):
    with FakeMeta() as fake_meta, FakeTikTok() as fake_tiktok:
        platform_env(monkeypatch, fake_meta, fake_tiktok)
        yield fake_meta, fake_tiktok


def test_a_pasted_instagram_token_is_checked_stored_privately_and_used(fakes, monkeypatch, tmp_path):
    result = CliRunner().invoke(app, ["auth", "instagram", "--user-id", meta.IG_USER], input=f"{meta.IG_TOKEN}\n")
    assert result.exit_code == 0, result.output
    assert "Instagram @octo.shorts: token accepted; 0 of 50 posts used in the last 24 hours" in result.output
    assert meta.IG_TOKEN not in result.output
    path = token_file(Settings().home_dir, "instagram")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"access_token": meta.IG_TOKEN, "user_id": meta.IG_USER}

    monkeypatch.delenv("INSTAGRAM_ACCESS_TOKEN")
    monkeypatch.delenv("INSTAGRAM_USER_ID")
    video = render_video(tmp_path / "final.mp4", width=540, height=960, seconds=4)
    [outcome] = post_everywhere(video, SCRIPT, ["instagram"], Settings(), sleep=lambda s: None)
    assert outcome.status == "posted"


def test_a_refused_token_is_one_line_and_nothing_is_stored(fakes):
    result = CliRunner().invoke(
        app, ["auth", "facebook", "--page-id", meta.PAGE], input="fake-facebook-token-that-expired\n"
    )
    assert result.exit_code == 2
    assert "Facebook refused the token (code 190: expired or revoked)" in result.output
    assert "fake-facebook-token-that-expired" not in result.output
    assert not token_file(Settings().home_dir, "facebook").exists()


def test_a_tiktok_token_pair_is_stored_and_refreshed_from_the_file(fakes, monkeypatch):
    _, fake_tiktok = fakes
    no_platform_env(monkeypatch)
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", tiktok.CLIENT_KEY)
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET", tiktok.CLIENT_SECRET)
    result = CliRunner().invoke(app, ["auth", "tiktok"], input=f"{tiktok.ACCESS}\n{tiktok.REFRESH}\n")
    assert result.exit_code == 0, result.output
    assert "TikTok @octofan: token accepted; drafts in the inbox; videos up to 600 s" in result.output
    fake_tiktok.expire_token()
    doctor = CliRunner().invoke(app, ["doctor"])
    assert "TikTok @octofan: token accepted" in doctor.output and fake_tiktok.refreshes == [tiktok.REFRESH]
    assert fake_tiktok.refresh in token_file(Settings().home_dir, "tiktok").read_text()


def test_doctor_checks_each_configured_platform_for_free(fakes):
    fake_meta, fake_tiktok = fakes
    fake_meta.quota_usage = 7
    result = CliRunner().invoke(app, ["doctor"])
    assert "Instagram @octo.shorts: token accepted; 7 of 50 posts used in the last 24 hours" in result.output
    assert (
        "Facebook Page 'Octopus Facts': token accepted; 0 of 30 Reels posted by shorts in the last 24 hours"
        in result.output
    )
    assert "TikTok @octofan: token accepted; drafts in the inbox" in result.output
    assert fake_meta.items == {} and fake_tiktok.inits == 0  # nothing posted, nothing started
    for secret in (meta.IG_TOKEN, meta.PAGE_TOKEN, tiktok.ACCESS):
        assert secret not in result.output


def test_doctor_says_how_to_set_up_a_platform_and_names_a_refused_token(fakes, monkeypatch):
    no_platform_env(monkeypatch)
    monkeypatch.setenv("FACEBOOK_PAGE_ACCESS_TOKEN", "fake-facebook-page-token-revoked")
    monkeypatch.setenv("FACEBOOK_PAGE_ID", meta.PAGE)
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert "No Instagram account is set up: set INSTAGRAM_ACCESS_TOKEN and INSTAGRAM_USER_ID" in result.output
    assert "Facebook: Facebook refused the token (code 190" in result.output
    assert "No TikTok account is set up" in result.output


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        ("instagram,myspace", "Cannot post to myspace; choose from youtube, instagram, facebook, tiktok."),
        (
            "facebook",
            "No Facebook Page is set up: set FACEBOOK_PAGE_ACCESS_TOKEN and FACEBOOK_PAGE_ID, or run "
            "`shorts auth facebook`.",
        ),
    ],
)
def test_make_refuses_a_post_it_could_not_make_before_anything_starts(monkeypatch, post, expected):
    no_platform_env(monkeypatch)
    result = CliRunner().invoke(app, ["make", "bees", "--post", post])
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output
    assert not (Settings().home_dir / "prefect-server").exists()  # refused before any server started
