"""The custom thumbnail, and the retries around it, through `publish_short` and the real client to the fake YouTube."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from fakes.youtube import FakeYouTube, render_video
from PIL import Image

from pipeline import Scene, Script, Settings, ShortRequest, file_digest, publish_short
from pipeline.limits import THUMBNAIL_MAX_BYTES
from pipeline.publish.youtube_thumbnail import make_thumbnail
from pipeline.state.ledger import Ledger

SCRIPT = Script(
    title="How octopuses vanish in plain sight",
    description="Camouflage.",
    tags=["octopus"],
    hook="Gone.",
    scenes=[
        Scene(
            index=i,
            narration="Octopuses see with their skin.",
            first_frame_prompt="an octopus",
            motion_prompt="slow push in",
            seconds=5,
        )
        for i in (1, 2)
    ],
)
REQUEST = ShortRequest(topic="octopus camouflage", upload=True)
RED, BLUE = (220, 30, 30), (30, 30, 220)


@pytest.fixture
def out_dir(tmp_path) -> Path:
    """A package as `shorts make` leaves it: the video, and a manifest naming each scene's first frame."""
    folder = tmp_path / "out" / "octopus"
    folder.mkdir(parents=True)
    render_video(folder / "final.mp4", width=72, height=128, colour="teal")
    frames = []
    for scene, colour in ((2, BLUE), (1, RED)):  # listed out of order: scene 1's frame is the one
        path = tmp_path / f"frame-{scene}.png"
        Image.new("RGB", (144, 256), colour).save(path)
        frames.append({"scene": scene, "path": str(path)})
    (folder / "manifest.json").write_text(json.dumps({"frames": frames}))
    (folder / "script.json").write_text(SCRIPT.model_dump_json())
    return folder


def sent_thumbnail(youtube: FakeYouTube) -> Image.Image:
    [(video, data, content_type)] = youtube.thumbnails
    assert video == "fakeVid001" and content_type == "image/jpeg" and len(data) < THUMBNAIL_MAX_BYTES
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


def test_the_thumbnail_is_set_once_the_video_is_processed_and_never_again(out_dir, youtube, youtube_settings, caplog):
    youtube.processing_polls = 2  # "processing" twice, then "succeeded"
    sleeps: list[float] = []
    with caplog.at_level(logging.INFO, logger="shorts"):
        published = publish_short(out_dir, SCRIPT, REQUEST, youtube_settings, sleep=sleeps.append)

    assert published.youtube_id == "fakeVid001" and youtube.videos == ["fakeVid001"] and youtube.inserts == 1
    assert youtube.lists == {"fakeVid001": 3} and sleeps == [5.0, 10.0]  # bounded polling, no real waiting
    image = sent_thumbnail(youtube)
    assert image.size == (1080, 1920)  # vertical 9:16
    assert image.getpixel((20, 20)) == pytest.approx(RED, abs=12)  # scene 1's first frame, not scene 2's
    title_band = image.crop((0, 1180, 1080, 1520)).getcolors(1080 * 340)  # the lower middle
    assert any(min(colour) > 235 for _, colour in title_band)  # white letters: the title is drawn on it
    assert (out_dir / "thumbnail.jpg").read_bytes() == youtube.thumbnails[0][1]  # kept beside the video
    assert "thumbnail set" in caplog.text
    assert Ledger(youtube_settings.paths.ledger).upload(file_digest(out_dir / "final.mp4"), "main").thumbnail_set_at

    asked = len(youtube.requests)
    again = publish_short(out_dir, SCRIPT, REQUEST, youtube_settings, sleep=sleeps.append)
    assert again == published and len(youtube.requests) == asked  # a rerun asks YouTube nothing at all
    assert len(youtube.thumbnails) == 1


@pytest.mark.parametrize(
    ("status", "reason", "times", "warning"),
    [
        (
            403,
            "forbidden",
            1,
            "YouTube refused the thumbnail (HTTP 403 forbidden), as it does for a channel not allowed "
            "custom thumbnails; verify the channel at youtube.com/verify or set "
            "SHORTS_YOUTUBE_THUMBNAIL=false, and the Short itself is up.",
        ),
        (
            500,
            "backendError",
            5,
            "YouTube did not take the thumbnail (HTTP 500 backendError); the Short is up without "
            "it, and rerunning the same command tries again.",
        ),
    ],
)
def test_a_thumbnail_failure_only_warns_and_a_rerun_sets_it(
    out_dir, youtube, youtube_settings, caplog, status, reason, times, warning
):
    youtube.fail("thumbnail", status, reason, times=times)
    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, logger="shorts"):
        published = publish_short(out_dir, SCRIPT, REQUEST, youtube_settings, sleep=sleeps.append)

    assert published.youtube_id == "fakeVid001" and youtube.videos == ["fakeVid001"] and youtube.thumbnails == []
    assert warning in caplog.text and "ERROR" not in caplog.text
    thumbnail_posts = [path for method, path in youtube.requests if "thumbnails/set" in path]
    assert len(thumbnail_posts) == times and len(sleeps) == times - 1  # a 5xx is tried 5 times, a 403 once
    upload = Ledger(youtube_settings.paths.ledger).upload(file_digest(out_dir / "final.mp4"), "main")
    assert upload.thumbnail_set_at is None

    again = publish_short(out_dir, SCRIPT, REQUEST, youtube_settings, sleep=sleeps.append)
    assert again == published and youtube.inserts == 1 and youtube.videos == ["fakeVid001"]  # never uploaded twice
    assert sent_thumbnail(youtube).size == (1080, 1920)


