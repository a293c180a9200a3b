"""A fake TikTok Content Posting API on 127.0.0.1, for SHORTS_TIKTOK_API_URL.

It answers as TikTok does: HTTP 200 with `{"data": {...}, "error": {"code": "ok" | ..., "message", "log_id"}}`
(429 for rate_limit_exceeded), rotates the refresh token on each refresh (the old one stops working), checks the
chunk rules and `Content-Range` of each PUT, counts inits (6 a minute per token) and steps a publish through
PROCESSING_UPLOAD to SEND_TO_USER_INBOX (inbox) or PUBLISH_COMPLETE (direct). `expire_token()` makes the access token
invalid mid-run; `stall_upload` holds a PUT part way and `hold_processing` keeps every publish processing.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from fakes.loopback import LoopbackFake, send

ACCESS = "fake-tiktok-access-token-1-for-tests"
REFRESH = "fake-tiktok-refresh-token-1-for-tests"
CLIENT_KEY, CLIENT_SECRET = "fake-client-key", "fake-tiktok-client-secret-for-tests"
MIN_CHUNK, MAX_CHUNK = 5 * 1024 * 1024, 64 * 1024 * 1024


@dataclass
class Publish:
    publish_id: str
    direct: bool
    body: dict
    size: int
    chunk_size: int
    chunks: int
    data: bytearray
    polls: int = 0
    status: str = "PROCESSING_UPLOAD"


class FakeTikTok(LoopbackFake):
    def __init__(self) -> None:
        super().__init__()
        self.server.RequestHandlerClass.do_PUT = lambda h: self.answer(h)
        self.access, self.refresh = ACCESS, REFRESH
        self.generation = 1
        self.refreshes: list[str] = []  # the refresh tokens presented
        self.publishes: dict[str, Publish] = {}
        self.init_times: list[float] = []
        self.max_duration = 600
        self.privacy_options = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
        self.scopes = {"user.info.basic", "video.upload", "video.publish"}
        self.processing_polls = 1
        self.fail_next: str | None = None  # make the next publish end FAILED with this reason
        self.refuse_init: str | None = None  # answer every init with this error code
        self.hold_processing = False
        self.processing = threading.Event()
        self.stall_upload: int | None = None
        self.stalled = threading.Event()
        self._release = threading.Event()

    @property
    def inits(self) -> int:
        return len(self.publishes)

    def done(self, status: str) -> list[Publish]:
        return [p for p in self.publishes.values() if p.status == status]

    def expire_token(self) -> None:
        """The current access token stops working, as one past its expires_in does."""
        self.access = f"expired-{self.access}"

    def release(self) -> None:
        self.stall_upload = None
        self.hold_processing = False
        self._release.set()

    def stop(self) -> None:
        self.release()
        super().stop()

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        try:
            self._answer(h)
        except OSError:  # a client killed while its request was held
            h.close_connection = True

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(h.path)
        with self.lock:
            self.requests.append({"method": h.command, "path": url.path})
        if h.command == "PUT" and url.path.startswith("/upload/"):
            return self._put(h, url.path.rsplit("/", 1)[-1])
        raw = h.rfile.read(int(h.headers.get("content-length") or 0))
        if url.path == "/v2/oauth/token/":
            return self._token(h, {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()})
        if h.headers.get("authorization") != f"Bearer {self.access}":
            return _error(h, "access_token_invalid", "The access token is invalid or not found in the request.")
        body = json.loads(raw or b"{}")
        if url.path == "/v2/post/publish/creator_info/query/":
            if "video.publish" not in self.scopes:
                return _error(h, "scope_not_authorized", "The user did not authorize the scope required.")
            return _ok(
                h,
                {
                    "creator_avatar_url": "https://example.invalid/a.jpg",
                    "creator_username": "octofan",
                    "creator_nickname": "Octo Fan",
                    "privacy_level_options": self.privacy_options,
                    "comment_disabled": False,
                    "duet_disabled": False,
                    "stitch_disabled": False,
                    "max_video_post_duration_sec": self.max_duration,
                },
            )
        if url.path in ("/v2/post/publish/inbox/video/init/", "/v2/post/publish/video/init/"):
            return self._init(h, body, direct=url.path == "/v2/post/publish/video/init/")
        if url.path == "/v2/post/publish/status/fetch/":
            return self._status(h, body.get("publish_id", ""))
        return _error(h, "invalid_params", f"Unknown path {url.path}")

    def _token(self, h: BaseHTTPRequestHandler, form: dict) -> None:
        self.refreshes.append(form.get("refresh_token", ""))
        if (form.get("client_key"), form.get("client_secret"), form.get("grant_type")) != (
            CLIENT_KEY,
            CLIENT_SECRET,
            "refresh_token",
        ) or form.get("refresh_token") != self.refresh:
            return send(
                h,
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Refresh token is invalid or expired.",
                    "log_id": "fake-log",
                },
            )
        self.generation += 1
        self.access = f"fake-tiktok-access-token-{self.generation}-for-tests"
        self.refresh = f"fake-tiktok-refresh-token-{self.generation}-for-tests"  # the old one stops working
        return send(
            h,
            200,
            {
                "access_token": self.access,
                "expires_in": 7200,
                "open_id": "fake-open-id",
                "refresh_expires_in": 15552000,
                "refresh_token": self.refresh,
                "scope": ",".join(sorted(self.scopes)),
                "token_type": "Bearer",
            },
        )

    def _init(self, h: BaseHTTPRequestHandler, body: dict, direct: bool) -> None:
        if self.refuse_init:
            return _error(h, self.refuse_init, "Refused by the fake.")
        now = time.monotonic()
        with self.lock:
            self.init_times = [t for t in self.init_times if now - t < 60] + [now]
            if len(self.init_times) > 6:
                return _error(h, "rate_limit_exceeded", "Too many requests.", status=429)
        if direct and "video.publish" not in self.scopes:
            return _error(h, "scope_not_authorized", "The user did not authorize the scope required.")
        source = body.get("source_info") or {}
        size, chunk, count = source.get("video_size"), source.get("chunk_size"), source.get("total_chunk_count")
        if source.get("source") != "FILE_UPLOAD" or not all(isinstance(v, int) for v in (size, chunk, count)):
            return _error(h, "invalid_params", "source_info is incomplete")
        whole = chunk == size and count == 1 and size <= MAX_CHUNK
        split = MIN_CHUNK <= chunk <= MAX_CHUNK and count == size // chunk and size - chunk * (count - 1) <= 128 << 20
        if not (whole or split) or not 1 <= count <= 1000:
            return _error(h, "invalid_params", "The chunk_size or total_chunk_count is invalid.")
        if direct:
            info = body.get("post_info") or {}
            if info.get("privacy_level") not in self.privacy_options:
                return _error(h, "privacy_level_option_mismatch", "privacy_level is not among the options.")
            if len(info.get("title", "").encode("utf-16-le")) // 2 > 2200:
                return _error(h, "invalid_params", "The title is too long.")
        elif "post_info" in body:
            return _error(h, "invalid_params", "post_info is not accepted by the upload (inbox) endpoint.")
        with self.lock:
            pid = f"v_{'pub' if direct else 'inbox'}_file~v2.{len(self.publishes) + 1}"
            self.publishes[pid] = Publish(pid, direct, body, size, chunk, count, bytearray())
        return _ok(h, {"publish_id": pid, "upload_url": f"{self.root}/upload/{urllib.parse.quote(pid)}"})

    def _put(self, h: BaseHTTPRequestHandler, pid: str) -> None:
        publish = self.publishes.get(urllib.parse.unquote(pid))
        length = int(h.headers.get("content-length") or 0)
        span = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", h.headers.get("content-range", ""))
        if publish is None or not span or h.headers.get("content-type") != "video/mp4":
            h.rfile.read(length)
            return send(h, 400, {"error": {"code": "invalid_params", "message": "Bad upload"}})
        start, end, total = map(int, span.groups())
        if start == 0:
            publish.data = bytearray()  # the same file sent again from the start
        if total != publish.size or start != len(publish.data) or end - start + 1 != length:
            h.rfile.read(length)
            return send(h, 416, {"error": {"code": "invalid_params", "message": "Content-Range does not continue"}})
        if self.stall_upload is not None:
            publish.data += h.rfile.read(min(length, self.stall_upload))
            self.stalled.set()
            self._release.wait(60)
            h.close_connection = True
            return None
        publish.data += h.rfile.read(length)
        return send(h, 201 if len(publish.data) == publish.size else 206, None)

    def _status(self, h: BaseHTTPRequestHandler, pid: str) -> None:
        publish = self.publishes.get(pid)
        if publish is None:
            return _error(h, "invalid_publish_id", "The publish_id does not exist.")
        with self.lock:
            if len(publish.data) == publish.size and publish.status == "PROCESSING_UPLOAD":
                if self.hold_processing:
                    self.processing.set()
                else:
                    publish.polls += 1
                    if publish.polls > self.processing_polls:
                        if self.fail_next:
                            publish.status, self.fail_next = f"FAILED:{self.fail_next}", None
                        else:
                            publish.status = "PUBLISH_COMPLETE" if publish.direct else "SEND_TO_USER_INBOX"
        status, _, reason = publish.status.partition(":")
        data = {"status": status, "uploaded_bytes": len(publish.data)}
        if reason:
            data["fail_reason"] = reason
        if status == "PUBLISH_COMPLETE":
            data["publicaly_available_post_id"] = [7300000000000000001]
        return _ok(h, data)


def _ok(h: BaseHTTPRequestHandler, data: dict) -> None:
    send(h, 200, {"data": data, "error": {"code": "ok", "message": "", "log_id": "fake-log"}})


def _error(h: BaseHTTPRequestHandler, code: str, message: str, status: int = 200) -> None:
    send(h, status, {"data": {}, "error": {"code": code, "message": message, "log_id": "fake-log"}})
