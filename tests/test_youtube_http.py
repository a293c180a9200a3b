"""Uploads over real HTTP (httplib2, as in production) to the fake YouTube: chunked, and resumed after a stall.

The HttpMockSequence tests in test_youtube_upload.py never reach httplib2, which takes YouTube's 308 (Resume
Incomplete) for a redirect: a video of more than one chunk, or any resumed session, failed before the fix.
A 403 whose reason is a rate limit is retried, as google-api-python-client's own `_should_retry_response` does.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httplib2
import pytest
from fakes.youtube import ACCESS_TOKEN, FakeYouTube
from google.oauth2.credentials import Credentials

from pipeline import ProviderError
from pipeline.publish.youtube_auth import SCOPES
from pipeline.publish.youtube_upload import processing_status, upload_video, youtube_client

CHUNK = 256 * 1024
BODY = {"snippet": {"title": "Octopus ink"}, "status": {"privacyStatus": "private"}}


@pytest.fixture
def video(tmp_path) -> Path:
    path = tmp_path / "final.mp4"
    path.write_bytes(os.urandom(2 * CHUNK + 1000))  # three chunks
    return path


def _client(youtube: FakeYouTube, timeout: float = 30):
    credentials = Credentials(
        token=ACCESS_TOKEN, scopes=list(SCOPES), expiry=datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    )
    return youtube_client(credentials, httplib2.Http(timeout=timeout), youtube.url)


def test_a_video_of_several_chunks_is_uploaded_whole(youtube, video):
    sessions = []
    made = upload_video(
        _client(youtube), video, BODY, on_session=sessions.append, chunksize=CHUNK, sleep=lambda s: None
    )
    assert made["id"] == "fakeVid001" and youtube.inserts == 1
    assert bytes(youtube.sessions["s1"].data) == video.read_bytes()
    assert [m for m, _ in youtube.requests] == ["POST", "PUT", "PUT", "PUT"]
    assert sessions == [f"{youtube.url}/upload/session/s1"]


def test_an_upload_stalled_mid_chunk_is_resumed_where_youtube_stopped(youtube, video):
    youtube.stall_after = 100_000  # the first chunk stops part way; the client times out and asks where it stands
    waits = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        youtube.release()

    made = upload_video(_client(youtube, timeout=1), video, BODY, chunksize=CHUNK, sleep=sleep, jitter=lambda: 0.0)
    assert made["id"] == "fakeVid001" and youtube.inserts == 1 and len(waits) == 1
    assert bytes(youtube.sessions["s1"].data) == video.read_bytes()
    status_query = [m for m, _ in youtube.requests].index("PUT", 2)  # after the stalled PUT: where do we stand?
    assert status_query == 2


def test_a_session_from_an_earlier_run_is_resumed_not_started_again(youtube, video):
    first = _client(youtube)
    youtube.stall_after = 100_000
    sessions = []
    with pytest.raises(Exception):
        upload_video(
            _client(youtube, timeout=1),
            video,
            BODY,
            on_session=sessions.append,
            chunksize=CHUNK,
            max_tries=1,
            sleep=lambda s: None,
        )
    youtube.release()
    made = upload_video(first, video, BODY, session_uri=sessions[0], chunksize=CHUNK, sleep=lambda s: None)
    assert made["id"] == "fakeVid001" and youtube.inserts == 1
    assert bytes(youtube.sessions["s1"].data) == video.read_bytes()


def test_a_rate_limited_chunk_is_retried_and_the_video_is_made_once(youtube, video):
    youtube.fail("chunk", 403, "rateLimitExceeded")  # YouTube's "slow down", on the first chunk
    waits: list[float] = []
    made = upload_video(_client(youtube), video, BODY, chunksize=CHUNK, sleep=waits.append, jitter=lambda: 0.5)

    assert made["id"] == "fakeVid001" and youtube.videos == ["fakeVid001"] and youtube.inserts == 1
    assert bytes(youtube.sessions["s1"].data) == video.read_bytes()
    # refused chunk, "how much do you hold?", then the three chunks: one session, so one video
    assert [m for m, _ in youtube.requests] == ["POST", "PUT", "PUT", "PUT", "PUT", "PUT"]
    assert waits == [1.0]  # the first backoff: up to 2 s, times the jitter


def test_a_rate_limited_session_start_is_retried(youtube, video):
    youtube.fail("insert", 403, "userRateLimitExceeded")
    waits: list[float] = []
    made = upload_video(_client(youtube), video, BODY, chunksize=CHUNK, sleep=waits.append)
    assert made["id"] == "fakeVid001" and youtube.inserts == 1 and youtube.videos == ["fakeVid001"]
    assert [m for m, _ in youtube.requests][:3] == ["POST", "POST", "PUT"] and len(waits) == 1


def test_a_403_that_is_not_a_rate_limit_is_final(youtube, video):
    youtube.fail("chunk", 403, "quotaExceeded", times=3)
    waits: list[float] = []
    with pytest.raises(ProviderError, match="daily upload quota") as caught:
        upload_video(_client(youtube), video, BODY, chunksize=CHUNK, sleep=waits.append)
    assert waits == [] and youtube.videos == [] and [m for m, _ in youtube.requests] == ["POST", "PUT"]
    assert ACCESS_TOKEN not in str(caught.value) and "session" not in str(caught.value)


def test_the_status_check_is_retried_on_a_rate_limit_too(youtube, video):
    client = _client(youtube)
    made = upload_video(client, video, BODY, sleep=lambda s: None)
    youtube.fail("list", 403, "rateLimitExceeded")
    waits: list[float] = []
    assert processing_status(client, made["id"], sleep=waits.append) == "succeeded"
    assert [m for m, _ in youtube.requests][-2:] == ["GET", "GET"] and len(waits) == 1