def test_rate_limits_on_the_upload_and_the_status_check_are_retried(out_dir, youtube, youtube_settings, caplog):
    youtube.fail("chunk", 403, "rateLimitExceeded")
    youtube.fail("list", 403, "userRateLimitExceeded")
    youtube.fail("thumbnail", 403, "rateLimitExceeded")
    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, logger="shorts"):
        published = publish_short(out_dir, SCRIPT, REQUEST, youtube_settings, sleep=sleeps.append)

    assert published.youtube_id == "fakeVid001" and youtube.inserts == 1 and youtube.videos == ["fakeVid001"]
    assert bytes(youtube.sessions["s1"].data) == (out_dir / "final.mp4").read_bytes()
    assert len(sleeps) == 3 and all(0 <= s <= 2 for s in sleeps)  # one backoff each, up to 2 s (none real)
    assert "upload interrupted (HTTP 403 rateLimitExceeded); try 2 of 10" in caplog.text
    assert "status check failed (HTTP 403 userRateLimitExceeded); try 2 of 5" in caplog.text
    assert "thumbnail upload failed (HTTP 403 rateLimitExceeded); try 2 of 5" in caplog.text
    assert len(youtube.thumbnails) == 1


def test_processing_that_takes_too_long_leaves_the_thumbnail_to_a_rerun(out_dir, youtube, youtube_settings, caplog):
    youtube.processing_polls = 1000
    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, logger="shorts"):
        publish_short(out_dir, SCRIPT, REQUEST, youtube_settings, sleep=sleeps.append)
    assert sum(sleeps) == 300 and youtube.lists["fakeVid001"] == len(sleeps) + 1 and youtube.thumbnails == []
    assert (
        "YouTube had not finished processing the Short after 300 s, so its thumbnail is not set yet; rerun the "
        "same command later to set it (nothing is uploaded again)."
    ) in caplog.text

    youtube.processing_polls = 0
    publish_short(out_dir, SCRIPT, REQUEST, youtube_settings, sleep=sleeps.append)
    assert youtube.inserts == 1 and len(youtube.thumbnails) == 1


@pytest.mark.parametrize("manifest", [{"frames": []}, None])  # stock footage has no first frames; no manifest
def test_without_first_frames_the_video_s_first_frame_is_used(out_dir, youtube, youtube_settings, manifest):
    if manifest is None:
        (out_dir / "manifest.json").unlink()
    else:
        (out_dir / "manifest.json").write_text(json.dumps(manifest))
    publish_short(out_dir, SCRIPT, REQUEST, youtube_settings, sleep=lambda s: None)
    teal = (0, 128, 128)
    assert sent_thumbnail(youtube).getpixel((20, 20)) == pytest.approx(teal, abs=16)


def test_shorts_youtube_thumbnail_false_skips_it(out_dir, youtube, youtube_settings, monkeypatch):
    monkeypatch.setenv("SHORTS_YOUTUBE_THUMBNAIL", "false")
    publish_short(out_dir, SCRIPT, REQUEST, Settings(youtube_api_url=youtube.url), sleep=lambda s: None)
    assert youtube.videos == ["fakeVid001"] and youtube.thumbnails == [] and not (out_dir / "thumbnail.jpg").exists()
    assert [method for method, _ in youtube.requests] == ["POST", "PUT", "GET"]  # the upload, one status report


@pytest.mark.parametrize("title", ["タコはどうやって色を変えるのか", "كيف يغير الأخطبوط لونه"])
def test_a_title_in_another_script_is_drawn_not_dropped(tmp_path, title):
    video = render_video(tmp_path / "final.mp4", width=144, height=256)
    image = Image.open(make_thumbnail(video, title, tmp_path / "thumb.jpg"))
    band = image.crop((0, 1180, 1080, 1520)).convert("L")
    white = sum(band.histogram()[236:])
    assert white > 5000  # the letters are there: these scripts used to be left out, leaving an empty band
