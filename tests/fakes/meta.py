"""A fake Meta on 127.0.0.1: the Graph API (Instagram containers and Facebook Page Reels) and the rupload host, on two
ports as the real ones are two hosts (the answers carry the absolute upload URLs).

Errors come as Meta sends them: Graph `{"error": {"message", "type", "code", "error_subcode", "is_transient",
"fbtrace_id"}}` (code 190 for an expired token, 4 or 9 for rate limits), rupload `{"debug_info": {"retriable", "type",
"message"}}`. `stall_upload` holds an upload part way (a test kills its client then); `hold_processing` keeps every
container or video processing until released. The tests read `containers`, `media` (Reels published on Instagram),
`reels` (on Facebook) and each request's method and path.
"""

from __future__ import annotations

import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from fakes.loopback import LoopbackFake, send

VERSION = "v26.0"
IG_USER, PAGE = "17841400000000001", "100000000000002"
IG_TOKEN = "fake-instagram-token-for-tests-9c1e"
PAGE_TOKEN = "fake-facebook-page-token-for-tests-4b7d"


@dataclass
class Item:
    """A container (Instagram) or a video (Facebook): its parameters, the bytes it got, and where it stands."""

    kind: str
    params: dict
    size: int = 0
    data: bytes = b""
    polls: int = 0
    finished: bool = False  # Facebook: the finish call was taken
    published: str | None = None  # the media or post id it became
    state: str = ""  # forced: ERROR or EXPIRED
    uploads: int = 0
    notes: list = field(default_factory=list)


def graph_error(code: int, message: str, *, subcode: int | None = None, transient: bool = False) -> dict:
    error = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": transient,
        "fbtrace_id": "AfakeTraceId123",
    }
    if subcode:
        error["error_subcode"] = subcode
    return {"error": error}


