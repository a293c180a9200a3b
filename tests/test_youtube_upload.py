"""Uploading through the real google-api-python-client, with its HTTP replaced by HttpMockSequence (no network)."""

import json
import logging
import shutil
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakes.youtube import render_video
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.http import HttpMockSequence

from pipeline import (
    ConfigError,
    ProviderError,
    Published,
    Scene,
    Script,
    Settings,
    ShortRequest,
    file_digest,
    publish_short,
)
from pipeline.publish.short import publish_to_youtube
from pipeline.publish.youtube_auth import SCOPES, save_token, token_path
from pipeline.publish.youtube_upload import upload_video
from pipeline.state.ledger import Ledger

SESSION = "https://youtube.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=session-1"
SESSION_2 = "https://youtube.googleapis.com/upload/youtube/v3/videos?uploadType=resumable&upload_id=session-2"
CHUNK = 256 * 1024
SIZE = CHUNK + 1000  # two chunks: a resume point in between
SCRIPT = Script(
    title="Octopus camouflage",
    description="How octopuses vanish in plain sight.",
    tags=["octopus", "ocean life"],
    hook="Blink and it is gone.",
    scenes=[
        Scene(
            index=1,
            narration="Octopuses see with their skin.",
            first_frame_prompt="an octopus on coral",
            motion_prompt="slow push in",
            seconds=5,
        )
    ],
)
EXPECTED_BODY = {
    "snippet": {
        "title": "Octopus camouflage",
        "description": "How octopuses vanish in plain sight.",
        "tags": ["octopus", "ocean life"],
        "categoryId": "22",
        "defaultLanguage": "en",
        "defaultAudioLanguage": "en",
    },
    "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False, "containsSyntheticMedia": True},
}


def started(location: str = SESSION) -> tuple[dict, bytes]:
    return {"status": "200", "location": location}, b""


def stored(video_id: str = "vid123") -> tuple[dict, str]:
    return {"status": "200"}, json.dumps({"id": video_id, "status": {"uploadStatus": "uploaded"}})


def partial(last_byte: int) -> tuple[dict, bytes]:
    return {"status": "308", "range": f"bytes=0-{last_byte}"}, b""


def failed(status: int, reason: str = "backendError") -> tuple[dict, str]:
    return {"status": str(status)}, json.dumps(
        {
            "error": {
                "code": status,
                "message": f"It went wrong ({reason}).",
                "errors": [{"reason": reason, "domain": "youtube"}],
            }
        }
    )


LISTED = (
    {"status": "200"},
    json.dumps(
        {
            "items": [
                {
                    "id": "vid123",
                    "status": {"uploadStatus": "uploaded"},
                    "processingDetails": {"processingStatus": "processing"},
                }
            ]
        }
    ),
)


@pytest.fixture
def settings() -> Settings:
    return Settings(youtube_thumbnail=False)  # the thumbnail has its own tests, on the fake YouTube


@pytest.fixture
def token(settings) -> Path:
    creds = Credentials(
        token="access-1",
        refresh_token="refresh-1",
        token_uri="https://oauth2.googleapis.com/token",
        client_id="cid",
        client_secret="shh",
        scopes=list(SCOPES),
        expiry=datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1),
    )
    path = token_path(settings.home_dir, "main")
    save_token(creds, path)
    return path


@pytest.fixture(scope="module")
def short_video(tmp_path_factory) -> Path:
    """A real vertical 1 s video, padded to SIZE: the upload checks that it is a Short before sending it."""
    return render_video(tmp_path_factory.mktemp("video") / "final.mp4", size=SIZE)


@pytest.fixture
def out_dir(tmp_path, short_video) -> Path:
    folder = tmp_path / "out" / "octopus"
    folder.mkdir(parents=True)
    shutil.copyfile(short_video, folder / "final.mp4")
    return folder


@pytest.fixture
def sleeps() -> list[float]:
    return []


def upload(out_dir, settings, http, sleeps, **kwargs) -> Published:
    return publish_to_youtube(
        out_dir / "final.mp4", SCRIPT, "en", settings, "main", http=http, sleep=sleeps.append, **kwargs
    )


def sent(http: HttpMockSequence) -> list[tuple[str, str]]:
    return [(method, uri) for uri, method, _, _ in http.request_sequence]


def content_range(http: HttpMockSequence, index: int) -> str:
    return {k.lower(): v for k, v in http.request_sequence[index][3].items()}["content-range"]


