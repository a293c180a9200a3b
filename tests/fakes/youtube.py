"""A fake YouTube on 127.0.0.1 that speaks the resumable `videos.insert` protocol, for `SHORTS_YOUTUBE_API_URL`.

It keeps each upload session's bytes, answers a session status query (`Content-Range: bytes */N`) with how much it
holds, counts video inserts (sessions opened) and videos made, and can stall mid-upload: it reads part of a chunk,
then holds the request until `release()` (or its client dies), so a test can kill the uploader at that moment.
It also answers `videos.list` (a video is "processing" for its first `processing_polls` lists, then "succeeded")
and `thumbnails.set`, and `fail()` makes it refuse the next requests of one kind with a chosen status and reason.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import imageio_ffmpeg

ACCESS_TOKEN = "ya29.fake-access-token-RELIABILITY-7f3a"


@dataclass
class Session:
    size: int
    body: dict
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


class FakeYouTube:
    """State the tests read: `inserts` (sessions opened), `videos` (made), and every request's method and path."""

    def __init__(self, token: str = ACCESS_TOKEN) -> None:
        self.token = token
        self.requests: list[tuple[str, str]] = []
        self.sessions: dict[str, Session] = {}
        self.videos: list[str] = []
        self.thumbnails: list[tuple[str, bytes, str]] = []  # (video id, image bytes, content type) per set
        self.processing_polls = 0  # lists of a video that answer "processing" before it has "succeeded"
        self.lists: dict[str, int] = {}
        self.failures: dict[str, list[tuple[int, str]]] = {}
        self.stall_after: int | None = None  # bytes of the next chunk to take before holding the request
        self.stalled = threading.Event()  # set once a request is being held
        self._release = threading.Event()
        self.lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def inserts(self) -> int:
        return len(self.sessions)

    def fail(self, kind: str, status: int, reason: str, times: int = 1) -> None:
        """Answer the next `times` requests of `kind` (insert, chunk, list or thumbnail) with `status` and `reason`."""
        self.failures.setdefault(kind, []).extend([(status, reason)] * times)

    def _failing(self, h: BaseHTTPRequestHandler, kind: str) -> bool:
        with self.lock:
            queued = self.failures.get(kind)
            status, reason = queued.pop(0) if queued else (0, "")
        if not status:
            return False
        h.rfile.read(int(h.headers.get("content-length") or 0))  # taken in, and dropped
        _send(
            h,
            status,
            {
                "error": {
                    "code": status,
                    "message": f"Fake refusal ({reason}).",
                    "errors": [{"reason": reason, "domain": "youtube.fake"}],
                }
            },
        )
        return True

    def release(self) -> None:
        """Stop stalling: a held request goes on (its client may be gone), later ones are not held."""
        self.stall_after = None
        self._release.set()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.requests.append((h.command, h.path))
        if h.headers.get("authorization") != f"Bearer {self.token}":
            return _send(h, 401, {"error": {"code": 401, "message": "Invalid Credentials"}})
        url = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(url.query)
        if h.command == "POST" and url.path.endswith("/thumbnails/set"):
            return self._thumbnail(h, query.get("videoId", [""])[0])
        if h.command == "POST" and query.get("uploadType") == ["resumable"]:
            if self._failing(h, "insert"):
                return None
            body = json.loads(h.rfile.read(int(h.headers.get("content-length") or 0)) or b"{}")
            with self.lock:
                sid = f"s{len(self.sessions) + 1}"
                self.sessions[sid] = Session(size=int(h.headers["x-upload-content-length"]), body=body)
            return _send(h, 200, None, {"Location": f"{self.url}/upload/session/{sid}"})
        match = re.fullmatch(r"/upload/session/(\w+)", url.path)
        if h.command == "PUT" and match and match.group(1) in self.sessions:
            return self._put(h, self.sessions[match.group(1)])
        if h.command == "GET" and url.path.endswith("/videos"):
            return self._list(h, query.get("id", [""])[0].split(","))
        return _send(h, 404, {"error": {"code": 404, "message": "Not found"}})

    def _list(self, h: BaseHTTPRequestHandler, ids: list[str]) -> None:
        if self._failing(h, "list"):
            return None
        items = []
        with self.lock:
            for video in (v for v in ids if v in self.videos):
                self.lists[video] = self.lists.get(video, 0) + 1
                done = self.lists[video] > self.processing_polls
                items.append(
                    {
                        "id": video,
                        "status": {"uploadStatus": "processed" if done else "uploaded"},
                        "processingDetails": {"processingStatus": "succeeded" if done else "processing"},
                    }
                )
        return _send(h, 200, {"items": items})

    def _thumbnail(self, h: BaseHTTPRequestHandler, video: str) -> None:
        if self._failing(h, "thumbnail"):
            return None
        image = h.rfile.read(int(h.headers.get("content-length") or 0))
        if video not in self.videos:
            return _send(
                h, 404, {"error": {"code": 404, "message": "Video not found.", "errors": [{"reason": "videoNotFound"}]}}
            )
        with self.lock:
            self.thumbnails.append((video, image, h.headers.get("content-type", "")))
        url = f"{self.url}/vi/{video}/maxresdefault.jpg"
        return _send(
            h,
            200,
            {
                "kind": "youtube#thumbnailSetResponse",
                "items": [{"default": {"url": url}, "shortsAspectRatio": {"url": url}}],
            },
        )

    def _put(self, h: BaseHTTPRequestHandler, session: Session) -> None:
        length = int(h.headers.get("content-length") or 0)
        span = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", h.headers.get("content-range", ""))
        if span and length:
            if self._failing(h, "chunk"):
                return None
            start = int(span.group(1))
            if start != len(session.data):
                return _send(h, 400, {"error": {"code": 400, "message": "Content-Range does not continue"}})
            if self.stall_after is not None:
                taken = h.rfile.read(min(length, self.stall_after))
                session.data += taken
                self.stalled.set()
                self._release.wait(60)  # hold the request; its client is killed meanwhile
                h.close_connection = True
                return None
            session.data += h.rfile.read(length)
        elif length:
            h.rfile.read(length)
        if len(session.data) < session.size:  # a status query, or a chunk that is not the last
            headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
            return _send(h, 308, None, headers)
        with self.lock:
            if session.video_id is None:
                session.video_id = f"fakeVid{len(self.videos) + 1:03d}"
                self.videos.append(session.video_id)
        return _send(
            h,
            200,
            {
                "id": session.video_id,
                "snippet": session.body.get("snippet", {}),
                "status": {"uploadStatus": "uploaded"},
            },
        )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # a killed client resets its connection: expected
        pass


