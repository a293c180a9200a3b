"""A Pixabay video search (GET /api/videos/?key=&q=) on 127.0.0.1, in the API's own answer shape."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from fakes.loopback import send
from fakes.stock import FakeStock, StockVideo

KEY = "fake-pixabay-key-0000"


class FakePixabay(FakeStock):
    """Start it and point PIXABAY_BASE_URL at `url` (the /api root)."""

    @property
    def url(self) -> str:
        return f"{self.root}/api"

    def search(self, h: BaseHTTPRequestHandler, path: str, params: dict[str, str]) -> None:
        if path != "/api/videos/":
            return send(h, 404, {"error": "Not found"})
        if params.get("key") != KEY:
            return _text(h, 400, "[ERROR 400] Invalid or missing API key (https://pixabay.com/api/docs/).")
        if self.status:
            return _text(h, self.status, "[ERROR 429] API rate limit exceeded.")
        per_page = int(params.get("per_page", 20))
        if not 3 <= per_page <= 200:
            return _text(h, 400, '[ERROR 400] "per_page" is out of valid range.')
        found = self.matches(params.get("q", ""))
        return send(
            h, 200, {"total": len(found), "totalHits": len(found), "hits": [self._hit(v) for v in found[:per_page]]}
        )

    def _hit(self, v: StockVideo) -> dict:
        sizes = {"large": (1080, 1920), "medium": (720, 1280), "small": (540, 960), "tiny": (360, 640)}
        videos = {
            name: {
                "url": self.file_url(v, *(wh if v.portrait else wh[::-1])),
                "width": wh[0] if v.portrait else wh[1],
                "height": wh[1] if v.portrait else wh[0],
                "size": 100_000,
                "thumbnail": f"{self.root}/thumbs/{v.id}.jpg",
            }
            for name, wh in sizes.items()
        }
        slug = v.words.replace(" ", "-")
        return {
            "id": v.id,
            "pageURL": f"https://pixabay.com/videos/{slug}-{v.id}/",
            "type": "film",
            "tags": ", ".join(v.words.split()),
            "duration": v.seconds,
            "videos": videos,
            "views": 10,
            "downloads": 5,
            "likes": 1,
            "comments": 0,
            "user_id": v.id + 2000,
            "user": v.author.replace(" ", ""),
            "userImageURL": "",
        }


def _text(h: BaseHTTPRequestHandler, status: int, message: str) -> None:
    data = message.encode()
    h.send_response(status)
    h.send_header("content-type", "text/plain")
    h.send_header("content-length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)