def test_the_upload_sends_exactly_the_expected_snippet_and_status(out_dir, settings, token, sleeps):
    http = HttpMockSequence([started(), stored(), LISTED])
    published = upload(out_dir, settings, http, sleeps)

    assert published == Published(
        destination="youtube",
        location="https://youtube.com/shorts/vid123",
        youtube_id="vid123",
        youtube_url="https://youtube.com/shorts/vid123",
    )
    uri, method, body, headers = http.request_sequence[0]
    assert method == "POST" and uri.startswith("https://youtube.googleapis.com/upload/youtube/v3/videos?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)
    assert query["part"] == ["snippet,status"] and query["uploadType"] == ["resumable"]
    assert json.loads(body) == EXPECTED_BODY
    assert headers["authorization"] == "Bearer access-1"
    assert headers["X-Upload-Content-Type"] == "video/mp4" and headers["X-Upload-Content-Length"] == str(SIZE)
    assert sent(http)[1] == ("PUT", SESSION) and content_range(http, 1) == f"bytes 0-{SIZE - 1}/{SIZE}"
    assert sent(http)[2][0] == "GET" and "id=vid123" in sent(http)[2][1]  # the processing-status check
    assert sleeps == []


def test_a_503_is_retried_and_the_upload_resumes_where_the_server_stopped(out_dir, settings, token, sleeps):
    http = HttpMockSequence([started(), failed(503), partial(CHUNK - 1), stored(), LISTED])
    published = upload(out_dir, settings, http, sleeps, chunksize=CHUNK)

    assert published.youtube_id == "vid123"
    assert [m for m, _ in sent(http)] == ["POST", "PUT", "PUT", "PUT", "GET"]
    assert content_range(http, 1) == f"bytes 0-{CHUNK - 1}/{SIZE}"  # refused with 503
    assert content_range(http, 2) == f"bytes */{SIZE}"  # how much do you have?
    assert content_range(http, 3) == f"bytes {CHUNK}-{SIZE - 1}/{SIZE}"  # only the rest is sent
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 2  # backoff with jitter, no real waiting in tests


class ResettingHttp(HttpMockSequence):
    """The mock transport, with a dropped connection where the sequence says "reset"."""

    def request(self, uri, method="GET", body=None, headers=None, *args, **kwargs):
        if self._iterable[0] == "reset":
            self._iterable.pop(0)
            self.request_sequence.append((uri, method, body, headers))
            raise ConnectionResetError(104, "Connection reset by peer")
        return super().request(uri, method, body, headers, *args, **kwargs)


def test_a_dropped_connection_is_retried_and_resumed(out_dir, settings, token, sleeps):
    http = ResettingHttp([started(), "reset", partial(CHUNK - 1), stored(), LISTED])
    assert upload(out_dir, settings, http, sleeps, chunksize=CHUNK).youtube_id == "vid123"
    assert content_range(http, 2) == f"bytes */{SIZE}" and len(sleeps) == 1


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            failed(403, "quotaExceeded"),
            "YouTube's daily upload quota for this Google Cloud project is used up; the "
            "Short is kept, so rerun the same command after midnight Pacific time to "
            "upload it.",
        ),
        (
            failed(400, "uploadLimitExceeded"),
            "This YouTube channel has reached its upload limit for now; the Short is "
            "kept, so rerun the same command in a few hours to upload it.",
        ),
        (
            failed(400, "invalidCategoryId"),
            "YouTube refused the upload (400 invalidCategoryId): It went wrong "
            "(invalidCategoryId); nothing was published, fix the cause and rerun.",
        ),
    ],
)
def test_a_refusal_is_one_sentence_and_is_not_retried(out_dir, settings, token, sleeps, response, expected):
    http = HttpMockSequence([response])
    with pytest.raises(ProviderError) as caught:
        upload(out_dir, settings, http, sleeps)
    assert str(caught.value) == expected and not caught.value.retry_safe
    assert len(http.request_sequence) == 1 and sleeps == []
    assert "access-1" not in str(caught.value)


def test_the_second_run_uploads_nothing_and_returns_the_existing_link(out_dir, settings, token, sleeps, caplog):
    request = ShortRequest(topic="octopus camouflage", upload=True)
    first = publish_short(out_dir, SCRIPT, request, settings, http=HttpMockSequence([started(), stored(), LISTED]))

    again = HttpMockSequence([])  # any request at all would fail: the sequence is empty
    with caplog.at_level(logging.INFO, logger="shorts"):
        second = publish_short(out_dir, SCRIPT, request, settings, http=again)
    assert second == first and second.youtube_url == "https://youtube.com/shorts/vid123"
    assert again.request_sequence == []
    assert "nothing uploaded: https://youtube.com/shorts/vid123" in caplog.text
    upload = Ledger(settings.paths.ledger).upload(file_digest(out_dir / "final.mp4"), "main")
    assert upload.video_id == "vid123" and upload.session_uri is None