def _send(h: BaseHTTPRequestHandler, status: int, body: dict | None, headers: dict | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else b""
    try:
        h.send_response(status)
        for name, value in {
            "Content-Type": "application/json",
            "Content-Length": str(len(data)),
            **(headers or {}),
        }.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)
    except OSError:  # the client was killed while we held its request
        h.close_connection = True


def _handler(fake: FakeYouTube) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        do_GET = do_POST = do_PUT = lambda self: fake.answer(self)  # noqa: E731

    return Handler


def render_video(
    dest: Path, *, width: int = 64, height: int = 112, seconds: float = 1, size: int | None = None, colour: str = "teal"
) -> Path:
    """A real H.264 MP4 of one colour at 1 fps with a silent AAC track, as a Short has (a 181 s one takes a few
    hundredths of a second), padded to `size` bytes with an MP4 `free` box, which players skip, when a test needs a
    video of an exact size."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"color=c={colour}:s={width}x{height}:r=1:d={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"anullsrc=r=8000:cl=mono:d={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "8k",
            str(dest),
        ],
        check=True,
        capture_output=True,
    )
    if size is not None:
        room = size - dest.stat().st_size
        assert room >= 8, f"the video is already {dest.stat().st_size} bytes"
        with dest.open("ab") as file:
            file.write(struct.pack(">I", room) + b"free" + os.urandom(room - 8))
    return dest


def authorise(home: Path, channel: str = "main", token: str = ACCESS_TOKEN) -> Path:
    """A stored channel token that the fake accepts and that needs no refresh for hours."""
    from google.oauth2.credentials import Credentials

    from pipeline.publish.youtube_auth import SCOPES, save_token, token_path

    path = token_path(home, channel)
    save_token(
        Credentials(
            token=token,
            refresh_token="refresh",
            client_id="cid",
            client_secret="shh",
            token_uri="https://oauth2.googleapis.com/token",
            scopes=list(SCOPES),
            expiry=datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=2),
        ),
        path,
    )
    return path
