"""YouTube authorisation: the sign-in flow against a local fake of Google, private token files, refresh, revocation."""

import json
import os
import stat
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
import webbrowser
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.http import HttpMockSequence

from pipeline import ConfigError, authorize_youtube, has_youtube_token
from pipeline.publish.youtube_auth import SCOPES, load_youtube_credentials, save_token, token_path

SHORTS = str(Path(sys.executable).parent / "shorts")
SECRET = "client-secret-never-printed"
REFRESH = "refresh-token-never-printed"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def credentials(expiry: datetime, token: str = "access-1") -> Credentials:
    return Credentials(
        token=token,
        refresh_token=REFRESH,
        token_uri="https://oauth2.googleapis.com/token",
        client_id="cid.apps.googleusercontent.com",
        client_secret=SECRET,
        scopes=list(SCOPES),
        expiry=expiry.replace(tzinfo=None),
    )  # google-auth keeps naive UTC


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def test_the_token_file_is_created_private(home):
    path = token_path(home, "main")
    save_token(credentials(datetime.now(UTC) + timedelta(hours=1)), path)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert json.loads(path.read_text())["refresh_token"] == REFRESH
    assert [p.name for p in path.parent.iterdir()] == ["main.json"]  # no temporary file left behind


def test_a_token_copied_in_readable_by_others_is_made_private_before_use(home, caplog):
    path = token_path(home, "main")
    save_token(credentials(datetime.now(UTC) + timedelta(hours=1)), path)
    path.chmod(0o644)  # as `cp` to another machine may leave it
    path.parent.chmod(0o755)
    assert load_youtube_credentials(home, "main").token == "access-1"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert "readable by others" in caplog.text and "access-1" not in caplog.text


def test_a_missing_token_names_the_command_that_makes_one(home):
    assert not has_youtube_token(home, "travel")
    with pytest.raises(ConfigError) as caught:
        load_youtube_credentials(home, "travel")
    assert str(caught.value) == (
        "No YouTube token for channel 'travel'; run `shorts auth youtube --client-secrets FILE --channel travel` first."
    )


def test_a_channel_name_cannot_leave_the_token_folder(home):
    with pytest.raises(ConfigError, match="not allowed"):
        token_path(home, "../elsewhere")


def test_an_expired_token_is_refreshed_and_stored_again_still_private(home):
    path = token_path(home, "main")
    save_token(credentials(datetime.now(UTC) - timedelta(minutes=5)), path)
    path.chmod(0o644)  # as if someone widened it: the rewrite must not keep that
    http = HttpMockSequence([({"status": "200"}, json.dumps({"access_token": "access-2", "expires_in": 3600}))])
    creds = load_youtube_credentials(home, "main", http)
    assert creds.token == "access-2" and creds.valid
    ((uri, method, body, _),) = http.request_sequence
    assert (uri, method) == ("https://oauth2.googleapis.com/token", "POST")
    assert urllib.parse.parse_qs(body.decode())["grant_type"] == ["refresh_token"]
    assert json.loads(path.read_text())["token"] == "access-2" and mode(path) == 0o600


def test_a_revoked_token_is_one_sentence_without_secrets(home):
    save_token(credentials(datetime.now(UTC) - timedelta(minutes=5)), token_path(home, "main"))
    http = HttpMockSequence(
        [
            (
                {"status": "400"},
                json.dumps({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
            )
        ]
    )
    with pytest.raises(ConfigError) as caught:
        load_youtube_credentials(home, "main", http)
    message = str(caught.value)
    assert message == (
        "The YouTube token of channel 'main' was revoked or has expired; run "
        "`shorts auth youtube --client-secrets FILE --channel main` again."
    )
    assert SECRET not in message and REFRESH not in message


def test_a_token_without_the_upload_scope_is_refused(home):
    path = token_path(home, "main")
    save_token(credentials(datetime.now(UTC) + timedelta(hours=1)), path)
    path.write_text(json.dumps({**json.loads(path.read_text()), "scopes": [SCOPES[1]]}))
    with pytest.raises(ConfigError, match="does not allow uploads"):
        load_youtube_credentials(home, "main")


class FakeGoogle(BaseHTTPRequestHandler):
    """Google's token endpoint: trades the code from the redirect for tokens."""

    received: list[dict] = []

    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        FakeGoogle.received.append(form)
        answer = json.dumps(
            {
                "access_token": "access-1",
                "refresh_token": REFRESH,
                "expires_in": 3600,
                "token_type": "Bearer",
                "scope": " ".join(SCOPES),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class ConsentingBrowser:
    """A browser whose user clicks Allow: Google redirects it to the local address with a code."""

    def __init__(self):
        self.opened: list[str] = []

    def open(self, url, new=0, autoraise=True):
        self.opened.append(url)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        back = f"{query['redirect_uri'][0]}?" + urllib.parse.urlencode(
            {"code": "the-code", "state": query["state"][0], "scope": " ".join(SCOPES)}
        )
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        # the local server answers only once run_local_server starts waiting, so follow the redirect from a thread
        threading.Thread(target=lambda: no_proxy.open(back, timeout=10).read(), daemon=True).start()
        return True


def test_authorize_runs_the_installed_app_flow_on_loopback_and_stores_the_token(home, tmp_path, monkeypatch):
    google = HTTPServer(("127.0.0.1", 0), FakeGoogle)
    threading.Thread(target=google.serve_forever, daemon=True).start()
    try:
        secrets = tmp_path / "client_secret.json"
        secrets.write_text(
            json.dumps(
                {
                    "installed": {
                        "client_id": "cid.apps.googleusercontent.com",
                        "client_secret": SECRET,
                        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                        "token_uri": f"http://127.0.0.1:{google.server_port}/token",
                        "redirect_uris": ["http://localhost"],
                    }
                }
            )
        )
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake token endpoint is plain http
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        browser = ConsentingBrowser()
        monkeypatch.setattr(webbrowser, "get", lambda using=None: browser)

        path = authorize_youtube(secrets, home, "travel", timeout_seconds=20)
    finally:
        google.shutdown()
        google.server_close()

    query = urllib.parse.parse_qs(urllib.parse.urlsplit(browser.opened[0]).query)
    assert query["scope"] == [" ".join(SCOPES)]  # upload and read-only, nothing more
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")  # the answer comes back on loopback only
    assert FakeGoogle.received[-1]["code"] == ["the-code"]
    assert path == home / "youtube" / "travel.json" and mode(path) == 0o600
    stored = json.loads(path.read_text())
    assert stored["refresh_token"] == REFRESH and stored["scopes"] == list(SCOPES)
    assert load_youtube_credentials(home, "travel").token == "access-1"


def test_auth_command_with_a_missing_client_file_is_one_line(tmp_path):
    result = subprocess.run(
        [SHORTS, "auth", "youtube", "--client-secrets", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "No OAuth client file at" in result.stderr


def test_make_with_upload_and_no_token_stops_before_anything_is_made(tmp_path):
    result = subprocess.run(
        [SHORTS, "make", "octopus camouflage", "--upload", "--channel", "travel"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith(
        "No YouTube token for channel 'travel'; run `shorts auth youtube --client-secrets FILE --channel travel` first."
    )
    assert not (tmp_path / "out").exists()
