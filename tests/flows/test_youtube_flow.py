"""`shorts make --upload` through Prefect, against the fake YouTube on 127.0.0.1 (via SHORTS_YOUTUBE_API_URL)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from fakes.youtube import ACCESS_TOKEN, FakeYouTube, authorise
from PIL import Image

from pipeline import Script, Settings, ShortRequest, publish_short, short_folder

SHORTS = str(Path(sys.executable).parent / "shorts")


@pytest.fixture
def youtube(monkeypatch):
    fake = FakeYouTube()  # processes a video at once: the flow's own sleeps are real ones
    monkeypatch.setenv("SHORTS_YOUTUBE_API_URL", fake.url)
    authorise(Path(os.environ["SHORTS_HOME"]))
    yield fake
    fake.stop()


def make(*args: str, code: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [SHORTS, "make", "octopus camouflage", "--seconds", "6", "--scenes", "2", *args],
        capture_output=True,
        text=True,
        timeout=400,
        env=os.environ,
    )
    assert result.returncode == code, result.stderr[-3000:]
    return result


@pytest.mark.flow
def test_make_upload_puts_the_short_on_youtube_once(monkeypatch, on_prefect_server, youtube):
    monkeypatch.setenv("SHORTS_YOUTUBE_PRIVACY", "unlisted")
    make()  # made first without --upload: asking for an upload must not make anything again
    assert youtube.requests == []
    first = make("--upload", "--json")
    asked = len(youtube.requests)
    # Publishing the same Short again (as a rerun's publish step does) reads the ledger the run wrote.
    short = json.loads(first.stdout)
    again = publish_short(
        Path(short["output_dir"]),
        Script.model_validate_json(Path(short["script"]).read_text()),
        ShortRequest(topic="octopus camouflage", upload=True),
        Settings(),
    )

    url = "https://youtube.com/shorts/fakeVid001"
    assert (short["youtube_id"], short["youtube_url"], short["published"]) == ("fakeVid001", url, url)
    manifest_text = Path(short["manifest"]).read_text()
    manifest = json.loads(manifest_text)
    assert (manifest["youtube_id"], manifest["youtube_url"]) == ("fakeVid001", url)

    # the session, the video in one PUT, the processing status, the thumbnail
    assert [method for method, _ in youtube.requests] == ["POST", "PUT", "GET", "POST"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(youtube.requests[0][1]).query)
    assert query["part"] == ["snippet,status"]  # and the token was right: the fake answers 401 to any other
    session = youtube.sessions["s1"]
    assert session.body["snippet"]["title"] == manifest["script"]["title"]
    assert session.body["status"] == {
        "privacyStatus": "unlisted",
        "selfDeclaredMadeForKids": False,
        "containsSyntheticMedia": True,
    }
    assert bytes(session.data) == Path(short["video"]).read_bytes()  # the final video, whole
    [(video_id, jpeg, content_type)] = youtube.thumbnails
    thumbnail = Image.open(io.BytesIO(jpeg))
    assert (video_id, content_type, thumbnail.format, thumbnail.size) == (
        "fakeVid001",
        "image/jpeg",
        "JPEG",
        (1080, 1920),
    )

    assert "6 of 6 scene steps reused" in first.stderr
    assert f"on YouTube: {url}" in first.stderr and "thumbnail set" in first.stderr

    assert again.youtube_url == url and len(youtube.requests) == asked  # YouTube was asked nothing
    everything = first.stdout + first.stderr + manifest_text
    assert ACCESS_TOKEN not in everything and "upload/session" not in everything


@pytest.mark.flow
def test_a_landscape_short_is_not_uploaded_and_stays_in_its_folder(monkeypatch, on_prefect_server, youtube, tmp_path):
    monkeypatch.setenv("SHORTS_WIDTH", "256")
    monkeypatch.setenv("SHORTS_HEIGHT", "144")
    failed = make("--upload", code=1)

    assert youtube.requests == []  # refused before a single request
    folder = tmp_path / "out" / short_folder("octopus camouflage")
    assert failed.stderr.strip().splitlines()[-1] == (
        f"shorts: publish failed: Not uploaded as a Short: final.mp4 is 256x144, wider than tall, and a Short must be "
        f"square or taller; the package stays in {folder}, so make it again vertical (SHORTS_WIDTH below "
        "SHORTS_HEIGHT, 720x1280 by default) and rerun."
    )
    assert {"final.mp4", "manifest.json", "script.json", "captions.srt"} <= {p.name for p in folder.iterdir()}