def test_an_interrupted_upload_resumes_its_session_in_the_next_run(out_dir, settings, token, sleeps):
    first = HttpMockSequence([started(), *[failed(503)] * 10])
    with pytest.raises(
        ProviderError, match=r"failed 10 times in a row \(HTTP 503 backendError\); rerun later and it resumes"
    ):
        upload(out_dir, settings, first, sleeps, chunksize=CHUNK)
    assert len(first.request_sequence) == 11 and len(sleeps) == 9
    assert sleeps[-1] <= 60

    second = HttpMockSequence([partial(CHUNK - 1), stored(), LISTED])
    assert upload(out_dir, settings, second, sleeps, chunksize=CHUNK).youtube_id == "vid123"
    assert sent(second)[0] == ("PUT", SESSION) and content_range(second, 0) == f"bytes */{SIZE}"  # no new session
    assert content_range(second, 1) == f"bytes {CHUNK}-{SIZE - 1}/{SIZE}"


def test_an_expired_session_is_replaced_by_a_new_one(out_dir, settings, token, sleeps):
    with pytest.raises(ProviderError):
        upload(out_dir, settings, HttpMockSequence([started(), *[failed(503)] * 10]), sleeps, chunksize=CHUNK)
    http = HttpMockSequence([failed(404, "notFound"), started(SESSION_2), partial(CHUNK - 1), stored(), LISTED])
    assert upload(out_dir, settings, http, sleeps, chunksize=CHUNK).youtube_id == "vid123"
    assert [m for m, _ in sent(http)] == ["PUT", "POST", "PUT", "PUT", "GET"]
    assert sent(http)[2] == ("PUT", SESSION_2) and content_range(http, 2) == f"bytes 0-{CHUNK - 1}/{SIZE}"


def test_bad_metadata_settings_are_refused_before_any_request(out_dir, token, sleeps):
    past = Settings(youtube_publish_at=datetime.now(UTC) - timedelta(hours=1))
    http = HttpMockSequence([])
    with pytest.raises(ConfigError, match="is in the past"):
        upload(out_dir, past, http, sleeps)
    assert http.request_sequence == []


def test_a_too_long_description_is_cut_before_it_is_sent(out_dir, settings, token, sleeps, caplog):
    long = SCRIPT.model_copy(update={"description": "Ünterwasser " * 500})  # 6500 bytes, 6499 once stripped
    http = HttpMockSequence([started(), stored(), LISTED])
    with caplog.at_level(logging.WARNING, logger="shorts"):
        publish_to_youtube(out_dir / "final.mp4", long, "en", settings, "main", http=http, sleep=sleeps.append)
    description = json.loads(http.request_sequence[0][2])["snippet"]["description"]
    assert 4900 < len(description.encode()) <= 5000 and description.endswith("Ünterwasser…")
    assert "description cut from 6499 to" in caplog.text


def test_without_upload_or_without_a_token_the_outbox_is_used(out_dir, settings, tmp_path, caplog):
    for name in ("captions.srt", "script.json", "manifest.json"):
        (out_dir / name).write_text("{}")
    http = HttpMockSequence([])
    plain = publish_short(out_dir, SCRIPT, ShortRequest(topic="octopus"), settings, http=http)
    assert plain.destination == "outbox" and Path(plain.location, "final.mp4").is_file()
    with caplog.at_level(logging.WARNING, logger="shorts"):
        asked = publish_short(
            out_dir, SCRIPT, ShortRequest(topic="octopus", upload=True, channel="travel"), settings, http=http
        )
    assert asked == plain and http.request_sequence == []
    assert "no YouTube token for channel 'travel'" in caplog.text and "--channel travel" in caplog.text


def test_upload_video_works_on_a_client_built_from_the_shipped_discovery_document(out_dir, sleeps):
    http = HttpMockSequence([started(), stored("abc")])
    youtube = build("youtube", "v3", http=http, static_discovery=True)
    resource = upload_video(youtube, out_dir / "final.mp4", EXPECTED_BODY, sleep=sleeps.append)
    assert resource["id"] == "abc" and json.loads(http.request_sequence[0][2]) == EXPECTED_BODY
