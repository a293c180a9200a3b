"""`shorts make --upload` through Prefect, against a fake YouTube on 127.0.0.1 (via SHORTS_YOUTUBE_API_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials

from pipeline import Script, Settings, ShortRequest, publish
from pipeline.publish.youtube_auth import SCOPES, save_token

SHORTS = str(Path(sys.executable).parent / "shorts")
ACCESS_TOKEN = "access-token-never-printed"


class FakeYouTube:
    """Just enough of the resumable `videos.insert` protocol and `videos.list`, recording every request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)),
                                    **(headers or {})}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _record(self) -> bytes:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append({"method": self.command, "path": self.path, "body": body,
                                      "authorization": self.headers.get("Authorization")})
                return body

            def do_POST(self):
                self._record()
                assert "uploadType=resumable" in self.path
                self._reply(200, headers={"Location": f"{fake.url}/upload/session/1"})

            def do_PUT(self):
                self._record()
                self._reply(200, {"id": "fakeShort01", "status": {"uploadStatus": "uploaded"}})

            def do_GET(self):
                self._record()
                self._reply(200, {"items": [{"id": "fakeShort01", "status": {"uploadStatus": "uploaded"},
                                             "processingDetails": {"processingStatus": "processing"}}]})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([SHORTS, "make", "octopus camouflage", "--seconds", "6", "--scenes", "2", *args],
                            capture_output=True, text=True, timeout=400, env=os.environ)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.flow
def test_make_upload_puts_the_short_on_youtube_once(monkeypatch, on_prefect_server):
    home = Path(os.environ["SHORTS_HOME"])
    save_token(Credentials(token=ACCESS_TOKEN, refresh_token="refresh", client_id="cid", client_secret="shh",
                           token_uri="https://oauth2.googleapis.com/token", scopes=list(SCOPES),
                           expiry=datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=2)),
               home / "youtube" / "main.json")
    fake = FakeYouTube()
    try:
        monkeypatch.setenv("SHORTS_YOUTUBE_API_URL", fake.url)
        monkeypatch.setenv("SHORTS_YOUTUBE_PRIVACY", "unlisted")
        make()  # made first without --upload: asking for an upload must not make anything again
        assert fake.requests == []
        first = make("--upload", "--json")
        uploads = len(fake.requests)
        # Publishing the same Short again (as a rerun's publish step does) reads the ledger the run wrote.
        short = json.loads(first.stdout)
        again = publish(Path(short["output_dir"]), Script.model_validate_json(Path(short["script"]).read_text()),
                        ShortRequest(topic="octopus camouflage", upload=True), Settings())
    finally:
        fake.stop()

    url = "https://youtube.com/shorts/fakeShort01"
    assert (short["youtube_id"], short["youtube_url"], short["published"]) == ("fakeShort01", url, url)
    manifest_text = Path(short["manifest"]).read_text()
    manifest = json.loads(manifest_text)
    assert (manifest["youtube_id"], manifest["youtube_url"]) == ("fakeShort01", url)

    post, put, status = fake.requests[:uploads]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(post["path"]).query)
    assert query["part"] == ["snippet,status"] and post["authorization"] == f"Bearer {ACCESS_TOKEN}"
    body = json.loads(post["body"])
    assert body["snippet"]["title"] == manifest["script"]["title"]
    assert body["status"] == {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False,
                              "containsSyntheticMedia": True}
    assert put["body"] == Path(short["video"]).read_bytes()  # the final video, whole
    assert status["method"] == "GET" and "id=fakeShort01" in status["path"]

    assert "6 of 6 scene steps reused" in first.stderr
    assert f"on YouTube: {url}" in first.stderr

    assert again.youtube_url == url and len(fake.requests) == uploads  # YouTube was asked nothing
    everything = first.stdout + first.stderr + manifest_text
    assert ACCESS_TOKEN not in everything and "upload/session" not in everything