class FakeMeta:
    """Both hosts; start with `with FakeMeta() as meta:`. `graph` and `rupload` are their roots."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.media: list[str] = []  # Instagram media ids published
        self.reels: list[str] = []  # Facebook video ids published
        self.requests: list[tuple[str, str]] = []
        self.quota_total, self.quota_usage = 50, 0
        self.processing_polls = 1  # status reads that still say "processing" once the bytes are in
        self.failures: dict[str, list[tuple[int, dict]]] = {}
        self.hold_processing = False
        self.processing = threading.Event()  # set when a held item is polled
        self.stall_upload: int | None = None  # bytes of the next upload to take before holding it
        self.stalled = threading.Event()
        self._release = threading.Event()
        self.lock = threading.Lock()
        self.graph_server = _Server(self._graph)
        self.rupload_server = _Server(self._rupload)

    @property
    def graph(self) -> str:
        return self.graph_server.root

    @property
    def rupload(self) -> str:
        return self.rupload_server.root

    @property
    def containers(self) -> list[Item]:
        return [item for item in self.items.values() if item.kind == "container"]

    @property
    def videos(self) -> list[Item]:
        return [item for item in self.items.values() if item.kind == "video"]

    def __enter__(self) -> FakeMeta:
        self.graph_server.start()
        self.rupload_server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
        self.graph_server.stop()
        self.rupload_server.stop()

    def fail(self, kind: str, status: int, body: dict, times: int = 1) -> None:
        """Answer the next `times` requests of `kind` (media, publish, reels_start, reels_finish, status, quota,
        rupload) with `status` and `body`."""
        self.failures.setdefault(kind, []).extend([(status, body)] * times)

    def release(self) -> None:
        self.stall_upload = None
        self.hold_processing = False
        self._release.set()

    def _failing(self, h: BaseHTTPRequestHandler, kind: str) -> bool:
        with self.lock:
            queued = self.failures.get(kind)
            failure = queued.pop(0) if queued else None
        if failure:
            send(h, *failure)
        return failure is not None

    # The Graph API.
    def _graph(self, h: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(h.path)
        body = h.rfile.read(int(h.headers.get("content-length") or 0)).decode()
        params = {k: v[0] for k, v in urllib.parse.parse_qs(url.query or body).items()}
        with self.lock:
            self.requests.append((h.command, url.path))
        parts = url.path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != VERSION:
            return send(h, 404, graph_error(100, "Unknown path"))
        node, edge = parts[1], parts[2] if len(parts) > 2 else ""
        wanted = PAGE_TOKEN if node == PAGE or self.items.get(node, Item("", {})).kind == "video" else IG_TOKEN
        if h.headers.get("authorization") != f"Bearer {wanted}":
            return send(h, 400, graph_error(190, "Error validating access token: Session has expired.", subcode=463))
        if node == IG_USER and not edge and h.command == "GET":
            return send(h, 200, {"id": IG_USER, "username": "octo.shorts"})
        if node == PAGE and not edge and h.command == "GET":
            return send(h, 200, {"id": PAGE, "name": "Octopus Facts"})
        if node == IG_USER:
            return self._instagram(h, edge, params)
        if node == PAGE and edge == "video_reels":
            return self._reels(h, params)
        if node in self.items and h.command == "GET":
            return self._status(h, self.items[node])
        if node in self.media and h.command == "GET":
            return send(h, 200, {"id": node, "permalink": f"https://www.instagram.com/reel/{node}/"})
        return send(h, 400, graph_error(100, f"Unsupported request {h.command} {url.path}"))

    def _instagram(self, h: BaseHTTPRequestHandler, edge: str, params: dict) -> None:
        if edge == "content_publishing_limit":
            if self._failing(h, "quota"):
                return None
            return send(
                h,
                200,
                {
                    "data": [
                        {
                            "quota_usage": self.quota_usage,
                            "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                        }
                    ]
                },
            )
        if edge == "media" and h.command == "POST":
            if self._failing(h, "media"):
                return None
            if params.get("media_type") != "REELS" or not (
                params.get("upload_type") == "resumable" or params.get("video_url")
            ):
                return send(h, 400, graph_error(100, "Invalid parameter", subcode=2207026))
            data = b""
            if params.get("video_url"):  # Meta "cURLs" the URL
                try:
                    with urllib.request.urlopen(params["video_url"], timeout=10) as answer:
                        data = answer.read()
                except OSError:
                    return send(
                        h, 400, graph_error(9004, "The media could not be fetched from this URI", subcode=2207052)
                    )
            with self.lock:
                cid = f"1790{len(self.items) + 1:04d}"
                self.items[cid] = Item("container", params, size=len(data), data=data)
            if data:
                return send(h, 200, {"id": cid})
            return send(h, 200, {"id": cid, "uri": f"{self.rupload}/ig-api-upload/{VERSION}/{cid}"})
        if edge == "media_publish" and h.command == "POST":
            if self._failing(h, "publish"):
                return None
            item = self.items.get(params.get("creation_id", ""))
            if item is None or item.published:
                return send(
                    h, 400, graph_error(9007, "The media has already been published or does not exist", subcode=2207008)
                )
            if not self._ready(item):
                return send(h, 400, graph_error(9007, "Media ID is not available", subcode=2207027))
            with self.lock:
                item.published = f"1800{len(self.media) + 1:04d}"
                self.media.append(item.published)
            return send(h, 200, {"id": item.published})
        return send(h, 400, graph_error(100, f"Unsupported edge {edge}"))

    def _reels(self, h: BaseHTTPRequestHandler, params: dict) -> None:
        phase = params.get("upload_phase")
        if phase == "start":
            if self._failing(h, "reels_start"):
                return None
            with self.lock:
                vid = f"9100{len(self.items) + 1:04d}"
                self.items[vid] = Item("video", params)
            return send(h, 200, {"video_id": vid, "upload_url": f"{self.rupload}/video-upload/{VERSION}/{vid}"})
        if phase == "finish":
            if self._failing(h, "reels_finish"):
                return None
            item = self.items.get(params.get("video_id", ""))
            if item is None or not item.data:
                return send(h, 400, graph_error(100, "The video was not uploaded", subcode=1363130))
            with self.lock:
                item.notes.append(params)
                if not item.finished:
                    item.finished, item.polls = True, 0
            return send(h, 200, {"success": True})
        return send(h, 400, graph_error(100, "upload_phase must be start or finish"))

    def _ready(self, item: Item) -> bool:
        """Whether processing is over (each call counts as one status read)."""
        if not item.data or self.hold_processing:
            return False
        item.polls += 1
        return item.polls > self.processing_polls

    def _status(self, h: BaseHTTPRequestHandler, item: Item) -> None:
        if self._failing(h, "status"):
            return None
        if self.hold_processing and item.data:
            self.processing.set()
        with self.lock:
            if item.kind == "container":
                if item.state:
                    code = item.state
                elif item.published:
                    code = "PUBLISHED"
                else:
                    code = "FINISHED" if self._ready(item) else "IN_PROGRESS"
                return send(h, 200, {"id": "x", "status_code": code, "status": code})
            publishing = "not_started"
            if item.finished:
                publishing = "complete" if self._ready(item) else "in_progress"
                if publishing == "complete" and not item.published:
                    item.published = f"post_{len(self.reels) + 1}"
                    self.reels.append(next(k for k, v in self.items.items() if v is item))
        return send(
            h,
            200,
            {
                "id": "x",
                "status": {
                    "video_status": "ready" if publishing == "complete" else "processing",
                    "uploading_phase": {"status": "complete" if item.data else "not_started"},
                    "processing_phase": {"status": "complete" if item.data else "not_started"},
                    "publishing_phase": {"status": publishing},
                },
            },
        )

    # The rupload host.
    def _rupload(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.requests.append((h.command, "rupload" + urllib.parse.urlsplit(h.path).path))
        node = h.path.rstrip("/").rsplit("/", 1)[-1]
        item = self.items.get(node)
        length = int(h.headers.get("content-length") or 0)
        if item is None:
            h.rfile.read(length)
            return send(
                h,
                404,
                {"debug_info": {"retriable": False, "type": "NotFoundError", "message": "Unknown upload session"}},
            )
        wanted = PAGE_TOKEN if item.kind == "video" else IG_TOKEN
        if h.headers.get("authorization") != f"OAuth {wanted}":
            h.rfile.read(length)
            return send(
                h,
                401,
                {
                    "debug_info": {
                        "retriable": False,
                        "type": "AuthorizationError",
                        "message": "Invalid OAuth access token.",
                    }
                },
            )
        if self._failing(h, "rupload"):
            h.rfile.read(length)
            return None
        if h.headers.get("offset") != "0" or h.headers.get("file_size") != str(length):
            h.rfile.read(length)
            return send(
                h,
                400,
                {
                    "debug_info": {
                        "retriable": False,
                        "type": "BadRequest",
                        "message": "offset and file_size headers are required",
                    }
                },
            )
        if self.stall_upload is not None:
            h.rfile.read(min(length, self.stall_upload))
            self.stalled.set()
            self._release.wait(60)  # held; its client is killed meanwhile
            h.close_connection = True
            return None
        data = h.rfile.read(length)
        with self.lock:
            item.data, item.size, item.uploads, item.polls = data, length, item.uploads + 1, 0
        return send(
            h,
            200,
            {"success": True, "message": "Upload successful."} if item.kind == "container" else {"success": True},
        )


class _Server(LoopbackFake):
    def __init__(self, answer) -> None:
        super().__init__()
        self._answer = answer

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        try:
            self._answer(h)
        except OSError:  # a client killed while its request was held
            h.close_connection = True
